/**
 * ZANJ archives built in the tests from the format's description (zanj/zanj.py `ZANJ.save`:
 * `__zanj__.json`, `__zanj_meta__.json` with `externals_info`, and `<object path>.npy` entries;
 * muutils' inline array forms). Shaped like what maze-dataset and maze-transformer write, written by
 * our own code so the readers are tested against the layout, not against themselves.
 */
import { strToU8, zipSync } from 'fflate';
import type { SolvedMaze } from '../../server/maze/lattice.js';
import { type ModelConfig, paramShapes } from '../../server/model/config.js';
import { encodeNpyAs } from '../../server/model/npy.js';

const FMT = '__muutils_format__';
const prod = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** Nested lists of `shape` from row-major values (what `arr.tolist()` gives). */
export function nest(values: ArrayLike<number>, shape: number[], map: (v: number) => unknown = (v) => v): unknown {
  if (shape.length === 0) return map(values[0]);
  const [d, ...rest] = shape;
  const step = prod(rest);
  return Array.from({ length: d }, (_, i) => nest(Array.prototype.slice.call(values, i * step, (i + 1) * step), rest, map));
}

/** muutils' inline `array_list_meta` form. */
export function listMeta(values: ArrayLike<number>, shape: number[], dtype: string, type = 'numpy.ndarray'): Record<string, unknown> {
  const map = dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => v;
  return { [FMT]: `${type}:array_list_meta`, shape, dtype, n_elements: prod(shape), data: nest(values, shape, map) };
}

/** ZANJ's placeholder of an external array. */
export function extRef(ref: string, shape: number[], dtype: string, type = 'numpy.ndarray'): Record<string, unknown> {
  return { [FMT]: `${type}:external`, $ref: ref, shape, dtype, n_elements: prod(shape) };
}

/** A zip with `main` as __zanj__.json (text, so a test can put Python's bare -Infinity in it), the meta and the entries. */
export function zanjZip(main: unknown, entries: Record<string, Uint8Array> = {}, mainText?: string): Uint8Array {
  const externals_info = Object.fromEntries(
    Object.keys(entries).map((k) => [k, { item_type: k.endsWith('.npy') ? 'npy' : 'jsonl', path: k.replace(/\.\w+$/, '').split('/') }]),
  );
  return zipSync({
    '__zanj_meta__.json': strToU8(JSON.stringify({ zanj_cfg: { external_array_threshold: 256 }, sysinfo: { python: NaN }, externals_info, timestamp: 0 })),
    '__zanj__.json': strToU8(mainText ?? JSON.stringify(main)),
    ...entries,
  });
}

/**
 * `zip` with the uncompressed size its central directory gives `name` (what an unzipper sizes its
 * output by) set to `size`: an archive that claims more than it holds, built without the bytes.
 */
export function claimSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) throw new Error(`claimSize: ${size} does not fit a zip's 32-bit size field`);
  const out = zip.slice();
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const end = out.length - 22; // the end-of-central-directory record (no comment)
  if (dv.getUint32(end, true) !== 0x06054b50) throw new Error('claimSize: no end-of-central-directory record at the end');
  for (let i = 0, o = dv.getUint32(end + 16, true); i < dv.getUint16(end + 10, true); i++) {
    if (dv.getUint32(o, true) !== 0x02014b50) throw new Error(`claimSize: no central directory entry at ${o}`);
    const nameLength = dv.getUint16(o + 28, true);
    if (Buffer.from(out.subarray(o + 46, o + 46 + nameLength)).toString() === name) {
      dv.setUint32(o + 24, size, true);
      return out;
    }
    o += 46 + nameLength + dv.getUint16(o + 30, true) + dv.getUint16(o + 32, true);
  }
  throw new Error(`the zip has no entry ${name}`);
}

export function mazeDatasetCfg(grid: number, n: number, ctor = 'gen_dfs', kwargs: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    [FMT]: 'MazeDatasetConfig(SerializableDataclass)',
    name: 'test',
    seq_len_min: 1,
    seq_len_max: 512,
    seed: 42,
    applied_filters: [],
    grid_n: grid,
    n_mazes: n,
    maze_ctor: { __name__: ctor, __module__: 'maze_dataset.generation.generators', __doc__: [], source_code: '' },
    maze_ctor_kwargs: kwargs,
    endpoint_kwargs: {},
    fname: `test-g${grid}-n${n}`,
  };
}

