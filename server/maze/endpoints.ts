/**
 * Choosing a task on a maze: an origin and a distinct target in the same connected component,
 * optionally dead ends, at least `min_path_length` steps apart along the maze, at least
 * `min_l1_distance` apart on the grid, or fixed.
 *
 * Sampling: one endpoint (the origin, or the target when only the target is fixed) is drawn
 * uniformly from the cells that can play its role; a BFS from it lists every valid partner and one
 * is drawn uniformly. If it has none, it is discarded and another is drawn, until a pair is found
 * or every candidate failed (→ null). So the first endpoint is uniform over the cells that admit
 * at least one partner, and the partner uniform given it; on a spanning tree with default options
 * this is uniform over ordered pairs of distinct cells.
 */
import { MAX_GRID, MazeError, inBounds, type Coord, type LatticeMaze } from './lattice.js';
import type { Rng } from './rng.js';
import { bfsInto } from './solve.js';

export interface EndpointOptions {
  /** Origin must be a dead end (exactly one open edge). */
  deadend_origin?: boolean;
  /** Target must be a dead end (exactly one open edge). */
  deadend_target?: boolean;
  /** Shortest origin→target path has at least this many steps (edges). */
  min_path_length?: number;
  /** |Δrow| + |Δcol| between origin and target is at least this. */
  min_l1_distance?: number;
  /** Fixed origin. */
  origin?: Coord;
  /** Fixed target. */
  target?: Coord;
}

export const ENDPOINT_OPTION_NAMES: readonly (keyof EndpointOptions)[] = [
  'deadend_origin',
  'deadend_target',
  'min_path_length',
  'min_l1_distance',
  'origin',
  'target',
];

const N = MAX_GRID * MAX_GRID;
const candidates = new Int32Array(N); // [cells] cells that may play the first endpoint's role
const partners = new Int32Array(N); // [cells] valid partners of the current first endpoint
const dist = new Int32Array(N); // [cells] BFS distance from the first endpoint
const queue = new Int32Array(N); // [cells] BFS queue
const pairOut = new Int32Array(2); // [2] origin, target

function checkFixed(m: { rows: number; cols: number }, p: Coord | undefined, key: string): void {
  if (p === undefined) return;
  if (!Array.isArray(p) || p.length !== 2 || !inBounds(m, p)) {
    throw new MazeError(`endpoint option ${key} must be [row, col] inside the ${m.rows}x${m.cols} grid, got ${JSON.stringify(p)}`);
  }
}

/**
 * Throw MazeError on options that are malformed whatever the maze: unknown keys, wrong types,
 * fixed endpoints off the grid or equal to each other. (Options that merely no maze of this size
 * can satisfy are the caller's concern: chooseEndpoints returns null, validateSpec rejects them.)
 */
export function checkEndpointOptions(opts: EndpointOptions, rows: number, cols: number): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new MazeError(`endpoint options must be an object, got ${JSON.stringify(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!(ENDPOINT_OPTION_NAMES as readonly string[]).includes(key)) {
      throw new MazeError(`unknown endpoint option ${key}; known: ${ENDPOINT_OPTION_NAMES.join(', ')}`);
    }
  }
  for (const key of ['deadend_origin', 'deadend_target'] as const) {
    if (opts[key] !== undefined && typeof opts[key] !== 'boolean') {
      throw new MazeError(`endpoint option ${key} must be a boolean, got ${JSON.stringify(opts[key])}`);
    }
  }
  for (const key of ['min_path_length', 'min_l1_distance'] as const) {
    const v = opts[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
      throw new MazeError(`endpoint option ${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
    }
  }
  const grid = { rows, cols };
  checkFixed(grid, opts.origin, 'origin');
  checkFixed(grid, opts.target, 'target');
  if (opts.origin && opts.target && opts.origin[0] === opts.target[0] && opts.origin[1] === opts.target[1]) {
    throw new MazeError(`endpoint options origin and target are the same cell (${opts.origin[0]},${opts.origin[1]}); they must differ`);
  }
}

function degree(m: LatticeMaze, c: number): number {
  const { cols, down, right } = m;
  const col = c % cols;
  return (c >= cols ? down[c - cols] : 0) + (col > 0 ? right[c - 1] : 0) + (col < cols - 1 ? right[c] : 0) + down[c];
}

/**
 * Fast path for bulk generation: options are NOT checked (call checkEndpointOptions once).
 * Writes origin and target flat indices into out[0], out[1]; false when no valid pair exists.
 */
export function chooseEndpointsIdx(m: LatticeMaze, rng: Rng, opts: EndpointOptions, out: Int32Array): boolean {
  const { rows, cols } = m;
  const n = rows * cols;
  const fixedO = opts.origin ? opts.origin[0] * cols + opts.origin[1] : -1;
  const fixedT = opts.target ? opts.target[0] * cols + opts.target[1] : -1;
  // Draw the first endpoint from the fixed side when only the target is fixed (one BFS instead of many).
  const swap = fixedT >= 0 && fixedO < 0;
  const fixedA = swap ? fixedT : fixedO;
  const fixedB = swap ? fixedO : fixedT;
  const deadA = swap ? opts.deadend_target === true : opts.deadend_origin === true;
  const deadB = swap ? opts.deadend_origin === true : opts.deadend_target === true;
  const minLen = Math.max(1, opts.min_path_length ?? 0);
  const minL1 = opts.min_l1_distance ?? 0;

  let nc = 0;
  if (fixedA >= 0) {
    const d = degree(m, fixedA);
    if (d >= 1 && (!deadA || d === 1)) candidates[nc++] = fixedA;
  } else {
    for (let c = 0; c < n; c++) {
      const d = degree(m, c);
      if (d >= 1 && (!deadA || d === 1)) candidates[nc++] = c;
    }
  }
  while (nc > 0) {
    const i = rng.int(nc);
    const a = candidates[i];
    candidates[i] = candidates[--nc];
    const reached = bfsInto(m, a, dist, queue);
    const ar = (a / cols) | 0;
    const ac = a - ar * cols;
    let np = 0;
    // Scan in BFS order (deterministic) over a's component only.
    for (let q = 1; q < reached; q++) {
      const b = queue[q];
      if (dist[b] < minLen) continue;
      if (fixedB >= 0 && b !== fixedB) continue;
      if (deadB && degree(m, b) !== 1) continue;
      if (minL1 > 0) {
        const br = (b / cols) | 0;
        if (Math.abs(br - ar) + Math.abs(b - br * cols - ac) < minL1) continue;
      }
      partners[np++] = b;
    }
    if (np > 0) {
      const b = partners[rng.int(np)];
      out[0] = swap ? b : a;
      out[1] = swap ? a : b;
      return true;
    }
  }
  return false;
}

/**
 * A random valid origin/target pair (see the module comment for the distribution), or null when
 * the maze admits none. MazeError on malformed options (unknown key, off-grid or equal fixed cells).
 */
export function chooseEndpoints(m: LatticeMaze, rng: Rng, opts: EndpointOptions = {}): { origin: Coord; target: Coord } | null {
  checkEndpointOptions(opts, m.rows, m.cols);
  if (!chooseEndpointsIdx(m, rng, opts, pairOut)) return null;
  const { cols } = m;
  const o = pairOut[0];
  const t = pairOut[1];
  return { origin: [(o / cols) | 0, o % cols], target: [(t / cols) | 0, t % cols] };
}
