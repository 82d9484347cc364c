/**
 * Sparse autoencoders on one hook's activations (issue 19), in SAELens' layout and conventions
 * (jbloomAus/SAELens, `sae.py`): weights W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in],
 * b_dec [d_in], and
 *
 *   pre  = (x − b_dec) · W_enc + b_enc              [B, d_sae]   (apply_b_dec_to_input)
 *   z    = ReLU(pre)                                 relu ("standard"; trained with an L1 penalty)
 *        | ReLU(TopK_k(pre)), other latents 0        topk (Gao et al. 2024, "Scaling and evaluating
 *                                                    sparse autoencoders", arXiv:2406.04093)
 *        | ReLU(pre) · [pre > θ]                     jumprelu (Rajamanoharan et al. 2024, "Jumping
 *                                                    ahead", arXiv:2407.14435; SAELens JumpReLUSAE),
 *                                                    a threshold θ [d_sae] per latent (trained with
 *                                                    an L0 penalty, train.ts)
 *   x̂    = z · W_dec + b_dec                         [B, d_in]
 *
 * This module is the plain-TypeScript reference (float64 accumulation): initialisation, encode /
 * decode, decoder-norm constraint and reconstruction statistics. Training runs on ONNX Runtime
 * (train.ts); its gradients are checked against finite differences of `loss` here.
 */
import type { Rng } from '../../maze/rng.js';

export type SaeArchitecture = 'topk' | 'relu' | 'jumprelu';

/** What defines an SAE's arithmetic (the rest of SAELens' cfg.json is provenance, see format.ts). */
export interface SaeShape {
  d_in: number;
  d_sae: number;
  architecture: SaeArchitecture;
  /** topk: latents kept per row. */
  k: number;
  /** jumprelu: each latent's threshold θ [d_sae] (the trainer keeps it at exp of its log θ). */
  threshold?: Float32Array;
}

export interface SaeWeights {
  /** [d_in, d_sae] */
  W_enc: Float32Array;
  /** [d_sae] */
  b_enc: Float32Array;
  /** [d_sae, d_in], rows of unit norm while training (see normalizeDecoder). */
  W_dec: Float32Array;
  /** [d_in] */
  b_dec: Float32Array;
}

export const SAE_PARAMS = ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const;
export type SaeParam = (typeof SAE_PARAMS)[number];

export function saeParamShape(s: SaeShape, name: SaeParam): number[] {
  switch (name) {
    case 'W_enc':
      return [s.d_in, s.d_sae];
    case 'b_enc':
      return [s.d_sae];
    case 'W_dec':
      return [s.d_sae, s.d_in];
    case 'b_dec':
      return [s.d_in];
  }
}

/** Scales every decoder row to unit L2 norm in place (Bricken et al. 2023's constraint; an L1 penalty is otherwise gamed by shrinking z and growing W_dec). */
export function normalizeDecoder(s: SaeShape, w: SaeWeights): void {
  const { d_in, d_sae } = s;
  for (let i = 0; i < d_sae; i++) {
    let n = 0;
    for (let d = 0; d < d_in; d++) n += w.W_dec[i * d_in + d] ** 2;
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let d = 0; d < d_in; d++) w.W_dec[i * d_in + d] *= inv;
  }
}

/**
 * Initial weights: W_dec rows random unit vectors, W_enc = W_decᵀ (the tied initialisation Gao et
 * al. 2024 §2.2 and SAELens' `decoder_heuristic_init` use), b_enc = 0, b_dec = the mean of `sample`
 * (x [n, d_in]; zeros without one), so training starts from reconstructing the mean.
 */
export function initSae(s: SaeShape, rng: Rng, sample?: { x: Float32Array; n: number }): SaeWeights {
  const { d_in, d_sae } = s;
  const W_dec = Float32Array.from({ length: d_sae * d_in }, () => rng.normal()); // [d_sae, d_in]
  const w: SaeWeights = { W_enc: new Float32Array(d_in * d_sae), b_enc: new Float32Array(d_sae), W_dec, b_dec: new Float32Array(d_in) };
  normalizeDecoder(s, w);
  for (let i = 0; i < d_sae; i++) for (let d = 0; d < d_in; d++) w.W_enc[d * d_sae + i] = W_dec[i * d_in + d];
  if (sample && sample.n > 0) {
    const mean = new Float64Array(d_in);
    for (let r = 0; r < sample.n; r++) for (let d = 0; d < d_in; d++) mean[d] += sample.x[r * d_in + d];
    for (let d = 0; d < d_in; d++) w.b_dec[d] = mean[d] / sample.n;
  }
  return w;
}

/** pre-activations [B, d_sae] of rows x [B, d_in]. */
export function preActivations(s: SaeShape, w: SaeWeights, x: Float32Array, B: number): Float64Array {
  const { d_in, d_sae } = s;
  const pre = new Float64Array(B * d_sae);
  const xc = new Float64Array(d_in);
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < d_in; d++) xc[d] = x[b * d_in + d] - w.b_dec[d];
    const row = pre.subarray(b * d_sae, (b + 1) * d_sae);
    for (let i = 0; i < d_sae; i++) row[i] = w.b_enc[i];
    for (let d = 0; d < d_in; d++) {
      const v = xc[d];
      if (v === 0) continue;
      const o = d * d_sae;
      for (let i = 0; i < d_sae; i++) row[i] += v * w.W_enc[o + i];
    }
  }
  return pre;
}

