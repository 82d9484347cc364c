/**
 * The lattice maze: a rows × cols grid whose open edges are stored as two bit planes.
 *
 * Layout follows maze-dataset's `connection_list[2, rows, cols]` so data converts one-to-one:
 *   plane 0 ("down"):  down[i*cols + j]  = 1 ⇔ (i,j) — (i+1,j) is open   (last row always 0)
 *   plane 1 ("right"): right[i*cols + j] = 1 ⇔ (i,j) — (i,j+1) is open   (last column always 0)
 * Cells are addressed by their flat index `c = row*cols + col` inside the hot loops; `Coord`
 * (`[row, col]`) is the public, readable form.
 */
import { UserError } from '../errors.js';

export type Coord = readonly [row: number, col: number];

export interface LatticeMaze {
  readonly rows: number;
  readonly cols: number;
  /** [rows*cols] 1 where the edge to the cell below is open. */
  readonly down: Uint8Array;
  /** [rows*cols] 1 where the edge to the cell on the right is open. */
  readonly right: Uint8Array;
}

/** A maze with a task on it: go from origin to target; `path` is a shortest solution. */
export interface SolvedMaze extends LatticeMaze {
  readonly origin: Coord;
  readonly target: Coord;
  /** Cells from origin to target inclusive. */
  readonly path: readonly Coord[];
}

/** Largest side we accept anywhere (the tokenizer's vocabulary and the API share this bound). */
export const MAX_GRID = 64;

export class MazeError extends UserError {
  override name = 'MazeError';
}

export function emptyMaze(rows: number, cols: number = rows): LatticeMaze {
  checkGrid(rows, cols);
  return { rows, cols, down: new Uint8Array(rows * cols), right: new Uint8Array(rows * cols) };
}

export function checkGrid(rows: number, cols: number): void {
  for (const [name, v] of [
    ['rows', rows],
    ['cols', cols],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_GRID) {
      throw new MazeError(`${name} must be an integer between 1 and ${MAX_GRID}, got ${v}`);
    }
  }
}

export const cellIndex = (m: { cols: number }, [r, c]: Coord): number => r * m.cols + c;
export const cellCoord = (m: { cols: number }, idx: number): Coord => [Math.floor(idx / m.cols), idx % m.cols];

export function inBounds(m: { rows: number; cols: number }, [r, c]: Coord): boolean {
  return Number.isInteger(r) && Number.isInteger(c) && r >= 0 && c >= 0 && r < m.rows && c < m.cols;
}

export const coordEq = (a: Coord, b: Coord): boolean => a[0] === b[0] && a[1] === b[1];
export const coordKey = ([r, c]: Coord): string => `(${r},${c})`;

/** True when a and b are lattice neighbours (L1 distance 1), regardless of walls. */
export function latticeAdjacent(a: Coord, b: Coord): boolean {
  return Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) === 1;
}

/** Is the edge between flat cells a and b open? False when they are not lattice neighbours. */
export function connectedIdx(m: LatticeMaze, a: number, b: number): boolean {
  if (a > b) [a, b] = [b, a];
  if (b - a === m.cols) return m.down[a] === 1;
  if (b - a === 1 && a % m.cols !== m.cols - 1) return m.right[a] === 1;
  return false;
}

export function connected(m: LatticeMaze, a: Coord, b: Coord): boolean {
  if (!inBounds(m, a) || !inBounds(m, b) || !latticeAdjacent(a, b)) return false;
  return connectedIdx(m, cellIndex(m, a), cellIndex(m, b));
}

/** Open or close the lattice edge between flat cells a and b (must be lattice neighbours). */
export function setEdgeIdx(m: LatticeMaze, a: number, b: number, open: boolean): void {
  if (a > b) [a, b] = [b, a];
  const v = open ? 1 : 0;
  if (b - a === m.cols) m.down[a] = v;
  else if (b - a === 1 && a % m.cols !== m.cols - 1) m.right[a] = v;
  else throw new MazeError(`cells ${a} and ${b} are not lattice neighbours on a ${m.rows}x${m.cols} grid`);
}

