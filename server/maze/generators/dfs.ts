/**
 * Randomized depth-first search ("recursive backtracker"), the generator of maze-dataset's
 * `LatticeMazeGenerators.gen_dfs` and of the mazes in the seed post.
 *
 * From the cell on top of the stack, step to a uniformly chosen unvisited lattice neighbour and
 * open that edge; when there is none, pop (backtrack). Options:
 *   forkless         never backtrack: stop as soon as the walk is stuck, leaving one corridor with
 *                    no forks (maze-dataset's `do_forks=False`, the "hallway" mazes);
 *   accessible_cells stop once this many cells (start included) have been reached;
 *   max_tree_depth   never step to a cell more than this many steps from the start along the tree
 *                    (maze-dataset counts cells on the stack instead, so its value is ours + 1);
 *   start            the first cell, default uniform.
 * With no options the result is a spanning tree. Cells never reached keep all four walls.
 */
import { MAX_GRID, MazeError, emptyMaze, type LatticeMaze } from '../lattice.js';
import type { Rng } from '../rng.js';
import { checkCommon, intOption, openEdge, startCell } from './common.js';
import type { GeneratorMeta, GeneratorOptions } from './types.js';

// Scratch sized for the largest grid once, reused by every call (generation is synchronous).
const visited = new Uint8Array(MAX_GRID * MAX_GRID); // [cells] 1 once reached
const stack = new Int32Array(MAX_GRID * MAX_GRID); // [cells] current tree path, start at 0
const nb = new Int32Array(4); // [4] unvisited lattice neighbours of the top cell

export const dfsMeta: GeneratorMeta = {
  description: 'randomized depth-first search (recursive backtracker); options forkless, accessible_cells, max_tree_depth, start',
  spanningTree: true,
  options: ['forkless', 'accessible_cells', 'max_tree_depth', 'start'],
};

export function dfs(opts: GeneratorOptions): LatticeMaze {
  checkCommon('dfs', opts, dfsMeta.options);
  const n = opts.rows * opts.cols;
  if (opts.forkless !== undefined && typeof opts.forkless !== 'boolean') {
    throw new MazeError(`generator dfs: option forkless must be a boolean, got ${String(opts.forkless)}`);
  }
  const maxCells = intOption('dfs', 'accessible_cells', opts.accessible_cells, 1, n) ?? n;
  const maxDepth = intOption('dfs', 'max_tree_depth', opts.max_tree_depth, 0, Number.MAX_SAFE_INTEGER) ?? n;
  const m = emptyMaze(opts.rows, opts.cols);
  carveDfs(m, opts.rng, startCell('dfs', opts), opts.forkless === true, maxCells, maxDepth);
  return m;
}

/**
 * Carve a DFS tree into `m` (whose edges are all closed) from flat cell `start`.
 * Returns the number of cells reached. Exported for `dfs_percolation`.
 */
export function carveDfs(m: LatticeMaze, rng: Rng, start: number, forkless: boolean, maxCells: number, maxDepth: number): number {
  const { rows, cols } = m;
  const n = rows * cols;
  visited.fill(0, 0, n);
  visited[start] = 1;
  stack[0] = start;
  let top = 1; // stack size; the depth of stack[top-1] is top-1
  let reached = 1;
  while (top > 0 && reached < maxCells) {
    const c = stack[top - 1];
    let k = 0;
    if (top - 1 < maxDepth) {
      const row = (c / cols) | 0;
      const col = c - row * cols;
      // Fixed order (up, left, right, down) so the draw below maps to the same cell everywhere.
      if (row > 0 && visited[c - cols] === 0) nb[k++] = c - cols;
      if (col > 0 && visited[c - 1] === 0) nb[k++] = c - 1;
      if (col < cols - 1 && visited[c + 1] === 0) nb[k++] = c + 1;
      if (row < rows - 1 && visited[c + cols] === 0) nb[k++] = c + cols;
    }
    if (k === 0) {
      if (forkless) break;
      top--;
      continue;
    }
    const v = nb[rng.int(k)];
    openEdge(m, c, v);
    visited[v] = 1;
    reached++;
    stack[top++] = v;
  }
  return reached;
}
