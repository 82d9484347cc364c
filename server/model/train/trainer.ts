/**
 * The engine-independent training loop: seeded data (data.ts), AdamW with warmup + cosine
 * (adamw.ts, schedule.ts) through a TrainEngine (engine.ts), checkpoints that resume the same run
 * exactly (checkpoint.ts), periodic held-out evaluation with the maze metrics (evaluate.ts) and
 * progress callbacks.
 *
 * Exact resume: everything update k depends on is a function of the checkpointed state — the
 * weights, Adam's moments and update count (k), the data position (mazes consumed) and the batch
 * tokenizer's Rng stream position (the batch counter) — and the run's fixed RunSpec, which is
 * stored in the checkpoint and must match on resume. On a deterministic backend (tfjs wasm / cpu
 * are) n steps straight and n/2 + resume + n/2 give bit-identical weights.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { generateMazes, type MazeSpec } from '../../maze/generate.js';
import { Rng } from '../../maze/rng.js';
import type { ModelConfig, Weights } from '../config.js';
import { initWeights } from '../weights.js';
import { checkAdamW, type AdamWOptions } from './adamw.js';
import { loadCheckpoint, optimizerPath, saveCheckpoint } from './checkpoint.js';
import { buildBatch, heldoutSeed, MAX_QUERIES, MazeBatcher, type LossMode } from './data.js';
import { createTrainEngine, TrainError, type EngineName, type TrainEngine } from './engine.js';
import { evaluateMazes, greedyFromLogits, type EvalReport, type GreedyDecoder } from './evaluate.js';
import { checkSampling, type SamplingSpec } from './sampling.js';
import { checkSchedule, lrAt, type ScheduleOptions } from './schedule.js';

/** Everything that defines a run; stored in its checkpoints, and must match to resume. */
export interface RunSpec {
  /** The full model config (d_vocab and tokenizer included). */
  model: ModelConfig;
  maze: MazeSpec;
  seed: number;
  /** Distinct training mazes (cycled). */
  mazes: number;
  batch: number;
  steps: number;
  lr: number;
  warmup: number;
  /** Cosine floor as a fraction of lr. */
  minLrRatio: number;
  adamw: AdamWOptions;
  /** Global gradient-norm clip (0 = off). */
  clip: number;
  loss: LossMode;
  engine: EngineName;
  /** Mixed grids, lookahead balance and curriculum (sampling.ts); absent in runs that sample `maze` alone. */
  sampling?: SamplingSpec;
  /** Queries per maze (packing.ts); absent or 1: one sequence per maze. */
  queries?: number;
}

export interface Progress {
  /** Updates done (1-based after the first). */
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  clipped: boolean;
  /** Real input tokens per second of training compute, over this invocation. */
  tokensPerSec: number;
  /** Estimated seconds to `steps` (or to stopAt). */
  etaSec: number;
  elapsedSec: number;
}

export interface EvalEvent extends EvalReport {
  step: number;
  /** Mean path-loss on the held-out mazes. */
  loss: number;
  seconds: number;
}

export interface TrainOptions {
  run: RunSpec;
  /** Weights file; the optimizer state goes beside it (checkpoint.ts). */
  out: string;
  resume?: boolean;
  /** Starting weights for a fresh run (default: TL init seeded from `${seed}/init`). */
  init?: Weights;
  /** Save every N updates (0: only at the end). */
  checkpointEvery?: number;
  /** Evaluate every N updates (0: never; the end of the run always evaluates when > 0). */
  evalEvery?: number;
  /** Held-out mazes per evaluation (default 100). */
  evalCount?: number;
  /** Stop (with a checkpoint) after this many updates, to continue later with resume. */
  stopAt?: number;
  /** Abort: the current update finishes, a checkpoint is written, train() returns. */
  signal?: AbortSignal;
  /** An engine to train on instead of creating `run.engine` (the trainer does not dispose it). */
  engine?: TrainEngine;
  /** How to decode for evaluation (default: greedy over the engine's own logits). */
  decoder?: (engine: TrainEngine) => GreedyDecoder;
  onProgress?: (p: Progress) => void;
  onEval?: (e: EvalEvent) => void;
  /** Called just before a checkpoint is written: what the caller persists here survives a crash that a resume from this checkpoint follows. */
  /** Awaited before the checkpoint is written (the host stores what the checkpoint must not get ahead of). */
  beforeCheckpoint?: (step: number) => void | Promise<void>;
  /** Awaited after the checkpoint is written (the host records it). */
  onCheckpoint?: (c: { step: number; path: string }) => void | Promise<void>;
}

