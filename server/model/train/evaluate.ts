/**
 * Evaluation with the maze metrics (server/maze/metrics.ts): greedy, unconstrained decoding from
 * the prompt (everything through <PATH_START>, as maze-transformer evaluates), the predicted path
 * read tolerantly (parse.ts readPredictedPath) and scored against the BFS solution, with the
 * research plan's baseline solver (baseline.ts) scored on the same mazes beside it.
 *
 * Decoding is behind `GreedyDecoder`, so the CLI can use the ONNX engine's cached generation and
 * the trainer the engine it is training. `greedyFromLogits` builds one from any full-forward
 * logits function by recomputing the whole prefix each step (simple and exact, O(T²)).
 */
import { baselineSolve } from '../../maze/baseline.js';
import { MazeError, type SolvedMaze } from '../../maze/lattice.js';
import { aggregateMetrics, pathMetrics, type AggregateMetrics, type PathMetrics } from '../../maze/metrics.js';
import { readPredictedPath } from '../../maze/parse.js';
import type { Rng } from '../../maze/rng.js';
import { idsToTokens, SPECIAL, type Tokenizer } from '../../maze/tokenize/index.js';
import type { TokenGrid } from './engine.js';
import { argmax } from '../argmax.js';

export interface Completion {
  /** Tokens generated after the prompt (the stop token included when `ended`). */
  generated: Int32Array;
  /** True when the stop token (<PATH_END>) was produced. */
  ended: boolean;
}

/** Greedy continuation of each prompt, at most `maxNew` tokens each. */
export type GreedyDecoder = (prompts: readonly Int32Array[], maxNew: number) => Promise<Completion[]>;

/** A decoder from a full-forward logits function ([B, T] tokens → [B, T, d_vocab] logits). */
export function greedyFromLogits(
  logits: (grid: TokenGrid) => Promise<Float32Array>,
  model: { n_ctx: number; d_vocab: number },
  opts: { batchSize?: number; stopId?: number; padId?: number; allowed?: ArrayLike<boolean | number> } = {},
): GreedyDecoder {
  const { n_ctx, d_vocab: V } = model;
  const batchSize = opts.batchSize ?? 64;
  const stop = opts.stopId ?? SPECIAL.PATH_END;
  const pad = opts.padId ?? SPECIAL.PADDING;
  const allowed = opts.allowed;
  if (allowed && (allowed.length !== V || !Array.from(allowed).some(Boolean)))
    throw new MazeError(`allowed tokens must be a mask of length d_vocab = ${V} allowing at least one token`);
  return async (prompts, maxNew) => {
    const out: Completion[] = [];
    for (let start = 0; start < prompts.length; start += batchSize) {
      const chunk = prompts.slice(start, start + batchSize);
      const seqs = chunk.map((p, i) => {
        if (p.length < 1 || p.length > n_ctx) throw new MazeError(`prompt ${start + i} has ${p.length} tokens; the model takes 1..${n_ctx}`);
        return Array.from(p);
      });
      const done = chunk.map(() => maxNew <= 0);
      const ended = chunk.map(() => false);
      for (;;) {
        const rows = seqs.map((_, i) => i).filter((i) => !done[i]);
        if (rows.length === 0) break;
        const T = Math.max(...rows.map((i) => seqs[i].length));
        const tokens = new Int32Array(rows.length * T).fill(pad); // [B, T], right-padded
        rows.forEach((i, r) => tokens.set(seqs[i], r * T));
        const l = await logits({ B: rows.length, T, tokens }); // [B, T, V]
        rows.forEach((i, r) => {
          const at = (r * T + seqs[i].length - 1) * V; // the row's last real position
          const best = argmax(l.subarray(at, at + V), allowed);
          seqs[i].push(best);
          const n = seqs[i].length - chunk[i].length;
          if (best === stop) ended[i] = true;
          // Past n_ctx there is no position left to feed the new token back in.
          if (ended[i] || n >= maxNew || seqs[i].length > n_ctx) done[i] = true;
        });
      }
      seqs.forEach((s, i) => out.push({ generated: Int32Array.from(s.slice(chunk[i].length)), ended: ended[i] }));
    }
    return out;
  };
}

export interface EvalReport {
  model: AggregateMetrics;
  baseline: AggregateMetrics;
}

/** Longest useful continuation: a path through every cell once, then <PATH_END>. */
export function defaultMaxNew(maze: { rows: number; cols: number }, tokenizer: Tokenizer): number {
  const perCell = tokenizer.format.coords === 'split' ? 5 : 1;
  return maze.rows * maze.cols * perCell + 1;
}

/**
 * Scores greedy decoding on `mazes` (prompts tokenized with `rng`) and the baseline solver
 * (drawing from `baselineRng`) on the same mazes.
 */
export async function evaluateMazes(
  decode: GreedyDecoder,
  mazes: readonly SolvedMaze[],
  tokenizer: Tokenizer,
  vocab: readonly string[],
  rng: Rng,
  baselineRng: Rng,
  opts: { maxNew?: number; rows?: PathMetrics[] } = {},
): Promise<EvalReport> {
  if (mazes.length === 0) throw new MazeError('evaluation needs at least one maze');
  const prompts = mazes.map((m) => tokenizer.tokenizeToIds(m, rng).slice(0, tokenizer.promptLength(m)));
  const maxNew = opts.maxNew ?? Math.max(...mazes.map((m) => defaultMaxNew(m, tokenizer)));
  const completions = await decode(prompts, maxNew);
  const rows = mazes.map((maze, i) => {
    const { path, ended } = readPredictedPath(idsToTokens(completions[i].generated, vocab), tokenizer, { grid: { rows: maze.rows, cols: maze.cols } });
    return pathMetrics(maze, path, { ended });
  });
  opts.rows?.push(...rows);
  const base = mazes.map((maze) => pathMetrics(maze, baselineSolve(maze, baselineRng).path, { ended: true }));
  return { model: aggregateMetrics(rows), baseline: aggregateMetrics(base) };
}