const clistOf = (m: SolvedMaze): Uint8Array => {
  const out = new Uint8Array(2 * m.rows * m.cols);
  out.set(m.down, 0);
  out.set(m.right, m.rows * m.cols);
  return out;
};

/** The full "MazeDataset" form: a list of SolvedMaze objects with inline arrays (what maze-dataset writes below 100 mazes). */
export function fullDatasetRoot(mazes: SolvedMaze[], grid: number): Record<string, unknown> {
  return {
    [FMT]: 'MazeDataset',
    cfg: mazeDatasetCfg(grid, mazes.length),
    fname: 'test',
    generation_metadata_collected: null,
    mazes: mazes.map((m) => ({
      [FMT]: 'SolvedMaze(SerializableDataclass)',
      connection_list: listMeta(clistOf(m), [2, grid, grid], 'bool'),
      generation_meta: null,
      start_pos: listMeta(m.origin, [2], 'int8'),
      end_pos: listMeta(m.target, [2], 'int8'),
      solution: listMeta(m.path.flat(), [m.path.length, 2], 'int8'),
      lattice_dim: 2,
    })),
  };
}

/** The "MazeDataset:minimal" form with external arrays. */
export function minimalDataset(
  mazes: SolvedMaze[],
  grid: number,
  ctor = 'gen_dfs',
  kwargs: Record<string, unknown> = {},
): { root: Record<string, unknown>; entries: Record<string, Uint8Array> } {
  const N = mazes.length;
  const maxLen = Math.max(...mazes.map((m) => m.path.length));
  const clists = new Uint8Array(N * 2 * grid * grid);
  const lens = new Int32Array(N);
  const sols = new Int8Array(N * maxLen * 2);
  mazes.forEach((m, i) => {
    clists.set(clistOf(m), i * 2 * grid * grid);
    lens[i] = m.path.length;
    m.path.forEach(([r, c], k) => {
      sols[(i * maxLen + k) * 2] = r;
      sols[(i * maxLen + k) * 2 + 1] = c;
    });
  });
  return {
    root: {
      [FMT]: 'MazeDataset:minimal',
      cfg: mazeDatasetCfg(grid, N, ctor, kwargs),
      fname: 'test',
      generation_metadata_collected: {},
      maze_connection_lists: extRef('maze_connection_lists.npy', [N, 2, grid, grid], 'bool'),
      maze_solution_lengths: extRef('maze_solution_lengths.npy', [N], 'int32'),
      maze_solutions: extRef('maze_solutions.npy', [N, maxLen, 2], 'int8'),
    },
    entries: {
      'maze_connection_lists.npy': encodeNpyAs('bool', clists, [N, 2, grid, grid]),
      'maze_solution_lengths.npy': encodeNpyAs('int32', lens, [N]),
      'maze_solutions.npy': encodeNpyAs('int8', sols, [N, maxLen, 2]),
    },
  };
}

/** The "MazeDataset:minimal_soln_cat" form, solutions concatenated and endpoints listed. */
export function solnCatDataset(mazes: SolvedMaze[], grid: number): { root: Record<string, unknown>; entries: Record<string, Uint8Array> } {
  const N = mazes.length;
  const total = mazes.reduce((a, m) => a + m.path.length, 0);
  const clists = new Uint8Array(N * 2 * grid * grid);
  const lens = new Int32Array(N);
  const cat = new Int8Array(total * 2);
  const ends = new Int8Array(N * 4);
  let at = 0;
  mazes.forEach((m, i) => {
    clists.set(clistOf(m), i * 2 * grid * grid);
    lens[i] = m.path.length;
    for (const [r, c] of m.path) {
      cat[at++] = r;
      cat[at++] = c;
    }
    ends.set([m.origin[0], m.origin[1], m.target[0], m.target[1]], i * 4);
  });
  return {
    root: {
      [FMT]: 'MazeDataset:minimal_soln_cat',
      cfg: mazeDatasetCfg(grid, N),
      fname: 'test',
      generation_metadata_collected: {},
      maze_connection_lists: extRef('maze_connection_lists.npy', [N, 2, grid, grid], 'bool'),
      maze_endpoints: listMeta(ends, [N, 2, 2], 'int8'),
      maze_solution_lengths: listMeta(lens, [N], 'int32'),
      maze_solutions_concat: extRef('maze_solutions_concat.npy', [total, 2], 'int8'),
    },
    entries: {
      'maze_connection_lists.npy': encodeNpyAs('bool', clists, [N, 2, grid, grid]),
      'maze_solutions_concat.npy': encodeNpyAs('int8', cat, [total, 2]),
    },
  };
}