export interface TrainResult {
  step: number;
  /** Loss of the last update. */
  loss: number;
  history: Array<{ step: number; loss: number }>;
  evals: EvalEvent[];
  weightsPath: string;
  statePath: string;
  stopped: boolean;
  tokensPerSec: number;
}

export function checkRun(r: RunSpec): void {
  const posInt = (v: number, what: string): void => {
    if (!(Number.isSafeInteger(v) && v >= 1)) throw new TrainError(`${what} must be a positive integer, got ${v}`);
  };
  posInt(r.batch, 'batch size');
  posInt(r.steps, 'steps');
  posInt(r.mazes, 'the number of training mazes');
  if (!Number.isSafeInteger(r.seed)) throw new TrainError(`seed must be an integer, got ${r.seed}`);
  if (!(r.clip >= 0)) throw new TrainError(`clip must be ≥ 0 (0 disables it), got ${r.clip}`);
  if (r.loss !== 'path' && r.loss !== 'full') throw new TrainError(`loss must be "path" or "full", got ${JSON.stringify(r.loss)}`);
  checkSchedule(schedule(r));
  checkAdamW(r.adamw);
  if (r.queries !== undefined) {
    if (!(Number.isInteger(r.queries) && r.queries >= 1 && r.queries <= MAX_QUERIES))
      throw new TrainError(`queries per maze must be an integer in [1, ${MAX_QUERIES}], got ${r.queries}`);
    if (r.queries > 1 && r.engine !== 'onnx') throw new TrainError(`packed rows (queries ${r.queries}) train on the onnx engine only, not ${r.engine}`);
    // A packed row's loss is its queries' path tokens; the shared adjacency list has no single next token per query.
    if (r.queries > 1 && r.loss !== 'path') throw new TrainError(`packed rows (queries ${r.queries}) train with loss "path" only, not "${r.loss}"`);
  }
  if (r.sampling) {
    checkSampling(r.sampling, Math.max(r.maze.rows, r.maze.cols ?? r.maze.rows));
    // A curriculum draws maze k by the update it is drawn in, so a cycled set would change under it.
    if (r.sampling.curriculum && r.mazes < r.steps * r.batch) {
      throw new TrainError(`a curriculum needs fresh mazes (${r.steps * r.batch} = steps × batch), but the run cycles ${r.mazes}`);
    }
  }
}

/** The Rng a fresh run's initial weights are drawn from (`model init --seed S` uses the same). */
export const initRng = (seed: number): Rng => new Rng(`${seed}/init`);

const schedule = (r: RunSpec): ScheduleOptions => ({ lr: r.lr, warmup: r.warmup, total: r.steps, minRatio: r.minLrRatio });

/** Top-level fields in which two run specs differ. */
export function diffRuns(a: RunSpec, b: RunSpec): Array<keyof RunSpec> {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof RunSpec>;
  // Compared as stored (JSON): a field set to undefined equals one left out.
  const norm = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  return [...keys].filter((k) => !isDeepStrictEqual(norm(a[k]), norm(b[k])));
}

