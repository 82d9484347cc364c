/**
 * Token positions ↔ maze cells for the unified-coordinate formats (aotp-ut, and walls, whose list
 * holds walls): which positions are `;`, <ADJLIST_END>, <PATH_START>, the origin, the target, the
 * path tokens, and which cell each coordinate token names. The layout (tokenizer.ts):
 *
 *   <ADJLIST_START> (a CONN b ;)* <ADJLIST_END> <ORIGIN_START> o <ORIGIN_END>
 *   <TARGET_START> t <TARGET_END> <PATH_START> p0 p1 … [<PATH_END>]
 *
 * Works on a full sequence, a prompt, or a prompt plus part of the path. A sequence that does not
 * follow the layout is an error naming the position, never a silently shifted map.
 */
import { MAX_GRID } from '../maze/lattice.js';
import { SPECIAL_TOKENS, parseCoordToken } from '../maze/tokenize/index.js';
import { InterpError } from './context.js';

export type TokenClass =
  | 'adjlist_start'
  | 'adj_cell'
  | 'connector'
  | 'sep'
  | 'adjlist_end'
  | 'origin_start'
  | 'origin'
  | 'origin_end'
  | 'target_start'
  | 'target'
  | 'target_end'
  | 'path_start'
  | 'path'
  | 'path_end';

/** Every class in sequence order (the order tensors aggregated by class use). */
export const TOKEN_CLASSES: readonly TokenClass[] = [
  'adjlist_start',
  'adj_cell',
  'connector',
  'sep',
  'adjlist_end',
  'origin_start',
  'origin',
  'origin_end',
  'target_start',
  'target',
  'target_end',
  'path_start',
  'path',
  'path_end',
];

export interface ListedEdge {
  /** Flat cells (row·cols + col) in the order written. */
  a: number;
  b: number;
  posA: number;
  posB: number;
  /** Position of the `;` closing the entry. */
  sep: number;
}

export interface SequencePositions {
  length: number;
  rows: number;
  cols: number;
  /** [T] class of every position. */
  classes: TokenClass[];
  /** [T] flat cell named by the token at each position, -1 for non-coordinates. */
  cell: Int32Array;
  edges: ListedEdge[];
  seps: number[];
  adjlistEnd: number;
  origin: number;
  target: number;
  pathStart: number;
  /** Positions of the path tokens (after <PATH_START>), in order. */
  path: number[];
  /** Position of <PATH_END>, or -1 when the sequence stops before it. */
  pathEnd: number;
}

const SPECIAL_ID = new Map<string, number>(SPECIAL_TOKENS.map((t, i) => [t, i]));

/** Per model vocabulary: token id → special index (0..10) or -1, and id → packed cell or -1. */
const lookups = new WeakMap<readonly string[], { special: Int32Array; packed: Int32Array }>();

function lookup(vocab: readonly string[]) {
  let l = lookups.get(vocab);
  if (!l) {
    l = {
      special: Int32Array.from(vocab, (t) => SPECIAL_ID.get(t) ?? -1),
      packed: Int32Array.from(vocab, (t) => parseCoordToken(t)),
    };
    lookups.set(vocab, l);
  }
  return l;
}

/** Flat cell (row·cols + col) of token `id`, or -1 when it is not a coordinate of the grid. */
export function cellOfToken(vocab: readonly string[], id: number, grid: { rows: number; cols: number }): number {
  const p = lookup(vocab).packed[id] ?? -1;
  if (p < 0) return -1;
  const r = (p / MAX_GRID) | 0,
    c = p % MAX_GRID;
  return r < grid.rows && c < grid.cols ? r * grid.cols + c : -1;
}

