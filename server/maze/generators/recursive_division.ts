/**
 * Recursive division: start with every lattice edge open, then split the region by a straight wall
 * across it with a single gap and recurse into both halves, until regions are one cell wide (an
 * open corridor is already a tree). By induction each region ends as a spanning tree and the two
 * halves are joined by exactly one edge (the gap), so the result is a spanning tree.
 *
 * The wall runs across the longer side (a random orientation for squares), at a uniform position,
 * with the gap at a uniform position. An explicit stack of regions replaces recursion.
 */
import { MAX_GRID, emptyMaze, type LatticeMaze } from '../lattice.js';
import { checkCommon, openAll } from './common.js';
import type { GeneratorMeta, GeneratorOptions } from './types.js';

// Regions pending, 4 ints each (r0, c0, h, w). Depth-first order keeps at most one pending sibling
// per level, and there are fewer levels than cells.
const regions = new Int32Array(4 * MAX_GRID * MAX_GRID + 8); // [pending regions * 4]

export const recursiveDivisionMeta: GeneratorMeta = {
  description: 'recursive division: start open, split by walls with one gap each',
  spanningTree: true,
  options: [],
};

export function recursiveDivision(opts: GeneratorOptions): LatticeMaze {
  checkCommon('recursive_division', opts, recursiveDivisionMeta.options);
  const { rows, cols, rng } = opts;
  const m = emptyMaze(rows, cols);
  openAll(m);
  const { down, right } = m;
  let top = 0;
  regions[top++] = 0;
  regions[top++] = 0;
  regions[top++] = rows;
  regions[top++] = cols;
  while (top > 0) {
    const w = regions[--top];
    const h = regions[--top];
    const c0 = regions[--top];
    const r0 = regions[--top];
    if (h < 2 || w < 2) continue;
    const horizontal = h > w ? true : w > h ? false : rng.int(2) === 0;
    if (horizontal) {
      // Wall between rows r0+k-1 and r0+k: close the "down" edges of row r0+k-1 except the gap.
      const k = 1 + rng.int(h - 1);
      const gap = c0 + rng.int(w);
      const base = (r0 + k - 1) * cols;
      for (let c = c0; c < c0 + w; c++) if (c !== gap) down[base + c] = 0;
      regions[top++] = r0;
      regions[top++] = c0;
      regions[top++] = k;
      regions[top++] = w;
      regions[top++] = r0 + k;
      regions[top++] = c0;
      regions[top++] = h - k;
      regions[top++] = w;
    } else {
      // Wall between columns c0+k-1 and c0+k: close the "right" edges of column c0+k-1 except the gap.
      const k = 1 + rng.int(w - 1);
      const gap = r0 + rng.int(h);
      const col = c0 + k - 1;
      for (let r = r0; r < r0 + h; r++) if (r !== gap) right[r * cols + col] = 0;
      regions[top++] = r0;
      regions[top++] = c0;
      regions[top++] = h;
      regions[top++] = k;
      regions[top++] = r0;
      regions[top++] = c0 + k;
      regions[top++] = h;
      regions[top++] = w - k;
    }
  }
  return m;
}
