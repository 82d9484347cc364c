/**
 * Hand-built and tiny generated mazes for the baseline/analysis/metrics/render tests. Built here
 * with lattice.ts alone so these tests do not depend on the generator and solver modules.
 */
import {
  type Coord,
  type LatticeMaze,
  type SolvedMaze,
  cellCoord,
  cellIndex,
  emptyMaze,
  neighborsIdx,
  setEdge,
  setEdgeIdx,
  latticeNeighborsIdx,
} from '../../server/maze/lattice.js';
import type { Rng } from '../../server/maze/rng.js';

export function mazeFromEdges(rows: number, cols: number, edges: ReadonlyArray<readonly [Coord, Coord]>): LatticeMaze {
  const m = emptyMaze(rows, cols);
  for (const [a, b] of edges) setEdge(m, a, b, true);
  return m;
}

/** Every lattice edge open. */
export function openField(rows: number, cols: number = rows): LatticeMaze {
  const m = emptyMaze(rows, cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      if (r + 1 < rows) m.down[r * cols + c] = 1;
      if (c + 1 < cols) m.right[r * cols + c] = 1;
    }
  return m;
}

/** Shortest path by BFS (the test's own, independent of server/maze/solve.ts). */
export function bfsPath(m: LatticeMaze, from: Coord, to: Coord): Coord[] | null {
  const n = m.rows * m.cols;
  const parent = new Int32Array(n).fill(-1);
  const s = cellIndex(m, from);
  const t = cellIndex(m, to);
  parent[s] = s;
  const queue = [s];
  const nb = new Int32Array(4);
  for (let h = 0; h < queue.length; h++) {
    const c = queue[h];
    const k = neighborsIdx(m, c, nb);
    for (let i = 0; i < k; i++)
      if (parent[nb[i]] === -1) {
        parent[nb[i]] = c;
        queue.push(nb[i]);
      }
  }
  if (parent[t] === -1) return null;
  const out: Coord[] = [];
  for (let c = t; ; c = parent[c]) {
    out.push(cellCoord(m, c));
    if (c === s) break;
  }
  return out.reverse();
}

export function solved(m: LatticeMaze, origin: Coord, target: Coord): SolvedMaze {
  const path = bfsPath(m, origin, target);
  if (!path) throw new Error(`fixture: no path ${origin} → ${target}`);
  return { ...m, origin, target, path };
}

/** A randomized-DFS spanning tree (not uniform over trees; enough for these tests). */
export function randomTree(rows: number, cols: number, rng: Rng): LatticeMaze {
  const m = emptyMaze(rows, cols);
  const n = rows * cols;
  const seen = new Uint8Array(n);
  const stack = [rng.int(n)];
  seen[stack[0]] = 1;
  const nb = new Int32Array(4);
  while (stack.length > 0) {
    const c = stack[stack.length - 1];
    const k = latticeNeighborsIdx(m, c, nb);
    const fresh: number[] = [];
    for (let i = 0; i < k; i++) if (!seen[nb[i]]) fresh.push(nb[i]);
    if (fresh.length === 0) {
      stack.pop();
      continue;
    }
    const next = fresh[rng.int(fresh.length)];
    setEdgeIdx(m, c, next, true);
    seen[next] = 1;
    stack.push(next);
  }
  return m;
}

/** A random tree plus each remaining lattice edge opened with probability p (cycles appear). */
export function randomCyclic(rows: number, cols: number, p: number, rng: Rng): LatticeMaze {
  const m = randomTree(rows, cols, rng);
  for (let c = 0; c < rows * cols; c++) {
    if (c + cols < rows * cols && rng.chance(p)) m.down[c] = 1;
    if ((c % cols) + 1 < cols && rng.chance(p)) m.right[c] = 1;
  }
  return m;
}

/** Two distinct random cells. */
export function randomEndpoints(m: LatticeMaze, rng: Rng): [Coord, Coord] {
  const n = m.rows * m.cols;
  const a = rng.int(n);
  let b = rng.int(n - 1);
  if (b >= a) b++;
  return [cellCoord(m, a), cellCoord(m, b)];
}

/** A serpentine corridor through every cell of a rows×cols grid (a forkless "hallway"). */
export function hallway(rows: number, cols: number): SolvedMaze {
  const order: Coord[] = [];
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) order.push([r, r % 2 === 0 ? i : cols - 1 - i]);
  const m = emptyMaze(rows, cols);
  for (let i = 1; i < order.length; i++) setEdge(m, order[i - 1], order[i], true);
  return { ...m, origin: order[0], target: order[order.length - 1], path: order };
}

/**
 * The hand-drawn 3×3 tree used across these tests (8 edges):
 *
 *   (0,0)—(0,1)—(0,2)
 *           |     |
 *   (1,0)—(1,1)  (1,2)
 *           |
 *   (2,0)—(2,1)—(2,2)
 *
 * Degrees: (0,1), (1,1), (2,1) are 3; (0,2) is 2; the other five cells are dead ends.
 */
export function handTree(): LatticeMaze {
  return mazeFromEdges(3, 3, [
    [
      [0, 0],
      [0, 1],
    ],
    [
      [0, 1],
      [0, 2],
    ],
    [
      [0, 1],
      [1, 1],
    ],
    [
      [1, 1],
      [1, 0],
    ],
    [
      [1, 1],
      [2, 1],
    ],
    [
      [2, 1],
      [2, 0],
    ],
    [
      [2, 1],
      [2, 2],
    ],
    [
      [0, 2],
      [1, 2],
    ],
  ]);
}

/** handTree from (0,0) to (2,2): path (0,0) (0,1) (1,1) (2,1) (2,2), forks at path indices 1, 2, 3. */
export function handSolved(): SolvedMaze {
  return {
    ...handTree(),
    origin: [0, 0],
    target: [2, 2],
    path: [
      [0, 0],
      [0, 1],
      [1, 1],
      [2, 1],
      [2, 2],
    ],
  };
}
