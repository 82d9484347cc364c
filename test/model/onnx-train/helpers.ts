/** Fixtures for the ONNX training-graph tests: configs, random weights and batches, FD helpers. */
import { randomWeights as sharedRandomWeights } from '../fixtures.js';
import { Rng } from '../../../server/maze/rng.js';
import { PRESETS, type ActFn, type ModelConfig, type Weights } from '../../../server/model/config.js';

export const nano = (act_fn: ActFn = 'gelu_new'): ModelConfig => ({ ...PRESETS.nano, act_fn, d_vocab: 19, n_ctx: 16, tokenizer: 'aotp-ut' });
/** The tiny preset's architecture (d_model 32, 4 layers, 2 heads of 16, d_mlp 128), a 4×4-grid vocabulary. */
export const tiny = (): ModelConfig => ({ ...PRESETS.tiny, d_vocab: 27, n_ctx: 64, tokenizer: 'aotp-ut' });
/** Tiny-like but with more heads than nano and d_head ≠ d_model / n_heads. */
export const tinyLike = (act_fn: ActFn = 'gelu_new'): ModelConfig => ({
  d_model: 24,
  n_layers: 3,
  n_heads: 4,
  d_head: 5,
  d_mlp: 40,
  d_vocab: 29,
  n_ctx: 24,
  act_fn,
  eps: 1e-5,
  tokenizer: 'aotp-ut',
});

/** Milder than the engine tests' default scale: finite differences need smooth losses. */
export const randomWeights = (cfg: ModelConfig, seed = 1, scale = 1.5): Weights => sharedRandomWeights(cfg, seed, scale);

/** A random loss batch: tokens, next-token targets, and a mask with some zeros (like prompt/pad positions). */
export function randomBatch(cfg: ModelConfig, B: number, T: number, seed = 2) {
  const rng = new Rng(seed);
  const tokens = Int32Array.from({ length: B * T }, () => rng.int(cfg.d_vocab));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(cfg.d_vocab_out ?? cfg.d_vocab)); // next-token ids index the unembedding
  const mask = Float32Array.from({ length: B * T }, (_, i) => (i % T < 2 || rng.chance(0.2) ? 0 : 1));
  return { B, T, tokens, targets, mask };
}

/** A standard normal draw (Box–Muller). */
export function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.float())) * Math.cos(2 * Math.PI * rng.float());
}

/**
 * A unit direction half along g and half random, so g·u ≈ |g|/√2 cannot cancel to ~0 and a
 * relative comparison of directional derivatives is meaningful.
 */
export function probeDirection(g: ArrayLike<number>, rng: Rng): Float64Array {
  const r = Float64Array.from({ length: g.length }, () => normal(rng));
  const ng = Math.hypot(...Array.from(g));
  const nr = Math.hypot(...r);
  const u = r.map((v, i) => v / nr + (ng > 0 ? g[i] / ng : 0));
  const nu = Math.hypot(...u);
  return u.map((v) => v / nu);
}

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** |a − b| / max(|a|, |b|), 0 when both are 0. */
export const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));

/** Central difference of f along u at step eps: (f(+) − f(−)) / 2ε, with `apply(sign·ε)` setting the point. */
export function centralDiff(f: (delta: number) => number, eps: number): number {
  return (f(eps) - f(-eps)) / (2 * eps);
}

/** Each architecture variant at nano size (see ../onnx/helpers.ts architectureCases for the engine's). */
export function nanoArchitectures(): Array<[string, ModelConfig]> {
  const base = nano();
  return [
    ['rotary (halves, rotary_dim = d_head)', { ...base, positional_embedding_type: 'rotary', rotary_dim: 4 }],
    [
      'rotary (adjacent pairs, rotary_dim 2, base 500)',
      { ...base, positional_embedding_type: 'rotary', rotary_dim: 2, rotary_base: 500, rotary_adjacent_pairs: true },
    ],
    ['LNPre', { ...base, normalization_type: 'LNPre' }],
    ['RMS + silu', { ...base, normalization_type: 'RMS', act_fn: 'silu' }],
    ['RMSPre', { ...base, normalization_type: 'RMSPre' }],
    ['no normalization', { ...base, normalization_type: null }],
    ['attn_only', { ...base, attn_only: true }],
    ['parallel_attn_mlp', { ...base, parallel_attn_mlp: true }],
    ['d_vocab_out < d_vocab', { ...base, d_vocab_out: base.d_vocab - 5 }],
    [
      'GPT-J-like: rotary + RMS + parallel + silu',
      { ...base, positional_embedding_type: 'rotary', rotary_dim: 2, normalization_type: 'RMS', parallel_attn_mlp: true, act_fn: 'silu' },
    ],
  ];
}
