/**
 * TransformerLens weight processing (server/model/process.ts): fold_ln, center_writing_weights and
 * fold_value_biases leave the logits unchanged; center_unembed shifts each position's logits by one
 * constant, so log-probabilities are unchanged. On every normalization and block layout.
 */
import { describe, expect, it } from 'vitest';
import { type ModelConfig, paramShapes } from '../../server/model/config.js';
import { processWeights } from '../../server/model/process.js';
import { referenceForward } from '../../server/model/reference.js';
import { randomWeights } from './fixtures.js';
import { maxAbsDiff, randomTokens, tinyLike } from './onnx/helpers.js';

const base: ModelConfig = { ...tinyLike(), d_head: 6 };
const CASES: Array<[string, ModelConfig]> = [
  ['LN', base],
  ['LN, parallel', { ...base, parallel_attn_mlp: true }],
  ['LN, attn_only', { ...base, attn_only: true }],
  ['RMS, rotary', { ...base, normalization_type: 'RMS', positional_embedding_type: 'rotary', rotary_dim: 4 }],
  ['LNPre', { ...base, normalization_type: 'LNPre' }],
  ['no normalization', { ...base, normalization_type: null }],
];

/** Row-wise log-softmax of logits [N, V]. */
function logSoftmax(x: Float32Array, V: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / V; r++) {
    const row = x.subarray(r * V, (r + 1) * V);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    for (let v = 0; v < V; v++) out[r * V + v] = row[v] - lse;
  }
  return out;
}

describe('processWeights', () => {
  for (const [label, cfg] of CASES) {
    it(`${label}: fold_ln + center_writing_weights + fold_value_biases keep the logits; + center_unembed keeps the log-probabilities`, () => {
      const w = randomWeights(cfg, 7, 1.5);
      const B = 2,
        T = 11;
      const tokens = { B, T, data: randomTokens(cfg, B * T, 3) };
      const before = referenceForward(cfg, w, tokens).logits;
      const scale = Math.max(1, ...Array.from(before, Math.abs));

      const a = processWeights(cfg, w, { fold_ln: true, center_writing_weights: true, fold_value_biases: true });
      expect(new Set(a.weights.keys())).toEqual(new Set(paramShapes(a.cfg).map(([n]) => n)));
      expect(maxAbsDiff(referenceForward(a.cfg, a.weights, tokens).logits, before)).toBeLessThan(1e-4 * scale);
      for (let l = 0; l < cfg.n_layers; l++) expect(a.weights.get(`blocks.${l}.attn.b_V`)!.every((v) => v === 0)).toBe(true);

      const b = processWeights(cfg, w, { fold_ln: true, center_writing_weights: true, center_unembed: true, fold_value_biases: true });
      const V = cfg.d_vocab;
      const after = referenceForward(b.cfg, b.weights, tokens).logits;
      expect(maxAbsDiff(logSoftmax(after, V), logSoftmax(before, V))).toBeLessThan(1e-4 * scale);
      // center_unembed: every W_U row and b_U now average 0 over the vocabulary.
      const WU = b.weights.get('unembed.W_U')!;
      for (let d = 0; d < cfg.d_model; d++) expect(Math.abs(WU.subarray(d * V, (d + 1) * V).reduce((s, x) => s + x, 0))).toBeLessThan(1e-4);
      expect(w.get('unembed.W_U')).not.toEqual(WU); // the input is left as it was
    });
  }

  it('turns LN into LNPre and RMS into RMSPre, dropping the ln weights; says what it did and what it skipped', () => {
    const ln = processWeights(base, randomWeights(base, 1), { fold_ln: true, center_writing_weights: true });
    expect(ln.cfg.normalization_type).toBe('LNPre');
    expect([...ln.weights.keys()].filter((k) => k.includes('ln'))).toEqual([]);
    expect(ln.log[0]).toMatch(/^fold_ln: LN gains, biases folded .* normalization_type is now LNPre$/);
    // Folded LN weights are centred over d_model (TL's center_weights).
    const WQ = ln.weights.get('blocks.1.attn.W_Q')!; // [H, D, E]
    let colSum = 0;
    for (let d = 0; d < base.d_model; d++) colSum += WQ[d * base.d_head + 2];
    expect(Math.abs(colSum)).toBeLessThan(1e-5);

    const rmsCfg: ModelConfig = { ...base, normalization_type: 'RMS' };
    const rms = processWeights(rmsCfg, randomWeights(rmsCfg, 2), { fold_ln: true, center_writing_weights: true });
    expect(rms.cfg.normalization_type).toBe('RMSPre');
    expect(rms.log[1]).toBe(`center_writing_weights: skipped, as in TL: normalization_type "RMS" does not remove the residual's mean`);
    const none = processWeights({ ...base, normalization_type: null }, randomWeights({ ...base, normalization_type: null }, 3), { fold_ln: true });
    expect(none.log).toEqual(['fold_ln: nothing to fold (normalization_type null has no weights)']);
  });
});
