/**
 * The token vocabularies shared by every maze tokenizer.
 *
 * Special tokens come first, in the exact order of maze-dataset's `SPECIAL_TOKENS` (ids 0..10), so
 * those ids line up with models trained on that library. Coordinates follow in **corner-first** order
 * (ours: from 4×4 grids up it differs from maze-dataset's AOTP_UT_uniform order, whose shells
 * alternate differently; models from there keep their own token list, see vocabForSize):
 * shell k = max(row, col) holds the 2k+1 cells on the far edge of the k×k square, listed as
 *   (0,k) (k,0) (1,k) (k,1) … (k-1,k) (k,k-1) (k,k)
 * so the first N² coordinate tokens are exactly the cells of an N×N grid, and a small grid's
 * vocabulary is a prefix of a larger grid's: one model (one embedding table) can be tested on
 * mazes bigger than those it was trained on, the size-generalisation experiment of the research plan.
 *
 * Ids are closed-form (no lookup needed): shell k starts at k² and the offset inside the shell is
 *   2r   for (r,k), r < k;   2c+1 for (k,c), c < k;   2k for (k,k).
 * `COORD_INDEX` tabulates this for every cell up to MAX_GRID×MAX_GRID so the hot loops do one load.
 */
import { MAX_GRID, MazeError } from '../lattice.js';

/** maze-dataset's special tokens, in its order; their ids are their positions (0..10). */
export const SPECIAL_TOKENS = [
  '<ADJLIST_START>',
  '<ADJLIST_END>',
  '<TARGET_START>',
  '<TARGET_END>',
  '<ORIGIN_START>',
  '<ORIGIN_END>',
  '<PATH_START>',
  '<PATH_END>',
  '<-->',
  ';',
  '<PADDING>',
] as const;

export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

/** Ids of the special tokens (identical in every tokenizer's vocabulary). */
export const SPECIAL = {
  ADJLIST_START: 0,
  ADJLIST_END: 1,
  TARGET_START: 2,
  TARGET_END: 3,
  ORIGIN_START: 4,
  ORIGIN_END: 5,
  PATH_START: 6,
  PATH_END: 7,
  CONNECTOR: 8,
  SEP: 9,
  PADDING: 10,
} as const;

export const NUM_SPECIALS = SPECIAL_TOKENS.length; // 11

/**
 * The `walls` tokenizer's marker between the two cells of a missing connection (a wall). It is
 * appended after the 11 standard specials (id 11) in that tokenizer's vocabulary only, so the
 * standard special ids stay the same everywhere.
 */
export const WALL_TOKEN = '<-X->';

/** Position of cell (r,c) in corner-first order (0-based, before the specials offset). */
export function cornerFirstIndex(r: number, c: number): number {
  const k = r > c ? r : c;
  return k * k + (r < k ? 2 * r : c < k ? 2 * c + 1 : 2 * k);
}

/** Inverse of `cornerFirstIndex`. */
export function cornerFirstCoord(i: number): [number, number] {
  if (!Number.isInteger(i) || i < 0) throw new MazeError(`corner-first index must be a non-negative integer, got ${i}`);
  const k = Math.floor(Math.sqrt(i));
  const off = i - k * k;
  if (off === 2 * k) return [k, k];
  return off % 2 === 0 ? [off / 2, k] : [k, (off - 1) / 2];
}

/** [MAX_GRID*MAX_GRID] corner-first index of the cell packed as `r*MAX_GRID + c`. */
export const COORD_INDEX: Int32Array = (() => {
  const t = new Int32Array(MAX_GRID * MAX_GRID);
  for (let r = 0; r < MAX_GRID; r++) for (let c = 0; c < MAX_GRID; c++) t[r * MAX_GRID + c] = cornerFirstIndex(r, c);
  return t;
})();

/** `(r,c)` with no spaces, the seed post's coordinate token. */
export const coordToken = (r: number, c: number): string => `(${r},${c})`;

/** [MAX_GRID*MAX_GRID] coordinate token strings in corner-first order (index = corner-first index). */
export const COORD_TOKENS: readonly string[] = Array.from({ length: MAX_GRID * MAX_GRID }, (_, i) => {
  const [r, c] = cornerFirstCoord(i);
  return coordToken(r, c);
});

/** Side of the smallest square vocabulary that covers a rows × cols grid. */
export function gridSide(m: { rows: number; cols: number }): number {
  return m.rows > m.cols ? m.rows : m.cols;
}

export function checkGridSize(gridSize: number): void {
  if (!Number.isInteger(gridSize) || gridSize < 1 || gridSize > MAX_GRID) {
    throw new MazeError(`grid size must be an integer between 1 and ${MAX_GRID}, got ${gridSize}`);
  }
}

/**
 * Parses a unified coordinate token `(r,c)` (decimal, no leading zeros, no spaces) and returns the
 * packed cell `r*MAX_GRID + c`, or -1 when the token is not one (or lies beyond MAX_GRID).
 * Hand-rolled rather than a regex because the parser and the path reader call it per token.
 */
export function parseCoordToken(tok: string): number {
  const n = tok.length;
  if (n < 5 || n > 7 || tok.charCodeAt(0) !== 40 /* ( */ || tok.charCodeAt(n - 1) !== 41 /* ) */) return -1;
  let i = 1;
  const r = readSmallInt(tok, i);
  if (r < 0) return -1;
  i += r >= 10 ? 2 : 1;
  if (tok.charCodeAt(i) !== 44 /* , */) return -1;
  i++;
  const c = readSmallInt(tok, i);
  if (c < 0) return -1;
  i += c >= 10 ? 2 : 1;
  if (i !== n - 1 || r >= MAX_GRID || c >= MAX_GRID) return -1;
  return r * MAX_GRID + c;
}

/** Reads a 1–2 digit decimal at `i` (no leading zero); -1 when there is none. */
function readSmallInt(s: string, i: number): number {
  const d0 = s.charCodeAt(i) - 48;
  if (!(d0 >= 0 && d0 <= 9)) return -1;
  const d1 = s.charCodeAt(i + 1) - 48;
  if (d1 >= 0 && d1 <= 9) return d0 === 0 ? -1 : d0 * 10 + d1;
  return d0;
}

/** Parses an integer token of the `aotp-ctt` format ("0".."63", no leading zeros); -1 otherwise. */
export function parseIntToken(tok: string): number {
  if (tok.length === 0 || tok.length > 2) return -1;
  const v = readSmallInt(tok, 0);
  if (v < 0 || v >= 10 !== (tok.length === 2) || v >= MAX_GRID) return -1;
  return v;
}
