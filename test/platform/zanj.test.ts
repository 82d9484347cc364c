/**
 * ZANJ archives through the surfaces: importDataset (GraphQL), the /files/datasets/<id>.zanj
 * download, importModel with a maze-transformer archive, `searchlight datasets import|export`, and
 * the refusal to train on an imported dataset; the limits an archive is held to (size, maze count,
 * cells, what its entries unpack to, JSON entry size, nesting depth) and malformed archives, each
 * BAD_USER_INPUT with its message and nothing written. Archives come from test/model/zanj-fixtures.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetCommands } from '../../server/cli/datasets.js';
import type { CliIO } from '../../server/cli/io.js';
import { generateMazes } from '../../server/maze/generate.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { PRESETS, type ModelConfig } from '../../server/model/config.js';
import { readMazeDatasetZanj } from '../../server/model/zanj/mazeDataset.js';
import { mazeDatasetCornerFirst } from '../../server/model/zanj/mazeTransformer.js';
import { randomWeights } from '../model/fixtures.js';
import { encodeNpyAs } from '../../server/model/npy.js';
import { MAX_ZANJ_JSON_BYTES, MAX_ZANJ_UNCOMPRESSED } from '../../server/model/zanj/archive.js';
import { MAX_DATASET_ARCHIVE_BYTES } from '../../server/services/datasetArchives.js';
import { MAX_DATASET_COUNT, datasetCellLimit } from '../../server/services/datasets.js';
import { claimSize, extRef, mazeDatasetCfg, minimalDataset, transformerArchive, zanjZip } from '../model/zanj-fixtures.js';
import { codes, type Harness, sqlCount, startHarness, tempDir, withEnv } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const mazes = [...generateMazes({ generator: 'dfs', rows: 5 }, 20, 9)];
const essence = (m: { down: Uint8Array; right: Uint8Array; path: readonly (readonly number[])[] }) => ({
  down: [...m.down],
  right: [...m.right],
  path: m.path.map((c) => [...c]),
});
const IMPORT =
  'mutation($n: String!, $b: String!, $t: Float) { importDataset(name: $n, base64: $b, testFraction: $t) { id name status generator grid count mazeCount contentHash splits { train test } importedFrom downloadUrl config { generator rows testFraction } } }';

describe('importDataset and the .zanj download', () => {
  it("imports a MazeDataset:minimal archive as a READY dataset whose mazes, solutions and splits are the archive's; the download reads back the same mazes", async () => {
    const { root, entries } = minimalDataset(mazes, 5);
    const r = await h.gql(IMPORT, { n: 'from python', b: Buffer.from(zanjZip(root, entries)).toString('base64'), t: 0.25 });
    expect(r.errors).toBeUndefined();
    const ds = r.data.importDataset;
    expect(ds).toMatchObject({
      name: 'from python',
      status: 'READY',
      generator: 'dfs',
      grid: 5,
      count: 20,
      mazeCount: 20,
      splits: { train: [0, 15], test: [15, 20] },
      importedFrom: 'test',
    });
    expect(ds.downloadUrl).toBe(`/files/datasets/${ds.id.split(':')[1]}.zanj`);
    const page = await h.gql('query($id: ID!) { dataset(id: $id) { mazes(first: 3) { edges { node { index split origin target solution } } } } }', {
      id: ds.id,
    });
    expect(page.data.dataset.mazes.edges[2].node).toMatchObject({
      index: 2,
      split: 'train',
      origin: [...mazes[2].origin],
      target: [...mazes[2].target],
      solution: mazes[2].path.map((c) => [...c]),
    });

    const url = `${h.server.url}${ds.downloadUrl}`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${h.tokens.researcher}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="from_python-${ds.id.split(':')[1]}.zanj"`);
    const back = readMazeDatasetZanj(new Uint8Array(await res.arrayBuffer()));
    expect(back.mazes.map(essence)).toEqual(mazes.map(essence));
    expect(back.info).toMatchObject({ name: 'from python', grid: 5, generator: 'dfs' });

    const train = await h.gql('mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }', {
      i: { name: 'x', preset: 'nano', datasetId: ds.id, steps: 1, seed: 1 },
    });
    expect(codes(train)).toEqual(['BAD_USER_INPUT']);
    expect(train.errors![0].message).toMatch(/was imported from a maze-dataset archive; training regenerates/);
  });

  it('a bad maze is BAD_USER_INPUT naming the maze and field, and nothing is written; viewers may not import', async () => {
    const { root, entries } = minimalDataset(mazes, 5);
    (root.cfg as Record<string, unknown>).grid_n = 6;
    const before = await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM datasets');
    const r = await h.gql(IMPORT, { n: 'bad', b: Buffer.from(zanjZip(root, entries)).toString('base64') });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toBe('importDataset: maze_connection_lists: maze_connection_lists has shape [20, 2, 5, 5], expected [N, 2, 6, 6]');
    const junk = await h.gql(IMPORT, { n: 'junk', b: Buffer.from('hello').toString('base64') });
    expect(junk.errors![0].message).toMatch(/^importDataset: not a ZANJ archive/);
    expect(codes(await h.gql(IMPORT, { n: 'x', b: 'AAAA' }, h.tokens.viewer))).toEqual(['FORBIDDEN']);
    expect(await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM datasets')).toBe(before);
    expect(await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM mazes WHERE dataset_id NOT IN (SELECT id FROM datasets)')).toBe(0);
  });
});

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** A MazeDataset:minimal archive of `n` copies of one 2x2 maze ((0,0) → (0,1)), its arrays external. */
function manyTinyMazes(n: number): Uint8Array {
  const one = [1, 0, 0, 0, 1, 0, 0, 0]; // down from (0,0), right from (0,0)
  const clists = new Uint8Array(n * 8);
  for (let i = 0; i < n; i++) clists.set(one, i * 8);
  const sols = new Int8Array(n * 4);
  for (let i = 0; i < n; i++) sols.set([0, 0, 0, 1], i * 4);
  return zanjZip(
    {
      __muutils_format__: 'MazeDataset:minimal',
      cfg: mazeDatasetCfg(2, n),
      maze_connection_lists: extRef('c.npy', [n, 2, 2, 2], 'bool'),
      maze_solution_lengths: extRef('l.npy', [n], 'int32'),
      maze_solutions: extRef('s.npy', [n, 2, 2], 'int8'),
    },
    {
      'c.npy': encodeNpyAs('bool', clists, [n, 2, 2, 2]),
      'l.npy': encodeNpyAs('int32', new Int32Array(n).fill(2), [n]),
      's.npy': encodeNpyAs('int8', sols, [n, 2, 2]),
    },
  );
}

