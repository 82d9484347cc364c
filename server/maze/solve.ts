/**
 * Breadth-first search on a lattice maze: distances, a shortest path with deterministic
 * tie-breaking, and the number of shortest paths (cyclic mazes can tie).
 *
 * Flat-index variants (`…Idx`, `bfsInto`) take or return flat cell indices and reuse caller or
 * module scratch buffers; they are the ones bulk generation calls. The Coord variants check their
 * input and allocate their results.
 *
 * Tie-breaking: BFS runs from the origin and scans neighbours in the fixed order up, left, right,
 * down; each cell's predecessor is the neighbour that discovered it first. The path returned is
 * therefore the same on every machine, and on a tree (the only case without ties) it is the path.
 */
import { MAX_GRID, MazeError, cellCoord, inBounds, type Coord, type LatticeMaze } from './lattice.js';

const N = MAX_GRID * MAX_GRID;
const sDist = new Int32Array(N); // [cells] scratch BFS distances
const sParent = new Int32Array(N); // [cells] scratch BFS predecessors
const sQueue = new Int32Array(N); // [cells] scratch BFS queue
const sCount = new Float64Array(N); // [cells] scratch shortest-path counts

/**
 * BFS from flat cell `from` through open edges. Writes `dist[c]` (steps, -1 when unreachable) and,
 * when given, `parent[c]` (predecessor on the tie-broken shortest path; -1 for `from` and unreached
 * cells) for the first rows*cols entries. Stops early once `stopAt` (if ≥ 0) is dequeued.
 * Returns the number of cells reached. `queue` needs rows*cols entries.
 */
export function bfsInto(m: LatticeMaze, from: number, dist: Int32Array, queue: Int32Array, parent: Int32Array | null = null, stopAt = -1): number {
  const { rows, cols, down, right } = m;
  const n = rows * cols;
  dist.fill(-1, 0, n);
  if (parent) parent.fill(-1, 0, n);
  dist[from] = 0;
  queue[0] = from;
  let head = 0;
  let tail = 1;
  while (head < tail) {
    const c = queue[head++];
    if (c === stopAt) break;
    const d = dist[c] + 1;
    const col = c % cols;
    // up, left, right, down — the tie-breaking order.
    if (c >= cols && down[c - cols] === 1 && dist[c - cols] < 0) {
      dist[c - cols] = d;
      if (parent) parent[c - cols] = c;
      queue[tail++] = c - cols;
    }
    if (col > 0 && right[c - 1] === 1 && dist[c - 1] < 0) {
      dist[c - 1] = d;
      if (parent) parent[c - 1] = c;
      queue[tail++] = c - 1;
    }
    if (col < cols - 1 && right[c] === 1 && dist[c + 1] < 0) {
      dist[c + 1] = d;
      if (parent) parent[c + 1] = c;
      queue[tail++] = c + 1;
    }
    if (down[c] === 1 && dist[c + cols] < 0) {
      dist[c + cols] = d;
      if (parent) parent[c + cols] = c;
      queue[tail++] = c + cols;
    }
  }
  return tail;
}

function checkCell(m: LatticeMaze, c: number, what: string): void {
  if (!Number.isInteger(c) || c < 0 || c >= m.rows * m.cols) {
    throw new MazeError(`${what} must be a cell index in [0, ${m.rows * m.cols}) on a ${m.rows}x${m.cols} grid, got ${c}`);
  }
}

function checkCoord(m: LatticeMaze, p: Coord, what: string): number {
  if (!Array.isArray(p) || p.length !== 2 || !inBounds(m, p)) {
    throw new MazeError(`${what} must be [row, col] inside the ${m.rows}x${m.cols} grid, got ${JSON.stringify(p)}`);
  }
  return p[0] * m.cols + p[1];
}

/** [rows*cols] BFS distance in steps from flat cell `from`; -1 where unreachable. */
export function bfsDistances(m: LatticeMaze, from: number): Int32Array {
  checkCell(m, from, 'from');
  const n = m.rows * m.cols;
  const dist = new Int32Array(n);
  bfsInto(m, from, dist, sQueue);
  return dist;
}

/**
 * Shortest path between flat cells, origin and target inclusive, as flat indices; null when the
 * target is unreachable. Cells are not range-checked (internal fast path).
 */
export function shortestPathIdx(m: LatticeMaze, origin: number, target: number): Int32Array | null {
  bfsInto(m, origin, sDist, sQueue, sParent, target);
  const len = sDist[target];
  if (len < 0) return null;
  const path = new Int32Array(len + 1); // [steps + 1] flat cells, origin first
  for (let i = len, c = target; i >= 0; i--, c = sParent[c]) path[i] = c;
  return path;
}

/** Shortest path from origin to target (both inclusive); null when unreachable. */
export function shortestPath(m: LatticeMaze, origin: Coord, target: Coord): Coord[] | null {
  const o = checkCoord(m, origin, 'origin');
  const t = checkCoord(m, target, 'target');
  const p = shortestPathIdx(m, o, t);
  if (!p) return null;
  const out: Coord[] = new Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = cellCoord(m, p[i]);
  return out;
}

/**
 * Number of distinct shortest paths between flat cells (0 when unreachable, 1 when equal),
 * by dynamic programming over BFS layers: count[v] = Σ count[u] over neighbours u one step closer.
 * Saturates at Number.MAX_SAFE_INTEGER (a 64×64 open field has C(126, 63) ≈ 6·10^36 of them).
 */
export function countShortestPathsIdx(m: LatticeMaze, origin: number, target: number): number {
  const { rows, cols, down, right } = m;
  const n = rows * cols;
  const dist = sDist;
  const count = sCount;
  dist.fill(-1, 0, n);
  count.fill(0, 0, n);
  dist[origin] = 0;
  count[origin] = 1;
  sQueue[0] = origin;
  let head = 0;
  let tail = 1;
  const MAX = Number.MAX_SAFE_INTEGER;
  while (head < tail) {
    const c = sQueue[head++];
    // Counts of layer d are final once layer d-1 is processed; the target's layer needs no expansion.
    if (c === target) break;
    const d = dist[c] + 1;
    const k = count[c];
    const col = c % cols;
    for (let i = 0; i < 4; i++) {
      let v = -1;
      if (i === 0) {
        if (c >= cols && down[c - cols] === 1) v = c - cols;
      } else if (i === 1) {
        if (col > 0 && right[c - 1] === 1) v = c - 1;
      } else if (i === 2) {
        if (col < cols - 1 && right[c] === 1) v = c + 1;
      } else if (down[c] === 1) v = c + cols;
      if (v < 0) continue;
      if (dist[v] < 0) {
        dist[v] = d;
        count[v] = k;
        sQueue[tail++] = v;
      } else if (dist[v] === d) {
        const s = count[v] + k;
        count[v] = s > MAX ? MAX : s;
      }
    }
  }
  return dist[target] < 0 ? 0 : count[target];
}

/** Number of distinct shortest origin→target paths; 0 when unreachable; saturates at MAX_SAFE_INTEGER. */
export function countShortestPaths(m: LatticeMaze, origin: Coord, target: Coord): number {
  const o = checkCoord(m, origin, 'origin');
  const t = checkCoord(m, target, 'target');
  return countShortestPathsIdx(m, o, t);
}
