/**
 * The research plan's "Baseline Solver" (understanding-mesa-optimization-using-toy-models,
 * "Evaluating generalization → Complexity"): it "obeys adjacency and no-backtracking constraints
 * and, at forks, chooses randomly among the valid paths". Its success probability is the plan's
 * measure of a maze's effective complexity — low for open fields, where a human finds the task easy.
 *
 * Rules, exactly:
 *   - it starts at the origin and moves only along open connections;
 *   - it never revisits a cell (no backtracking), so its options at a cell are the open neighbours
 *     not yet visited;
 *   - with several options it picks one uniformly at random — or, with `bias` b, when it is still on
 *     the solution (its walk so far equals a prefix of `maze.path`) and the next solution cell is an
 *     option, it takes that cell with probability b and otherwise picks uniformly among the others;
 *     with a single option it takes it without drawing from the rng, whatever the bias;
 *   - it stops on arriving at the target (success) or at a cell with no option (a dead end).
 */
import { checkCoord, checkLattice, checkSolvedMaze } from './check.js';
import { type Coord, type LatticeMaze, type SolvedMaze, MazeError, cellCoord, cellIndex, components, degreeIdx, neighborsIdx } from './lattice.js';
import type { Rng } from './rng.js';

export interface BaselineOptions {
  /**
   * Probability in [0, 1] of taking the correct branch (the next cell of `maze.path`) at a fork
   * while on the solution. Omitted: uniform choice everywhere. b = 1/k equals uniform at a k-way fork.
   */
  bias?: number;
}

export interface BaselineResult {
  /** Cells visited, origin first; never repeats a cell. */
  path: Coord[];
  reachedTarget: boolean;
}

export function baselineSolve(maze: SolvedMaze, rng: Rng, opts: BaselineOptions = {}): BaselineResult {
  checkSolvedMaze(maze, 'baselineSolve');
  const bias = opts.bias;
  if (bias !== undefined && !(typeof bias === 'number' && bias >= 0 && bias <= 1)) {
    throw new MazeError(`baselineSolve: bias must be a number in [0, 1], got ${String(bias)}`);
  }
  const n = maze.rows * maze.cols;
  const visited = new Uint8Array(n);
  const sol = maze.path.map((c) => cellIndex(maze, c));
  const target = cellIndex(maze, maze.target);
  const nb = new Int32Array(4);
  const options = new Int32Array(4);

  let cur = cellIndex(maze, maze.origin);
  visited[cur] = 1;
  const walk: number[] = [cur];
  let onSolution = true; // walk === sol.slice(0, walk.length)
  while (cur !== target) {
    const k = neighborsIdx(maze, cur, nb);
    let m = 0;
    for (let i = 0; i < k; i++) if (!visited[nb[i]]) options[m++] = nb[i];
    if (m === 0) break; // dead end
    let next: number;
    if (m === 1) {
      next = options[0];
    } else if (bias !== undefined && onSolution) {
      // On the solution, the next solution cell is always an option: it is an open neighbour and
      // the visited cells are exactly the solution prefix, which never repeats.
      const want = sol[walk.length];
      let wi = -1;
      for (let i = 0; i < m; i++) if (options[i] === want) wi = i;
      if (wi < 0) next = options[rng.int(m)];
      else if (rng.chance(bias)) next = want;
      else {
        let j = rng.int(m - 1); // uniform over the m − 1 wrong branches
        if (j >= wi) j++;
        next = options[j];
      }
    } else {
      next = options[rng.int(m)];
    }
    if (onSolution && next !== sol[walk.length]) onSolution = false;
    visited[next] = 1;
    walk.push(next);
    cur = next;
  }
  return { path: walk.map((c) => cellCoord(maze, c)), reachedTarget: cur === target };
}

export interface SuccessProbabilityOptions {
  /**
   * Work limit for mazes with cycles, in elementary steps (cells scanned by the per-fork flood fills,
   * 16-cell words of memo keys, corridor moves); past it we give up and return null. Default
   * 10,000,000, roughly a second at most: a 6×6 open field corner to corner needs ≈ 3.7·10^6, a 7×7
   * one far more; a 32×32 DFS tree with 5% extra edges ≈ 1.4·10^6.
   */
  maxWork?: number;
}

/**
 * Exact probability that the unbiased baseline solver reaches the target.
 *
 * Tree component (the origin's component has cells − 1 edges): the walk succeeds only by following
 * the unique origin→target path, so the probability is the product over its cells (target excluded)
 * of 1/options, with options = degree at the origin and degree − 1 further on (the cell it came from
 * is visited; no other path cell is adjacent in a tree). Linear time.
 *
 * With cycles there is no product formula, so we sum over every no-revisit walk by recursion. The
 * future of a walk standing at a fork c depends only on c and on R, the set of unvisited cells
 * reachable from c through unvisited cells: every later option lies in R, and every visited
 * neighbour of R stays visited. So results are memoised on (c, R), and a state whose R does not
 * contain the target is 0 without further search. The number of states can still grow
 * exponentially (open fields); beyond `maxWork` we return null rather than a wrong number.
 *
 * Returns 1 when origin = target and 0 when the target is in another component.
 */
