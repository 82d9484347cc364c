/**
 * AdamW over host Float32Arrays, engine-independent: any engine that yields gradients (tfjs
 * autodiff now, the ONNX backward graph of issue 4 later) shares this one optimizer, so runs,
 * checkpoints and resumes mean the same thing on every engine.
 *
 * Update (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, Algorithm 2, in
 * torch.optim.AdamW's form, where the decay is scaled by the learning rate):
 *   t ← t + 1
 *   θ ← θ · (1 − lr·λ)                                   (decayed tensors only)
 *   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
 *   θ ← θ − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
 * Arithmetic is float64 per element, stored as float32, in a fixed order: the same state and
 * gradients give bit-identical results, which exact resume relies on.
 *
 * Which tensors decay: the weight matrices of attention, MLP and unembedding (W_Q, W_K, W_V, W_O,
 * W_in, W_out, W_U). Biases, LayerNorm gains/biases and the token/position embeddings do not —
 * minGPT's choice (karpathy/minGPT, mingpt/model.py `configure_optimizers`: "biases, and
 * layernorm/embedding weights" get no decay), since decaying a LayerNorm gain or an embedding
 * row pulls it toward a meaningless zero rather than regularising a linear map.
 *
 * Gradient clipping: the global L2 norm over all tensors, scaled down to `maxNorm` when larger with
 * torch.nn.utils.clip_grad_norm_'s coefficient maxNorm / (norm + 1e-6) (Pascanu et al. 2013).
 */
import { paramShapes, type ModelConfig, type Weights } from '../config.js';
import { UserError } from '../../errors.js';

export class OptimizerError extends UserError {
  override name = 'OptimizerError';
}

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay λ (applied to `decays(name)` tensors only). */
  weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWOptions = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

/** True for the parameters that get weight decay (see the module comment). */
export function decays(name: string): boolean {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  return leaf.startsWith('W_') && name !== 'embed.W_E' && name !== 'pos_embed.W_pos';
}

/** Adam's moments and the number of updates taken; checkpointed beside the weights. */
export interface OptimizerState {
  step: number;
  /** First moments, one per parameter (TL names). */
  m: Weights;
  /** Second moments. */
  v: Weights;
}

export function zeroState(cfg: ModelConfig): OptimizerState {
  const m: Weights = new Map();
  const v: Weights = new Map();
  for (const [name, shape] of paramShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    m.set(name, new Float32Array(n));
    v.set(name, new Float32Array(n));
  }
  return { step: 0, m, v };
}

export function checkAdamW(o: AdamWOptions): void {
  if (!(o.beta1 >= 0 && o.beta1 < 1)) throw new OptimizerError(`beta1 must be in [0, 1), got ${o.beta1}`);
  if (!(o.beta2 >= 0 && o.beta2 < 1)) throw new OptimizerError(`beta2 must be in [0, 1), got ${o.beta2}`);
  if (!(o.eps > 0)) throw new OptimizerError(`eps must be positive, got ${o.eps}`);
  if (!(o.weightDecay >= 0)) throw new OptimizerError(`weight decay must be ≥ 0, got ${o.weightDecay}`);
}

/** Global L2 norm of all gradients (float64 accumulation). */
export function globalNorm(grads: Weights): number {
  let s = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/**
 * Clips `grads` in place to global norm ≤ maxNorm (maxNorm = 0 or Infinity: no clipping).
 * Returns the norm before clipping and the factor applied (1 when not clipped).
 */
export function clipGlobalNorm(grads: Weights, maxNorm: number): { norm: number; scale: number } {
  const norm = globalNorm(grads);
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm) || !(norm > maxNorm)) return { norm, scale: 1 };
  const scale = maxNorm / (norm + 1e-6);
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= scale;
  return { norm, scale };
}

/** One AdamW update of `weights` in place with learning rate `lr`; advances state.step. */
export function adamwUpdate(weights: Weights, grads: Weights, state: OptimizerState, lr: number, o: AdamWOptions): void {
  const t = state.step + 1;
  const { beta1: b1, beta2: b2, eps } = o;
  const bc1 = 1 - b1 ** t;
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  const stepSize = lr / bc1;
  for (const [name, p] of weights) {
    const g = grads.get(name);
    const m = state.m.get(name);
    const v = state.v.get(name);
    if (!g || !m || !v || g.length !== p.length || m.length !== p.length || v.length !== p.length) {
      throw new OptimizerError(`parameter "${name}": gradient or optimizer state is missing or has the wrong size`);
    }
    const keep = decays(name) ? 1 - lr * o.weightDecay : 1;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] = p[i] * keep - (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
    }
  }
  state.step = t;
}