/** Mean of `losses` every `every` updates, for the checkpoint's history (≤ ~500 points). */
function historyStride(steps: number): number {
  return Math.max(1, Math.ceil(steps / 500));
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const run = opts.run;
  checkRun(run);
  const cfg = run.model;
  const data = new MazeBatcher({
    spec: run.maze,
    seed: run.seed,
    mazes: run.mazes,
    tokenizer: cfg.tokenizer,
    nCtx: cfg.n_ctx,
    loss: run.loss,
    sampling: run.sampling,
    steps: run.steps,
    queries: run.queries,
  });
  const grid = Math.max(run.maze.rows, run.maze.cols ?? run.maze.rows);
  const vocab = [...data.tokenizer.vocab(grid)];
  if (vocab.length !== cfg.d_vocab)
    throw new TrainError(`config.d_vocab is ${cfg.d_vocab}, but tokenizer ${cfg.tokenizer} on a ${grid}x${grid} grid has ${vocab.length} tokens`);
  const until = Math.min(run.steps, opts.stopAt ?? run.steps);
  if (!(Number.isSafeInteger(until) && until >= 0)) throw new TrainError(`stop-at must be a non-negative integer, got ${opts.stopAt}`);

  let step = 0;
  let dataPosition = 0;
  let nextBatch = 0;
  let runId: string = randomUUID();
  let history: Array<{ step: number; loss: number }> = [];
  let weights: Weights | undefined;
  let state;
  if (opts.resume) {
    const ck = await loadCheckpoint<RunSpec>(opts.out);
    const diff = diffRuns(ck.run, run);
    if (diff.length > 0) {
      throw new TrainError(
        `cannot resume ${opts.out}: the run differs from the checkpoint's in ${diff.map((k) => `${k} (checkpoint ${JSON.stringify(ck.run[k])}, now ${JSON.stringify(run[k])})`).join('; ')}`,
      );
    }
    ({ weights, dataPosition, nextBatch, runId, history } = ck);
    state = ck.optimizer;
    step = ck.optimizer.step;
  } else {
    weights = opts.init ?? initWeights(cfg, initRng(run.seed));
  }

  const engine = opts.engine ?? (await createTrainEngine(run.engine, cfg, weights));
  try {
    if (opts.engine || opts.resume) await engine.setWeights(weights);
    if (state) await engine.setOptimizerState(state);

    // Held-out set: other mazes (seed `${seed}/heldout`), fixed prompts, a fixed loss batch.
    const evalCount = opts.evalCount ?? 100;
    const evalEvery = opts.evalEvery ?? 0;
    const heldout = evalEvery > 0 ? [...generateMazes(run.maze, evalCount, heldoutSeed(run.seed))] : [];
    const decode = evalEvery > 0 ? (opts.decoder ?? ((e) => greedyFromLogits((g) => e.logits(g), cfg)))(engine) : null;
    const evals: EvalEvent[] = [];
    const evaluate = async (): Promise<void> => {
      const t0 = performance.now();
      const tokRng = new Rng(`${run.seed}/heldout-tokens`);
      let lossSum = 0;
      let predicted = 0;
      for (let i = 0; i < heldout.length; i += run.batch) {
        const seqs = heldout.slice(i, i + run.batch).map((m) => data.sequence(m, tokRng));
        const b = buildBatch(
          seqs.map((s) => s.seq),
          seqs.map((s) => s.promptLength),
          'path',
          cfg.n_ctx,
        );
        lossSum += (await engine.loss(b)) * b.predicted;
        predicted += b.predicted;
      }
      const report = await evaluateMazes(decode!, heldout, data.tokenizer, vocab, new Rng(`${run.seed}/heldout-prompts`), new Rng(`${run.seed}/baseline`));
      const e: EvalEvent = { step, loss: lossSum / predicted, seconds: (performance.now() - t0) / 1000, ...report };
      evals.push(e);
      opts.onEval?.(e);
    };
    const checkpoint = async (): Promise<void> => {
      await opts.beforeCheckpoint?.(step);
      await saveCheckpoint(opts.out, {
        cfg,
        vocab,
        runId,
        run,
        history,
        dataPosition,
        nextBatch,
        weights: await engine.getWeights(),
        optimizer: await engine.getOptimizerState(),
      });
      await opts.onCheckpoint?.({ step, path: opts.out });
    };

    const stride = historyStride(run.steps);
    let windowSum = 0;
    let windowN = 0;
    let computeMs = 0;
    let tokens = 0;
    const startStep = step;
    const t0 = performance.now();
    let lastLoss = NaN;
    let stopped = false;
    while (step < until) {
      const batch = data.batch(dataPosition, nextBatch, run.batch);
      const lr = lrAt(step, schedule(run));
      const ts = performance.now();
      const r = await engine.step(batch, { lr, clip: run.clip, adamw: run.adamw });
      computeMs += performance.now() - ts;
      tokens += batch.realTokens;
      dataPosition += run.batch;
      nextBatch++;
      step++;
      lastLoss = r.loss;
      windowSum += r.loss;
      windowN++;
      if (step % stride === 0 || step === run.steps) {
        history.push({ step, loss: windowSum / windowN });
        windowSum = 0;
        windowN = 0;
      }
      const perStep = computeMs / 1000 / (step - startStep);
      opts.onProgress?.({
        step,
        steps: run.steps,
        loss: r.loss,
        lr,
        gradNorm: r.gradNorm,
        clipped: r.clipped,
        tokensPerSec: tokens / (computeMs / 1000),
        etaSec: perStep * (until - step),
        elapsedSec: (performance.now() - t0) / 1000,
      });
      const last = step === until;
      const aborted = opts.signal?.aborted ?? false;
      if (evalEvery > 0 && (step % evalEvery === 0 || step === run.steps)) await evaluate();
      if (last || aborted || ((opts.checkpointEvery ?? 0) > 0 && step % opts.checkpointEvery! === 0)) await checkpoint();
      if (aborted) {
        stopped = true;
        break;
      }
    }
    if (step === startStep && !opts.resume) await checkpoint(); // a zero-step run still writes its model
    if (step < run.steps) stopped = true;
    return {
      step,
      loss: lastLoss,
      history,
      evals,
      weightsPath: opts.out,
      statePath: optimizerPath(opts.out),
      stopped,
      tokensPerSec: computeMs > 0 ? tokens / (computeMs / 1000) : 0,
    };
  } finally {
    if (!opts.engine) await engine.dispose();
  }
}
