/**
 * OnnxGradEngine: training arithmetic on ONNX Runtime. It implements the trainer's GradEngine
 * (../train/engine.ts) with the hand-derived backward graph of graph.ts, so `HostAdamW` (the shared
 * host AdamW of ../train/adamw.ts, the same optimizer the tfjs engine uses) turns it into the
 * TrainEngine that `searchlight train --engine onnx` drives.
 *
 * Parameters are graph inputs: the engine keeps its own float32 copy of each (TL names) and feeds
 * them on every run, so a weight update costs a memcpy, never a graph rebuild. Graph variants
 * (loss + gradients, loss only, logits only, hook gradients) are compiled once each, on first use.
 *
 * `activationGrads` is the entry point attribution patching needs: ∂metric/∂hook for chosen hooks,
 * for a metric given by its gradient w.r.t. the logits (exact for any metric linear in the logits,
 * e.g. a logit difference; see `logitDiffSeed`), or for the masked cross-entropy loss.
 */
import { availableParallelism } from 'node:os';
import { architecture, hookShapes, paramShapes, type ModelConfig, type Weights } from '../config.js';
import { feedF32, feedI32, OrtSession, runtimeOptionsFromEnv, type Feed, type RuntimeOptions } from '../onnx/runtime.js';
import { HostAdamW, TrainError, type GradEngine, type LossBatch, type TokenGrid, type TrainEngine } from '../train/engine.js';
import { checkWeights } from '../weights.js';
import { buildTrainGraph, gradName, hookGradName, trainSpecKey, type TrainGraphSpec } from './graph.js';

export interface Activation {
  shape: number[];
  data: Float32Array;
}

/** What `activationGrads` differentiates. */
export type GradSeed =
  /** The masked mean cross-entropy of a loss batch. */
  | { kind: 'loss'; targets: Int32Array; mask: Float32Array }
  /** A metric given by d(metric)/d(logits) [B, T, d_vocab] row-major. */
  | { kind: 'logits'; grad: Float32Array };

export class OnnxGradEngine implements GradEngine {
  readonly name: string;
  private readonly params = new Map<string, Float32Array>();
  private readonly shapes: Map<string, number[]>;
  private readonly sessions = new Map<string, Promise<OrtSession>>();
  private disposed = false;
  /** Width of the logits (d_vocab_out): targets and seeds index it. */
  private readonly vOut: number;

  private constructor(
    readonly cfg: ModelConfig,
    private readonly opts: RuntimeOptions,
  ) {
    this.shapes = new Map(paramShapes(cfg));
    this.vOut = architecture(cfg).d_vocab_out;
    this.name = `onnx-${opts.device === 'cuda' ? 'cuda' : 'cpu'}`;
  }

  /**
   * Copies `weights`; compiles the loss + gradients graph now (so a broken runtime fails here, not
   * at step 1). Threads default to every core (SEARCHLIGHT_THREADS overrides), device from
   * SEARCHLIGHT_DEVICE (runtime.ts).
   */
  static async create(cfg: ModelConfig, weights: Weights, opts: RuntimeOptions = {}): Promise<OnnxGradEngine> {
    // ORT's memory pattern off for every graph of this engine (training steps and the activation
    // gradients of attribution patching): at the hallway training shape it held 1,556 MiB instead
    // of 856 and made the second step 2.5× slower (it allocates the planned block then), for no
    // steady-state gain.
    const o: RuntimeOptions = { threads: availableParallelism(), memPattern: false, ...runtimeOptionsFromEnv(), ...opts };
    const e = new OnnxGradEngine(cfg, o);
    await e.setWeights(weights);
    await e.session({ objective: 'loss' });
    return e;
  }