/** A list nested 100,000 deep, as JSON text (JSON.stringify recurses; JSON.parse does not). */
const DEEP = `${'['.repeat(100_000)}0${']'.repeat(100_000)}`;

describe('importDataset: limits and malformed archives', () => {
  const datasetsNow = () => sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM datasets');
  const refused = async (bytes: Uint8Array, message: string, token?: string) => {
    const r = await h.gql(IMPORT, { n: 'refused', b: b64(bytes) }, token);
    expect(codes(r), JSON.stringify(r.errors)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toBe(message);
    expect(r.data?.importDataset ?? null).toBeNull();
  };

  it("refuses an archive over the caller's cell limit, over the maze count, or unpacking past what the cell limit allows, writing nothing", async () => {
    const before = await datasetsNow();
    const { root, entries } = minimalDataset(mazes, 5);
    await withEnv({ SEARCHLIGHT_MAX_DATASET_CELLS: '400' }, () =>
      refused(zanjZip(root, entries), 'importDataset: 20 mazes of 5x5 are 500 cells; a researcher may store at most 400 per dataset'),
    );
    // What the entries may unpack to follows the cell limit (16 MiB for the JSON + 8 bytes a cell),
    // checked from the zip's sizes before anything is inflated: here 16 MiB of padding is too much.
    const padded = zanjZip(root, { ...entries, 'padding.bin': new Uint8Array(16 * 1024 * 1024) });
    await withEnv({ SEARCHLIGHT_MAX_DATASET_CELLS: '1' }, () =>
      refused(padded, `importDataset: the archive's entries unpack to more than ${16 * 1024 * 1024 + 8} bytes (at padding.bin)`),
    );
    // The default limit allows far more; a zip claiming more than that is refused from its sizes alone.
    await refused(
      claimSize(zanjZip(root, entries), 'maze_solutions.npy', 300_000_000),
      `importDataset: the archive's entries unpack to more than ${16 * 1024 * 1024 + 8 * datasetCellLimit('researcher')} bytes (at maze_solutions.npy)`,
    );
    // One maze more than a dataset may hold (2x2 mazes: within the cell limit), refused before the mazes are built.
    await refused(
      manyTinyMazes(MAX_DATASET_COUNT + 1),
      `importDataset: the archive holds ${MAX_DATASET_COUNT + 1} mazes; a dataset may hold at most ${MAX_DATASET_COUNT}`,
    );
    expect(await datasetsNow()).toBe(before);
  });

  it('refuses malformed archives with BAD_USER_INPUT naming the field, never an internal error, writing nothing', async () => {
    const before = await datasetsNow();
    const base = () => minimalDataset(mazes.slice(0, 3), 5);
    const zip = (edit: (root: Record<string, unknown>, entries: Record<string, Uint8Array>) => void) => {
      const { root, entries } = base();
      edit(root, entries);
      return zanjZip(root, entries);
    };
    await refused(
      zip((root) => delete root.cfg),
      'importDataset: cfg must be an object, got undefined',
    );
    await refused(
      zip((root) => delete root.maze_solution_lengths),
      'importDataset: maze_solution_lengths: expected an array, got undefined',
    );
    await refused(
      zip((_root, entries) => delete entries['maze_solutions.npy']),
      'importDataset: maze_solutions: the archive has no entry "maze_solutions.npy" (named by its "$ref")',
    );
    const maxLen = Math.max(...mazes.slice(0, 3).map((m) => m.path.length));
    await refused(
      zip((_root, entries) => {
        entries['maze_solutions.npy'] = entries['maze_solutions.npy'].subarray(0, entries['maze_solutions.npy'].length - 10);
      }),
      `importDataset: maze_solutions: maze_solutions.npy: data has ${3 * maxLen * 2 - 10} bytes but shape (3, ${maxLen}, 2) of |i1 needs ${3 * maxLen * 2}`,
    );
    await refused(manyTinyMazes(0), 'importDataset: the archive holds no mazes');
    const whole = zanjZip(base().root, base().entries);
    await refused(whole.subarray(0, whole.length - 30), 'importDataset: not a readable zip archive: invalid zip data');
    // Inline arrays are nested lists: one nested deeper than any array has dimensions, and one whose
    // first rows claim 10^10 values (a few hundred bytes of JSON), are refused by what they hold.
    const { root: r, entries: e } = base();
    r.maze_connection_lists = 'DEEP';
    await refused(
      zanjZip(null, e, JSON.stringify(r).replace('"DEEP"', DEEP)),
      'importDataset: maze_connection_lists: a nested list deeper than 64 levels; an array has at most 64 dimensions',
    );
    let wide: unknown = 0;
    for (let i = 0; i < 10; i++) wide = [wide, ...Array(9).fill(0)];
    await refused(
      zip((root) => (root.maze_connection_lists = wide)),
      'importDataset: maze_connection_lists: ragged nested list at [0][0][0][0][0][0][0][0][1] (expected 10 items at depth 9)',
    );
    expect(await datasetsNow()).toBe(before);
  });
});

describe('importModel with a maze-transformer archive', () => {
  it("converts config, vocabulary (the archive's order) and weights into a model; an unmappable token is refused by name", async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg: ModelConfig = { ...PRESETS.nano, act_fn: 'gelu', n_ctx: 64, d_vocab: tok.vocabSize(4), tokenizer: 'aotp-ut' };
    const tokenArr = [...tok.vocab(1).slice(0, 11), ...mazeDatasetCornerFirst(4).map(([r, c]) => `(${r},${c})`)];
    const bytes = transformerArchive({ cfg, weights: randomWeights(cfg, 7), tokenArr });
    const r = await h.gql(
      'mutation($b: String!) { importModel(name: "mt", base64: $b) { id status config { d_model n_heads d_head d_mlp d_vocab n_ctx act_fn tokenizer } vocab lineage { source metadataKeys } } }',
      { b: Buffer.from(bytes).toString('base64') },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.importModel).toMatchObject({
      status: 'READY',
      config: { d_model: 8, n_heads: 2, d_head: 4, d_mlp: 32, d_vocab: 27, n_ctx: 64, act_fn: 'gelu', tokenizer: 'aotp-ut' },
      vocab: tokenArr,
    });
    expect(r.data.importModel.lineage.metadataKeys).toContain('zanj_tokenization_mode');
    const fwd = await h.gql('mutation($m: ID!) { runForward(modelId: $m, tokens: "<ADJLIST_START> (0,0) <--> (1,0) ;") { nextToken } }', {
      m: r.data.importModel.id,
    });
    expect(fwd.errors).toBeUndefined();

    const bad = transformerArchive({ cfg, weights: randomWeights(cfg, 7), tokenArr: [...tokenArr.slice(0, 26), '<UNK>'] });
    const e = await h.gql('mutation($b: String!) { importModel(name: "bad", base64: $b) { id } }', { b: Buffer.from(bad).toString('base64') });
    expect(codes(e)).toEqual(['BAD_USER_INPUT']);
    expect(e.errors![0].message).toBe(
      'importModel: maze-transformer archive: zanj_model_config.maze_tokenizer.token_arr[26] = "<UNK>" has no counterpart in Searchlight\'s aotp-ut vocabulary',
    );
  });
});

