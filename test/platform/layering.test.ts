import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../server/errors.js';
import { INFERENCE_ENGINES, openModel } from '../../server/model/open.js';
import { PRESETS } from '../../server/model/config.js';

const SERVER = fileURLToPath(new URL('../../server', import.meta.url));

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier of a file: static imports, re-exports and dynamic import(). */
function specifiers(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm))
    out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/**
 * The layers, lowest first (README "Layout"). A module may import its own layer's directory and
 * the layers its entry names; `app` (start-up, wiring, HTTP) may import anything.
 */
const LAYERS: Record<string, { layer: string; may: string[] }> = {
  errors: { layer: 'base', may: ['env'] },
  env: { layer: 'base', may: ['errors'] },
  maze: { layer: 'core', may: ['errors', 'env'] },
  model: { layer: 'core', may: ['errors', 'env', 'maze'] },
  interp: { layer: 'core', may: ['errors', 'env', 'maze', 'model'] },
  auth: { layer: 'base', may: ['errors', 'env'] },
  db: { layer: 'storage', may: ['errors', 'env', 'maze', 'model'] },
  services: { layer: 'services', may: ['errors', 'env', 'maze', 'model', 'interp', 'auth', 'db'] },
  graphql: { layer: 'adapter', may: ['errors', 'env', 'maze', 'model', 'interp', 'auth', 'services'] },
  jobs: { layer: 'adapter', may: ['errors', 'env', 'maze', 'model', 'interp', 'auth', 'services'] },
  cli: { layer: 'adapter', may: ['errors', 'env', 'maze', 'model', 'interp', 'auth', 'services'] },
  app: { layer: 'app', may: ['*'] },
};

/**
 * The only server/model modules interp may import (extension-less, relative to server/): the
 * engine entry, the model-info record and the hook table. Everything else in the model (ONNX
 * graphs, runtimes, sessions) stays behind the entry, which also keeps ONNX Runtime out of the
 * experiment registry's imports.
 */
const INTERP_MODEL_ENTRIES = ['model/engine', 'model/config', 'model/hooks'];

/** An absolute module path as INTERP_MODEL_ENTRIES names it: relative to server/, '/'-separated, no extension. */
const serverModule = (abs: string): string =>
  path
    .relative(SERVER, abs)
    .split(path.sep)
    .join('/')
    .replace(/\.[jt]s$/, '');

/** Whether an import of `target` (absolute) reaches into server/model past its entries. */
const bypassesModelEntries = (target: string): boolean => serverModule(target).startsWith('model/') && !INTERP_MODEL_ENTRIES.includes(serverModule(target));

/** Packages only storage and the services may import: the database is theirs alone. */
const STORAGE_PACKAGES = ['drizzle-orm', 'better-sqlite3'];

/** server/<top>/… → top ('errors' for server/errors.ts); null for paths outside server/. */
function topOf(abs: string): string | null {
  const rel = path.relative(SERVER, abs);
  if (rel.startsWith('..')) return null;
  return rel.split(path.sep)[0].replace(/\.[jt]s$/, '');
}

/** Every import that breaks LAYERS or STORAGE_PACKAGES, as "file imports spec (layer rule)". */
function layerViolations(files: Array<{ file: string; source: string }>): string[] {
  const out: string[] = [];
  for (const { file, source } of files) {
    const from = topOf(file);
    if (!from) continue;
    const rule = LAYERS[from];
    // The raw better-sqlite3 connection (DbHandle.sqlite) is storage's too, however it is reached.
    if (from !== 'db' && from !== 'services' && /\.sqlite\b/.test(source))
      out.push(`${path.relative(SERVER, file)} uses a raw .sqlite connection (only db/ and services/ do)`);
    for (const spec of specifiers(source)) {
      if (!spec.startsWith('.')) {
        const pkg = spec.split('/')[0];
        if (STORAGE_PACKAGES.includes(pkg) && from !== 'db' && from !== 'services')
          out.push(`${path.relative(SERVER, file)} imports ${spec} (only db/ and services/ touch the database)`);
        continue;
      }
      const target = path.resolve(path.dirname(file), spec);
      const to = topOf(target);
      if (from === 'interp' && bypassesModelEntries(target))
        out.push(`${path.relative(SERVER, file)} imports ${spec} (interp reaches the model only through ${INTERP_MODEL_ENTRIES.join(', ')})`);
      if (!to || to === from) continue;
      if (!rule) out.push(`${path.relative(SERVER, file)}: server/${from} is not in LAYERS`);
      else if (!rule.may.includes('*') && !rule.may.includes(to))
        out.push(`${path.relative(SERVER, file)} imports ${spec} (${from} may import ${rule.may.join(', ')})`);
    }
  }
  return out;
}

/**
 * Heavy dependencies, each imported by one module only (the brief: one module per heavy dependency),
 * so swapping or lazily loading one is a change in one place.
 */
const ONE_HOME: Record<string, string> = {
  bullmq: 'services/queue.ts',
  ioredis: 'services/redis.ts',
  'onnxruntime-node': 'model/onnx/backends.ts',
  '@tensorflow/tfjs': 'model/tfjs/backend.ts',
  '@node-rs/argon2': 'auth/secrets.ts',
  pg: 'db/client.ts',
  '@aws-sdk/client-s3': 'services/store/s3.ts',
};

