/**
 * Per-sequence and aggregate metrics of a predicted path against a maze's solution.
 *
 * The research plan ("Evaluating performance", "Obeying constraints") scores models by the
 * fraction of mazes solved perfectly, node overlap with the solution, the fraction of correct
 * decisions at forking points, and how often the model breaks the constraints the data only implies:
 * no jumping around, no backtracking, reaching the target.
 *
 * Input: `predicted` is the model's path as read from its tokens (`readPredictedPath` in the
 * tokenizer module has this shape): one entry per path token, a `[row, col]` coordinate, or `null`
 * where the token was not a coordinate. A coordinate outside the grid is treated exactly like
 * `null` (an invalid token): it names no cell of this maze.
 *
 * Definitions (per sequence). "Valid path" = the predicted coordinates with invalid entries removed;
 * a "step" = two consecutive entries of the valid path (so a step may span an invalid token).
 *   exact_path           valid path equals `maze.path` cell for cell, no invalid tokens, and ended.
 *                        In cyclic mazes another shortest path is not exact (see valid_rollout).
 *   node_overlap         |set(valid path) ∩ set(solution)| / |set(solution)|, in [0, 1].
 *   frac_connected_steps steps that are open connections / steps; null with no step.
 *   frac_adjacent_steps  steps between lattice neighbours (L1 = 1, walls ignored) / steps; null with
 *                        no step. A non-adjacent step jumps over the grid.
 *   corner_jumps         steps with |Δrow| = 1 and |Δcol| = 1 (diagonal).
 *   backtracks           steps whose destination already appears earlier in the valid path: an
 *                        immediate reversal, a return to any older cell, or staying in place.
 *   target_reached       the valid path contains the target anywhere.
 *   valid_rollout        ended, no invalid tokens, starts at the origin, every step an open
 *                        connection, last cell the target (revisits allowed; see backtracks).
 *   invalid_tokens       entries that are null or off the grid.
 *   fork_decisions       over the forks of the true path (`forksAlongPath(maze, maze.path)`) that
 *                        the prediction reached — its raw entries 0..i equal solution cells 0..i, so
 *                        an invalid token ends the agreement — did entry i+1 equal solution cell i+1?
 *                        A prediction that stops at a fork counts as a wrong decision if it ended,
 *                        and is not counted if it was truncated (no decision was made).
 *   frac_correct_forks   correct / total; null when no fork was reached (or the path has none).
 *   path_length_ratio    valid path cells / solution cells (origin and target included).
 *
 * `ended` (default true) says whether the prediction closed with the end-of-path token; a truncated
 * generation is neither exact nor a valid rollout.
 *
 * Fractions that are undefined are null, never NaN; `aggregateMetrics` skips nulls and reports how
 * many rows each mean is over.
 */
import { forksAlongPath } from './analysis.js';
import { checkSolvedMaze, isIntPair } from './check.js';
import { type Coord, type SolvedMaze, MazeError, connected, coordEq, inBounds } from './lattice.js';

export interface PathMetricsOptions {
  /** Did the prediction end with the end-of-path token? Default true. */
  ended?: boolean;
}

export interface ForkDecisions {
  correct: number;
  total: number;
}

export interface PathMetrics {
  exact_path: boolean;
  node_overlap: number;
  frac_connected_steps: number | null;
  frac_adjacent_steps: number | null;
  corner_jumps: number;
  backtracks: number;
  target_reached: boolean;
  valid_rollout: boolean;
  invalid_tokens: number;
  fork_decisions: ForkDecisions;
  frac_correct_forks: number | null;
  path_length_ratio: number;
  /** Supporting counts: valid coordinates, steps between them, and whether the prediction ended. */
  predicted_length: number;
  steps: number;
  ended: boolean;
}

