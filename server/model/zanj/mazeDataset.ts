/**
 * maze-dataset's `MazeDataset` saved with ZANJ (https://github.com/understanding-search/maze-dataset),
 * read into our solved mazes and written from them. Pure: bytes in, bytes out.
 *
 * Layouts read (maze_dataset/dataset/maze_dataset.py `MazeDataset.load` / `_serialize_*`):
 *   "MazeDataset"            `mazes`: a list of SolvedMaze objects (maze_dataset/maze/lattice_maze.py:
 *                            `connection_list` [2, n, n] bool, `solution` [L, 2], `start_pos`,
 *                            `end_pos` [2]); what it writes below SERIALIZE_MINIMAL_THRESHOLD (100).
 *   "MazeDataset:minimal"    `maze_connection_lists` [N, 2, n, n] bool, `maze_solution_lengths` [N]
 *                            int32, `maze_solutions` [N, max_len, 2] int8 (rows past a maze's length
 *                            are padding); what it writes from 100 mazes on, and what we write.
 *   "MazeDataset:minimal_soln_cat"  the same connection lists and lengths, the solutions concatenated
 *                            in `maze_solutions_concat` [ΣL, 2], and `maze_endpoints` [N, 2, 2].
 * In the minimal forms start and end are the solution's first and last cells (`SolvedMaze.__init__`).
 * `cfg` is a MazeDatasetConfig (maze_dataset/dataset/maze_dataset_config.py): `name`, `grid_n`,
 * `n_mazes`, `seed`, `maze_ctor` ({"__name__": "gen_dfs", …}), `maze_ctor_kwargs`, `endpoint_kwargs`,
 * `applied_filters`, `fname`.
 *
 * The connection convention is ours (server/maze/lattice.ts follows it): plane 0 is "down"
 * ((i,j)–(i+1,j)), plane 1 is "right" ((i,j)–(i,j+1)); the last row's down and the last column's
 * right are always walls (lattice_maze.py `_fill_edges_with_walls`).
 *
 * Every maze is checked before anything is returned: connection list shape and values, solution cells
 * inside the grid, a walk along open connections that never revisits a cell, from start to end, and a
 * shortest one (our datasets' `path` is a shortest solution, which evaluation compares against). The
 * error names the maze index and the field.
 */
import { checkCoord, checkSimplePath } from '../../maze/check.js';
import { generatorNames } from '../../maze/generators/index.js';
import { type Coord, MAX_GRID, type SolvedMaze, coordKey } from '../../maze/lattice.js';
import { bfsDistances } from '../../maze/solve.js';
import { encodeNpyAs, type NpyNumbers } from '../npy.js';
import { FORMAT_KEY, type ZanjArchive, ZanjError, externalRef, formatOf, readZanj, writeZanj, zanjArray, zanjList } from './archive.js';

/** What a maze-dataset archive says about its mazes besides the mazes themselves. */
export interface MazeDatasetInfo {
  /** The root's `__muutils_format__`. */
  format: 'MazeDataset' | 'MazeDataset:minimal' | 'MazeDataset:minimal_soln_cat';
  /** cfg.name */
  name: string;
  /** cfg.grid_n */
  grid: number;
  /** cfg.seed (null when absent or not an integer). */
  seed: number | null;
  /** Our generator for cfg.maze_ctor.__name__ (gen_dfs → dfs, …). */
  generator: string;
  /** cfg.maze_ctor.__name__ as written. */
  mazeCtor: string;
  /** cfg.maze_ctor_kwargs (p → our `p`, do_forks: false → our `forkless`). */
  mazeCtorKwargs: Record<string, unknown>;
  endpointKwargs: Record<string, unknown>;
  appliedFilters: unknown[];
  /** cfg.fname (maze-dataset's identifier of the config), when present. */
  fname: string | null;
  /** Percolation probability (maze_ctor_kwargs.p). */
  p?: number;
  /** DFS without forks (maze_ctor_kwargs.do_forks === false). */
  forkless?: boolean;
}

export interface MazeDatasetRead {
  info: MazeDatasetInfo;
  mazes: SolvedMaze[];
}