export function baselineSuccessProbability(
  maze: LatticeMaze & { readonly origin: Coord; readonly target: Coord },
  opts: SuccessProbabilityOptions = {},
): number | null {
  checkLattice(maze, 'baselineSuccessProbability');
  checkCoord(maze, maze.origin, 'origin', 'baselineSuccessProbability');
  checkCoord(maze, maze.target, 'target', 'baselineSuccessProbability');
  const maxWork = opts.maxWork ?? 10_000_000;
  if (!(Number.isInteger(maxWork) && maxWork >= 0)) {
    throw new MazeError(`baselineSuccessProbability: maxWork must be a non-negative integer, got ${maxWork}`);
  }
  const origin = cellIndex(maze, maze.origin);
  const target = cellIndex(maze, maze.target);
  if (origin === target) return 1;
  const label = components(maze);
  if (label[origin] !== label[target]) return 0;

  let cells = 0;
  let degreeSum = 0;
  for (let c = 0; c < label.length; c++) {
    if (label[c] !== label[origin]) continue;
    cells++;
    degreeSum += degreeIdx(maze, c);
  }
  if (degreeSum / 2 === cells - 1) return treeProbability(maze, origin, target);
  return cyclicProbability(maze, origin, target, maxWork);
}

function treeProbability(maze: LatticeMaze, origin: number, target: number): number {
  // Parents by BFS from the origin give the unique path back from the target.
  const n = maze.rows * maze.cols;
  const parent = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  const nb = new Int32Array(4);
  parent[origin] = origin;
  let head = 0;
  let tail = 0;
  queue[tail++] = origin;
  while (head < tail) {
    const c = queue[head++];
    const k = neighborsIdx(maze, c, nb);
    for (let i = 0; i < k; i++)
      if (parent[nb[i]] === -1) {
        parent[nb[i]] = c;
        queue[tail++] = nb[i];
      }
  }
  let p = 1;
  for (let c = parent[target]; ; c = parent[c]) {
    p /= degreeIdx(maze, c) - (c === origin ? 0 : 1);
    if (c === origin) break;
  }
  return p;
}

class BudgetExceeded extends Error {}

function cyclicProbability(maze: LatticeMaze, origin: number, target: number, maxWork: number): number | null {
  const n = maze.rows * maze.cols;
  const visited = new Uint8Array(n);
  const memo = new Map<string, number>();
  const stack = new Int32Array(n);
  const inR = new Int32Array(n); // inR[x] === stamp ⇔ x is in the current fill (no clearing per fork)
  let stamp = 0;
  const nb = new Int32Array(4);
  const words = new Uint16Array(Math.ceil(n / 16));
  let work = 0;

  /** Key of (c, R), or null when the target is unreachable from c through unvisited cells. */
  const stateKey = (c: number): string | null => {
    stamp++;
    words.fill(0);
    work += words.length; // the key's cost, which dominates on large grids
    let top = 0;
    stack[top++] = c;
    inR[c] = stamp;
    let found = false;
    while (top > 0) {
      const x = stack[--top];
      if (++work > maxWork) throw new BudgetExceeded();
      const k = neighborsIdx(maze, x, nb);
      for (let i = 0; i < k; i++) {
        const y = nb[i];
        if (visited[y] || inR[y] === stamp) continue;
        inR[y] = stamp;
        words[y >> 4] |= 1 << (y & 15);
        if (y === target) found = true;
        stack[top++] = y;
      }
    }
    if (!found) return null;
    return String.fromCharCode(c & 0xffff) + String.fromCharCode(...words);
  };

  /** Success probability from cell `cur` (already visited, not the target). */
  const from = (cur: number): number => {
    const marked: number[] = [];
    let result = 0;
    let c = cur;
    for (;;) {
      const options: number[] = [];
      const k = neighborsIdx(maze, c, nb);
      for (let i = 0; i < k; i++) if (!visited[nb[i]]) options.push(nb[i]);
      if (options.length === 0) break; // dead end: 0
      if (options.length === 1) {
        // Corridor: forced move, no branching, no memo entry needed.
        const o = options[0];
        if (o === target) {
          result = 1;
          break;
        }
        if (++work > maxWork) throw new BudgetExceeded();
        visited[o] = 1;
        marked.push(o);
        c = o;
        continue;
      }
      const key = stateKey(c);
      if (key === null) break; // target cut off: 0
      const known = memo.get(key);
      if (known !== undefined) {
        result = known;
        break;
      }
      let sum = 0;
      for (const o of options) {
        if (o === target) {
          sum += 1;
          continue;
        }
        visited[o] = 1;
        sum += from(o);
        visited[o] = 0;
      }
      result = sum / options.length;
      memo.set(key, result);
      break;
    }
    for (const x of marked) visited[x] = 0;
    return result;
  };

  visited[origin] = 1;
  try {
    return from(origin);
  } catch (e) {
    if (e instanceof BudgetExceeded) return null;
    throw e;
  }
}
