/**
 * The TransformerLens HookedTransformer architecture in TensorFlow.js, for training by autodiff.
 * Semantics follow transformer_lens/components.py exactly as the pure-TS reference does
 * (server/model/reference.ts): learned token and position embeddings; pre-LayerNorm with biased
 * variance, hook_scale = sqrt(mean(x_c²) + eps); attention with biases, scores · 1/sqrt(d_head),
 * causal mask (−∞), softmax over keys; MLP W_in → act → W_out; final LayerNorm; untied unembed.
 *
 * Parameters are tf.Variables keyed by their TransformerLens state_dict names (paramShapes order);
 * tfjs' own variable registry is global, so each model prefixes its variable names with an
 * instance id (`gpt3/blocks.0.attn.W_Q`) and two models can coexist.
 *
 * Layout: activations are kept 2-D, [N = B·T, features], so every projection is one matMul;
 * hooks are reshaped to TransformerLens' shapes only when asked for.
 *
 * Token embedding is a one-hot matmul, not `gather`: gather's gradient needs UnsortedSegmentSum,
 * which the wasm backend lacks (see backend.ts). Right padding needs no attention mask: the causal
 * mask already keeps every real token from attending to the pads after it, and the loss mask
 * drops the pads' predictions.
 */
import { isStandardArchitecture, paramShapes, type ModelConfig, type Weights } from '../config.js';
import type { Activation } from '../reference.js';
import type { LossBatch, TokenGrid } from '../train/engine.js';
import { checkWeights } from '../weights.js';
import { tf, type Tensor, type Variable } from './backend.js';
import { UserError } from '../../errors.js';

export type { LossBatch, TokenGrid };

export class TfGptError extends UserError {
  override name = 'TfGptError';
}

let nextId = 0;

export class TfGpt {
  readonly cfg: ModelConfig;
  /** TransformerLens name → variable, in paramShapes order. */
  readonly params = new Map<string, Variable>();
  private readonly shapes: Map<string, number[]>;
  /** [T, T] additive causal masks (0 on and below the diagonal, −∞ above), kept per length. */
  private readonly masks = new Map<number, Tensor>();
  private disposed = false;

  constructor(cfg: ModelConfig, weights: Weights) {
    // The tfjs trainer implements the standard architecture only; the ONNX engine runs every variant.
    if (!isStandardArchitecture(cfg) || !['gelu_new', 'gelu', 'relu'].includes(cfg.act_fn)) {
      throw new TfGptError(
        'the tfjs engine trains the standard architecture only (learned positions, LayerNorm, MLP after attention, d_vocab_out = d_vocab, act_fn gelu_new/gelu/relu); use the default onnx engine for this model',
      );
    }
    checkWeights(cfg, weights);
    this.cfg = cfg;
    this.shapes = new Map(paramShapes(cfg));
    const id = nextId++;
    for (const [name, shape] of this.shapes) {
      const initial = tf.tensor(weights.get(name)!.slice(), shape, 'float32');
      this.params.set(name, tf.variable(initial, true, `gpt${id}/${name}`));
      initial.dispose(); // the variable holds its own reference to the data
    }
  }

  /** Overwrites every parameter from host memory (the arrays are copied, never aliased). */
  setWeights(weights: Weights): void {
    this.live();
    checkWeights(this.cfg, weights);
    tf.tidy(() => {
      for (const [name, v] of this.params) v.assign(tf.tensor(weights.get(name)!.slice(), this.shapes.get(name)!, 'float32'));
    });
  }

  /** A copy of every parameter, TransformerLens names → row-major float32. */
  getWeights(): Weights {
    this.live();
    const out: Weights = new Map();
    for (const [name, v] of this.params) out.set(name, Float32Array.from(v.dataSync() as Float32Array));
    return out;
  }

  private live(): void {
    if (this.disposed) throw new TfGptError('this tfjs model was disposed');
  }