/** Our generator names ↔ maze-dataset's `GENERATORS_MAP` keys (maze_dataset/generation/generators.py). */
const TO_MAZE_DATASET: Record<string, string> = {
  dfs: 'gen_dfs',
  wilson: 'gen_wilson',
  kruskal: 'gen_kruskal',
  prim: 'gen_prim',
  recursive_division: 'gen_recursive_division',
  percolation: 'gen_percolation',
  dfs_percolation: 'gen_dfs_percolation',
  // maze-dataset has no open-field generator; percolation with p = 1 opens every edge, the same mazes.
  open_field: 'gen_percolation',
};
const FROM_MAZE_DATASET: Record<string, string> = Object.fromEntries(
  Object.entries(TO_MAZE_DATASET)
    .filter(([k]) => k !== 'open_field')
    .map(([k, v]) => [v, k]),
);

function obj(v: unknown, where: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new ZanjError(`${where} must be an object, got ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`);
  return v as Record<string, unknown>;
}

function readInfo(root: Record<string, unknown>, format: MazeDatasetInfo['format']): MazeDatasetInfo {
  const cfg = obj(root.cfg, 'cfg');
  const grid = cfg.grid_n;
  if (!Number.isInteger(grid) || (grid as number) < 2 || (grid as number) > MAX_GRID)
    throw new ZanjError(`cfg.grid_n must be an integer between 2 and ${MAX_GRID}, got ${JSON.stringify(grid)}`);
  const ctor = cfg.maze_ctor;
  // Current configs write {"__name__": …}; some older ones wrote the name alone (maze_dataset_config.py `_load_maze_ctor`).
  const mazeCtor = typeof ctor === 'string' ? ctor : ctor && typeof ctor === 'object' ? (ctor as Record<string, unknown>).__name__ : undefined;
  if (typeof mazeCtor !== 'string') throw new ZanjError(`cfg.maze_ctor.__name__ is missing (got ${JSON.stringify(ctor)?.slice(0, 80)})`);
  const generator = Object.hasOwn(FROM_MAZE_DATASET, mazeCtor) ? FROM_MAZE_DATASET[mazeCtor] : undefined;
  if (!generator || !generatorNames().includes(generator))
    throw new ZanjError(`cfg.maze_ctor.__name__ "${mazeCtor}" has no Searchlight generator; known: ${Object.keys(FROM_MAZE_DATASET).join(', ')}`);
  const kwargs = cfg.maze_ctor_kwargs == null ? {} : obj(cfg.maze_ctor_kwargs, 'cfg.maze_ctor_kwargs');
  const info: MazeDatasetInfo = {
    format,
    name: typeof cfg.name === 'string' ? cfg.name : '',
    grid: grid as number,
    seed: Number.isSafeInteger(cfg.seed) ? (cfg.seed as number) : null,
    generator,
    mazeCtor,
    mazeCtorKwargs: kwargs,
    endpointKwargs: cfg.endpoint_kwargs == null ? {} : obj(cfg.endpoint_kwargs, 'cfg.endpoint_kwargs'),
    appliedFilters: Array.isArray(cfg.applied_filters) ? cfg.applied_filters : [],
    fname: typeof root.fname === 'string' ? root.fname : typeof cfg.fname === 'string' ? cfg.fname : null,
  };
  if (kwargs.p !== undefined) {
    if (typeof kwargs.p !== 'number' || !(kwargs.p >= 0 && kwargs.p <= 1))
      throw new ZanjError(`cfg.maze_ctor_kwargs.p must be a number in [0, 1], got ${JSON.stringify(kwargs.p)}`);
    info.p = kwargs.p;
  }
  if (kwargs.do_forks === false) info.forkless = true;
  return info;
}

/** An integer array's element k (the archive stores coordinates as int8/int64 and flags as bool). */
function intAt(a: NpyNumbers, k: number, where: string): number {
  const v = a.data[k];
  if (!Number.isInteger(v)) throw new ZanjError(`${where}: ${v} is not an integer`);
  return v;
}

function expectShape(a: NpyNumbers, shape: Array<number | null>, field: string, where: string): void {
  const ok = a.shape.length === shape.length && shape.every((d, i) => d === null || a.shape[i] === d);
  if (!ok)
    throw new ZanjError(
      `${where}: ${field} has shape [${a.shape.join(', ')}], expected [${shape.map((d, i) => (d === null ? (['N', 'L', 'K'][i] ?? '?') : d)).join(', ')}]`,
    );
}

