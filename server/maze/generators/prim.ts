/**
 * Randomized Prim (the edge-frontier version): keep every lattice edge leaving the tree in a
 * frontier; repeatedly remove a uniformly random frontier edge and, if its far cell is not yet in
 * the tree, open it and add the far cell's outgoing edges. Edges whose far cell joined meanwhile are
 * dropped lazily when drawn.
 *
 * This really is Prim: it grows outward from the start in all directions at once, giving short
 * branches and many dead ends, unlike DFS's long corridors. (maze-dataset's `gen_prim` silently
 * runs DFS instead; the generator tests check that the two distributions differ.)
 */
import { MAX_GRID, emptyMaze, type LatticeMaze } from '../lattice.js';
import { checkCommon, openEdge, startCell } from './common.js';
import type { GeneratorMeta, GeneratorOptions } from './types.js';

const N = MAX_GRID * MAX_GRID;
const inTree = new Uint8Array(N); // [cells] 1 once in the tree
// Each cell joins once and pushes at most 4 edges, so 4N slots suffice.
const fromCell = new Int32Array(4 * N); // [frontier] tree end of each frontier edge
const toCell = new Int32Array(4 * N); // [frontier] far end of each frontier edge

export const primMeta: GeneratorMeta = {
  description: 'randomized Prim: grow from the start through a random frontier edge each step; option start',
  spanningTree: true,
  options: ['start'],
};

export function prim(opts: GeneratorOptions): LatticeMaze {
  checkCommon('prim', opts, primMeta.options);
  const { rows, cols, rng } = opts;
  const n = rows * cols;
  const m = emptyMaze(rows, cols);
  inTree.fill(0, 0, n);
  let size = 0; // frontier size
  let c = startCell('prim', opts);
  for (;;) {
    // c just joined the tree: push its edges to lattice neighbours outside it (up, left, right, down).
    inTree[c] = 1;
    const row = (c / cols) | 0;
    const col = c - row * cols;
    if (row > 0 && inTree[c - cols] === 0) {
      fromCell[size] = c;
      toCell[size++] = c - cols;
    }
    if (col > 0 && inTree[c - 1] === 0) {
      fromCell[size] = c;
      toCell[size++] = c - 1;
    }
    if (col < cols - 1 && inTree[c + 1] === 0) {
      fromCell[size] = c;
      toCell[size++] = c + 1;
    }
    if (row < rows - 1 && inTree[c + cols] === 0) {
      fromCell[size] = c;
      toCell[size++] = c + cols;
    }
    // Draw frontier edges until one leads outside the tree.
    let next = -1;
    while (size > 0) {
      const i = rng.int(size);
      const a = fromCell[i];
      const b = toCell[i];
      size--;
      fromCell[i] = fromCell[size];
      toCell[i] = toCell[size];
      if (inTree[b] === 0) {
        openEdge(m, a, b);
        next = b;
        break;
      }
    }
    if (next < 0) return m;
    c = next;
  }
}
