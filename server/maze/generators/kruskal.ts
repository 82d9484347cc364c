/**
 * Randomized Kruskal: visit the lattice edges in a uniformly shuffled order and open each one whose
 * ends are still in different components (union–find with path halving and union by size).
 * Equivalent to a minimum spanning tree under i.i.d. uniform edge weights; not uniform over trees.
 */
import { MAX_GRID, emptyMaze, type LatticeMaze } from '../lattice.js';
import { checkCommon } from './common.js';
import type { GeneratorMeta, GeneratorOptions } from './types.js';

const N = MAX_GRID * MAX_GRID;
// Edge ids: c for the "down" edge of cell c, N + c for its "right" edge.
const edges = new Int32Array(2 * N); // [lattice edges] shuffled edge ids
const parent = new Int32Array(N); // [cells] union–find parent
const size = new Int32Array(N); // [cells] component size at roots

export const kruskalMeta: GeneratorMeta = {
  description: 'randomized Kruskal: shuffled edges joined by union-find',
  spanningTree: true,
  options: [],
};

function find(x: number): number {
  while (parent[x] !== x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

export function kruskal(opts: GeneratorOptions): LatticeMaze {
  checkCommon('kruskal', opts, kruskalMeta.options);
  const { rows, cols, rng } = opts;
  const n = rows * cols;
  const m = emptyMaze(rows, cols);
  let e = 0;
  for (let c = 0; c < (rows - 1) * cols; c++) edges[e++] = c;
  for (let c = 0; c < n; c++) if (c % cols !== cols - 1) edges[e++] = N + c;
  rng.shuffle(edges, e);
  for (let c = 0; c < n; c++) {
    parent[c] = c;
    size[c] = 1;
  }
  let joined = 0;
  for (let i = 0; i < e && joined < n - 1; i++) {
    const id = edges[i];
    const isRight = id >= N;
    const a = isRight ? id - N : id;
    const b = isRight ? a + 1 : a + cols;
    let ra = find(a);
    let rb = find(b);
    if (ra === rb) continue;
    if (size[ra] < size[rb]) {
      const t = ra;
      ra = rb;
      rb = t;
    }
    parent[rb] = ra;
    size[ra] += size[rb];
    (isRight ? m.right : m.down)[a] = 1;
    joined++;
  }
  return m;
}