describe('module layering', () => {
  it('every server module keeps to its layer: core → services (the only database code) → adapters → app', () => {
    const files = tsFiles(SERVER).map((file) => ({ file, source: fs.readFileSync(file, 'utf8') }));
    expect(files.length).toBeGreaterThan(100);
    expect(layerViolations(files)).toEqual([]);
  });

  it('the layer check catches what it should: a resolver querying the database, an adapter importing another, the core reaching up, interp bypassing the engine entry', () => {
    const f = (rel: string, source: string) => ({ file: path.join(SERVER, rel), source });
    expect(
      layerViolations([
        f('graphql/resolvers/x.ts', "import { eq } from 'drizzle-orm';\nimport { models } from '../../db/schema.js';"),
        f('jobs/handlers/y.ts', "import type { Ctx } from '../../graphql/context.js';"),
        f('model/z.ts', "const s = await import('../services/models.js');"),
        f('app/raw.ts', "const n = handle.sqlite.prepare('SELECT count(*) FROM users').get();"),
        f('interp/w.ts', "import type { OnnxEngine } from '../model/onnx/engine.js';\nconst { generate } = await import('../model/onnx/generate.js');"),
        f(
          'interp/ok.ts',
          "import { generate, type OnnxEngine } from '../model/engine.js';\nimport type { ModelConfig } from '../model/config.js';\nimport { hookGeometry } from '../model/hooks.js';",
        ),
        f('services/ok.ts', "import { eq } from 'drizzle-orm';\nimport { models } from '../db/schema.js';"),
        f('app/ok.ts', "import { handleFiles } from './files.js';\nimport { seedDemo } from '../services/seed.js';"),
      ]),
    ).toEqual([
      'graphql/resolvers/x.ts imports drizzle-orm (only db/ and services/ touch the database)',
      'graphql/resolvers/x.ts imports ../../db/schema.js (graphql may import errors, env, maze, model, interp, auth, services)',
      'jobs/handlers/y.ts imports ../../graphql/context.js (jobs may import errors, env, maze, model, interp, auth, services)',
      'model/z.ts imports ../services/models.js (model may import errors, env, maze)',
      'app/raw.ts uses a raw .sqlite connection (only db/ and services/ do)',
      'interp/w.ts imports ../model/onnx/engine.js (interp reaches the model only through model/engine, model/config, model/hooks)',
      'interp/w.ts imports ../model/onnx/generate.js (interp reaches the model only through model/engine, model/config, model/hooks)',
    ]);
  });

  it('server/interp reaches server/model only through the engine entry, the model-info record and the hook table', () => {
    const reached = new Set<string>();
    const bypasses: string[] = [];
    for (const file of tsFiles(path.join(SERVER, 'interp'))) {
      for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), spec);
        if (serverModule(target).startsWith('model/')) reached.add(serverModule(target));
        if (bypassesModelEntries(target)) bypasses.push(`${path.relative(SERVER, file)} imports ${spec}`);
      }
    }
    expect(bypasses).toEqual([]);
    expect(reached.has('model/engine')).toBe(true); // not vacuous: interp does reach the engine, through its entry
  });

  it('no module outside server/cli and server/app imports from server/cli (jobs, the model core and GraphQL stand without the CLI)', () => {
    const cli = path.join(SERVER, 'cli') + path.sep;
    const app = path.join(SERVER, 'app') + path.sep;
    const offenders: string[] = [];
    for (const file of tsFiles(SERVER)) {
      if (file.startsWith(cli) || file.startsWith(app)) continue;
      for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), spec);
        if (target.startsWith(cli)) offenders.push(`${path.relative(SERVER, file)} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('each heavy dependency has one home: bullmq, ioredis, ONNX Runtime, tfjs and argon2 are each imported by one module', () => {
    const homes = new Map<string, string[]>();
    for (const file of tsFiles(SERVER))
      for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (pkg in ONE_HOME) homes.set(pkg, [...new Set([...(homes.get(pkg) ?? []), path.relative(SERVER, file)])]);
      }
    expect(Object.fromEntries([...homes].map(([p, files]) => [p, files.sort()]))).toEqual(
      Object.fromEntries(Object.entries(ONE_HOME).map(([p, f]) => [p, [f]])),
    );
  });

  it('the scan sees dynamic imports too (the form evaluate.ts used for the CLI engine loader)', () => {
    expect(specifiers("const { openModel } = await import('../../cli/inference.js');")).toEqual(['../../cli/inference.js']);
    expect(specifiers("import { a } from './x.js';\nexport { b } from '../y.js';")).toEqual(['./x.js', '../y.js']);
  });

  it('openModel lives in the model core and refuses an unknown engine with a UserError naming the known ones', async () => {
    expect(INFERENCE_ENGINES).toEqual(['onnx', 'tfjs']);
    const err = await openModel('torch' as never, { ...PRESETS.nano, d_vocab: 10, tokenizer: 'aotp-ut' }, new Map() as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe('unknown engine "torch"; known: onnx, tfjs');
  });
});
