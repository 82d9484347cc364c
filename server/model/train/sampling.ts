/**
 * What a training run samples, beyond one maze spec: several grid sizes in one run, mazes balanced
 * by the lookahead their forks need, and a curriculum that widens either over the run (issue 13).
 *
 * Why: Saparov et al. 2024 ("Transformers Struggle to Learn to Search") found that transformers
 * learn to search deep only when the training graphs are balanced by lookahead; with the natural
 * distribution they learn shortcuts. On 5×5 DFS mazes a maze's lookahead (the largest
 * `forkLookahead` among its solution's forks) spreads over 0 … ~12, and the deepest bin this module
 * keeps (lookahead ≥ top, top ≥ 8) holds under 6% of natural mazes but its full share when
 * balanced (both asserted in test/model/train/sampling.test.ts). The aotp-ut
 * vocabulary lists coordinates corner-first, so a model made for N×N also reads every smaller grid
 * and one run can mix 3×3 … N×N.
 *
 * Determinism (exact resume): maze k of a run (k = the data position, mazes consumed) is a pure
 * function of (seed, k, the spec, and — with a curriculum — the batch number b it is drawn in, which
 * the checkpoint stores as its batch counter): every draw comes from `mazeRng("<seed>/sampled", k)`.
 * A balanced maze draws its bin, then generates candidates from the same Rng until one has that
 * lookahead.
 *
 * Bins are estimated per grid from a fixed probe of PROBE_MAZES mazes (seeded by the spec alone, so
 * every process gets the same bins): lookaheads 0 … top, where `top` is the largest value at least
 * TOP_MASS of mazes reach, and the top bin holds every maze with lookahead ≥ top. A bin so defined
 * holds ≥ ~1% of mazes, so a balanced draw costs tens of generated candidates on average (one maze
 * and one BFS per fork each); bench train's deep-mazes case times training on such batches.
 */
import { mazeDrawer, mazeRng, redrawEndpoints, type MazeSpec } from '../../maze/generate.js';
import { forkLookahead, forksAlongPath } from '../../maze/analysis.js';
import type { SolvedMaze } from '../../maze/lattice.js';
import { Rng } from '../../maze/rng.js';
import { TrainError } from './engine.js';

export type CurriculumBy = 'grid' | 'lookahead';
export const CURRICULUM_BY: readonly CurriculumBy[] = ['grid', 'lookahead'];

export interface SamplingSpec {
  /** Grid sides mixed in the run, ascending; each maze's side drawn uniformly among those allowed. Default: the run's grid alone. */
  grids?: number[];
  /** 'lookahead': each maze's lookahead bin is drawn uniformly, then mazes are generated until one falls in it. */
  balance?: 'lookahead';
  /**
   * What rises over the first `fraction` of the run's updates: 'grid' allows the smallest grid
   * first and one more size per equal share of that fraction; 'lookahead' allows lookahead ≤ 1
   * first, rising linearly to every bin. After it, the full distribution.
   */
  curriculum?: { by: CurriculumBy; fraction: number };
}

const PROBE_MAZES = 2000;
const TOP_MASS = 0.02;
const MAX_TRIES = 100_000;

/** The largest lookahead any fork of `maze`'s solution needs (0 for a maze without forks). */
export function mazeLookahead(maze: SolvedMaze): number {
  let most = 0;
  for (const fork of forksAlongPath(maze, maze.path)) {
    const need = forkLookahead(maze, fork);
    if (need && need.lookahead > most) most = need.lookahead;
  }
  return most;
}

/** The top lookahead bin of mazes drawn from `spec` (see the module comment). */
export function lookaheadTop(spec: MazeSpec): number {
  const draw = mazeDrawer(spec);
  const rng = new Rng(`lookahead-bins/${JSON.stringify(spec)}`);
  const counts: number[] = [];
  for (let i = 0; i < PROBE_MAZES; i++) {
    const l = mazeLookahead(draw(rng));
    counts[l] = (counts[l] ?? 0) + 1;
  }
  let atLeast = 0;
  for (let l = counts.length - 1; l >= 0; l--) {
    atLeast += counts[l] ?? 0;
    if (atLeast >= TOP_MASS * PROBE_MAZES) return l;
  }
  return 0;
}

/** Checks a sampling spec against the run's grid (the largest side, which sizes the vocabulary). */
export function checkSampling(s: SamplingSpec, grid: number): void {
  if (s.grids !== undefined) {
    const g = s.grids;
    if (!Array.isArray(g) || g.length === 0) throw new TrainError('grids must list at least one grid side');
    g.forEach((n, i) => {
      if (!Number.isInteger(n) || n < 2) throw new TrainError(`grids[${i}] must be an integer ≥ 2, got ${JSON.stringify(n)}`);
      if (i > 0 && n <= g[i - 1]) throw new TrainError(`grids must be strictly ascending, got ${g.join(',')}`);
    });
    if (g[g.length - 1] !== grid)
      throw new TrainError(`the largest of grids (${g[g.length - 1]}) must be the run's grid (${grid}): it sizes the vocabulary and the held-out mazes`);
  }
  if (s.balance !== undefined && s.balance !== 'lookahead') throw new TrainError(`balance must be "lookahead", got ${JSON.stringify(s.balance)}`);
  if (s.curriculum !== undefined) {
    const { by, fraction } = s.curriculum;
    if (!CURRICULUM_BY.includes(by)) throw new TrainError(`curriculum must rise by one of ${CURRICULUM_BY.join(', ')}; got ${JSON.stringify(by)}`);
    if (!(typeof fraction === 'number' && fraction > 0 && fraction <= 1))
      throw new TrainError(`the curriculum fraction must be in (0, 1], got ${JSON.stringify(fraction)}`);
    if (by === 'grid' && (s.grids?.length ?? 1) < 2) throw new TrainError('a grid curriculum needs at least two grids');
  }
}