/** z [B, d_sae]: ReLU, or for topk the k largest pre-activations of each row (ties: lower index) through ReLU. */
export function activate(s: SaeShape, pre: Float64Array, B: number): Float64Array {
  const { d_sae, k } = s;
  const z = new Float64Array(B * d_sae);
  if (s.architecture === 'relu') {
    for (let i = 0; i < z.length; i++) z[i] = pre[i] > 0 ? pre[i] : 0;
    return z;
  }
  if (s.architecture === 'jumprelu') {
    const th = jumpThreshold(s);
    for (let i = 0; i < z.length; i++) z[i] = pre[i] > 0 && pre[i] > th[i % d_sae] ? pre[i] : 0;
    return z;
  }
  const idx = Array.from({ length: d_sae }, (_, i) => i);
  for (let b = 0; b < B; b++) {
    const row = pre.subarray(b * d_sae, (b + 1) * d_sae);
    idx.sort((i, j) => row[j] - row[i] || i - j);
    for (let t = 0; t < Math.min(k, d_sae); t++) {
      const i = idx[t];
      if (row[i] > 0) z[b * d_sae + i] = row[i];
    }
    for (let i = 0; i < d_sae; i++) idx[i] = i;
  }
  return z;
}

/** A jumprelu shape's thresholds, checked: [d_sae] finite values. */
export function jumpThreshold(s: SaeShape): Float32Array {
  const th = s.threshold;
  if (!th || th.length !== s.d_sae) throw new RangeError(`a jumprelu SAE needs a threshold of ${s.d_sae} values, got ${th?.length ?? 'none'}`);
  if (!th.every(Number.isFinite)) throw new RangeError('a jumprelu SAE threshold holds a non-finite value');
  return th;
}

/** x̂ [B, d_in] = z · W_dec + b_dec. */
export function decode(s: SaeShape, w: SaeWeights, z: ArrayLike<number>, B: number): Float64Array {
  const { d_in, d_sae } = s;
  const out = new Float64Array(B * d_in);
  for (let b = 0; b < B; b++) {
    const row = out.subarray(b * d_in, (b + 1) * d_in);
    for (let d = 0; d < d_in; d++) row[d] = w.b_dec[d];
    for (let i = 0; i < d_sae; i++) {
      const zi = z[b * d_sae + i];
      if (zi === 0) continue;
      const o = i * d_in;
      for (let d = 0; d < d_in; d++) row[d] += zi * w.W_dec[o + d];
    }
  }
  return out;
}

/**
 * The training loss: mean over rows of ‖x̂ − x‖² plus the sparsity term with coefficient `l1`: for
 * relu l1 · mean over rows of Σ|z|, for jumprelu λ = l1 times the mean count of active latents (L0).
 */
export function loss(s: SaeShape, w: SaeWeights, x: Float32Array, B: number, l1: number): number {
  const z = activate(s, preActivations(s, w, x, B), B);
  const xh = decode(s, w, z, B);
  let mse = 0;
  for (let i = 0; i < xh.length; i++) mse += (xh[i] - x[i]) ** 2;
  let sparsity = 0;
  if (s.architecture === 'relu') for (let i = 0; i < z.length; i++) sparsity += Math.abs(z[i]);
  if (s.architecture === 'jumprelu') for (let i = 0; i < z.length; i++) sparsity += z[i] > 0 ? 1 : 0;
  return mse / B + (l1 * sparsity) / B;
}

/** Sums over a set of rows, from which MSE, explained variance and L0 follow (`stats`). */
export interface ReconAccumulator {
  rows: number;
  /** Σ ‖x̂ − x‖² */
  sse: number;
  /** Σ x and Σ ‖x‖² per feature, for the total variance. */
  sum: Float64Array;
  sumSq: number;
  /** Σ over rows of the number of active latents. */
  active: number;
}

export function reconAccumulator(d_in: number): ReconAccumulator {
  return { rows: 0, sse: 0, sum: new Float64Array(d_in), sumSq: 0, active: 0 };
}

/** Adds rows x [B, d_in] with their reconstructions x̂ and active-latent count. */
export function accumulate(acc: ReconAccumulator, x: Float32Array, xh: ArrayLike<number>, B: number, active: number): void {
  const d_in = acc.sum.length;
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < d_in; d++) {
      const v = x[b * d_in + d];
      acc.sum[d] += v;
      acc.sumSq += v * v;
      acc.sse += (xh[b * d_in + d] - v) ** 2;
    }
  }
  acc.rows += B;
  acc.active += active;
}

/**
 * mse: mean over rows of ‖x̂ − x‖²; explained_variance: 1 − Σ‖x̂ − x‖² / Σ‖x − x̄‖² (SAELens'
 * evals.py form, with one mean over the whole set); l0: mean active latents per row.
 */
export function stats(acc: ReconAccumulator): { mse: number; explained_variance: number; l0: number } {
  if (acc.rows === 0) return { mse: NaN, explained_variance: NaN, l0: NaN };
  let meanSq = 0;
  for (const s of acc.sum) meanSq += s * s;
  const totalVar = acc.sumSq - meanSq / acc.rows;
  return { mse: acc.sse / acc.rows, explained_variance: totalVar > 0 ? 1 - acc.sse / totalVar : NaN, l0: acc.active / acc.rows };
}
