/**
 * Training data: seeded mazes → token batches with next-token targets and loss masks.
 *
 * - Maze k of the training set is `generateMaze(spec, mazeRng(seed, k))` (generate.ts: maze k of a
 *   seeded run is reproducible alone), for k in [0, mazes); a run cycles through them, so its
 *   data position is one integer: the number of mazes consumed (maze index = position mod mazes).
 * - Each batch is tokenized anew with its own Rng, `batchRng(seed, b)` for batch b, so the
 *   adjacency list of a maze is re-shuffled (and its edges re-oriented) every time it is seen: the
 *   model cannot memorise one edge order (maze-transformer does the same per epoch). The Rng is a
 *   pure function of (seed, b), so the "RNG state" a checkpoint records is the batch counter.
 * - Sequences are right-padded with <PADDING> to the batch's longest; the input is seq[0..L−2], the
 *   targets seq[1..L−1]. With the causal mask no real token attends to a pad, so the mask on the
 *   loss is the only mask needed.
 * - Loss mask `path` (default): the predictions of the tokens after <PATH_START> through
 *   <PATH_END> inclusive — what a solver must produce (maze-transformer issues #121 and #144 asked
 *   for this); `full`: every next-token prediction of the real sequence.
 */
import { mazeRng, mazeSource, redrawEndpoints, type MazeSpec } from '../../maze/generate.js';
import { MazeError, type SolvedMaze } from '../../maze/lattice.js';
import { Rng } from '../../maze/rng.js';
import { getTokenizer, SPECIAL, type Tokenizer } from '../../maze/tokenize/index.js';
import type { LossBatch } from './engine.js';
import { isSampled, MazeSampler, type SamplingSpec } from './sampling.js';
import { buildPackedBatch, splitSequence, type PackedRow } from './packing.js';

export type LossMode = 'path' | 'full';
export const LOSS_MODES: readonly LossMode[] = ['path', 'full'];

export interface TrainBatch extends LossBatch {
  /** Real (non-pad) input tokens in the batch: the unit of tokens/s. */
  realTokens: number;
  /** Positions with mask 1. */
  predicted: number;
}

/** The Rng that tokenizes batch `b` of a run seeded with `seed` (see the module comment). */
export function batchRng(seed: number | string, b: number): Rng {
  return new Rng(`${seed}/batch/${b}`);
}

/**
 * Builds inputs, targets and mask from full token sequences (each <ADJLIST_START> … <PATH_END>)
 * and their prompt lengths (through <PATH_START>). `nCtx` bounds the input length L − 1.
 */
export function buildBatch(seqs: readonly Int32Array[], promptLengths: readonly number[], loss: LossMode, nCtx: number): TrainBatch {
  const B = seqs.length;
  if (B === 0) throw new MazeError('a batch needs at least one sequence');
  let T = 0;
  seqs.forEach((s, i) => {
    if (s.length < 2) throw new MazeError(`sequence ${i} has ${s.length} tokens; at least 2 are needed to predict one`);
    if (s.length - 1 > nCtx) {
      throw new MazeError(
        `sequence ${i} has ${s.length} tokens, but the model's n_ctx = ${nCtx} takes inputs of at most ${nCtx} (sequences of ${nCtx + 1}); use a smaller grid or a larger n_ctx`,
      );
    }
    const p = promptLengths[i];
    if (!(Number.isInteger(p) && p >= 1 && p < s.length && s[p - 1] === SPECIAL.PATH_START)) {
      throw new MazeError(`sequence ${i}: prompt length ${p} does not end at <PATH_START>`);
    }
    T = Math.max(T, s.length - 1);
  });
  const tokens = new Int32Array(B * T).fill(SPECIAL.PADDING); // [B, T]
  const targets = new Int32Array(B * T).fill(SPECIAL.PADDING); // [B, T]
  const mask = new Float32Array(B * T); // [B, T]
  let realTokens = 0;
  let predicted = 0;
  for (let b = 0; b < B; b++) {
    const s = seqs[b];
    const L = s.length;
    tokens.set(s.subarray(0, L - 1), b * T);
    targets.set(s.subarray(1, L), b * T);
    realTokens += L - 1;
    // Input position t predicts s[t + 1]; the path's first cell s[p] is predicted at t = p − 1
    // (where the input is <PATH_START>), <PATH_END> = s[L − 1] at t = L − 2.
    const first = loss === 'path' ? promptLengths[b] - 1 : 0;
    for (let t = first; t <= L - 2; t++) mask[b * T + t] = 1;
    predicted += L - 1 - first;
  }
  return { B, T, tokens, targets, mask, realTokens, predicted };
}

