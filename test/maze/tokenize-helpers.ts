/**
 * Small maze builders for the tokenizer/parser tests: their own code (not the generators under
 * test elsewhere), so a round-trip failure points at the tokenizer or the parser.
 */
import { type Coord, type LatticeMaze, type SolvedMaze, emptyMaze, setEdgeIdx } from '../../server/maze/lattice.js';
import { Rng } from '../../server/maze/rng.js';

/** Random spanning tree by randomized depth-first search (iterative). */
export function randomTree(rows: number, cols: number, rng: Rng): LatticeMaze {
  const m = emptyMaze(rows, cols);
  const seen = new Uint8Array(rows * cols);
  const stack = [rng.int(rows * cols)];
  seen[stack[0]] = 1;
  while (stack.length > 0) {
    const c = stack[stack.length - 1];
    const r = Math.floor(c / cols),
      k = c % cols;
    const options: number[] = [];
    if (r > 0 && !seen[c - cols]) options.push(c - cols);
    if (r < rows - 1 && !seen[c + cols]) options.push(c + cols);
    if (k > 0 && !seen[c - 1]) options.push(c - 1);
    if (k < cols - 1 && !seen[c + 1]) options.push(c + 1);
    if (options.length === 0) {
      stack.pop();
      continue;
    }
    const nb = options[rng.int(options.length)];
    setEdgeIdx(m, c, nb, true);
    seen[nb] = 1;
    stack.push(nb);
  }
  return m;
}

/** Every lattice edge open with probability p (cycles, isolated cells, anything). */
export function randomPercolation(rows: number, cols: number, p: number, rng: Rng): LatticeMaze {
  const m = emptyMaze(rows, cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (r < rows - 1 && rng.chance(p)) m.down[r * cols + c] = 1;
      if (c < cols - 1 && rng.chance(p)) m.right[r * cols + c] = 1;
    }
  }
  return m;
}

const cell = (rows: number, cols: number, rng: Rng): Coord => [rng.int(rows), rng.int(cols)];

/** Attaches a random origin, target and path; the path is any sequence of cells (1..12 long). */
export function withTask(m: LatticeMaze, rng: Rng): SolvedMaze {
  const path: Coord[] = Array.from({ length: 1 + rng.int(12) }, () => cell(m.rows, m.cols, rng));
  return { ...m, origin: cell(m.rows, m.cols, rng), target: cell(m.rows, m.cols, rng), path };
}

/** A mix of trees and percolation mazes on grids from 1×1 to 8×8, square and not. */
export function randomMazes(count: number, seed: number): SolvedMaze[] {
  const rng = new Rng(seed);
  const out: SolvedMaze[] = [];
  for (let i = 0; i < count; i++) {
    const rows = 1 + rng.int(8),
      cols = 1 + rng.int(8);
    const m = i % 3 === 2 ? randomPercolation(rows, cols, rng.float(), rng) : randomTree(rows, cols, rng);
    out.push(withTask(m, rng));
  }
  return out;
}

/** The example sequence of the seed post (understanding-mesa-optimization-using-toy-models, "Training setup"). */
export const SEED_EXAMPLE =
  '<ADJLIST_START> (4,4) <--> (3,4) ; (5,2) <--> (5,1) ; (0,2) <--> (0,1) ; (0,2) <--> (1,2) ; (2,1) <--> (1,1) ; (0,3) <--> (0,4) ; (3,0) <--> (2,0) ; (0,0) <--> (1,0) ; (0,5) <--> (0,4) ; (1,5) <--> (2,5) ; (4,3) <--> (3,3) ; (0,1) <--> (0,0) ; (3,1) <--> (2,1) ; (1,1) <--> (0,1) ; (3,0) <--> (4,0) ; (3,5) <--> (4,5) ; (4,1) <--> (3,1) ; (5,0) <--> (5,1) ; (3,4) <--> (2,4) ; (4,0) <--> (5,0) ; (2,4) <--> (2,5) ; (3,3) <--> (3,2) ; (5,5) <--> (5,4) ; (1,4) <--> (1,3) ; (5,3) <--> (5,4) ; (5,5) <--> (4,5) ; (2,2) <--> (3,2) ; (4,2) <--> (4,1) ; (0,2) <--> (0,3) ; (2,2) <--> (2,3) ; (4,5) <--> (4,4) ; (1,5) <--> (1,4) ; (5,2) <--> (5,3) ; (2,0) <--> (2,1) ; (2,3) <--> (1,3) ; <ADJLIST_END> <ORIGIN_START> (0,0) <ORIGIN_END> <TARGET_START> (3,2) <TARGET_END> <PATH_START> (0,0) (0,1) (1,1) (2,1) (2,0) (3,0) (4,0) (5,0) (5,1) (5,2) (5,3) (5,4) (5,5) (4,5) (4,4) (3,4) (2,4) (2,5) (1,5) (1,4) (1,3) (2,3) (2,2) (3,2) <PATH_END>';