/** Maps a unified-format sequence of `vocab` ids onto the cells of a rows × cols grid. */
export function mapPositions(ids: ArrayLike<number>, vocab: readonly string[], grid: { rows: number; cols: number }): SequencePositions {
  const { special } = lookup(vocab);
  const T = ids.length;
  const classes: TokenClass[] = new Array(T);
  const cell = new Int32Array(T).fill(-1);
  const tokenAt = (i: number): string => (i < T ? JSON.stringify(vocab[ids[i]] ?? `id ${ids[i]}`) : 'the end of the sequence');
  const fail = (i: number, want: string): never => {
    throw new InterpError(`token position ${i}: expected ${want}, found ${tokenAt(i)}`);
  };
  const sp = (i: number): number => (i < T ? special[ids[i]] : -2);
  const expectSpecial = (i: number, name: string, cls: TokenClass): number => {
    if (sp(i) !== SPECIAL_ID.get(name)) fail(i, name);
    classes[i] = cls;
    return i + 1;
  };
  const expectCell = (i: number, cls: TokenClass): number => {
    const c = i < T ? cellOfToken(vocab, ids[i], grid) : -1;
    if (c < 0) fail(i, `a coordinate inside the ${grid.rows}x${grid.cols} grid`);
    cell[i] = c;
    classes[i] = cls;
    return i + 1;
  };

  let i = expectSpecial(0, '<ADJLIST_START>', 'adjlist_start');
  const edges: ListedEdge[] = [];
  const seps: number[] = [];
  while (sp(i) !== SPECIAL_ID.get('<ADJLIST_END>')) {
    const posA = i;
    i = expectCell(i, 'adj_cell');
    // The connector is <--> (aotp-ut) or <-X-> (walls, not a maze-dataset special): any non-cell token.
    if (i >= T || cellOfToken(vocab, ids[i], grid) >= 0 || (sp(i) >= 0 && sp(i) !== SPECIAL_ID.get('<-->'))) fail(i, 'a connector (<--> or <-X->)');
    classes[i++] = 'connector';
    const posB = i;
    i = expectCell(i, 'adj_cell');
    const sep = i;
    i = expectSpecial(i, ';', 'sep');
    seps.push(sep);
    edges.push({ a: cell[posA], b: cell[posB], posA, posB, sep });
  }
  const adjlistEnd = i;
  i = expectSpecial(i, '<ADJLIST_END>', 'adjlist_end');
  i = expectSpecial(i, '<ORIGIN_START>', 'origin_start');
  const origin = i;
  i = expectCell(i, 'origin');
  i = expectSpecial(i, '<ORIGIN_END>', 'origin_end');
  i = expectSpecial(i, '<TARGET_START>', 'target_start');
  const target = i;
  i = expectCell(i, 'target');
  i = expectSpecial(i, '<TARGET_END>', 'target_end');
  const pathStart = i;
  i = expectSpecial(i, '<PATH_START>', 'path_start');
  const path: number[] = [];
  let pathEnd = -1;
  for (; i < T; i++) {
    if (sp(i) === SPECIAL_ID.get('<PATH_END>')) {
      classes[i] = 'path_end';
      pathEnd = i;
      if (i !== T - 1) fail(i + 1, 'nothing after <PATH_END>');
      break;
    }
    path.push(i);
    expectCell(i, 'path');
  }
  return { length: T, rows: grid.rows, cols: grid.cols, classes, cell, edges, seps, adjlistEnd, origin, target, pathStart, path, pathEnd };
}

/** Positions (≤ `upTo`, default all) whose token names cell `c`. */
export function positionsOfCell(sp: SequencePositions, c: number, upTo = sp.length - 1): number[] {
  const out: number[] = [];
  for (let i = 0; i <= upTo && i < sp.length; i++) if (sp.cell[i] === c) out.push(i);
  return out;
}

/**
 * Sums a distribution over key positions (e.g. one attention row, `weights[k]` for k < length)
 * onto cells: `cells[c]` = total weight on positions naming cell c, `other` = weight on the rest
 * (specials, connectors). Mass is conserved: Σ cells + other = Σ weights.
 */
export function aggregateOnCells(sp: SequencePositions, weights: ArrayLike<number>, keys = weights.length): { cells: Float64Array; other: number } {
  const cells = new Float64Array(sp.rows * sp.cols);
  let other = 0;
  for (let k = 0; k < keys; k++) {
    const c = sp.cell[k];
    if (c >= 0) cells[c] += weights[k];
    else other += weights[k];
  }
  return { cells, other };
}