  private checkTokens(g: TokenGrid): void {
    const { B, T, tokens } = g;
    if (!Number.isInteger(B) || !Number.isInteger(T) || B < 1 || T < 1) throw new TfGptError(`empty or malformed batch: B=${B}, T=${T}`);
    if (T > this.cfg.n_ctx) throw new TfGptError(`sequence length ${T} exceeds n_ctx ${this.cfg.n_ctx}`);
    if (tokens.length !== B * T) throw new TfGptError(`tokens has ${tokens.length} entries but B×T = ${B}×${T}`);
    const V = this.cfg.d_vocab;
    for (let i = 0; i < tokens.length; i++) {
      // oneHot would silently embed an out-of-range id as zeros: reject it instead.
      if (!(tokens[i] >= 0 && tokens[i] < V)) {
        throw new TfGptError(`token ${tokens[i]} at row ${Math.floor(i / T)}, position ${i % T} is outside the vocabulary [0, ${V})`);
      }
    }
  }

  private causalMask(T: number): Tensor {
    let m = this.masks.get(T);
    if (!m) {
      const data = new Float32Array(T * T);
      for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) data[i * T + j] = -Infinity;
      m = tf.keep(tf.tensor2d(data, [T, T])); // [T(query), T(key)]
      this.masks.set(T, m);
    }
    return m;
  }

  /**
   * The forward pass as tensors (call inside tf.tidy). `hook(name, value)` sees each activation in
   * TransformerLens' shape; pass `wanted` to compute only hooks that cost extra (hook_result).
   * Returns logits [N = B·T, d_vocab].
   */
  forwardTensors(g: TokenGrid, hook?: (name: string, value: Tensor) => void, wanted?: (name: string) => boolean): Tensor {
    this.live();
    this.checkTokens(g);
    const { B, T } = g;
    const { d_model: D, n_heads: H, d_head: E, d_mlp: M, d_vocab: V, eps, act_fn } = this.cfg;
    const N = B * T;
    const P = (name: string): Tensor => this.params.get(name)!;
    const see = (name: string, value: Tensor, shape: number[]): void => {
      if (hook) hook(name, value.reshape(shape));
    };

    const layerNorm = (prefix: string, x: Tensor /* [N, D] */): Tensor => {
      const centered = x.sub(x.mean(-1, true)); // [N, D]
      const scale = centered.square().mean(-1, true).add(eps).sqrt(); // [N, 1], biased variance as TL
      see(`${prefix}.hook_scale`, scale, [B, T, 1]);
      const normalized = centered
        .div(scale)
        .mul(P(`${prefix}.w`))
        .add(P(`${prefix}.b`)); // [N, D]
      see(`${prefix}.hook_normalized`, normalized, [B, T, D]);
      return normalized;
    };
    /** [H, D, E] per-head weights → [D, H·E], so one matMul projects every head. */
    const heads = (w: Tensor): Tensor => w.transpose([1, 0, 2]).reshape([D, H * E]);

    // Embeddings: W_E[token] as oneHot [N, V] · W_E [V, D]; W_pos[0:T] broadcast over the batch.
    const embed = linear(oneHot(g.tokens, V), P('embed.W_E')); // [N, D]
    const posEmbed = P('pos_embed.W_pos').slice([0, 0], [T, D]); // [T, D]
    see('hook_embed', embed, [B, T, D]);
    if (hook) see('hook_pos_embed', posEmbed.expandDims(0).tile([B, 1, 1]), [B, T, D]);
    let resid = embed.reshape([B, T, D]).add(posEmbed).reshape([N, D]); // [N, D]

    const mask = this.causalMask(T); // [T, T]
    for (let l = 0; l < this.cfg.n_layers; l++) {
      const p = `blocks.${l}`;
      see(`${p}.hook_resid_pre`, resid, [B, T, D]);
      const x1 = layerNorm(`${p}.ln1`, resid); // [N, D]
      // q, k, v: [N, H·E] = x1 · W [D, H·E] + b [H·E]
      const q = linear(x1, heads(P(`${p}.attn.W_Q`))).add(P(`${p}.attn.b_Q`).reshape([H * E]));
      const k = linear(x1, heads(P(`${p}.attn.W_K`))).add(P(`${p}.attn.b_K`).reshape([H * E]));
      const v = linear(x1, heads(P(`${p}.attn.W_V`))).add(P(`${p}.attn.b_V`).reshape([H * E]));
      see(`${p}.attn.hook_q`, q, [B, T, H, E]);
      see(`${p}.attn.hook_k`, k, [B, T, H, E]);
      see(`${p}.attn.hook_v`, v, [B, T, H, E]);
      /** [N, H·E] → [B·H, T, E] for batched matMuls over (batch, head). */
      const perHead = (t: Tensor): Tensor =>
        t
          .reshape([B, T, H, E])
          .transpose([0, 2, 1, 3])
          .reshape([B * H, T, E]);
      // scores [B·H, T, T] = q · kᵀ / sqrt(d_head), −∞ above the diagonal.
      const scores = tf
        .matMul(perHead(q), perHead(k), false, true)
        .mul(1 / Math.sqrt(E))
        .add(mask);
      see(`${p}.attn.hook_attn_scores`, scores, [B, H, T, T]);
      const pattern = tf.softmax(scores); // [B·H, T, T], over keys
      see(`${p}.attn.hook_pattern`, pattern, [B, H, T, T]);
      // z [N, H·E]: pattern · v, back to (batch, pos, head) order
      const z = tf
        .matMul(pattern, perHead(v))
        .reshape([B, H, T, E])
        .transpose([0, 2, 1, 3])
        .reshape([N, H * E]);
      see(`${p}.attn.hook_z`, z, [B, T, H, E]);
      const W_O = P(`${p}.attn.W_O`); // [H, E, D]
      if (hook && (!wanted || wanted(`${p}.attn.hook_result`))) {
        // result [N, H, D]: each head's z [H, N, E] · W_O [H, E, D], TL's use_attn_result.
        const result = tf.matMul(z.reshape([N, H, E]).transpose([1, 0, 2]), W_O).transpose([1, 0, 2]);
        see(`${p}.attn.hook_result`, result, [B, T, H, D]);
      }
      // attn_out [N, D] = z [N, H·E] · W_O [H·E, D] + b_O (= Σ_h result + b_O)
      const attnOut = linear(z, W_O.reshape([H * E, D])).add(P(`${p}.attn.b_O`));
      see(`${p}.hook_attn_out`, attnOut, [B, T, D]);
      const residMid = resid.add(attnOut); // [N, D]
      see(`${p}.hook_resid_mid`, residMid, [B, T, D]);

      const x2 = layerNorm(`${p}.ln2`, residMid); // [N, D]
      const pre = linear(x2, P(`${p}.mlp.W_in`)).add(P(`${p}.mlp.b_in`)); // [N, d_mlp]
      see(`${p}.mlp.hook_pre`, pre, [B, T, M]);
      const post = activation(act_fn, pre); // [N, d_mlp]
      see(`${p}.mlp.hook_post`, post, [B, T, M]);
      const mlpOut = linear(post, P(`${p}.mlp.W_out`)).add(P(`${p}.mlp.b_out`)); // [N, D]
      see(`${p}.hook_mlp_out`, mlpOut, [B, T, D]);
      resid = residMid.add(mlpOut); // [N, D]
      see(`${p}.hook_resid_post`, resid, [B, T, D]);
    }
    const xf = layerNorm('ln_final', resid); // [N, D]
    const logits = linear(xf, P('unembed.W_U')).add(P('unembed.b_U')); // [N, V]
    see('logits', logits, [B, T, V]);
    return logits;
  }

  /** Logits [B, T, d_vocab] row-major, and the hook activations named in `hooks` ('all' = every one). */
  forward(g: TokenGrid, opts: { hooks?: Iterable<string> | 'all' } = {}): { logits: Float32Array; cache: Map<string, Activation> } {
    const all = opts.hooks === 'all';
    const wanted = all ? null : new Set(opts.hooks ?? []);
    const cache = new Map<string, Activation>();
    const logits = tf.tidy(() => {
      const hook =
        all || wanted!.size > 0
          ? (name: string, value: Tensor): void => {
              if (all || wanted!.has(name)) cache.set(name, { shape: value.shape, data: Float32Array.from(value.dataSync() as Float32Array) });
            }
          : undefined;
      const out = this.forwardTensors(g, hook, all ? undefined : (n) => wanted!.has(n));
      return Float32Array.from(out.dataSync() as Float32Array);
    });
    if (wanted)
      for (const name of wanted)
        if (!cache.has(name)) throw new TfGptError(`unknown hook point "${name}" (names follow TransformerLens, e.g. blocks.0.hook_resid_pre)`);
    return { logits, cache };
  }

  /** Masked mean next-token cross-entropy (a scalar tensor; call inside tf.tidy or variableGrads). */
  lossTensor(batch: LossBatch): Tensor {
    const { B, T } = batch;
    const N = B * T;
    if (batch.targets.length !== N || batch.mask.length !== N) {
      throw new TfGptError(`targets (${batch.targets.length}) and mask (${batch.mask.length}) must both have B×T = ${N} entries`);
    }
    let count = 0;
    for (let i = 0; i < N; i++) {
      count += batch.mask[i];
      const t = batch.targets[i];
      if (!(t >= 0 && t < this.cfg.d_vocab))
        throw new TfGptError(`target ${t} at row ${Math.floor(i / T)}, position ${i % T} is outside the vocabulary [0, ${this.cfg.d_vocab})`);
    }
    if (!(count > 0)) throw new TfGptError('the loss mask selects no position');
    const logits = this.forwardTensors(batch); // [N, V]
    const logp = tf.logSoftmax(logits); // [N, V]
    const picked = logp.mul(oneHot(batch.targets, this.cfg.d_vocab)).sum(-1); // [N]
    return picked.mul(tf.tensor1d(batch.mask)).sum().neg().div(count); // []
  }

  /**
   * Rows per autodiff pass for a batch of length T. tfjs keeps every intermediate of the forward
   * pass for the backward one, and the attention ones grow as T²: the hallway preset at 32 × 256
   * needs more than the 4 GiB a wasm32 heap can address ("memory access out of bounds"). So a batch
   * whose attention activations, n_layers × rows × n_heads × T² floats, exceed
   * `maxAttentionElements` is run in slices of rows and the gradients summed (weighted by each
   * slice's share of the masked positions): the same update, within float rounding, as one pass.
   */
  microBatchRows(B: number, T: number, maxAttentionElements = TfGpt.MAX_ATTENTION_ELEMENTS): number {
    const perRow = this.cfg.n_layers * this.cfg.n_heads * T * T;
    return Math.max(1, Math.min(B, Math.floor(maxAttentionElements / perRow)));
  }

  /** 2^24 floats (64 MiB) per attention activation summed over layers: hallway at T = 256 runs 10 rows a pass. */
  static MAX_ATTENTION_ELEMENTS = 1 << 24;

  /** Loss and the gradient of every parameter (TL names), computed by tfjs autodiff. */
  lossAndGrads(batch: LossBatch, maxAttentionElements?: number): { loss: number; grads: Weights } {
    this.live();
    const { B, T } = batch;
    const rows = this.microBatchRows(B, T, maxAttentionElements);
    if (rows >= B) return this.lossAndGradsOnce(batch);
    // The whole batch is checked up front, as one pass would: slices without counted positions are
    // skipped below and would otherwise never have their targets checked.
    if (batch.targets.length !== B * T || batch.mask.length !== B * T || batch.tokens.length !== B * T) {
      throw new TfGptError(
        `tokens (${batch.tokens.length}), targets (${batch.targets.length}) and mask (${batch.mask.length}) must all have B×T = ${B * T} entries`,
      );
    }
    let total = 0;
    for (let i = 0; i < B * T; i++) {
      total += batch.mask[i];
      const t = batch.targets[i];
      if (!(t >= 0 && t < this.cfg.d_vocab))
        throw new TfGptError(`target ${t} at row ${Math.floor(i / T)}, position ${i % T} is outside the vocabulary [0, ${this.cfg.d_vocab})`);
    }
    if (!(total > 0)) throw new TfGptError('the loss mask selects no position');
    let loss = 0;
    let grads: Weights | undefined;
    for (let r0 = 0; r0 < B; r0 += rows) {
      const b = Math.min(rows, B - r0);
      const [lo, hi] = [r0 * T, (r0 + b) * T];
      const mask = batch.mask.subarray(lo, hi);
      let count = 0;
      for (let i = 0; i < mask.length; i++) count += mask[i];
      if (count === 0) continue; // rows without a counted position add nothing
      // The slice's loss is its own masked mean; weight it by its share of the batch's positions.
      const part = this.lossAndGradsOnce({ B: b, T, tokens: batch.tokens.subarray(lo, hi), targets: batch.targets.subarray(lo, hi), mask });
      const w = count / total;
      loss += w * part.loss;
      if (!grads) {
        grads = part.grads;
        for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= w;
      } else {
        for (const [name, g] of part.grads) {
          const acc = grads.get(name)!;
          for (let i = 0; i < g.length; i++) acc[i] += w * g[i];
        }
      }
    }
    return { loss, grads: grads! };
  }

  private lossAndGradsOnce(batch: LossBatch): { loss: number; grads: Weights } {
    const vars = [...this.params.values()];
    let result: { loss: number; grads: Weights } | undefined;
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => this.lossTensor(batch) as tf.Scalar, vars);
      const out: Weights = new Map();
      for (const [name, v] of this.params) out.set(name, Float32Array.from(grads[v.name].dataSync() as Float32Array));
      result = { loss: value.dataSync()[0], grads: out };
    });
    return result!;
  }

  /** Loss without gradients (evaluation). */
  loss(batch: LossBatch): number {
    this.live();
    return tf.tidy(() => this.lossTensor(batch).dataSync()[0]);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.params.values()) v.dispose();
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }
}