export interface MazeDataOptions {
  spec: MazeSpec;
  seed: number | string;
  /** Distinct mazes in the training set. */
  mazes: number;
  tokenizer: string;
  nCtx: number;
  loss: LossMode;
  /** Mixed grids, lookahead balance, curriculum (sampling.ts); absent: maze k of the plain stream. */
  sampling?: SamplingSpec;
  /** The run's updates, which a curriculum's progress is measured against. */
  steps?: number;
  /** Queries per maze: above 1, rows are packed (packing.ts): one adjacency list, that many origin/target/path queries. */
  queries?: number;
}

/** The training set of a run: batch b = mazes [pos, pos + B) (mod the set size) tokenized with batchRng(seed, b). */
export class MazeBatcher {
  readonly tokenizer: Tokenizer;
  private readonly buf: Int32Array;
  private readonly source: { at(k: number, progress: number): SolvedMaze };
  private readonly sampler: MazeSampler | null;

  constructor(readonly opts: MazeDataOptions) {
    if (!(Number.isInteger(opts.mazes) && opts.mazes >= 1 && opts.mazes <= 0x100000000)) {
      throw new MazeError(`the training set size must be an integer in [1, 2^32], got ${opts.mazes}`);
    }
    this.tokenizer = getTokenizer(opts.tokenizer);
    // Both validate the spec now, with a clear error.
    this.sampler = isSampled(opts.sampling) ? new MazeSampler(opts.spec, opts.sampling, opts.seed) : null;
    this.source = this.sampler ?? mazeSource(opts.spec, opts.seed);
    const K = opts.queries ?? 1;
    if (!(Number.isInteger(K) && K >= 1 && K <= MAX_QUERIES)) throw new MazeError(`queries per maze must be an integer in [1, ${MAX_QUERIES}], got ${K}`);
    this.buf = new Int32Array(opts.nCtx + 2);
  }

  /** Maze `k` of the set (k taken mod the set size), drawn in batch `b` (a curriculum reads b). */
  maze(k: number, b = 0): SolvedMaze {
    return this.source.at(k % this.opts.mazes, this.opts.steps ? b / this.opts.steps : 0);
  }

  /** Full sequence ids and prompt length of `maze`, edge order drawn from `rng`. */
  sequence(maze: SolvedMaze, rng: Rng): { seq: Int32Array; promptLength: number } {
    const L = this.tokenizer.seqLength(maze);
    if (L - 1 > this.opts.nCtx) {
      throw new MazeError(
        `a ${maze.rows}x${maze.cols} maze tokenizes to ${L} tokens, but the model's n_ctx = ${this.opts.nCtx} takes at most ${this.opts.nCtx + 1}; use a smaller grid or a larger n_ctx`,
      );
    }
    const n = this.tokenizer.writeIds(maze, rng, this.buf, 0);
    return { seq: this.buf.slice(0, n), promptLength: this.tokenizer.promptLength(maze) };
  }

  /**
   * The queries of maze `k` beyond its own: other endpoints on the same lattice, drawn from
   * `mazeRng("<seed>/queries", k)` (by the sampler's rules when the run samples).
   */
  extraQueries(maze: SolvedMaze, k: number, b = 0): SolvedMaze[] {
    const K = this.opts.queries ?? 1;
    const rng = mazeRng(`${this.opts.seed}/queries`, k % this.opts.mazes);
    const progress = this.opts.steps ? b / this.opts.steps : 0;
    const out: SolvedMaze[] = [];
    for (let j = 1; j < K; j++) {
      const q = this.sampler ? this.sampler.query(maze, progress, rng) : redrawEndpoints(this.opts.spec, maze, rng);
      if (!q) throw new MazeError(`maze ${k} admits no other endpoints`);
      out.push(q);
    }
    return out;
  }

  /** Batch number `b` of `size` mazes starting at data position `pos`. */
  batch(pos: number, b: number, size: number): TrainBatch {
    const rng = batchRng(this.opts.seed, b);
    if ((this.opts.queries ?? 1) > 1) {
      const rows: PackedRow[] = [];
      const scratch = new Rng(0); // a query's tail does not depend on the edge order
      for (let i = 0; i < size; i++) {
        const maze = this.maze(pos + i, b);
        const { prefix, query } = splitSequence(this.sequence(maze, rng).seq);
        const queries = [query, ...this.extraQueries(maze, pos + i, b).map((q) => splitSequence(this.sequence(q, scratch).seq).query)];
        rows.push({ prefix, queries });
      }
      return buildPackedBatch(rows, this.opts.nCtx);
    }
    const seqs: Int32Array[] = [];
    const prompts: number[] = [];
    for (let i = 0; i < size; i++) {
      const { seq, promptLength } = this.sequence(this.maze(pos + i, b), rng);
      seqs.push(seq);
      prompts.push(promptLength);
    }
    return buildBatch(seqs, prompts, this.opts.loss, this.opts.nCtx);
  }
}

/** Most queries one packed row may carry. */
export const MAX_QUERIES = 64;

/** The held-out evaluation mazes of a training run: drawn from a different seed, `${seed}/heldout`. */
export function heldoutSeed(seed: number | string): string {
  return `${seed}/heldout`;
}
