/**
 * Structural analysis of a maze and its solution: forks along the path, dead ends, summary stats.
 *
 * "Forks" has two meanings in the research plan and both are here:
 *   - forks along a path (`forksAlongPath`): the decision points a walker meets — cells where more
 *     than one unvisited open way leads on. These are the plan's "forking points (where the model
 *     must choose between different directions)" and drive the fork-decision metric.
 *   - fork cells of the maze (`mazeStats().forks`): cells of degree ≥ 3, a property of the maze alone.
 */
import { baselineSuccessProbability } from './baseline.js';
import { checkLattice, checkSimplePath, checkSolvedMaze } from './check.js';
import {
  type Coord,
  type LatticeMaze,
  type SolvedMaze,
  cellCoord,
  cellIndex,
  components as componentLabels,
  degreeIdx,
  edgeCount,
  isSpanningTree,
  neighborsIdx,
} from './lattice.js';

export interface PathFork {
  /** Index into the path of the fork cell. */
  index: number;
  cell: Coord;
  /** Number of open neighbours not yet visited along the path (≥ 2). */
  options: number;
  /** Those neighbours, in lattice.ts's fixed order (up, left, right, down). */
  choices: Coord[];
  /** The branch the path takes: path[index + 1]. */
  next: Coord;
}

/**
 * Decision points along `path` (a simple walk on open connections, e.g. a solution): every cell
 * except the last whose count of open neighbours not among the cells before it on the path is ≥ 2.
 * At the origin that is its degree; further on the previous cell (and any earlier path cell that
 * happens to be adjacent, possible only in mazes with cycles) is excluded. The last cell is the
 * target, where no decision is made.
 */
export function forksAlongPath(maze: LatticeMaze, path: readonly Coord[]): PathFork[] {
  checkLattice(maze, 'forksAlongPath');
  checkSimplePath(maze, path, 'path', 'forksAlongPath');
  const visited = new Uint8Array(maze.rows * maze.cols);
  const nb = new Int32Array(4);
  const forks: PathFork[] = [];
  for (let i = 0; i + 1 < path.length; i++) {
    const c = cellIndex(maze, path[i]);
    visited[c] = 1;
    const k = neighborsIdx(maze, c, nb);
    const choices: Coord[] = [];
    for (let j = 0; j < k; j++) if (!visited[nb[j]]) choices.push(cellCoord(maze, nb[j]));
    if (choices.length >= 2) forks.push({ index: i, cell: path[i], options: choices.length, choices, next: path[i + 1] });
  }
  return forks;
}

/**
 * How far ahead a search must look to decide a fork on a path to the target (the research plan's
 * "precognition about future paths": in an acyclic maze a wrong turn at a fork can never reach the
 * target, so deciding needs knowledge of what lies beyond it).
 *
 * A search settles the fork either by finding the target down the right branch (`remaining` steps
 * from the fork, or the same distance searched back from the target), or by exhausting every wrong
 * branch: walking each to its deepest dead end, `wrongDepth` steps for the deepest. So
 * `lookahead = min(remaining, wrongDepth)`: a model that looks k steps ahead can decide exactly the
 * forks with lookahead ≤ k, and must guess at the rest.
 *
 * Branches are walked without re-entering the fork or any earlier path cell. Returns null when a
 * wrong branch also reaches the target (possible only with cycles): such a fork has no single answer.
 */
export interface ForkLookahead {
  remaining: number;
  wrongDepth: number;
  lookahead: number;
}