describe('importModel: limits of a maze-transformer archive', () => {
  it('refuses JSON entries and archives too large to read, and unreadable tensors, with BAD_USER_INPUT naming them, writing nothing', async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg: ModelConfig = { ...PRESETS.nano, act_fn: 'gelu', n_ctx: 64, d_vocab: tok.vocabSize(4), tokenizer: 'aotp-ut' };
    const tokenArr = [...tok.vocab(1).slice(0, 11), ...mazeDatasetCornerFirst(4).map(([r, c]) => `(${r},${c})`)];
    const good = transformerArchive({ cfg, weights: randomWeights(cfg, 7), tokenArr });
    const before = await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM models');
    const refused = async (bytes: Uint8Array, message: string) => {
      const r = await h.gql('mutation($b: String!) { importModel(name: "too much", base64: $b) { id } }', { b: b64(bytes) });
      expect(codes(r), JSON.stringify(r.errors)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].message).toBe(message);
    };
    // JSON is parsed as one string: an entry larger than MAX_ZANJ_JSON_BYTES is refused from the zip's sizes.
    await refused(
      claimSize(good, '__zanj__.json', MAX_ZANJ_JSON_BYTES + 1),
      `importModel: maze-transformer archive: __zanj__.json unpacks to ${MAX_ZANJ_JSON_BYTES + 1} bytes; a JSON entry may hold at most ${MAX_ZANJ_JSON_BYTES}`,
    );
    await refused(
      claimSize(good, '__zanj__.json', MAX_ZANJ_UNCOMPRESSED + 1),
      `importModel: maze-transformer archive: the archive's entries unpack to more than ${MAX_ZANJ_UNCOMPRESSED} bytes (at __zanj__.json)`,
    );
    // A tensor written as a list nested 100,000 deep.
    const main = JSON.parse(Buffer.from(unzipSync(good)['__zanj__.json']).toString().replaceAll('-Infinity', 'null'));
    main.state_dict['blocks.0.ln1.w'] = 'DEEP';
    const entries = Object.fromEntries(Object.entries(unzipSync(good)).filter(([k]) => !k.startsWith('__zanj')));
    await refused(
      zanjZip(null, entries, JSON.stringify(main).replace('"DEEP"', DEEP)),
      'importModel: maze-transformer archive: state_dict.blocks.0.ln1.w: a nested list deeper than 64 levels; an array has at most 64 dimensions',
    );
    expect(await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM models')).toBe(before);
    expect((await h.gql('mutation($b: String!) { importModel(name: "fine", base64: $b) { id } }', { b: b64(good) })).errors).toBeUndefined();
  });
});