/**
 * x [N, K] · w [K, M] with a hand-written gradient that feeds the matmul kernel untransposed
 * operands: tfjs' own MatMul gradient asks for transposeA/transposeB products, which the wasm
 * backend runs ~8× slower than plain ones (its fast XNNPACK path takes neither flag; measured
 * 62 ms vs 8 ms for [4096, 256]ᵀ-style products). Explicit Transposes of the smaller operand are cheap.
 *   dx [N, K] = dy [N, M] · wᵀ [M, K]
 *   dw [K, M] = xᵀ [K, N] · dy [N, M]   (or (dyᵀ · x)ᵀ when M < K, transposing the smaller tensor)
 */
const linear = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
  const [x, w, save] = args as [Tensor, Tensor, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [xs, ws] = saved;
      const [K, M] = ws.shape as [number, number];
      const dx = tf.matMul(dy, ws.transpose());
      const dw = K <= M ? tf.matMul(xs.transpose(), dy) : tf.matMul(dy.transpose(), xs).transpose();
      return [dx, dw];
    },
  };
}) as (x: Tensor, w: Tensor) => Tensor;

/**
 * [N, V] float32 one-hot rows of `ids`, built on the host: tfjs-backend-wasm 4.22's OneHot kernel
 * returns all zeros when asked for float32 output (it writes integer bits into a float buffer).
 */
function oneHot(ids: Int32Array, V: number): Tensor {
  const data = new Float32Array(ids.length * V);
  for (let i = 0; i < ids.length; i++) data[i * V + ids[i]] = 1;
  return tf.tensor2d(data, [ids.length, V]);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** TL's activations: gelu_new (GPT-2's tanh approximation), exact gelu (erf), relu. */
function activation(act: ModelConfig['act_fn'], x: Tensor): Tensor {
  switch (act) {
    case 'gelu_new': // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      return x.mul(0.5).mul(x.square().mul(x).mul(0.044715).add(x).mul(SQRT_2_OVER_PI).tanh().add(1));
    case 'gelu': // x·Φ(x) = 0.5·x·(1 + erf(x/√2))
      return x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));
    case 'relu':
      return x.relu();
    default: // refused in the constructor
      throw new TfGptError(`act_fn ${act} is not implemented in the tfjs engine`);
  }
}