export interface TransformerFixtureOptions {
  cfg: ModelConfig;
  weights: Map<string, Float32Array>;
  tokenArr: string[] | null;
  mode?: string;
  grid?: number;
  modelCfg?: Record<string, unknown>;
  /** Leave these state_dict entries out. */
  drop?: string[];
}

/**
 * A maze-transformer ZanjHookedTransformer archive (zanj/torchutil.py ConfiguredModel.serialize):
 * tensors of ≥ 256 elements external under state_dict/, smaller ones inline as torch.Tensor
 * array_list_meta, TL's attn.mask (bool) and attn.IGNORE (-inf, a bare -Infinity in the JSON) included.
 */
export function transformerArchive(o: TransformerFixtureOptions): Uint8Array {
  const { cfg } = o;
  const entries: Record<string, Uint8Array> = {};
  const sd: Record<string, unknown> = {};
  for (const [name, shape] of paramShapes(cfg)) {
    if (o.drop?.includes(name)) continue;
    const data = o.weights.get(name)!;
    if (prod(shape) >= 256) {
      const ref = `state_dict/${name}.npy`;
      entries[ref] = encodeNpyAs('float32', data, shape);
      sd[name] = extRef(ref, shape, 'torch.float32', 'torch.Tensor');
    } else sd[name] = listMeta(data, shape, 'torch.float32', 'torch.Tensor');
  }
  const n = cfg.n_ctx;
  const mask = new Uint8Array(n * n);
  for (let q = 0; q < n; q++) mask.fill(1, q * n, q * n + q + 1);
  for (let l = 0; l < cfg.n_layers; l++) {
    entries[`state_dict/blocks.${l}.attn.mask.npy`] = encodeNpyAs('bool', mask, [n, n]);
    sd[`blocks.${l}.attn.mask`] = extRef(`state_dict/blocks.${l}.attn.mask.npy`, [n, n], 'torch.bool', 'torch.Tensor');
    sd[`blocks.${l}.attn.IGNORE`] = { [FMT]: 'torch.Tensor:zero_dim', data: '__NEG_INF__', shape: [], dtype: 'torch.float32', n_elements: 1 };
  }
  const root = {
    [FMT]: 'ZanjHookedTransformer',
    zanj_model_config: {
      [FMT]: 'ConfigHolder(SerializableDataclass)',
      name: 'test-run',
      dataset_cfg: { ...mazeDatasetCfg(o.grid ?? 4, 10), seq_len_max: cfg.n_ctx },
      model_cfg: o.modelCfg ?? {
        [FMT]: 'BaseGPTConfig(SerializableDataclass)',
        name: 'nano-v1',
        act_fn: cfg.act_fn,
        d_model: cfg.d_model,
        d_head: cfg.d_head,
        n_layers: cfg.n_layers,
        positional_embedding_type: 'standard',
        weight_processing: { are_layernorms_folded: false, are_weights_processed: false },
        n_heads: cfg.n_heads,
      },
      train_cfg: { [FMT]: 'TrainConfig(SerializableDataclass)', name: 'test-v1' },
      pretrainedtokenizer_kwargs: null,
      maze_tokenizer: {
        [FMT]: 'MazeTokenizer(SerializableDataclass)',
        tokenization_mode: o.mode ?? 'AOTP_UT_uniform',
        max_grid_size: o.grid ?? 4,
        name: 'maze_tokenizer-AOTP_UT_uniform-g4',
        token_arr: o.tokenArr,
        vocab_size: o.tokenArr?.length ?? null,
        padding_token_index: 10,
      },
      _tokenizer: 'HuggingMazeTokenizer(...)',
    },
    meta: { class_name: 'ZanjHookedTransformer', num_params: 0 },
    training_records: null,
    state_dict: sd,
  };
  // Python's json.dumps writes -inf as a bare -Infinity.
  return zanjZip(root, entries, JSON.stringify(root).replaceAll('"__NEG_INF__"', '-Infinity'));
}