  private session(spec: TrainGraphSpec): Promise<OrtSession> {
    if (this.disposed) throw new TrainError('the onnx training engine was disposed');
    const key = trainSpecKey(spec);
    let s = this.sessions.get(key);
    if (!s) {
      s = OrtSession.create(buildTrainGraph(this.cfg, spec), this.opts);
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  async setWeights(weights: Weights): Promise<void> {
    checkWeights(this.cfg, weights);
    for (const [name] of this.shapes) {
      const src = weights.get(name)!;
      const dst = this.params.get(name);
      if (dst) dst.set(src);
      else this.params.set(name, src.slice());
    }
  }

  /** A copy of the engine's current parameters. */
  getWeights(): Weights {
    return new Map([...this.params].map(([k, v]) => [k, v.slice()]));
  }

  private paramFeeds(): Record<string, Feed> {
    const f: Record<string, Feed> = {};
    for (const [name, shape] of this.shapes) f[name] = feedF32(this.params.get(name)!, shape);
    return f;
  }

  private checkGrid(g: TokenGrid): void {
    const { B, T, tokens } = g;
    if (!(Number.isInteger(B) && B >= 1 && Number.isInteger(T) && T >= 1)) throw new TrainError(`batch must be at least 1×1, got B=${B}, T=${T}`);
    if (tokens.length !== B * T) throw new TrainError(`tokens has ${tokens.length} entries but B×T = ${B}×${T} = ${B * T}`);
    // A packed row may be longer than n_ctx; its positions (checked below) may not.
    if (T > this.cfg.n_ctx && !g.positions) throw new TrainError(`sequence length ${T} exceeds n_ctx ${this.cfg.n_ctx}`);
    const V = this.cfg.d_vocab;
    for (let i = 0; i < tokens.length; i++) {
      if (!(tokens[i] >= 0 && tokens[i] < V))
        throw new TrainError(`token ${tokens[i]} at row ${Math.floor(i / T)}, position ${i % T} is outside the vocabulary [0, ${V})`);
    }
    if ((g.positions === undefined) !== (g.segments === undefined)) throw new TrainError('packed rows need both positions and segments');
    if (g.positions && g.segments) {
      if (g.positions.length !== B * T || g.segments.length !== B * T)
        throw new TrainError(`positions (${g.positions.length}) and segments (${g.segments.length}) must both have B×T = ${B * T} entries`);
      for (let i = 0; i < B * T; i++) {
        const p = g.positions[i];
        if (!(p >= 0 && p < this.cfg.n_ctx))
          throw new TrainError(`position ${p} at row ${Math.floor(i / T)}, column ${i % T} is outside [0, n_ctx ${this.cfg.n_ctx})`);
        if (!(g.segments[i] >= 0 && g.segments[i] < 1 << 24))
          throw new TrainError(`segment ${g.segments[i]} at row ${Math.floor(i / T)}, column ${i % T} must be in [0, 2^24)`);
      }
      for (let b = 0; b < B; b++) if (g.segments[b * T] !== 0) throw new TrainError(`row ${b} of a packed batch must start with its shared prefix (segment 0)`);
    }
  }

  /** The graph inputs of a (possibly packed) token grid. */
  private gridFeeds(g: TokenGrid): Record<string, Feed> {
    const dims = [g.B, g.T];
    return {
      tokens: feedI32(g.tokens, dims),
      ...(g.positions && g.segments ? { positions: feedI32(g.positions, dims), segments: feedI32(g.segments, dims) } : {}),
    };
  }

  private lossFeeds(b: LossBatch): Record<string, Feed> {
    this.checkGrid(b);
    const { B, T } = b;
    if (b.targets.length !== B * T || b.mask.length !== B * T) {
      throw new TrainError(`targets (${b.targets.length}) and mask (${b.mask.length}) must both have B×T = ${B * T} entries`);
    }
    let count = 0;
    for (let i = 0; i < B * T; i++) {
      const t = b.targets[i];
      if (!(t >= 0 && t < this.vOut))
        throw new TrainError(`target ${t} at row ${Math.floor(i / T)}, position ${i % T} is outside the output vocabulary [0, ${this.vOut})`);
      if (!(b.mask[i] >= 0)) throw new TrainError(`loss mask at row ${Math.floor(i / T)}, position ${i % T} is ${b.mask[i]}; it must be ≥ 0`);
      count += b.mask[i];
    }
    if (!(count > 0)) throw new TrainError('the loss mask selects no position');
    return {
      ...this.paramFeeds(),
      ...this.gridFeeds(b),
      targets: feedI32(b.targets, [B, T]),
      loss_mask: feedF32(b.mask, [B, T]),
    };
  }

  async lossAndGrads(batch: LossBatch): Promise<{ loss: number; grads: Weights }> {
    const feeds = this.lossFeeds(batch);
    const names = [...this.shapes.keys()];
    const out = await (await this.session({ objective: 'loss', packed: batch.positions !== undefined })).run(feeds, ['loss', ...names.map(gradName)]);
    const grads: Weights = new Map(names.map((n) => [n, out[gradName(n)].data]));
    return { loss: out.loss.data[0], grads };
  }

  async loss(batch: LossBatch): Promise<number> {
    const feeds = this.lossFeeds(batch);
    const out = await (await this.session({ objective: 'loss', paramGrads: false, packed: batch.positions !== undefined })).run(feeds, ['loss']);
    return out.loss.data[0];
  }

  async logits(grid: TokenGrid): Promise<Float32Array> {
    this.checkGrid(grid);
    const out = await (await this.session({ objective: 'none', packed: grid.positions !== undefined })).run({ ...this.paramFeeds(), ...this.gridFeeds(grid) }, [
      'logits',
    ]);
    return out.logits.data;
  }

  /**
   * Gradients of a scalar objective w.r.t. hook activations (`<hook>` → same shape as the hook),
   * plus the logits [B, T, d_vocab] of the same forward pass. Names are TransformerLens hook names.
   */
  async activationGrads(
    grid: TokenGrid,
    seed: GradSeed,
    hooks: readonly string[],
  ): Promise<{ logits: Float32Array; loss?: number; grads: Map<string, Activation> }> {
    const { B, T } = grid;
    const names = [...new Set(hooks)];
    if (names.length === 0) throw new TrainError('activationGrads needs at least one hook name');
    let feeds: Record<string, Feed>;
    if (seed.kind === 'loss') feeds = this.lossFeeds({ ...grid, targets: seed.targets, mask: seed.mask });
    else {
      this.checkGrid(grid);
      const n = B * T * this.vOut;
      if (seed.grad.length !== n)
        throw new TrainError(`logits gradient has ${seed.grad.length} values; [B, T, d_vocab_out] = [${B}, ${T}, ${this.vOut}] needs ${n}`);
      feeds = { ...this.paramFeeds(), ...this.gridFeeds(grid), logits_grad: feedF32(seed.grad, [B, T, this.vOut]) };
    }
    const spec: TrainGraphSpec = { objective: seed.kind, paramGrads: false, hookGrads: names, logits: true, packed: grid.positions !== undefined };
    const fetch = ['logits', ...names.map(hookGradName), ...(seed.kind === 'loss' ? ['loss'] : [])];
    const out = await (await this.session(spec)).run(feeds, fetch);
    const shapes = new Map(hookShapes(this.cfg, B, T));
    const grads = new Map<string, Activation>();
    for (const n of names) grads.set(n, { shape: shapes.get(n) ?? out[hookGradName(n)].dims, data: out[hookGradName(n)].data });
    return { logits: out.logits.data, grads, ...(seed.kind === 'loss' ? { loss: out.loss.data[0] } : {}) };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (s) => (await s.catch(() => null))?.dispose()));
  }
}

