/**
 * weights kind: the stored cell × cell circuits equal their definitions, singular values match an
 * SVD of the full circuit, and the embedding statistics are well-formed.
 */
import { describe, expect, it } from 'vitest';
import { modelInfo } from '../../server/interp/context.js';
import { matmul, svd } from '../../server/interp/linalg.js';
import { weights } from '../../server/interp/weights.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { ctxOf, noProgress, randomModel, tensorOf } from './helpers.js';

describe('weights', () => {
  it('OV/QK circuits on the coordinate tokens and their SVDs', async () => {
    const model = randomModel('tiny', 4, 41);
    const r = await weights.run(ctxOf(model), weights.paramsSchema.parse({}, modelInfo(model)), noProgress);
    const { n_layers: L, n_heads: H, d_head: E, d_model: D, d_vocab: V } = model.cfg;
    const n = 16,
      K = 4;
    expect(tensorOf(r, 'ov_read').shape).toEqual([L, H, K, 4, 4]);
    expect(tensorOf(r, 'embedding_pca').shape).toEqual([n, 3]);
    // Recompute layer 1 head 1 directly.
    const l = 1,
      h = 1;
    const W = model.weights;
    const ids = Array.from({ length: n }, (_, i) => getTokenizer('aotp-ut').coordId(Math.floor(i / 4), i % 4)); // row-major cells
    const Ec = Float64Array.from({ length: n * D }, (_, x) => W.get('embed.W_E')![ids[Math.floor(x / D)] * D + (x % D)]);
    const slice = (name: string, a: number, b: number) => Float64Array.from(W.get(name)!.subarray(h * a * b, (h + 1) * a * b));
    const wq = slice(`blocks.${l}.attn.W_Q`, D, E),
      wk = slice(`blocks.${l}.attn.W_K`, D, E),
      wv = slice(`blocks.${l}.attn.W_V`, D, E),
      wo = slice(`blocks.${l}.attn.W_O`, E, D);
    const q = matmul(Ec, wq, n, D, E),
      k = matmul(Ec, wk, n, D, E);
    const qk = tensorOf(r, 'qk_cells').data.subarray((l * H + h) * n * n, (l * H + h + 1) * n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let e = 0; e < E; e++) s += q[i * E + e] * k[j * E + e];
        expect(qk[i * n + j]).toBeCloseTo(s / Math.sqrt(E), 3);
      }
    const WU = W.get('unembed.W_U')!;
    const Uc = Float64Array.from({ length: D * n }, (_, x) => WU[Math.floor(x / n) * V + ids[x % n]]);
    const ovWant = matmul(matmul(Ec, matmul(wv, wo, D, E, D), n, D, D), Uc, n, D, n);
    const ov = tensorOf(r, 'ov_cells').data.subarray((l * H + h) * n * n, (l * H + h + 1) * n * n);
    ovWant.forEach((v, i) => expect(ov[i]).toBeCloseTo(v, 2));
    // Singular values equal those of the full D×D circuit.
    const full = svd(matmul(wv, wo, D, E, D), D, D);
    const s = tensorOf(r, 'ov_singular_values').data.subarray((l * H + h) * K, (l * H + h + 1) * K);
    for (let i = 0; i < K; i++) expect(s[i]).toBeCloseTo(full.S[i], 3);
    const emb = r.summary.embedding as { distance_vs_lattice_pearson: number; anchor: number; pca_explained_variance: number[] };
    expect(emb.anchor).toBe(0.368);
    expect(Math.abs(emb.distance_vs_lattice_pearson)).toBeLessThanOrEqual(1);
    expect(emb.pca_explained_variance.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-9);
    // cosines are cosines
    for (const v of tensorOf(r, 'qk_key').data) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6);
  });
});
