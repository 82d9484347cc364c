import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type GraphQLEnumType, type GraphQLUnionType, isEnumType, isScalarType, isUnionType } from 'graphql/index.js';
import { HEADER, OUTPUT, generate, loadSchema } from '../../schema/codegen.js';
import { PARAMS_SDL, PARAMS_WEB, generateParamsSDL, generateParamsWeb } from '../../schema/params.js';
import {
  OPERATIONS_HEADER,
  OPERATIONS_OUTPUT,
  WEB_DIR,
  generateOperations,
  generateWebOperations,
  isOperation,
  queriesFiles,
  webDocuments,
} from '../../schema/operations.js';
import { allHandlers } from '../../server/jobs/handlers/index.js';
import { kindNames } from '../../server/interp/index.js';
import { generatorNames } from '../../server/maze/generators/index.js';
import { PRESETS } from '../../server/model/config.js';

describe('schema codegen', () => {
  it('the committed server/graphql/generated/types.ts equals a fresh run of schema/codegen.ts', () => {
    const committed = fs.readFileSync(OUTPUT, 'utf8');
    expect(committed.startsWith(HEADER)).toBe(true);
    // If this fails: run `npx tsx schema/codegen.ts` and commit the result.
    expect(committed).toBe(generate());
  });

  it('the schema declares the operations scripts depend on, with their names', () => {
    const schema = loadSchema();
    const q = Object.keys(schema.getQueryType()!.getFields());
    const m = Object.keys(schema.getMutationType()!.getFields());
    const s = Object.keys(schema.getSubscriptionType()!.getFields());
    expect(q).toEqual(expect.arrayContaining(['me', 'datasets', 'dataset', 'maze', 'models', 'model', 'job', 'jobs']));
    expect(m).toEqual(
      expect.arrayContaining([
        'createDataset',
        'trainModel',
        'evaluateModel',
        'importModel',
        'runForward',
        'generatePath',
        'cancelJob',
        'createAnnotation',
        'updateAnnotation',
        'addComment',
        'vote',
      ]),
    );
    expect(s).toEqual(expect.arrayContaining(['jobProgress', 'annotationEvents']));
    const status = schema.getType('JobStatus') as unknown as { getValues(): Array<{ name: string }> };
    expect(status.getValues().map((v) => v.name)).toEqual(['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']);
    const maze = schema.getType('Maze') as unknown as { getFields(): Record<string, unknown> };
    expect(Object.keys(maze.getFields())).toEqual(expect.arrayContaining(['id', 'origin', 'target', 'solution', 'tokens', 'ascii', 'svg']));
  });

  it('the SDL enums that mirror a registry list exactly its names (generators, presets, job kinds); params and summaries typed per kind', () => {
    const schema = loadSchema();
    const values = (name: string): string[] => {
      const t = schema.getType(name);
      expect(isEnumType(t)).toBe(true);
      return (t as GraphQLEnumType).getValues().map((v) => v.name);
    };
    expect(values('MazeGenerator')).toEqual(generatorNames());
    expect(values('ModelPreset')).toEqual(Object.keys(PRESETS));
    expect(values('JobKind').sort()).toEqual(
      allHandlers()
        .map((h) => h.kind)
        .sort(),
    );
    // Params typed per kind: a union member and an input field per experiment kind, a member per job kind.
    const union = (name: string): string[] => {
      const t = schema.getType(name);
      expect(isUnionType(t)).toBe(true);
      return (t as GraphQLUnionType).getTypes().map((m) => m.name);
    };
    const pascal = (k: string) => k.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
    expect(union('ExperimentParams')).toEqual(kindNames().map((k) => `${pascal(k)}Params`));
    expect(union('JobParams').sort()).toEqual(
      allHandlers()
        .map((h) => `${h.kind.charAt(0).toUpperCase()}${h.kind.slice(1)}JobParams`)
        .sort(),
    );
    // The typed summary: a union with one member per experiment kind.
    const result = schema.getType('ExperimentSummary');
    expect(isUnionType(result)).toBe(true);
    expect((result as GraphQLUnionType).getTypes().map((m) => m.name)).toEqual(kindNames().map((k) => `${pascal(k)}Summary`));
  });

  it("the committed experiment-params SDL and the web's params selection equal a fresh run of schema/params.ts over the kinds", () => {
    // If this fails: run `npx tsx schema/params.ts`, then `npx tsx schema/codegen.ts`, and commit the results.
    expect(fs.readFileSync(PARAMS_SDL, 'utf8')).toBe(generateParamsSDL());
    expect(fs.readFileSync(PARAMS_WEB, 'utf8')).toBe(generateParamsWeb());
  });

  it('the SDL has no untyped JSON: no JSON scalar, every shape a type', () => {
    const schema = loadSchema();
    expect(schema.getType('JSON')).toBeUndefined();
    expect(
      Object.values(schema.getTypeMap())
        .filter((t) => isScalarType(t) && !t.name.startsWith('__'))
        .map((t) => t.name)
        .sort(),
    ).toEqual(['Boolean', 'DateTime', 'Float', 'ID', 'Int', 'String']);
  });

  it('the committed web/lib/generated/operations.ts equals a fresh run over the web/**/*.queries.ts files (every document valid against the SDL)', async () => {
    const committed = fs.readFileSync(OPERATIONS_OUTPUT, 'utf8');
    expect(committed.startsWith(OPERATIONS_HEADER)).toBe(true);
    // If this fails: run `npx tsx schema/operations.ts` and commit the result.
    expect(committed).toBe(await generateWebOperations());
  });

  it('each *.queries.ts file exports only operations, each imported by a component in its folder or below (documents stay beside their users)', async () => {
    const files = queriesFiles();
    expect(files.length).toBeGreaterThan(0);
    const rel = (p: string) => path.relative(path.dirname(WEB_DIR), p);
    // The .ts/.tsx files under a folder, not counting the documents' own files.
    const sources = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return e.name === 'node_modules' || e.name === '.next' ? [] : sources(p);
        return /\.tsx?$/.test(e.name) && !e.name.endsWith('.queries.ts') ? [p] : [];
      });
    // The names a source file imports from `file` (`import { A, B as C } from './X.queries'`).
    const importedFrom = (source: string, file: string): string[] =>
      [...fs.readFileSync(source, 'utf8').matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g)]
        .filter((m) => path.resolve(path.dirname(source), m[2]!) === file.replace(/\.ts$/, ''))
        .flatMap((m) => m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]!));
    const problems: string[] = [];
    for (const file of files) {
      const users = sources(path.dirname(file));
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) {
        if (!isOperation(value)) problems.push(`${rel(file)} ${name}: not an operation (shared selections go in web/lib/fragments.ts)`);
        else if (!users.some((u) => importedFrom(u, file).includes(name)))
          problems.push(`${rel(file)} ${name}: nothing in ${rel(path.dirname(file))} imports it`);
      }
    }
    // If this fails: move the document beside the component that sends it (or delete it if none does).
    expect(problems).toEqual([]);
  });

  it('two *.queries.ts files exporting one name is an error naming both', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'queries-'));
    try {
      fs.mkdirSync(path.join(dir, 'b'));
      fs.writeFileSync(path.join(dir, 'A.queries.ts'), "export const ME = 'query Me { me { name } }';\n");
      fs.writeFileSync(path.join(dir, 'b', 'B.queries.ts'), "export const ME = 'query MeToo { me { name } }';\n");
      await expect(webDocuments(dir)).rejects.toThrow(/ME is exported by both .*A\.queries\.ts and .*b\/B\.queries\.ts/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('operation types follow the selection: nullability, lists, aliases, enums, @include, variables and the inputs they send', () => {
    const text = generateOperations(loadSchema(), [
      {
        name: 'T',
        text: 'query Probe($id: ID!, $on: Boolean!) { me { name role } d: dataset(id: $id) { splits { train } mazes(first: 1) @include(if: $on) { edges { node { origin } } } } }',
      },
      { name: 'U', text: 'mutation Make($input: CreateDatasetInput!) { createDataset(input: $input) { id } }' },
    ]);
    expect(text).toContain(`export interface ProbeQuery {
  me: {
    name: string;
    role: 'ADMIN' | 'RESEARCHER' | 'VIEWER';
  } | null;
  d: {
    splits: {
      train: Array<number>;
    };
    mazes?: {
      edges: Array<{
        node: {
          origin: Array<number>;
        };
      }>;
    };
  } | null;
}`);
    expect(text).toContain(`export interface ProbeQueryVariables {
  id: string;
  on: boolean;
}`);
    expect(text).toContain(`export interface MakeMutationVariables {
  input: Inputs['CreateDatasetInput'];
}`);
    expect(text).toMatch(/CreateDatasetInput: \{\n    name: string;\n    generator: 'dfs' \| 'wilson'/);
    expect(() => generateOperations(loadSchema(), [{ name: 'Bad', text: 'query Bad { me { nope } }' }])).toThrow(
      /^Bad: Cannot query field "nope" on type "User"/,
    );
  });

  it('a selection on a union is a union of its members, told apart by __typename (only __typename for a member no fragment selects)', () => {
    const text = generateOperations(loadSchema(), [
      {
        name: 'R',
        text: 'query Res($id: ID!) { experiment(id: $id) { result { __typename ... on DlaSummary { mazes counts { fork } } ... on LookaheadSummary { forks } } } }',
      },
    ]);
    expect(text).toContain(`    result: {
      __typename: 'AttentionSummary';
    } | {
      __typename: 'LogitLensSummary';
    } | {
      __typename: 'DlaSummary';
      mazes: number;
      counts: {
        fork: number;
      };
    } | {`);
    expect(text).toContain(`    } | {
      __typename: 'LookaheadSummary';
      forks: number;
    } | {
      __typename: 'SaeSummary';
    } | {
      __typename: 'SaeInterventionSummary';
    } | null;`);
    expect(() =>
      generateOperations(loadSchema(), [{ name: 'N', text: 'query N($id: ID!) { experiment(id: $id) { result { ... on DlaSummary { mazes } } } }' }]),
    ).toThrow(/select __typename on ExperimentSummary/);
  });
});