export function forkLookahead(maze: SolvedMaze, fork: PathFork, path: readonly Coord[] = maze.path): ForkLookahead | null {
  const n = maze.rows * maze.cols;
  const blocked = new Uint8Array(n);
  for (let i = 0; i <= fork.index; i++) blocked[cellIndex(maze, path[i])] = 1;
  const target = cellIndex(maze, maze.target);
  const dist = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  const nb = new Int32Array(4);
  // One BFS from every wrong choice at once (each 1 step from the fork), over cells off the path
  // so far: with cycles, a loop joining two wrong choices is then measured from the nearer one.
  let head = 0,
    tail = 0;
  for (const choice of fork.choices) {
    if (choice[0] === fork.next[0] && choice[1] === fork.next[1]) continue;
    const c = cellIndex(maze, choice);
    if (dist[c] < 0) {
      dist[c] = 1;
      queue[tail++] = c;
    }
  }
  let wrongDepth = 0;
  while (head < tail) {
    const c = queue[head++];
    if (c === target) return null;
    wrongDepth = Math.max(wrongDepth, dist[c]);
    const k = neighborsIdx(maze, c, nb);
    for (let j = 0; j < k; j++) {
      const d = nb[j];
      if (!blocked[d] && dist[d] < 0) {
        dist[d] = dist[c] + 1;
        queue[tail++] = d;
      }
    }
  }
  const remaining = path.length - 1 - fork.index;
  return { remaining, wrongDepth, lookahead: Math.min(remaining, wrongDepth) };
}

/** Cells of degree exactly 1, in row-major order. Isolated cells (degree 0) are not dead ends. */
export function deadEnds(maze: LatticeMaze): Coord[] {
  checkLattice(maze, 'deadEnds');
  const out: Coord[] = [];
  for (let c = 0; c < maze.rows * maze.cols; c++) if (degreeIdx(maze, c) === 1) out.push(cellCoord(maze, c));
  return out;
}

export interface MazeStats {
  rows: number;
  cols: number;
  cells: number;
  /** Open connections. */
  edges: number;
  /** Cells of degree 1. */
  deadEnds: number;
  /** Cells of degree ≥ 3 (junctions of the maze, wherever they are). */
  forks: number;
  /** Connected and acyclic (a spanning tree of the grid, as DFS/Wilson/Kruskal/Prim produce). */
  isTree: boolean;
  /** Connected components, isolated cells included. */
  components: number;
  /** Independent cycles: edges − cells + components (0 for any forest). */
  cyclomatic: number;
  /** Steps of the solution path (cells − 1). */
  pathLength: number;
  /** Decision points along the solution (`forksAlongPath(maze, maze.path).length`). */
  forksOnPath: number;
  /** |Δrow| + |Δcol| between origin and target. */
  l1Distance: number;
  /** Exact unbiased baseline success probability; null when the exact count exceeded its budget. */
  baselineSuccessProbability: number | null;
}

/**
 * Summary numbers for one maze. Bulk callers (dataset rows) call this per maze, so the exact
 * success probability gets a small budget (`maxWork`, default 10^5 ≈ 10 ms) and is null beyond it.
 */
export function mazeStats(maze: SolvedMaze, opts: { maxWork?: number } = {}): MazeStats {
  checkSolvedMaze(maze, 'mazeStats');
  const cells = maze.rows * maze.cols;
  const edges = edgeCount(maze);
  let dead = 0;
  let forks = 0;
  for (let c = 0; c < cells; c++) {
    const d = degreeIdx(maze, c);
    if (d === 1) dead++;
    else if (d >= 3) forks++;
  }
  const label = componentLabels(maze);
  let comps = 0;
  for (let c = 0; c < cells; c++) if (label[c] === c) comps++; // labels are each component's smallest index
  return {
    rows: maze.rows,
    cols: maze.cols,
    cells,
    edges,
    deadEnds: dead,
    forks,
    isTree: isSpanningTree(maze),
    components: comps,
    cyclomatic: edges - cells + comps,
    pathLength: maze.path.length - 1,
    forksOnPath: forksAlongPath(maze, maze.path).length,
    l1Distance: Math.abs(maze.origin[0] - maze.target[0]) + Math.abs(maze.origin[1] - maze.target[1]),
    baselineSuccessProbability: baselineSuccessProbability(maze, { maxWork: opts.maxWork ?? 100_000 }),
  };
}