/**
 * One maze from its connection list (values `clist.data[off …]`, [2, n, n]) and solution cells,
 * checked as the module comment says. `from`/`to` are start_pos/end_pos where the archive has them.
 */
function buildMaze(
  n: number,
  clist: NpyNumbers,
  off: number,
  solution: Coord[],
  where: string,
  from?: { pos: Coord; field: string },
  to?: { pos: Coord; field: string },
): SolvedMaze {
  const cells = n * n;
  const down = new Uint8Array(cells);
  const right = new Uint8Array(cells);
  for (let plane = 0; plane < 2; plane++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const v = clist.data[off + plane * cells + i * n + j];
        if (v !== 0 && v !== 1) throw new ZanjError(`${where}: connection_list[${plane}, ${i}, ${j}] is ${v}; connections are booleans`);
        if (v === 1 && ((plane === 0 && i === n - 1) || (plane === 1 && j === n - 1)))
          throw new ZanjError(
            `${where}: connection_list[${plane}, ${i}, ${j}] opens a connection out of the ${n}x${n} grid (${plane === 0 ? 'down from the last row' : 'right from the last column'})`,
          );
        (plane === 0 ? down : right)[i * n + j] = v;
      }
  const m = { rows: n, cols: n, down, right };
  if (solution.length === 0) throw new ZanjError(`${where}: solution is empty`);
  for (const [k, c] of solution.entries()) checkCoord(m, c, `solution[${k}]`, where);
  for (const e of [from, to]) if (e) checkCoord(m, e.pos, e.field, where);
  const origin = solution[0];
  const target = solution[solution.length - 1];
  if (from && coordKey(from.pos) !== coordKey(origin))
    throw new ZanjError(`${where}: solution starts at ${coordKey(origin)} but ${from.field} is ${coordKey(from.pos)}`);
  if (to && coordKey(to.pos) !== coordKey(target)) throw new ZanjError(`${where}: solution ends at ${coordKey(target)} but ${to.field} is ${coordKey(to.pos)}`);
  checkSimplePath(m, solution, 'solution', where, origin, target);
  const shortest = bfsDistances(m, origin[0] * n + origin[1])[target[0] * n + target[1]];
  if (shortest !== solution.length - 1)
    throw new ZanjError(
      `${where}: solution takes ${solution.length - 1} steps but the shortest path from ${coordKey(origin)} to ${coordKey(target)} takes ${shortest}`,
    );
  return { ...m, origin, target, path: solution };
}

/** Coordinates [L, 2] (rows `first … first+len` of a [*, 2] array, starting at flat offset `off`). */
function coords(a: NpyNumbers, off: number, len: number, where: string): Coord[] {
  const out: Coord[] = [];
  for (let k = 0; k < len; k++) out.push([intAt(a, off + 2 * k, where), intAt(a, off + 2 * k + 1, where)]);
  return out;
}

function coordOf(item: unknown, archive: ZanjArchive, field: string): Coord {
  const a = zanjArray(item, archive, field);
  if (a.shape.length !== 1 || a.shape[0] !== 2) throw new ZanjError(`${field} has shape [${a.shape.join(', ')}], expected [2]`);
  return [intAt(a, 0, field), intAt(a, 1, field)];
}

/**
 * Reads a maze-dataset ZANJ archive: its config and every maze, each checked (all or nothing).
 * `maxUncompressed` bounds what its entries may unpack to (readZanj's default otherwise);
 * `checkCount` sees the number of mazes and the grid as soon as they are known, before any maze is
 * built, and throws to refuse them (checking a million mazes takes seconds).
 */
