/**
 * Option checks and small helpers shared by the generators. Checks run on every call (they cost a
 * handful of comparisons) so a generator called directly still rejects bad input loudly.
 */
import { MazeError, checkGrid, inBounds, type Coord, type LatticeMaze } from '../lattice.js';
import { Rng } from '../rng.js';
import { GENERATOR_OPTION_NAMES, type GeneratorOptionName, type GeneratorOptions } from './types.js';

/** Throw unless rows/cols/rng are valid and only options in `allowed` are set. */
export function checkCommon(name: string, opts: GeneratorOptions, allowed: readonly GeneratorOptionName[]): void {
  if (opts === null || typeof opts !== 'object') throw new MazeError(`generator ${name}: options must be an object`);
  checkGrid(opts.rows, opts.cols);
  if (!(opts.rng instanceof Rng)) throw new MazeError(`generator ${name}: option rng must be an Rng`);
  for (let i = 0; i < GENERATOR_OPTION_NAMES.length; i++) {
    const key = GENERATOR_OPTION_NAMES[i];
    if (opts[key] !== undefined && !allowed.includes(key)) {
      throw new MazeError(
        `generator ${name} does not accept option ${key}` + (allowed.length ? ` (it accepts: ${allowed.join(', ')})` : ' (it takes no options)'),
      );
    }
  }
}

/** The edge-opening probability, default 0.5; MazeError unless a number in [0, 1]. */
export function probability(name: string, p: number | undefined): number {
  if (p === undefined) return 0.5;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new MazeError(`generator ${name}: option p must be a number in [0, 1], got ${String(p)}`);
  }
  return p;
}

/** Flat index of the start cell: `opts.start` when given (must be in bounds), else uniform. */
export function startCell(name: string, opts: GeneratorOptions): number {
  const s: Coord | undefined = opts.start;
  if (s === undefined) return opts.rng.int(opts.rows * opts.cols);
  if (!Array.isArray(s) || s.length !== 2 || !inBounds(opts, s)) {
    throw new MazeError(`generator ${name}: option start must be [row, col] inside the ${opts.rows}x${opts.cols} grid, got ${JSON.stringify(s)}`);
  }
  return s[0] * opts.cols + s[1];
}

/** Integer option in [min, max]; `undefined` stays undefined. */
export function intOption(name: string, key: string, v: number | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new MazeError(`generator ${name}: option ${key} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

/**
 * Open the edge between lattice neighbours a and b (flat indices). No bounds checks: callers only
 * pass pairs they derived as neighbours, and this sits in every generator's inner loop.
 */
export function openEdge(m: LatticeMaze, a: number, b: number): void {
  if (a > b) {
    const t = a;
    a = b;
    b = t;
  }
  // Test "down" first: on a one-column grid the vertical neighbour is also at distance 1.
  if (b - a === m.cols) m.down[a] = 1;
  else m.right[a] = 1;
}

/** Open every lattice edge (the starting point of recursive division; the whole of open_field). */
export function openAll(m: LatticeMaze): void {
  const { rows, cols, down, right } = m;
  down.fill(1, 0, (rows - 1) * cols);
  for (let r = 0; r < rows; r++) right.fill(1, r * cols, r * cols + cols - 1);
}