/** True when `s` samples anything but the plain maze stream. */
export function isSampled(s: SamplingSpec | undefined): s is SamplingSpec {
  return s !== undefined && (s.grids !== undefined || s.balance !== undefined || s.curriculum !== undefined);
}

interface GridSampler {
  grid: number;
  draw: (rng: Rng) => SolvedMaze;
  /** Top lookahead bin (only computed when balance or a lookahead curriculum needs it). */
  top: number;
}

/**
 * Maze k of a sampled run. `progress(b)` is the fraction of the run's updates done before batch b
 * (b / steps), which the curriculum reads.
 */
export class MazeSampler {
  private readonly grids: GridSampler[];

  constructor(
    readonly spec: MazeSpec,
    readonly sampling: SamplingSpec,
    readonly seed: number | string,
  ) {
    const side = spec.rows;
    checkSampling(sampling, side);
    const needBins = sampling.balance === 'lookahead' || sampling.curriculum?.by === 'lookahead';
    this.grids = (sampling.grids ?? [side]).map((grid) => {
      const s: MazeSpec = { ...spec, rows: grid, cols: grid };
      return { grid, draw: mazeDrawer(s), top: needBins ? lookaheadTop(s) : 0 };
    });
  }

  /** Grid sides and their top lookahead bins, for logs. */
  describe(): Array<{ grid: number; top: number }> {
    return this.grids.map(({ grid, top }) => ({ grid, top }));
  }

  private ramp(progress: number): number {
    const cur = this.sampling.curriculum;
    return cur ? Math.min(1, progress / cur.fraction) : 1; // 0 → 1 over the curriculum
  }

  /**
   * How far lookahead `l` is from what this draw wants, 0 = accept: the drawn bin when balanced,
   * at most the curriculum's cap under a lookahead curriculum. null: any maze will do.
   */
  private want(g: GridSampler, progress: number, rng: Rng): ((l: number) => number) | null {
    const lookCur = this.sampling.curriculum?.by === 'lookahead';
    const balanced = this.sampling.balance === 'lookahead';
    if (!balanced && !lookCur) return null;
    // Highest bin allowed now: lookahead ≤ 1 at the start of a lookahead curriculum, all at the end.
    const cap = lookCur ? Math.min(g.top, 1 + Math.floor(this.ramp(progress) * g.top)) : g.top;
    const bin = balanced ? rng.int(cap + 1) : -1;
    return (l) => {
      const c = Math.min(l, g.top);
      return balanced ? Math.abs(c - bin) : Math.max(0, c - cap);
    };
  }

  /** Maze `k` (the run's data position) drawn in a batch `progress` of the way through the run. */
  at(k: number, progress: number): SolvedMaze {
    const rng = mazeRng(`${this.seed}/sampled`, k);
    let allowed = this.grids.length;
    if (this.sampling.curriculum?.by === 'grid') allowed = Math.min(this.grids.length, 1 + Math.floor(this.ramp(progress) * this.grids.length));
    const g = this.grids[allowed === 1 ? 0 : rng.int(allowed)];
    const want = this.want(g, progress, rng);
    if (!want) return g.draw(rng);
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const m = g.draw(rng);
      if (want(mazeLookahead(m)) === 0) return m;
    }
    // Bins hold ≥ ~1% of mazes by construction, so this means the probe and the stream disagree.
    throw new TrainError(`no ${g.grid}x${g.grid} maze with the lookahead this draw wants in ${MAX_TRIES} tries (maze ${k})`);
  }

  /**
   * Another query on `maze`'s lattice (packing.ts), by the same rules as `at`: the endpoints are
   * redrawn until the solution's lookahead is what a balanced draw or the curriculum wants. One
   * lattice may not offer that bin, so after QUERY_TRIES draws the closest one is kept: a packed
   * run's extra queries are balanced as far as their maze allows (the first query always is).
   */
  query(maze: SolvedMaze, progress: number, rng: Rng): SolvedMaze {
    const g = this.grids.find((x) => x.grid === maze.rows) ?? this.grids[this.grids.length - 1];
    const spec: MazeSpec = { ...this.spec, rows: g.grid, cols: g.grid };
    const want = this.want(g, progress, rng);
    let best: SolvedMaze | null = null;
    let bestMiss = Infinity;
    for (let tries = 0; tries < (want ? QUERY_TRIES : 1); tries++) {
      const q = redrawEndpoints(spec, maze, rng);
      if (!q) break;
      const miss = want ? want(mazeLookahead(q)) : 0;
      if (miss < bestMiss) [best, bestMiss] = [q, miss];
      if (miss === 0) break;
    }
    if (!best)
      throw new TrainError(`maze ${JSON.stringify(maze.origin)}→${JSON.stringify(maze.target)} on a ${maze.rows}x${maze.cols} grid admits no other endpoints`);
    return best;
  }
}

/** Endpoint redraws per extra query of a packed row before the closest is kept. */
const QUERY_TRIES = 64;
