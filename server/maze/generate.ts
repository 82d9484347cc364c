/**
 * The one-call maze API used by the CLI, benchmarks and datasets: generate with a registered
 * generator, choose endpoints, solve by BFS.
 *
 * Seeding of bulk runs: maze k of a run with seed S draws only from `mazeRng(S, k)`, an Rng seeded
 * with fmix32(base + k·0x9E3779B9 mod 2^32) where base = new Rng(S).u32(). fmix32 (MurmurHash3's
 * finalizer) and multiplication by an odd constant are bijections of 32-bit integers, so the
 * mazes of one run never share a stream (k < 2^32), and maze k is reproducible on its own without
 * generating mazes 0..k-1.
 */
import { type EndpointOptions, checkEndpointOptions, chooseEndpointsIdx } from './endpoints.js';
import { GENERATOR_OPTION_NAMES, generatorMeta, getGenerator, type GeneratorOptions } from './generators/index.js';
import { MazeError, checkGrid, inBounds, type Coord, type LatticeMaze, type SolvedMaze } from './lattice.js';
import { Rng } from './rng.js';
import { shortestPathIdx } from './solve.js';

export interface MazeSpec {
  /** A registered generator name (see generatorNames()). */
  generator: string;
  rows: number;
  /** Default: rows (square). */
  cols?: number;
  p?: number;
  forkless?: boolean;
  accessible_cells?: number;
  max_tree_depth?: number;
  start?: Coord;
  endpoints?: EndpointOptions;
  /** Regenerations allowed when a maze admits no valid endpoints (default 100). */
  maxRetries?: number;
}

export interface GenerationStats {
  /** Mazes returned. */
  generated: number;
  /** Mazes generated but discarded because they admitted no valid endpoints. */
  skipped: number;
}

const SPEC_KEYS = ['generator', 'rows', 'cols', 'endpoints', 'maxRetries', ...GENERATOR_OPTION_NAMES];
export const DEFAULT_MAX_RETRIES = 100;

interface Compiled {
  name: string;
  fn: (opts: GeneratorOptions) => LatticeMaze;
  /** Reused for every maze; only `rng` changes. */
  genOpts: GeneratorOptions;
  endpoints: EndpointOptions;
  maxRetries: number;
}

const pair = new Int32Array(2); // [2] origin, target flat indices

function fail(msg: string): never {
  throw new MazeError(`maze spec: ${msg}`);
}

/** Throw MazeError describing the first problem with `spec`, including endpoint options no maze can meet. */
export function validateSpec(spec: MazeSpec): void {
  compile(spec);
}

function compile(spec: MazeSpec): Compiled {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) fail(`must be an object, got ${JSON.stringify(spec)}`);
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.includes(key)) fail(`unknown field ${key}; known fields: ${SPEC_KEYS.join(', ')}`);
  }
  if (typeof spec.generator !== 'string') fail(`generator must be a string, got ${JSON.stringify(spec.generator)}`);
  const fn = getGenerator(spec.generator); // throws listing the known names
  const meta = generatorMeta(spec.generator);
  const rows = spec.rows;
  const cols = spec.cols ?? spec.rows;
  checkGrid(rows, cols);
  const n = rows * cols;
  const genOpts: GeneratorOptions = { rows, cols, rng: new Rng(0) };
  for (const key of GENERATOR_OPTION_NAMES) {
    const v = spec[key];
    if (v === undefined) continue;
    if (!meta.options.includes(key)) {
      fail(
        `generator ${spec.generator} does not accept option ${key}` +
          (meta.options.length ? ` (it accepts: ${meta.options.join(', ')})` : ' (it takes no options)'),
      );
    }
    if (key === 'p' && (typeof v !== 'number' || !(v >= 0 && v <= 1))) fail(`p must be a number in [0, 1], got ${JSON.stringify(v)}`);
    if (key === 'forkless' && typeof v !== 'boolean') fail(`forkless must be a boolean, got ${JSON.stringify(v)}`);
    if (key === 'accessible_cells' && (!Number.isInteger(v) || (v as number) < 2 || (v as number) > n)) {
      fail(`accessible_cells must be an integer in [2, ${n}] (origin and target need two cells), got ${JSON.stringify(v)}`);
    }
    if (key === 'max_tree_depth' && (!Number.isInteger(v) || (v as number) < 1)) {
      fail(`max_tree_depth must be a positive integer (steps from the start), got ${JSON.stringify(v)}`);
    }
    if (key === 'start' && (!Array.isArray(v) || v.length !== 2 || !inBounds({ rows, cols }, v as Coord))) {
      fail(`start must be [row, col] inside the ${rows}x${cols} grid, got ${JSON.stringify(v)}`);
    }
    (genOpts as unknown as Record<string, unknown>)[key] = v;
  }
  const endpoints = spec.endpoints ?? {};
  checkEndpointOptions(endpoints, rows, cols);
  // Requests no maze on this grid can meet are errors now, not 100 silent retries later.
  if (n < 2) fail(`a ${rows}x${cols} grid has a single cell, but origin and target must be distinct cells`);
  const minLen = endpoints.min_path_length ?? 0;
  if (minLen > n - 1) fail(`endpoints.min_path_length ${minLen} exceeds ${n - 1}, the longest path possible on a ${rows}x${cols} grid`);
  const minL1 = endpoints.min_l1_distance ?? 0;
  if (minL1 > rows + cols - 2) fail(`endpoints.min_l1_distance ${minL1} exceeds ${rows + cols - 2}, the largest on a ${rows}x${cols} grid`);
  const { origin: o, target: t } = endpoints;
  if (o && t && Math.abs(o[0] - t[0]) + Math.abs(o[1] - t[1]) < minL1) {
    fail(`fixed origin ${JSON.stringify(o)} and target ${JSON.stringify(t)} are closer than endpoints.min_l1_distance ${minL1}`);
  }
  const maxRetries = spec.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) fail(`maxRetries must be a non-negative integer, got ${JSON.stringify(maxRetries)}`);
  return { name: spec.generator, fn, genOpts, endpoints, maxRetries };
}