describe('searchlight datasets import|export', () => {
  function io(): { io: CliIO; out: () => string } {
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (d) => (out += d));
    return { io: { stdin: Readable.from(['']), stdout, stderr: new PassThrough() }, out: () => out };
  }

  it('imports an archive into a data directory and exports it back to the same mazes; errors are one clear line', async () => {
    const dir = tempDir();
    try {
      const { root, entries } = minimalDataset(mazes, 5);
      const file = path.join(dir, 'in.zanj');
      fs.writeFileSync(file, zanjZip(root, entries));
      const a = io();
      await datasetCommands.import.run(['--file', file, '--name', 'cli', '--data', dir], a.io);
      expect(a.out()).toMatch(/^imported Dataset:1 "cli": 20 mazes of 5x5 \(dfs\), content hash [0-9a-f]{64}\n$/);
      const out = path.join(dir, 'out.zanj');
      const b = io();
      await datasetCommands.export.run(['--id', 'Dataset:1', '--out', out, '--data', dir], b.io);
      expect(b.out()).toMatch(/^wrote .*out\.zanj: Dataset:1, 20 mazes, \d+ bytes\n$/);
      expect(readMazeDatasetZanj(fs.readFileSync(out)).mazes.map(essence)).toEqual(mazes.map(essence));
      await expect(datasetCommands.export.run(['--id', 'Dataset:7', '--out', out, '--data', dir], io().io)).rejects.toThrow(
        'datasets export: Dataset:7 does not exist',
      );
      await expect(datasetCommands.import.run(['--file', path.join(dir, 'nope.zanj'), '--name', 'x', '--data', dir], io().io)).rejects.toThrow(
        /^datasets import: cannot read --file .*nope\.zanj: ENOENT$/,
      );
      // An archive over the size limit is refused by its size (a sparse file: no bytes written).
      const big = path.join(dir, 'big.zanj');
      fs.writeFileSync(big, zanjZip(minimalDataset(mazes, 5).root, minimalDataset(mazes, 5).entries));
      fs.truncateSync(big, MAX_DATASET_ARCHIVE_BYTES + 1);
      await expect(datasetCommands.import.run(['--file', big, '--name', 'big', '--data', dir], io().io)).rejects.toThrow(
        `importDataset: the archive is ${MAX_DATASET_ARCHIVE_BYTES + 1} bytes; the limit is ${MAX_DATASET_ARCHIVE_BYTES}`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
