/**
 * ZANJ archives (server/model/zanj/): the container, maze-dataset datasets (three layouts, export,
 * round trip, every refusal) and maze-transformer models (config, vocabulary, weights, refusals).
 * Archives are built by test/model/zanj-fixtures.ts from the format's description.
 */
import { strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../server/errors.js';
import { generateMazes } from '../../server/maze/generate.js';
import type { SolvedMaze } from '../../server/maze/lattice.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { PRESETS, type ModelConfig } from '../../server/model/config.js';
import { decodeNpyNumbers, encodeNpyAs } from '../../server/model/npy.js';
import { decodeModel } from '../../server/model/weights.js';
import { MAX_ZANJ_DIMS, MAX_ZANJ_JSON_BYTES, isZip, parsePythonJson, readZanj, zanjArray } from '../../server/model/zanj/archive.js';
import { readMazeDatasetZanj, writeMazeDatasetZanj } from '../../server/model/zanj/mazeDataset.js';
import { mazeDatasetCornerFirst, mazeTransformerToModelFile, readMazeTransformerZanj } from '../../server/model/zanj/mazeTransformer.js';
import { randomWeights } from './fixtures.js';
import { claimSize, extRef, fullDatasetRoot, listMeta, minimalDataset, solnCatDataset, transformerArchive, zanjZip } from './zanj-fixtures.js';

const mazes5 = (n: number, gen = 'dfs', seed = 1): SolvedMaze[] => [...generateMazes({ generator: gen, rows: 5 }, n, seed)];

/** The parts of a maze that must survive a round trip. */
const essence = (m: SolvedMaze) => ({
  rows: m.rows,
  cols: m.cols,
  down: [...m.down],
  right: [...m.right],
  origin: [...m.origin],
  target: [...m.target],
  path: m.path.map((c) => [...c]),
});

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('ZANJ container', () => {
  it('reads main JSON, meta (Python NaN/Infinity words as null) and entries; refuses non-zips and zips without __zanj__.json', () => {
    const a = readZanj(zanjZip({ x: 1 }, { 'a/b.npy': encodeNpyAs('int32', [1, 2], [2]) }));
    expect(a.main).toEqual({ x: 1 });
    expect(a.meta?.sysinfo).toEqual({ python: null });
    expect([...a.files.keys()]).toEqual(['a/b.npy']);
    expect(parsePythonJson('{"a": [NaN, -Infinity, Infinity], "s": "NaN \\" -Infinity"}', 'x')).toEqual({ a: [null, null, null], s: 'NaN " -Infinity' });
    expect(refusal(() => readZanj(strToU8('{"not": "a zip"}')))).toMatch(/not a ZANJ archive: the bytes are not a zip file/);
    expect(refusal(() => readZanj(zipSync({ 'other.json': strToU8('{}') })))).toBe('not a ZANJ archive: it has no __zanj__.json (entries: other.json)');
    expect(refusal(() => readZanj(zipSync({ '__zanj__.json': strToU8('{oops') })))).toMatch(/^__zanj__.json is not valid JSON/);
    expect(isZip(zipSync({}))).toBe(true);
  });

  it('decodes every array form: external .npy, array_list_meta, hex, base64, zero_dim, bare lists; shape and $ref problems are named', () => {
    const files = new Map([['x.npy', encodeNpyAs('int8', [1, -2, 3, 4], [2, 2])]]);
    const arr = (item: unknown) => zanjArray(item, { files }, 'f');
    expect(arr(extRef('x.npy', [2, 2], 'int8'))).toMatchObject({ shape: [2, 2], data: Float64Array.of(1, -2, 3, 4) });
    expect(arr(listMeta([1, 0, 1, 1], [2, 2], 'bool'))).toMatchObject({ shape: [2, 2], data: Float64Array.of(1, 0, 1, 1) });
    const raw = Buffer.from(new Float32Array([0.5, -1]).buffer);
    expect(arr({ __muutils_format__: 'numpy.ndarray:array_hex_meta', shape: [2], dtype: 'float32', data: raw.toString('hex') }).data).toEqual(
      Float64Array.of(0.5, -1),
    );
    expect(arr({ __muutils_format__: 'torch.Tensor:array_b64_meta', shape: [2], dtype: 'torch.float32', data: raw.toString('base64') }).data).toEqual(
      Float64Array.of(0.5, -1),
    );
    expect(arr({ __muutils_format__: 'numpy.ndarray:zero_dim', shape: [], dtype: 'float64', data: 2.5 })).toMatchObject({
      shape: [],
      data: Float64Array.of(2.5),
    });
    expect(
      arr([
        [1, 2],
        [3, 4],
      ]).shape,
    ).toEqual([2, 2]);
    expect(refusal(() => arr(extRef('missing.npy', [2], 'int8')))).toBe('f: the archive has no entry "missing.npy" (named by its "$ref")');
    expect(refusal(() => arr(extRef('x.npy', [4], 'int8')))).toBe('f: the data has shape [2, 2] but the archive says [4]');
    expect(refusal(() => arr([[1, 2], [3]]))).toBe('f: ragged nested list at [1] (expected 2 items at depth 1)');
    expect(refusal(() => arr({ __muutils_format__: 'numpy.ndarray:array_list_meta', shape: [2], data: [1, null] }))).toBe(
      'f: element [1] is NaN or infinite (written as a bare NaN/Infinity)',
    );
    expect(refusal(() => arr({ __muutils_format__: 'numpy.ndarray:array_hex_meta', shape: [1], dtype: 'complex64', data: '00' }))).toMatch(
      /^f: unsupported dtype "complex64"/,
    );
  });

  it('npy: bool/int8/int64/float16 decode, and encodeNpyAs writes what NumPy descr says', () => {
    expect(decodeNpyNumbers(encodeNpyAs('bool', [1, 0, 3], [3]))).toMatchObject({ dtype: 'bool', shape: [3], data: Float64Array.of(1, 0, 1) });
    expect(decodeNpyNumbers(encodeNpyAs('int64', [-5, 2 ** 40], [2])).data).toEqual(Float64Array.of(-5, 2 ** 40));
    expect(() => encodeNpyAs('int8', [200], [1])).toThrow('value 200 at flat index 0 does not fit int8');
  });
});

/** The archive as muutils < 0.8 wrote it (maze-transformer pins muutils ^0.6.7): `__format__` for `__muutils_format__`. */
function legacyFormatKey(bytes: Uint8Array): Uint8Array {
  const entries = unzipSync(bytes);
  const main = new TextDecoder().decode(entries['__zanj__.json']).replaceAll('"__muutils_format__"', '"__format__"');
  return zipSync({ ...entries, '__zanj__.json': strToU8(main) });
}

describe('archives written before muutils 0.8 (format key "__format__")', () => {
  it('read as the current key: maze-dataset layouts, arrays and a maze-transformer model', () => {
    const mazes = mazes5(4);
    const full = legacyFormatKey(zanjZip(fullDatasetRoot(mazes, 5)));
    expect(new TextDecoder().decode(unzipSync(full)['__zanj__.json'])).not.toContain('__muutils_format__');
    expect(readMazeDatasetZanj(full).mazes.map(essence)).toEqual(mazes.map(essence));
    const min = minimalDataset(mazes, 5);
    expect(readMazeDatasetZanj(legacyFormatKey(zanjZip(min.root, min.entries))).mazes.map(essence)).toEqual(mazes.map(essence));
    const tok = getTokenizer('aotp-ut');
    const cfg: ModelConfig = { ...PRESETS.nano, act_fn: 'gelu', n_ctx: 64, d_vocab: tok.vocabSize(3), tokenizer: 'aotp-ut' };
    const weights = randomWeights(cfg, 3);
    const m = readMazeTransformerZanj(legacyFormatKey(transformerArchive({ cfg, weights, tokenArr: [...tok.vocab(3)] })));
    expect(m.cfg).toEqual(cfg);
    for (const [name, w] of weights) expect(m.weights.get(name), name).toEqual(w);
  });
});

describe('maze-dataset archives', () => {
  const mazes = mazes5(6);

  it('reads the full "MazeDataset" layout (inline arrays, start_pos/end_pos) into the same mazes', () => {
    const read = readMazeDatasetZanj(zanjZip(fullDatasetRoot(mazes, 5)));
    expect(read.mazes.map(essence)).toEqual(mazes.map(essence));
    expect(read.info).toMatchObject({ format: 'MazeDataset', grid: 5, generator: 'dfs', mazeCtor: 'gen_dfs', seed: 42, name: 'test' });
  });

  it('reads "MazeDataset:minimal" (external .npy, padded solutions) and "MazeDataset:minimal_soln_cat"', () => {
    const min = minimalDataset(mazes, 5, 'gen_percolation', { p: 0.3 });
    const a = readMazeDatasetZanj(zanjZip(min.root, min.entries));
    expect(a.mazes.map(essence)).toEqual(mazes.map(essence));
    expect(a.info).toMatchObject({ format: 'MazeDataset:minimal', generator: 'percolation', p: 0.3 });
    const cat = solnCatDataset(mazes, 5);
    expect(readMazeDatasetZanj(zanjZip(cat.root, cat.entries)).mazes.map(essence)).toEqual(mazes.map(essence));
  });

  it('export → import gives the same mazes and generator settings (dfs forkless, percolation p, open_field as gen_percolation p=1)', () => {
    for (const [gen, extra] of [
      ['dfs', { forkless: true }],
      ['percolation', { p: 0.4 }],
      ['wilson', {}],
    ] as const) {
      const ms = [...generateMazes({ generator: gen, rows: 6, ...extra }, 40, 3)];
      const bytes = writeMazeDatasetZanj({ name: 'round trip', grid: 6, seed: 3, generator: gen, ...extra }, ms);
      const back = readMazeDatasetZanj(bytes);
      expect(back.mazes.map(essence)).toEqual(ms.map(essence));
      expect(back.info).toMatchObject({ format: 'MazeDataset:minimal', grid: 6, seed: 3, generator: gen, name: 'round trip', ...extra });
    }
    const open = readMazeDatasetZanj(writeMazeDatasetZanj({ name: 'o', grid: 5, seed: 0, generator: 'open_field' }, mazes5(2, 'open_field')));
    expect(open.info).toMatchObject({ mazeCtor: 'gen_percolation', generator: 'percolation', p: 1 });
  });

  it('the export is laid out as ZANJ writes it: externals_info per .npy, placeholders with $ref, MazeDatasetConfig fields, NumPy dtypes', () => {
    const files = unzipSync(writeMazeDatasetZanj({ name: 'x y', grid: 5, seed: 7, generator: 'dfs' }, mazes));
    expect(Object.keys(files).sort()).toEqual([
      '__zanj__.json',
      '__zanj_meta__.json',
      'maze_connection_lists.npy',
      'maze_solution_lengths.npy',
      'maze_solutions.npy',
    ]);
    const meta = JSON.parse(Buffer.from(files['__zanj_meta__.json']).toString());
    expect(meta.externals_info['maze_connection_lists.npy']).toMatchObject({
      item_type: 'npy',
      path: ['maze_connection_lists'],
      shape: [6, 2, 5, 5],
      dtype: 'bool',
    });
    const main = JSON.parse(Buffer.from(files['__zanj__.json']).toString());
    expect(main.__muutils_format__).toBe('MazeDataset:minimal');
    expect(main.maze_solutions).toMatchObject({ __muutils_format__: 'numpy.ndarray:external', $ref: 'maze_solutions.npy', dtype: 'int8' });
    expect(main.cfg).toMatchObject({
      __muutils_format__: 'MazeDatasetConfig(SerializableDataclass)',
      grid_n: 5,
      n_mazes: 6,
      seed: 7,
      maze_ctor: { __name__: 'gen_dfs' },
    });
    expect(main.fname).toBe('x_y-g5-n6-a_dfs-searchlight');
    expect(Buffer.from(files['maze_connection_lists.npy']).toString('latin1')).toContain("'descr': '|b1'");
    expect(Buffer.from(files['maze_solutions.npy']).toString('latin1')).toContain("'descr': '|i1'");
  });

  /** A minimal-layout archive of `mazes` after `edit` changes its arrays (connection lists, lengths, solutions). */
  function broken(edit: (a: { clists: Uint8Array; lens: Int32Array; sols: Int8Array; maxLen: number }) => void, ctor = 'gen_dfs', grid = 5): Uint8Array {
    const { root, entries } = minimalDataset(mazes, 5, ctor);
    const c = decodeNpyNumbers(entries['maze_connection_lists.npy']);
    const s = decodeNpyNumbers(entries['maze_solutions.npy']);
    const a = {
      clists: Uint8Array.from(c.data),
      lens: Int32Array.from(decodeNpyNumbers(entries['maze_solution_lengths.npy']).data),
      sols: Int8Array.from(s.data),
      maxLen: s.shape[1],
    };
    edit(a);
    (root.cfg as Record<string, unknown>).grid_n = grid;
    return zanjZip(root, {
      'maze_connection_lists.npy': encodeNpyAs('bool', a.clists, c.shape),
      'maze_solution_lengths.npy': encodeNpyAs('int32', a.lens, [mazes.length]),
      'maze_solutions.npy': encodeNpyAs('int8', a.sols, s.shape),
    });
  }

  it('refuses each bad maze naming its index and field, and bad configs naming the field', () => {
    const at = (k: number) => k * 2; // maze 0's k-th solution cell in maze_solutions
    expect(refusal(() => readMazeDatasetZanj(broken(() => undefined, 'gen_dfs', 4)))).toBe(
      'maze_connection_lists: maze_connection_lists has shape [6, 2, 5, 5], expected [N, 2, 4, 4]',
    );
    expect(refusal(() => readMazeDatasetZanj(broken(() => undefined, 'gen_magic')))).toBe(
      'cfg.maze_ctor.__name__ "gen_magic" has no Searchlight generator; known: gen_dfs, gen_wilson, gen_kruskal, gen_prim, gen_recursive_division, gen_percolation, gen_dfs_percolation',
    );
    // maze 2, plane 0 (down), last row: an edge out of the grid.
    expect(refusal(() => readMazeDatasetZanj(broken((a) => (a.clists[2 * 50 + 4 * 5 + 1] = 1))))).toBe(
      'maze 2: connection_list[0, 4, 1] opens a connection out of the 5x5 grid (down from the last row)',
    );
    expect(refusal(() => readMazeDatasetZanj(broken((a) => (a.sols[at(1)] = 9))))).toMatch(/^maze 0: solution\[1\] \(9,\d\) is outside the 5x5 grid$/);
    // maze 0's first step walks into a wall once every connection of maze 0 is closed.
    expect(refusal(() => readMazeDatasetZanj(broken((a) => a.clists.fill(0, 0, 50))))).toMatch(
      /^maze 0: solution step 0→1 \(\d,\d\)→\(\d,\d\) is not an open connection$/,
    );
    expect(refusal(() => readMazeDatasetZanj(broken((a) => (a.lens[3] = 99))))).toMatch(/^maze 3: maze_solution_lengths\[3\] is 99; it must be in \[1, \d+\]/);
    // A walk that doubles back on itself.
    const m = mazes[0];
    const detour = [...m.path.slice(0, 2), m.path[0]]; // there and back: revisits the origin
    expect(
      refusal(() =>
        readMazeDatasetZanj(
          broken((a) => {
            a.lens[0] = detour.length;
            detour.forEach(([r, c], k) => a.sols.set([r, c], k * 2));
          }),
        ),
      ),
    ).toMatch(/^maze 0: solution\[2\] \(\d,\d\) revisits a cell$/);
  });

  it('refuses a solution that is not a shortest path, start/end that disagree with the solution, and non-datasets', () => {
    // An open 3×3 field: (0,0)→(0,1)→(1,1)→(1,0) is a valid walk of 3 steps where 1 suffices.
    const [open] = [...generateMazes({ generator: 'open_field', rows: 3 }, 1, 1)];
    const long: SolvedMaze = {
      ...open,
      origin: [0, 0],
      target: [1, 0],
      path: [
        [0, 0],
        [0, 1],
        [1, 1],
        [1, 0],
      ],
    };
    expect(refusal(() => readMazeDatasetZanj(zanjZip(fullDatasetRoot([long], 3))))).toBe(
      'maze 0: solution takes 3 steps but the shortest path from (0,0) to (1,0) takes 1',
    );
    const root = fullDatasetRoot(mazes.slice(0, 2), 5);
    ((root.mazes as Array<Record<string, unknown>>)[1].start_pos as Record<string, unknown>).data = [4, 4];
    expect(refusal(() => readMazeDatasetZanj(zanjZip(root)))).toMatch(/^maze 1: solution starts at \(\d,\d\) but start_pos is \(4,4\)$/);
    expect(refusal(() => readMazeDatasetZanj(zanjZip({ __muutils_format__: 'ZanjHookedTransformer' })))).toMatch(
      /holds a "ZanjHookedTransformer", not a maze-dataset MazeDataset/,
    );
    const cat = solnCatDataset(mazes, 5);
    (cat.root.maze_solution_lengths as Record<string, unknown>).data = mazes.map(() => 1);
    // Lengths of 1: maze 0's solution is its origin alone, which maze_endpoints says is not its end.
    expect(refusal(() => readMazeDatasetZanj(zanjZip(cat.root, cat.entries)))).toBe(
      `maze 0: solution ends at (${mazes[0].origin.join(',')}) but maze_endpoints[0, 1] is (${mazes[0].target.join(',')})`,
    );
  });
});

describe('maze-transformer archives', () => {
  const tok = getTokenizer('aotp-ut');
  const base: ModelConfig = { ...PRESETS.nano, act_fn: 'gelu', n_ctx: 64, d_vocab: tok.vocabSize(4), tokenizer: 'aotp-ut' };
  const weights = randomWeights(base, 5);
  // maze-dataset's AOTP_UT_uniform order (corner_first_ndindex): differs from ours from the 4×4 shell on.
  const tokenArr = [...tok.vocab(1).slice(0, 11), ...mazeDatasetCornerFirst(4).map(([r, c]) => `(${r},${c})`)];

  it("maze-dataset's corner-first order, as its corner_first_ndindex(4) lists it", () => {
    expect(
      mazeDatasetCornerFirst(4)
        .map(([r, c]) => `${r}${c}`)
        .join(' '),
    ).toBe('00 01 10 11 02 20 12 21 22 03 30 31 23 32 13 33');
  });

  it("maps config, vocabulary and state_dict; the model file it makes decodes to the same weights with the archive's token order", () => {
    const bytes = transformerArchive({ cfg: base, weights, tokenArr });
    const m = readMazeTransformerZanj(bytes);
    expect(m.cfg).toEqual(base); // n_heads from d_model // d_head, d_mlp from W_in, n_ctx from seq_len_max, d_vocab from token_arr
    expect(m.vocab).toEqual(tokenArr);
    expect(m.ignored).toEqual([]); // attn.mask / attn.IGNORE are TL buffers, rebuilt
    const loaded = decodeModel(mazeTransformerToModelFile(bytes));
    expect(loaded.cfg).toEqual(base);
    expect(loaded.vocab).toEqual(tokenArr);
    for (const [name, w] of weights) expect(loaded.weights.get(name), name).toEqual(w);
    expect(loaded.metadata.zanj_tokenization_mode).toBe('AOTP_UT_uniform');
  });

  it('rebuilds token_arr from tokenization_mode and max_grid_size when the archive omits it (uniform, rasterized, CTT)', () => {
    expect(readMazeTransformerZanj(transformerArchive({ cfg: base, weights, tokenArr: null })).vocab).toEqual(tokenArr);
    const raster = readMazeTransformerZanj(transformerArchive({ cfg: base, weights, tokenArr: null, mode: 'AOTP_UT_rasterized' })).vocab;
    expect(raster.slice(11, 16)).toEqual(['(0,0)', '(0,1)', '(0,2)', '(0,3)', '(1,0)']);
    const ctt = getTokenizer('aotp-ctt');
    const cttCfg = { ...base, d_vocab: ctt.vocabSize(4), tokenizer: 'aotp-ctt' };
    const m = readMazeTransformerZanj(transformerArchive({ cfg: cttCfg, weights: randomWeights(cttCfg, 2), tokenArr: null, mode: 'AOTP_CTT_indexed' }));
    expect(m.cfg.tokenizer).toBe('aotp-ctt');
    expect(m.vocab).toEqual([...ctt.vocab(4)]);
  });

  it('folded layer norms read as LNPre (no ln weights); rotary positions get rotary_dim = d_head (TL default)', () => {
    const lnpre: ModelConfig = { ...base, normalization_type: 'LNPre' };
    const folded = readMazeTransformerZanj(
      transformerArchive({
        cfg: lnpre,
        weights: randomWeights(lnpre, 3),
        tokenArr,
        modelCfg: { act_fn: 'gelu', d_model: 8, d_head: 4, n_layers: 2, weight_processing: { are_layernorms_folded: true } },
      }),
    );
    expect(folded.cfg.normalization_type).toBe('LNPre');
    expect([...folded.weights.keys()].some((n) => n.includes('ln'))).toBe(false);
    const rot: ModelConfig = { ...base, positional_embedding_type: 'rotary', rotary_dim: 4 };
    const r = readMazeTransformerZanj(
      transformerArchive({
        cfg: rot,
        weights: randomWeights(rot, 4),
        tokenArr,
        modelCfg: { act_fn: 'gelu', d_model: 8, d_head: 4, n_layers: 2, positional_embedding_type: 'rotary' },
      }),
    );
    expect(r.cfg).toMatchObject({ positional_embedding_type: 'rotary', rotary_dim: 4 });
  });

  it('refuses what does not map, naming the archive field', () => {
    const arch = (o: Partial<Parameters<typeof transformerArchive>[0]>) => () =>
      readMazeTransformerZanj(transformerArchive({ cfg: base, weights, tokenArr, ...o }));
    expect(refusal(arch({ tokenArr: [...tokenArr.slice(0, 11), '<UNK>', ...tokenArr.slice(12)] }))).toBe(
      'zanj_model_config.maze_tokenizer.token_arr[11] = "<UNK>" has no counterpart in Searchlight\'s aotp-ut vocabulary',
    );
    expect(refusal(arch({ mode: 'AOTP_UT_fancy' }))).toBe(
      'zanj_model_config.maze_tokenizer.tokenization_mode "AOTP_UT_fancy" is not supported; supported: AOTP_UT_uniform, AOTP_UT_rasterized, AOTP_CTT_indexed',
    );
    expect(refusal(arch({ modelCfg: { act_fn: 'solu_ln', d_model: 8, d_head: 4, n_layers: 2 } }))).toMatch(
      /^zanj_model_config\.model_cfg\.act_fn: config\.act_fn must be one of .*"solu_ln"/,
    );
    expect(refusal(arch({ modelCfg: { act_fn: 'gelu', d_model: 8, d_head: 4, n_layers: 2, positional_embedding_type: 'alibi' } }))).toMatch(
      /^zanj_model_config\.model_cfg\.positional_embedding_type: config\.positional_embedding_type must be/,
    );
    expect(refusal(arch({ drop: ['blocks.1.attn.W_K'] }))).toBe('state_dict has no "blocks.1.attn.W_K" (expected shape [2, 8, 4])');
    expect(refusal(arch({ modelCfg: { act_fn: 'gelu', d_model: 8, d_head: 2, n_layers: 2 } }))).toMatch(
      /^state_dict\.blocks\.0\.attn\.W_Q has shape \[2, 8, 4\] but the config expects \[4, 8, 2\]/,
    );
    expect(refusal(arch({ tokenArr: tokenArr.slice(0, 20) }))).toMatch(/^state_dict\.embed\.W_E has shape \[27, 8\] but the config expects \[20, 8\]/);
    const noTok = JSON.parse(
      Buffer.from(unzipSync(transformerArchive({ cfg: base, weights, tokenArr }))['__zanj__.json'])
        .toString()
        .replaceAll('-Infinity', 'null'),
    );
    noTok.zanj_model_config.maze_tokenizer = null;
    expect(refusal(() => readMazeTransformerZanj(zanjZip(noTok)))).toMatch(/^zanj_model_config\.maze_tokenizer is missing/);
    expect(refusal(() => readMazeTransformerZanj(zanjZip({ __muutils_format__: 'MazeDataset' })))).toBe(
      '__zanj__.json holds a "MazeDataset", not a maze-transformer ZanjHookedTransformer',
    );
  });
});

describe('unpacked-size bound', () => {
  it('refuses an archive whose entries unpack past the bound it is read with, before decoding any array', () => {
    const min = minimalDataset(mazes5(6), 5);
    const bytes = zanjZip(min.root, min.entries);
    expect(readMazeDatasetZanj(bytes).mazes).toHaveLength(6);
    expect(() => readMazeDatasetZanj(bytes, 200)).toThrow(/the archive's entries unpack to more than 200 bytes/);
  });

  it("refuses a JSON entry (main, meta, .jsonl) whose size is over MAX_ZANJ_JSON_BYTES, from the zip's sizes; other entries count only towards the total", () => {
    const zip = zanjZip({ x: 1 }, { 'a.jsonl': strToU8('1\n2\n'), 'b.npy': encodeNpyAs('int8', [1], [1]) });
    expect(readZanj(zip).files.size).toBe(2);
    for (const name of ['__zanj__.json', '__zanj_meta__.json', 'a.jsonl'])
      expect(refusal(() => readZanj(claimSize(zip, name, MAX_ZANJ_JSON_BYTES + 1)))).toBe(
        `${name} unpacks to ${MAX_ZANJ_JSON_BYTES + 1} bytes; a JSON entry may hold at most ${MAX_ZANJ_JSON_BYTES}`,
      );
    expect(refusal(() => readZanj(claimSize(zip, 'b.npy', 1000), 500))).toBe("the archive's entries unpack to more than 500 bytes (at b.npy)");
  });

  it('reads a nested list of 64 levels and refuses 65; lengths that claim more values than the list holds are ragged, not allocated', () => {
    const nested = (depth: number) => JSON.parse(`${'['.repeat(depth)}7${']'.repeat(depth)}`);
    const a = zanjArray(nested(MAX_ZANJ_DIMS), { files: new Map() }, 'f');
    expect(a.shape).toEqual(Array(MAX_ZANJ_DIMS).fill(1));
    expect(Array.from(a.data)).toEqual([7]);
    expect(refusal(() => zanjArray(nested(MAX_ZANJ_DIMS + 1), { files: new Map() }, 'f'))).toBe(
      `f: a nested list deeper than ${MAX_ZANJ_DIMS} levels; an array has at most ${MAX_ZANJ_DIMS} dimensions`,
    );
    expect(refusal(() => zanjArray(nested(100_000), { files: new Map() }, 'f'))).toMatch(/^f: a nested list deeper than 64 levels/);
    // [[[...[0, 0 ×9]...], 0 ×9], 0 ×9]: its first rows say 10^12 values, it holds 109.
    let wide: unknown = 0;
    for (let i = 0; i < 12; i++) wide = [wide, ...Array(9).fill(0)];
    expect(refusal(() => zanjArray(wide, { files: new Map() }, 'f'))).toBe(`f: ragged nested list at ${'[0]'.repeat(10)}[1] (expected 10 items at depth 11)`);
  });

  it('tells the caller the maze count and grid before building any maze, so a refusal costs no maze checks', () => {
    const seen: Array<[number, number]> = [];
    const stop = (count: number, grid: number) => {
      seen.push([count, grid]);
      throw new UserError(`stop at ${count}`);
    };
    const six = mazes5(6);
    const min = minimalDataset(six, 5);
    // The last maze is broken (a solution of no cells): never reached when the count is refused.
    min.entries['maze_solution_lengths.npy'] = encodeNpyAs('int32', [...six.slice(0, 5).map((m) => m.path.length), 0], [6]);
    expect(refusal(() => readMazeDatasetZanj(zanjZip(min.root, min.entries), undefined, stop))).toBe('stop at 6');
    const cat = solnCatDataset(mazes5(4), 5);
    expect(refusal(() => readMazeDatasetZanj(zanjZip(cat.root, cat.entries), undefined, stop))).toBe('stop at 4');
    expect(refusal(() => readMazeDatasetZanj(zanjZip(fullDatasetRoot(mazes5(3), 5)), undefined, stop))).toBe('stop at 3');
    expect(seen).toEqual([
      [6, 5],
      [4, 5],
      [3, 5],
    ]);
    expect(refusal(() => readMazeDatasetZanj(zanjZip(min.root, min.entries), undefined, () => undefined))).toMatch(
      /^maze 5: maze_solution_lengths\[5\] is 0; it must be in \[1, \d+\]/,
    );
  });
});