export function readMazeDatasetZanj(bytes: Uint8Array, maxUncompressed?: number, checkCount?: (count: number, grid: number) => void): MazeDatasetRead {
  const archive = readZanj(bytes, maxUncompressed);
  const root = obj(archive.main, '__zanj__.json');
  const format = formatOf(root);
  if (format !== 'MazeDataset' && format !== 'MazeDataset:minimal' && format !== 'MazeDataset:minimal_soln_cat')
    throw new ZanjError(
      `__zanj__.json holds ${format ? `a "${format}"` : 'no __muutils_format__'}, not a maze-dataset MazeDataset (formats: MazeDataset, MazeDataset:minimal, MazeDataset:minimal_soln_cat)`,
    );
  const info = readInfo(root, format);
  const n = info.grid;
  const mazes: SolvedMaze[] = [];
  if (format === 'MazeDataset') {
    const items = zanjList(root.mazes, archive, 'mazes');
    checkCount?.(items.length, n);
    for (const [i, raw] of items.entries()) {
      const where = `maze ${i}`;
      const m = obj(raw, where);
      const f = formatOf(m);
      if (f && !f.startsWith('SolvedMaze')) throw new ZanjError(`${where}: is a "${f}", not a SolvedMaze (a dataset's mazes need solutions)`);
      const clist = zanjArray(m.connection_list, archive, `${where}: connection_list`);
      expectShape(clist, [2, n, n], 'connection_list', where);
      const sol = zanjArray(m.solution, archive, `${where}: solution`);
      expectShape(sol, [null, 2], 'solution', where);
      const start = m.start_pos === undefined ? undefined : { pos: coordOf(m.start_pos, archive, `${where}: start_pos`), field: 'start_pos' };
      const end = m.end_pos === undefined ? undefined : { pos: coordOf(m.end_pos, archive, `${where}: end_pos`), field: 'end_pos' };
      mazes.push(buildMaze(n, clist, 0, coords(sol, 0, sol.shape[0], `${where}: solution`), where, start, end));
    }
  } else {
    const clists = zanjArray(root.maze_connection_lists, archive, 'maze_connection_lists');
    expectShape(clists, [null, 2, n, n], 'maze_connection_lists', 'maze_connection_lists');
    const count = clists.shape[0];
    checkCount?.(count, n);
    const lengths = zanjArray(root.maze_solution_lengths, archive, 'maze_solution_lengths');
    expectShape(lengths, [count], 'maze_solution_lengths', 'maze_solution_lengths');
    const per = 2 * n * n;
    if (format === 'MazeDataset:minimal') {
      const sols = zanjArray(root.maze_solutions, archive, 'maze_solutions');
      expectShape(sols, [count, null, 2], 'maze_solutions', 'maze_solutions');
      const maxLen = sols.shape[1];
      for (let i = 0; i < count; i++) {
        const where = `maze ${i}`;
        const len = intAt(lengths, i, `${where}: maze_solution_lengths[${i}]`);
        if (len < 1 || len > maxLen)
          throw new ZanjError(`${where}: maze_solution_lengths[${i}] is ${len}; it must be in [1, ${maxLen}] (maze_solutions holds ${maxLen} cells per maze)`);
        mazes.push(buildMaze(n, clists, i * per, coords(sols, i * maxLen * 2, len, `${where}: maze_solutions`), where));
      }
    } else {
      const cat = zanjArray(root.maze_solutions_concat, archive, 'maze_solutions_concat');
      expectShape(cat, [null, 2], 'maze_solutions_concat', 'maze_solutions_concat');
      const ends = root.maze_endpoints === undefined ? null : zanjArray(root.maze_endpoints, archive, 'maze_endpoints');
      if (ends) expectShape(ends, [count, 2, 2], 'maze_endpoints', 'maze_endpoints');
      let at = 0;
      for (let i = 0; i < count; i++) {
        const where = `maze ${i}`;
        const len = intAt(lengths, i, `${where}: maze_solution_lengths[${i}]`);
        if (len < 1 || at + len > cat.shape[0])
          throw new ZanjError(
            `${where}: maze_solution_lengths[${i}] is ${len}, which ${len < 1 ? 'is below 1' : `runs past the ${cat.shape[0]} cells of maze_solutions_concat`}`,
          );
        const start = ends ? { pos: [intAt(ends, i * 4, where), intAt(ends, i * 4 + 1, where)] as Coord, field: `maze_endpoints[${i}, 0]` } : undefined;
        const end = ends ? { pos: [intAt(ends, i * 4 + 2, where), intAt(ends, i * 4 + 3, where)] as Coord, field: `maze_endpoints[${i}, 1]` } : undefined;
        mazes.push(buildMaze(n, clists, i * per, coords(cat, at * 2, len, `${where}: maze_solutions_concat`), where, start, end));
        at += len;
      }
      if (at !== cat.shape[0]) throw new ZanjError(`maze_solutions_concat has ${cat.shape[0]} cells but maze_solution_lengths sum to ${at}`);
    }
  }
  if (mazes.length === 0) throw new ZanjError('the archive holds no mazes');
  return { info, mazes };
}

