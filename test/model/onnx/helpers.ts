/** Shared fixtures for the ONNX engine tests: small configs, random weights, comparisons. */

import { PRESETS, type ActFn, type ModelConfig } from '../../../server/model/config.js';
import { Rng } from '../../../server/maze/rng.js';

export const nano = (act_fn: ActFn = 'gelu_new'): ModelConfig => ({ ...PRESETS.nano, act_fn, d_vocab: 19, tokenizer: 'test' });

/** A tiny-like config (more heads and layers than nano, d_head ≠ d_model / n_heads), small n_ctx. */
export const tinyLike = (act_fn: ActFn = 'gelu_new'): ModelConfig => ({
  d_model: 24,
  n_layers: 3,
  n_heads: 4,
  d_head: 5,
  d_mlp: 40,
  d_vocab: 29,
  n_ctx: 40,
  act_fn,
  eps: 1e-5,
  tokenizer: 'test',
});

export { randomWeights } from '../fixtures.js';

export function randomTokens(cfg: ModelConfig, n: number, seed = 2): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(cfg.d_vocab));
}

/** Max |a − b|, counting equal values (including equal infinities) as 0 and any NaN as Infinity. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const d = Math.abs(a[i] - b[i]);
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return m;
}

/** Rows [b0, b1) of a [B, ...] row-major array with `row` values per batch row. */
export const rows = (a: Float32Array, row: number, b0: number, b1 = b0 + 1): Float32Array => a.slice(b0 * row, b1 * row);

/**
 * One config per TransformerLens architecture variant the engine implements (tinyLike's sizes with
 * d_head 6 so rotary_dim can be partial), plus a GPT-J-like mix. Shared by the forward, cache,
 * generation and training tests so each variant goes through every engine path.
 */
export function architectureCases(): Array<[string, ModelConfig]> {
  const base: ModelConfig = { ...tinyLike(), d_head: 6 };
  return [
    ['rotary (halves, rotary_dim = d_head)', { ...base, positional_embedding_type: 'rotary', rotary_dim: 6 }],
    [
      'rotary (adjacent pairs, rotary_dim 4 < d_head, base 500)',
      { ...base, positional_embedding_type: 'rotary', rotary_dim: 4, rotary_base: 500, rotary_adjacent_pairs: true },
    ],
    ['LNPre', { ...base, normalization_type: 'LNPre' }],
    ['RMS + silu', { ...base, normalization_type: 'RMS', act_fn: 'silu' }],
    ['RMSPre + gelu_fast', { ...base, normalization_type: 'RMSPre', act_fn: 'gelu_fast' }],
    ['no normalization + gelu_pytorch_tanh', { ...base, normalization_type: null, act_fn: 'gelu_pytorch_tanh' }],
    ['attn_only', { ...base, attn_only: true }],
    ['parallel_attn_mlp', { ...base, parallel_attn_mlp: true }],
    ['d_vocab_out < d_vocab', { ...base, d_vocab_out: base.d_vocab - 4 }],
    [
      'GPT-J-like: rotary + RMS + parallel + silu',
      { ...base, positional_embedding_type: 'rotary', rotary_dim: 4, normalization_type: 'RMS', parallel_attn_mlp: true, act_fn: 'silu' },
    ],
  ];
}