/**
 * The seed for the logit-difference metric Σ_rows (logit[row, pos, good] − logit[row, pos, bad]):
 * a [B, T, d_vocab] array with +1 at (b, pos_b, good_b) and −1 at (b, pos_b, bad_b).
 */
export function logitDiffSeed(cfg: ModelConfig, B: number, T: number, rows: ReadonlyArray<{ pos: number; good: number; bad: number }>): Float32Array {
  if (rows.length !== B) throw new TrainError(`logitDiffSeed needs one {pos, good, bad} per row: got ${rows.length} for B = ${B}`);
  const V = architecture(cfg).d_vocab_out;
  const out = new Float32Array(B * T * V); // [B, T, d_vocab_out]
  rows.forEach(({ pos, good, bad }, b) => {
    if (!(Number.isInteger(pos) && pos >= 0 && pos < T)) throw new TrainError(`row ${b}: position ${pos} is outside [0, ${T})`);
    for (const t of [good, bad])
      if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new TrainError(`row ${b}: token ${t} is outside the vocabulary [0, ${V})`);
    out[(b * T + pos) * V + good] += 1;
    out[(b * T + pos) * V + bad] -= 1;
  });
  return out;
}

/** The TrainEngine of `--engine onnx`: this engine's gradients with the shared host AdamW. */
export async function createOnnxTrainEngine(cfg: ModelConfig, weights: Weights, opts: RuntimeOptions = {}): Promise<TrainEngine> {
  return HostAdamW.create(await OnnxGradEngine.create(cfg, weights, opts), weights);
}