function generateCompiled(c: Compiled, rng: Rng, stats: GenerationStats | undefined): SolvedMaze {
  c.genOpts.rng = rng;
  for (let attempt = 0; attempt <= c.maxRetries; attempt++) {
    const m = c.fn(c.genOpts);
    if (!chooseEndpointsIdx(m, rng, c.endpoints, pair)) {
      if (stats) stats.skipped++;
      continue;
    }
    if (stats) stats.generated++;
    return solvedBetween(m, pair[0], pair[1]);
  }
  const { rng: _rng, ...shown } = c.genOpts;
  throw new MazeError(
    `no valid endpoints in ${c.maxRetries + 1} mazes from generator ${c.name} ` +
      `(options ${JSON.stringify(shown)}, endpoints ${JSON.stringify(c.endpoints)}); ` +
      `relax the endpoint or generator options, or raise maxRetries`,
  );
}

/** `m` solved from flat cell `o` to flat cell `t` (which the endpoint chooser put in one component). */
function solvedBetween(m: LatticeMaze, o: number, t: number): SolvedMaze {
  const { cols } = m;
  const cells = shortestPathIdx(m, o, t)!;
  const path: Coord[] = new Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const r = (cells[i] / cols) | 0;
    path[i] = [r, cells[i] - r * cols];
  }
  return { rows: m.rows, cols, down: m.down, right: m.right, origin: path[0], target: path[path.length - 1], path };
}

/**
 * Another origin/target pair on the same lattice, drawn from `rng` with `spec`'s endpoint options
 * (as the spec's own mazes draw theirs), solved; null when the lattice admits none. Training packs
 * several such queries after one adjacency list (model/train/packing.ts).
 */
export function redrawEndpoints(spec: MazeSpec, maze: LatticeMaze, rng: Rng): SolvedMaze | null {
  const endpoints = spec.endpoints ?? {};
  const out = new Int32Array(2); // [2] origin, target flat indices
  return chooseEndpointsIdx(maze, rng, endpoints, out) ? solvedBetween(maze, out[0], out[1]) : null;
}

/**
 * Generate one solved maze from `spec`, drawing everything from `rng`. When a maze admits no valid
 * endpoints it is regenerated (up to spec.maxRetries times, default 100; counted in
 * stats.skipped), then MazeError. The spec is validated on every call; for many mazes prefer
 * generateMazes, which validates once.
 */
export function generateMaze(spec: MazeSpec, rng: Rng, stats?: GenerationStats): SolvedMaze {
  if (!(rng instanceof Rng)) throw new MazeError('generateMaze: rng must be an Rng');
  return generateCompiled(compile(spec), rng, stats);
}

/**
 * generateMaze with the spec validated once: `draw(rng)` generates one maze from `rng`, so a caller
 * that draws several candidates per maze (rejection sampling in training) compiles the spec once.
 */
export function mazeDrawer(spec: MazeSpec): (rng: Rng) => SolvedMaze {
  const c = compile(spec);
  return (rng) => generateCompiled(c, rng, undefined);
}

/** The Rng that maze k of a run seeded with `seed` draws from (see the module comment). */
export function mazeRng(seed: number | bigint | string, k: number): Rng {
  return rngAt(new Rng(seed).u32(), k);
}

/** mazeRng with the run's base already drawn, so bulk callers draw it once, not once per maze. */
function rngAt(base: number, k: number): Rng {
  if (!Number.isInteger(k) || k < 0 || k >= 0x100000000) throw new MazeError(`maze index must be an integer in [0, 2^32), got ${k}`);
  let h = (base + Math.imul(k, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return new Rng((h ^ (h >>> 16)) >>> 0);
}

/**
 * Random access to the mazes of a run: `at(k)` equals `generateMaze(spec, mazeRng(seed, k))`, with
 * the spec validated and the seed expanded once (training batches and evaluations call it per maze).
 */
export function mazeSource(spec: MazeSpec, seed: number | bigint | string, stats?: GenerationStats): { at(k: number): SolvedMaze } {
  const c = compile(spec);
  const base = new Rng(seed).u32(); // also rejects a bad seed now
  return { at: (k) => generateCompiled(c, rngAt(base, k), stats) };
}

/**
 * `count` solved mazes, one at a time (constant memory), maze k drawn from mazeRng(seed, k).
 * The spec is validated before the first maze (this call throws, not the first next()).
 * Pass `stats` to have generated/skipped counts updated as the stream advances.
 */
export function generateMazes(spec: MazeSpec, count: number, seed: number | bigint | string, stats?: GenerationStats): Generator<SolvedMaze, void, undefined> {
  const source = mazeSource(spec, seed, stats);
  if (!Number.isInteger(count) || count < 0 || count > 0x100000000) {
    throw new MazeError(`count must be an integer in [0, 2^32], got ${count}`);
  }
  return stream(source, count);
}

function* stream(source: { at(k: number): SolvedMaze }, count: number): Generator<SolvedMaze, void, undefined> {
  for (let k = 0; k < count; k++) yield source.at(k);
}

/** generateMazes with its own stats object, read it during or after iteration. */
export function mazeStream(
  spec: MazeSpec,
  count: number,
  seed: number | bigint | string,
): { mazes: Generator<SolvedMaze, void, undefined>; stats: GenerationStats } {
  const stats: GenerationStats = { generated: 0, skipped: 0 };
  return { mazes: generateMazes(spec, count, seed, stats), stats };
}
