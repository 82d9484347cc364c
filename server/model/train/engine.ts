/**
 * The engine boundary of the trainer. The trainer (trainer.ts) owns data, schedule, checkpoints
 * and progress; an engine owns the model's arithmetic. Two levels, so a new engine writes little:
 *
 *   GradEngine   forward + masked cross-entropy + backward: loss and every parameter's gradient
 *                as host Float32Arrays (TL names). tfjs implements it (tfjs/engine.ts); the ONNX
 *                training graph of issue 4 will too.
 *   TrainEngine  what the trainer drives: step(batch, hyper) → {loss, gradNorm}, weights and
 *                optimizer state in and out. `HostAdamW` turns any GradEngine into a TrainEngine
 *                with the shared host AdamW (adamw.ts); an engine with an on-device optimizer may
 *                implement TrainEngine directly, as long as its state round-trips through
 *                OptimizerState so checkpoints stay engine-independent.
 */
import type { ModelConfig, Weights } from '../config.js';
import { adamwUpdate, clipGlobalNorm, zeroState, type AdamWOptions, type OptimizerState } from './adamw.js';
import { UserError } from '../../errors.js';

export class TrainError extends UserError {
  override name = 'TrainError';
}

/** A batch of equal-length token rows, row-major [B, T]. */
export interface TokenGrid {
  B: number;
  T: number;
  /** [B·T] token ids. */
  tokens: Int32Array;
  /**
   * Packed rows (packing.ts): [B·T] the W_pos row of each token and [B·T] its segment (0 = shared
   * prefix, k ≥ 1 = sequence k). Absent: position = column, one causal sequence per row.
   */
  positions?: Int32Array;
  segments?: Int32Array;
}

/** Training rows: the inputs plus next-token targets and a loss mask, all [B, T] row-major. */
export interface LossBatch extends TokenGrid {
  /** [B·T] the token each position must predict (anything in range where mask = 0). */
  targets: Int32Array;
  /** [B·T] 1 where the prediction counts towards the loss, 0 elsewhere (pads, prompt). */
  mask: Float32Array;
}

export interface GradEngine {
  /** e.g. "tfjs-wasm". */
  readonly name: string;
  readonly cfg: ModelConfig;
  /** Replaces the parameters (copied). */
  setWeights(weights: Weights): Promise<void>;
  /** Masked mean cross-entropy and its gradient w.r.t. every parameter (fresh arrays, caller owns them). */
  lossAndGrads(batch: LossBatch): Promise<{ loss: number; grads: Weights }>;
  /** Loss only (evaluation). */
  loss(batch: LossBatch): Promise<number>;
  /** Logits [B, T, d_vocab] row-major (greedy decoding during evaluation). */
  logits(grid: TokenGrid): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface StepHyper {
  lr: number;
  /** Global-norm clipping threshold; 0 disables clipping. */
  clip: number;
  adamw: AdamWOptions;
}

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  clipped: boolean;
}

export interface TrainEngine {
  readonly name: string;
  readonly cfg: ModelConfig;
  step(batch: LossBatch, hyper: StepHyper): Promise<StepResult>;
  loss(batch: LossBatch): Promise<number>;
  logits(grid: TokenGrid): Promise<Float32Array>;
  /** A copy of the current parameters. */
  getWeights(): Promise<Weights>;
  setWeights(weights: Weights): Promise<void>;
  /** A copy of the optimizer state (moments and update count). */
  getOptimizerState(): Promise<OptimizerState>;
  setOptimizerState(state: OptimizerState): Promise<void>;
  dispose(): Promise<void>;
}

const copy = (w: Weights): Weights => new Map([...w].map(([k, v]) => [k, v.slice()]));

/** A TrainEngine from a GradEngine: master weights and AdamW state live on the host. */
export class HostAdamW implements TrainEngine {
  readonly name: string;
  readonly cfg: ModelConfig;
  private master: Weights;
  private state: OptimizerState;

  private constructor(
    private readonly grad: GradEngine,
    weights: Weights,
  ) {
    this.name = grad.name;
    this.cfg = grad.cfg;
    this.master = copy(weights);
    this.state = zeroState(grad.cfg);
  }

  static async create(grad: GradEngine, weights: Weights): Promise<HostAdamW> {
    const e = new HostAdamW(grad, weights);
    await grad.setWeights(e.master);
    return e;
  }

  async step(batch: LossBatch, hyper: StepHyper): Promise<StepResult> {
    const { loss, grads } = await this.grad.lossAndGrads(batch);
    const { norm, scale } = clipGlobalNorm(grads, hyper.clip);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
      // Stop before the update, so the last checkpoint and these weights stay usable.
      throw new TrainError(`training diverged at update ${this.state.step + 1}: loss ${loss}, gradient norm ${norm}; lower --lr or keep clipping on`);
    }
    adamwUpdate(this.master, grads, this.state, hyper.lr, hyper.adamw);
    await this.grad.setWeights(this.master);
    return { loss, gradNorm: norm, clipped: scale !== 1 };
  }

  loss(batch: LossBatch): Promise<number> {
    return this.grad.loss(batch);
  }

  logits(grid: TokenGrid): Promise<Float32Array> {
    return this.grad.logits(grid);
  }

  async getWeights(): Promise<Weights> {
    return copy(this.master);
  }

  async setWeights(weights: Weights): Promise<void> {
    this.master = copy(weights);
    await this.grad.setWeights(this.master);
  }

  async getOptimizerState(): Promise<OptimizerState> {
    return { step: this.state.step, m: copy(this.state.m), v: copy(this.state.v) };
  }

  async setOptimizerState(state: OptimizerState): Promise<void> {
    const fresh = zeroState(this.cfg);
    for (const [name, m] of fresh.m) {
      const sm = state.m.get(name);
      const sv = state.v.get(name);
      if (!sm || !sv || sm.length !== m.length || sv.length !== m.length) {
        throw new TrainError(`optimizer state for "${name}" is missing or has the wrong size (expected ${m.length} values)`);
      }
    }
    if (!(Number.isInteger(state.step) && state.step >= 0)) throw new TrainError(`optimizer step must be a non-negative integer, got ${state.step}`);
    this.state = { step: state.step, m: copy(state.m), v: copy(state.v) };
  }

  dispose(): Promise<void> {
    return this.grad.dispose();
  }
}

export type EngineName = 'tfjs' | 'onnx';
export const ENGINE_NAMES: readonly EngineName[] = ['tfjs', 'onnx'];

/** A training engine by name; each engine's library is loaded only when asked for. */
export async function createTrainEngine(name: EngineName, cfg: ModelConfig, weights: Weights): Promise<TrainEngine> {
  switch (name) {
    case 'tfjs': {
      const { createTfjsGradEngine } = await import('../tfjs/engine.js');
      return HostAdamW.create(await createTfjsGradEngine(cfg, weights), weights);
    }
    case 'onnx': {
      const { createOnnxTrainEngine } = await import('../onnx-train/engine.js');
      return createOnnxTrainEngine(cfg, weights);
    }
    default:
      throw new TrainError(`unknown training engine "${String(name)}"; known: ${ENGINE_NAMES.join(', ')}`);
  }
}