export function pathMetrics(maze: SolvedMaze, predicted: ReadonlyArray<Coord | null>, opts: PathMetricsOptions = {}): PathMetrics {
  checkSolvedMaze(maze, 'pathMetrics');
  if (!Array.isArray(predicted)) throw new MazeError('pathMetrics: predicted must be an array of [row, col] or null');
  const ended = opts.ended ?? true;
  if (typeof ended !== 'boolean') throw new MazeError(`pathMetrics: ended must be a boolean, got ${String(ended)}`);

  // Normalise: off-grid coordinates become null (invalid tokens); malformed entries are a caller bug.
  const raw: Array<Coord | null> = predicted.map((p, i) => {
    if (p === null) return null;
    if (!isIntPair(p)) {
      throw new MazeError(`pathMetrics: predicted[${i}] must be a [row, col] pair of integers or null, got ${JSON.stringify(p)}`);
    }
    return inBounds(maze, p) ? p : null;
  });
  const valid = raw.filter((p): p is Coord => p !== null);
  const invalid = raw.length - valid.length;
  const sol = maze.path;
  const cols = maze.cols;

  let connectedSteps = 0;
  let adjacentSteps = 0;
  let corner = 0;
  let backtracks = 0;
  const seen = new Uint8Array(maze.rows * cols);
  if (valid.length > 0) seen[valid[0][0] * cols + valid[0][1]] = 1;
  for (let k = 1; k < valid.length; k++) {
    const a = valid[k - 1];
    const b = valid[k];
    const dr = Math.abs(a[0] - b[0]);
    const dc = Math.abs(a[1] - b[1]);
    if (dr + dc === 1) adjacentSteps++;
    if (dr === 1 && dc === 1) corner++;
    if (connected(maze, a, b)) connectedSteps++;
    const idx = b[0] * cols + b[1];
    if (seen[idx]) backtracks++;
    seen[idx] = 1;
  }
  const steps = Math.max(0, valid.length - 1);

  const onSolution = new Uint8Array(maze.rows * cols);
  for (const c of sol) onSolution[c[0] * cols + c[1]] = 1;
  let overlap = 0;
  for (let i = 0; i < seen.length; i++) if (seen[i] && onSolution[i]) overlap++;

  const target = maze.target;
  const exact = ended && invalid === 0 && valid.length === sol.length && valid.every((c, i) => coordEq(c, sol[i]));
  const validRollout =
    ended && invalid === 0 && valid.length > 0 && coordEq(valid[0], maze.origin) && coordEq(valid[valid.length - 1], target) && connectedSteps === steps;

  // Prefix agreement on the raw sequence: entries 0..agree-1 equal the solution.
  let agree = 0;
  while (agree < raw.length && agree < sol.length && raw[agree] !== null && coordEq(raw[agree] as Coord, sol[agree])) agree++;
  const forks: ForkDecisions = { correct: 0, total: 0 };
  for (const f of forksAlongPath(maze, sol)) {
    if (agree < f.index + 1) break; // forks are in path order; later ones are not reached either
    if (raw.length <= f.index + 1 && !ended) break; // truncated right at the fork: no decision
    forks.total++;
    if (agree >= f.index + 2) forks.correct++;
  }

  return {
    exact_path: exact,
    node_overlap: overlap / sol.length,
    frac_connected_steps: steps > 0 ? connectedSteps / steps : null,
    frac_adjacent_steps: steps > 0 ? adjacentSteps / steps : null,
    corner_jumps: corner,
    backtracks,
    target_reached: valid.some((c) => coordEq(c, target)),
    valid_rollout: validRollout,
    invalid_tokens: invalid,
    fork_decisions: forks,
    frac_correct_forks: forks.total > 0 ? forks.correct / forks.total : null,
    path_length_ratio: valid.length / sol.length,
    predicted_length: valid.length,
    steps,
    ended,
  };
}

/** Metrics averaged over rows; `aggregateMetrics` reports each over the rows where it is defined. */
export const MEAN_KEYS = [
  'node_overlap',
  'frac_connected_steps',
  'frac_adjacent_steps',
  'corner_jumps',
  'backtracks',
  'invalid_tokens',
  'frac_correct_forks',
  'path_length_ratio',
] as const;
export type MeanKey = (typeof MEAN_KEYS)[number];

export interface AggregateMetrics {
  count: number;
  /** Fractions of rows; null when there are no rows. */
  exact_path_rate: number | null;
  valid_rollout_rate: number | null;
  target_reached_rate: number | null;
  /** Mean of each per-row metric over the rows where it is not null; null when none is. */
  means: Record<MeanKey, number | null>;
  /** How many rows each mean is over. */
  defined: Record<MeanKey, number>;
  /** Fork decisions pooled over all rows (every fork weighs the same, unlike means.frac_correct_forks). */
  fork_decisions: ForkDecisions;
  /** fork_decisions.correct / fork_decisions.total; null when no fork was reached anywhere. */
  frac_correct_forks_pooled: number | null;
}

export function aggregateMetrics(rows: readonly PathMetrics[]): AggregateMetrics {
  if (!Array.isArray(rows)) throw new MazeError('aggregateMetrics: rows must be an array of path metrics');
  const sums = {} as Record<MeanKey, number>;
  const defined = {} as Record<MeanKey, number>;
  for (const k of MEAN_KEYS) {
    sums[k] = 0;
    defined[k] = 0;
  }
  let exact = 0;
  let valid = 0;
  let reached = 0;
  const forks: ForkDecisions = { correct: 0, total: 0 };
  rows.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || !r.fork_decisions) throw new MazeError(`aggregateMetrics: rows[${i}] is not a path-metrics object`);
    for (const k of MEAN_KEYS) {
      const v = r[k];
      if (v === null) continue;
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new MazeError(`aggregateMetrics: rows[${i}].${k} must be a finite number or null, got ${String(v)}`);
      sums[k] += v;
      defined[k]++;
    }
    if (r.exact_path) exact++;
    if (r.valid_rollout) valid++;
    if (r.target_reached) reached++;
    forks.correct += r.fork_decisions.correct;
    forks.total += r.fork_decisions.total;
  });
  const means = {} as Record<MeanKey, number | null>;
  for (const k of MEAN_KEYS) means[k] = defined[k] > 0 ? sums[k] / defined[k] : null;
  const n = rows.length;
  return {
    count: n,
    exact_path_rate: n > 0 ? exact / n : null,
    valid_rollout_rate: n > 0 ? valid / n : null,
    target_reached_rate: n > 0 ? reached / n : null,
    means,
    defined,
    fork_decisions: forks,
    frac_correct_forks_pooled: forks.total > 0 ? forks.correct / forks.total : null,
  };
}
