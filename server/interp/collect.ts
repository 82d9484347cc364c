/**
 * Shared plumbing for kinds that read activations: batched cached runs over sequences of
 * different lengths, the final LayerNorm and unembedding applied in TypeScript (logit lens, DLA),
 * and small tensor helpers.
 */
import { SPECIAL } from '../maze/tokenize/index.js';
import { architecture, type ModelConfig, type Weights } from '../model/config.js';
import { padBatch, type OnnxEngine } from '../model/engine.js';
import { chunks } from './context.js';
import type { NamedTensor, Progress } from './types.js';

export interface RowView {
  /** Index of the sequence in the input list. */
  index: number;
  /** Its own length (positions ≥ len are padding). */
  len: number;
  /** Padded length of the batch: the T of every activation's layout. */
  T: number;
  /** This row's slice of hook `name` (layout as TL: [T, ...] or [H, T, T] for patterns). */
  get(name: string): Float32Array;
  /** This row's logits [T, d_vocab]. */
  logits: Float32Array;
}

/**
 * Runs `seqs` in right-padded batches (causal attention: padding never changes earlier positions)
 * and calls `fn` once per sequence with views of the requested activations.
 */
export async function forEachCached(
  engine: OnnxEngine,
  seqs: readonly Int32Array[],
  names: readonly string[],
  fn: (row: RowView) => void,
  opts: { batch?: number; progress?: Progress; from?: number; to?: number } = {},
): Promise<void> {
  const V = engine.cfg.d_vocab;
  const parts = chunks(seqs.length, Math.max(1, opts.batch ?? 8));
  const [f0, f1] = [opts.from ?? 0, opts.to ?? 1];
  for (const [pi, [a, b]] of parts.entries()) {
    const { tokens, B, T } = padBatch(seqs.slice(a, b), SPECIAL.PADDING);
    const res = await engine.runWithCache(tokens, B, T, { names });
    for (let r = 0; r < B; r++) {
      const get = (name: string): Float32Array => {
        const act = res.cache.get(name);
        if (!act) throw new Error(`activation ${name} was not fetched`);
        const per = act.data.length / B;
        return act.data.subarray(r * per, (r + 1) * per);
      };
      fn({ index: a + r, len: seqs[a + r].length, T, get, logits: res.logits.subarray(r * T * V, (r + 1) * T * V) });
    }
    opts.progress?.(f0 + ((f1 - f0) * (pi + 1)) / parts.length, `ran ${b} of ${seqs.length} sequences`);
  }
}

/**
 * The model's final normalization (TL ln_final, per normalization_type) of one vector x [D],
 * recomputing its scale (the logit lens): LN centres, scales, applies w and b; LNPre centres and
 * scales; RMS scales by the root mean square and applies w; RMSPre scales; null is the identity.
 */
export function lnFinal(cfg: ModelConfig, weights: Weights, x: ArrayLike<number>): Float64Array {
  const D = cfg.d_model;
  const norm = architecture(cfg).normalization;
  if (norm === null) return Float64Array.from(x);
  const w = weights.get('ln_final.w'),
    b = weights.get('ln_final.b');
  let mean = 0;
  if (norm === 'LN' || norm === 'LNPre') {
    for (let d = 0; d < D; d++) mean += x[d];
    mean /= D;
  }
  let v = 0;
  for (let d = 0; d < D; d++) v += (x[d] - mean) ** 2;
  const scale = Math.sqrt(v / D + cfg.eps);
  return Float64Array.from({ length: D }, (_, d) => ((x[d] - mean) / scale) * (w ? w[d] : 1) + (b ? b[d] : 0));
}

/** logits [V] = x [D] · W_U + b_U. */
export function unembed(cfg: ModelConfig, weights: Weights, x: ArrayLike<number>): Float64Array {
  const D = cfg.d_model;
  const V = architecture(cfg).d_vocab_out;
  const WU = weights.get('unembed.W_U')!,
    bU = weights.get('unembed.b_U')!;
  const out = Float64Array.from(bU);
  for (let d = 0; d < D; d++) {
    const xd = x[d];
    if (xd === 0) continue;
    for (let v = 0; v < V; v++) out[v] += xd * WU[d * V + v];
  }
  return out;
}

/** Rank of `token` in `logits` (0 = argmax; ties count against it) and its softmax probability. */
export function rankAndProb(logits: ArrayLike<number>, token: number): { rank: number; prob: number } {
  let max = -Infinity;
  for (let v = 0; v < logits.length; v++) if (logits[v] > max) max = logits[v];
  let sum = 0,
    rank = 0;
  for (let v = 0; v < logits.length; v++) {
    sum += Math.exp(logits[v] - max);
    if (v !== token && logits[v] >= logits[token]) rank++;
  }
  return { rank, prob: Math.exp(logits[token] - max) / sum };
}

/** The value, or null where it is not finite (NaN reaches GraphQL as null, never as a float). */
export const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** Ids of the k largest entries, descending (ties: lower id first). */
export function topK(logits: ArrayLike<number>, k: number): number[] {
  const ids = Array.from({ length: logits.length }, (_, i) => i);
  ids.sort((a, b) => logits[b] - logits[a] || a - b);
  return ids.slice(0, k);
}

/** A tensor from plain numbers. */
export function tensor(name: string, shape: number[], data: ArrayLike<number>): NamedTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`tensor ${name}: ${data.length} values for shape [${shape}]`);
  return { name, shape, data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

/** The residual stream read by "layer" i of a lens: blocks.i.hook_resid_pre, and i = n_layers is the final resid_post. */
export function residName(cfg: ModelConfig, i: number): string {
  return i < cfg.n_layers ? `blocks.${i}.hook_resid_pre` : `blocks.${cfg.n_layers - 1}.hook_resid_post`;
}

export const residLabel = (cfg: ModelConfig, i: number): string => (i < cfg.n_layers ? `resid_pre ${i}` : `resid_post ${cfg.n_layers - 1}`);

/** Mean ignoring NaN; NaN when nothing is left. */
export function nanMean(xs: ArrayLike<number>): number {
  let s = 0,
    n = 0;
  for (let i = 0; i < xs.length; i++)
    if (!Number.isNaN(xs[i])) {
      s += xs[i];
      n++;
    }
  return n > 0 ? s / n : NaN;
}

/** JSON-safe number: NaN/±∞ → null, else rounded to 6 significant digits. */
export const num = (x: number): number | null => (Number.isFinite(x) ? Number(x.toPrecision(6)) : null);
