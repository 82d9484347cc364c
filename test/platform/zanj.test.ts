/**
 * ZANJ archives through the surfaces: importDataset (GraphQL), the /files/datasets/<id>.zanj
 * download, importModel with a maze-transformer archive, `searchlight datasets import|export`, and
 * the refusal to train on an imported dataset. Archives come from test/model/zanj-fixtures.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetCommands } from '../../server/cli/datasets.js';
import type { CliIO } from '../../server/cli/io.js';
import { generateMazes } from '../../server/maze/generate.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { PRESETS, type ModelConfig } from '../../server/model/config.js';
import { readMazeDatasetZanj } from '../../server/model/zanj/mazeDataset.js';
import { mazeDatasetCornerFirst } from '../../server/model/zanj/mazeTransformer.js';
import { randomWeights } from '../model/fixtures.js';
import { minimalDataset, transformerArchive, zanjZip } from '../model/zanj-fixtures.js';
import { codes, type Harness, sqlCount, startHarness, tempDir } from './helpers.js';

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
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