export function setEdge(m: LatticeMaze, a: Coord, b: Coord, open: boolean): void {
  if (!inBounds(m, a) || !inBounds(m, b)) throw new MazeError(`edge ${coordKey(a)}-${coordKey(b)} is outside the ${m.rows}x${m.cols} grid`);
  setEdgeIdx(m, cellIndex(m, a), cellIndex(m, b), open);
}

/**
 * Open neighbours of flat cell `c`, written into `out` (length ≥ 4); returns how many.
 * Order is fixed (up, left, right, down) so every consumer is deterministic.
 */
export function neighborsIdx(m: LatticeMaze, c: number, out: Int32Array | number[]): number {
  const { cols, down, right } = m;
  let n = 0;
  const col = c % cols;
  if (c >= cols && down[c - cols]) out[n++] = c - cols;
  if (col > 0 && right[c - 1]) out[n++] = c - 1;
  if (col < cols - 1 && right[c]) out[n++] = c + 1;
  if (down[c]) out[n++] = c + cols; // down[] of the last row is always 0
  return n;
}

/** Lattice neighbours of flat cell `c`, open or not, into `out`; returns how many. */
export function latticeNeighborsIdx(m: { rows: number; cols: number }, c: number, out: Int32Array | number[]): number {
  const { rows, cols } = m;
  let n = 0;
  const row = Math.floor(c / cols);
  const col = c - row * cols;
  if (row > 0) out[n++] = c - cols;
  if (col > 0) out[n++] = c - 1;
  if (col < cols - 1) out[n++] = c + 1;
  if (row < rows - 1) out[n++] = c + cols;
  return n;
}

export function degreeIdx(m: LatticeMaze, c: number): number {
  const { cols, down, right } = m;
  const col = c % cols;
  return (c >= cols ? down[c - cols] : 0) + (col > 0 ? right[c - 1] : 0) + (col < cols - 1 ? right[c] : 0) + down[c];
}

/** Number of open edges. */
export function edgeCount(m: LatticeMaze): number {
  let n = 0;
  for (let i = 0; i < m.down.length; i++) n += m.down[i] + m.right[i];
  return n;
}

/** Open edges as pairs of flat cells (lower index first), in plane order: all "down", then all "right". */
export function edgeListIdx(m: LatticeMaze): Int32Array {
  const out = new Int32Array(edgeCount(m) * 2);
  let k = 0;
  const { cols, down, right } = m;
  for (let c = 0; c < down.length; c++)
    if (down[c]) {
      out[k++] = c;
      out[k++] = c + cols;
    }
  for (let c = 0; c < right.length; c++)
    if (right[c]) {
      out[k++] = c;
      out[k++] = c + 1;
    }
  return out;
}

export function edgeList(m: LatticeMaze): Array<[Coord, Coord]> {
  const idx = edgeListIdx(m);
  const out: Array<[Coord, Coord]> = [];
  for (let k = 0; k < idx.length; k += 2) out.push([cellCoord(m, idx[k]), cellCoord(m, idx[k + 1])]);
  return out;
}

/** Component label of every cell (labels are the smallest flat index in the component). */
export function components(m: LatticeMaze): Int32Array {
  const n = m.rows * m.cols;
  const label = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n);
  const nb = new Int32Array(4);
  for (let s = 0; s < n; s++) {
    if (label[s] !== -1) continue;
    label[s] = s;
    let top = 0;
    stack[top++] = s;
    while (top > 0) {
      const c = stack[--top];
      const k = neighborsIdx(m, c, nb);
      for (let i = 0; i < k; i++)
        if (label[nb[i]] === -1) {
          label[nb[i]] = s;
          stack[top++] = nb[i];
        }
    }
  }
  return label;
}

/** A spanning tree: connected and exactly rows*cols − 1 edges. */
export function isSpanningTree(m: LatticeMaze): boolean {
  if (edgeCount(m) !== m.rows * m.cols - 1) return false;
  const label = components(m);
  return label.every((l) => l === 0);
}

export function cloneMaze<T extends LatticeMaze>(m: T): T {
  return { ...m, down: m.down.slice(), right: m.right.slice() };
}

export function mazesEqual(a: LatticeMaze, b: LatticeMaze): boolean {
  if (a.rows !== b.rows || a.cols !== b.cols) return false;
  for (let i = 0; i < a.down.length; i++) if (a.down[i] !== b.down[i] || a.right[i] !== b.right[i]) return false;
  return true;
}