/** What an export says about the dataset (our names). */
export interface MazeDatasetExport {
  name: string;
  grid: number;
  seed: number;
  generator: string;
  p?: number;
  forkless?: boolean;
}

/** maze-dataset's `sanitize_fname` keeps letters, digits and `-_.` (muutils/misc). */
const sanitize = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/**
 * Writes mazes as a maze-dataset "MazeDataset:minimal" ZANJ archive, the form maze-dataset itself
 * writes for 100 mazes or more, which `MazeDataset.read` / `ZANJ().read` load. The config is a
 * MazeDatasetConfig as `MazeDatasetConfig.serialize` writes it; `fname` is ours (maze-dataset hashes
 * its generator's source code into its own).
 */
export function writeMazeDatasetZanj(d: MazeDatasetExport, mazes: readonly SolvedMaze[]): Uint8Array {
  const n = d.grid;
  const N = mazes.length;
  const ctor = TO_MAZE_DATASET[d.generator];
  if (!ctor) throw new ZanjError(`generator "${d.generator}" has no maze-dataset counterpart`);
  const kwargs: Record<string, unknown> = {};
  if (d.generator === 'open_field') kwargs.p = 1;
  else if (d.p !== undefined) kwargs.p = d.p;
  if (d.forkless) kwargs.do_forks = false;
  const maxLen = Math.max(1, ...mazes.map((m) => m.path.length));
  const clists = new Uint8Array(N * 2 * n * n);
  const lengths = new Int32Array(N);
  const sols = new Int8Array(N * maxLen * 2);
  for (const [i, m] of mazes.entries()) {
    if (m.rows !== n || m.cols !== n) throw new ZanjError(`maze ${i} is ${m.rows}x${m.cols}; a maze-dataset archive holds ${n}x${n} mazes only`);
    clists.set(m.down, i * 2 * n * n);
    clists.set(m.right, i * 2 * n * n + n * n);
    lengths[i] = m.path.length;
    for (const [k, [r, c]] of m.path.entries()) {
      sols[(i * maxLen + k) * 2] = r;
      sols[(i * maxLen + k) * 2 + 1] = c;
    }
  }
  const ext = [
    { path: ['maze_connection_lists'], dtype: 'bool', shape: [N, 2, n, n], npy: encodeNpyAs('bool', clists, [N, 2, n, n]) },
    { path: ['maze_solution_lengths'], dtype: 'int32', shape: [N], npy: encodeNpyAs('int32', lengths, [N]) },
    { path: ['maze_solutions'], dtype: 'int8', shape: [N, maxLen, 2], npy: encodeNpyAs('int8', sols, [N, maxLen, 2]) },
  ];
  const fname = sanitize(`${d.name}-g${n}-n${N}-a_${ctor.replace(/^gen_/, '')}-searchlight`);
  const cfg = {
    [FORMAT_KEY]: 'MazeDatasetConfig(SerializableDataclass)',
    name: d.name,
    seq_len_min: 1,
    seq_len_max: 512,
    seed: d.seed,
    applied_filters: [],
    grid_n: n,
    n_mazes: N,
    maze_ctor: { __name__: ctor, __module__: 'maze_dataset.generation.generators', __doc__: [], source_code: '' },
    maze_ctor_kwargs: kwargs,
    endpoint_kwargs: {},
    _fname_loaded: null,
    grid_shape: [n, n],
    fname,
    versions: { config: '1.0', maze_dataset: 'exported by Searchlight' },
  };
  // Every array here is external whatever its size (ZANJ externalises from 256 elements; loading
  // treats both the same), so a reader never meets an inline array of ours.
  const main = {
    [FORMAT_KEY]: 'MazeDataset:minimal',
    cfg,
    fname,
    generation_metadata_collected: {},
    maze_connection_lists: externalRef(ext[0]),
    maze_solution_lengths: externalRef(ext[1]),
    maze_solutions: externalRef(ext[2]),
  };
  return writeZanj(main, ext);
}
