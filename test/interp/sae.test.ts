/**
 * Sparse autoencoders (server/interp/sae): the ONNX step graph's gradients against central finite
 * differences of the TypeScript reference loss (both architectures), its forward against the
 * reference forward, the decoder-norm constraint, and training that recovers a planted sparse
 * dictionary (data made of k-sparse combinations of known unit directions).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { activate, decode, initSae, loss, preActivations, type SaeShape, type SaeWeights, SAE_PARAMS } from '../../server/interp/sae/sae.js';
import { SaeTrainer } from '../../server/interp/sae/train.js';

const trainers: SaeTrainer[] = [];
afterAll(async () => {
  for (const t of trainers) await t.dispose();
});

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * (rng.float() + rng.float() + rng.float() - 1.5) * 2;
  return out;
}

function copy(w: SaeWeights): SaeWeights {
  return { W_enc: w.W_enc.slice(), b_enc: w.b_enc.slice(), W_dec: w.W_dec.slice(), b_dec: w.b_dec.slice() };
}

describe('SAE step graph', () => {
  for (const architecture of ['relu', 'topk'] as const) {
    it(`${architecture}: gradients equal central finite differences of the reference loss`, async () => {
      const shape: SaeShape = { d_in: 6, d_sae: 10, architecture, k: 3 };
      const rng = new Rng(`grad-${architecture}`);
      const B = 5;
      const x = randn(rng, B * shape.d_in, 2);
      const w = initSae(shape, rng, { x, n: B });
      // Move off the tied initialisation so every term of the gradient is exercised.
      for (const p of SAE_PARAMS) {
        const noise = randn(rng, w[p].length, 0.3);
        for (let i = 0; i < w[p].length; i++) w[p][i] += noise[i];
      }
      const l1 = architecture === 'relu' ? 0.7 : 0;
      const t = await SaeTrainer.create(shape, copy(w));
      trainers.push(t);
      const at = copy(t.weights);
      const { loss: graphLoss, grads } = await t.gradients(x, B, l1);
      expect(graphLoss).toBeCloseTo(loss(shape, at, x, B, l1), 3);
      const h = 1e-3;
      let checked = 0;
      for (const p of SAE_PARAMS) {
        const g = grads.get(p)!;
        for (let i = 0; i < at[p].length; i += 3) {
          const plus = copy(at);
          plus[p][i] += h;
          const minus = copy(at);
          minus[p][i] -= h;
          const fd = (loss(shape, plus, x, B, l1) - loss(shape, minus, x, B, l1)) / (2 * h);
          // A TopK boundary or ReLU kink crossed within ±h makes the difference quotient meaningless there.
          const z0 = activate(shape, preActivations(shape, plus, x, B), B).map((v) => (v > 0 ? 1 : 0));
          const z1 = activate(shape, preActivations(shape, minus, x, B), B).map((v) => (v > 0 ? 1 : 0));
          if (z0.some((v, j) => v !== z1[j])) continue;
          expect(g[i], `${p}[${i}]`).toBeCloseTo(fd, 2);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(40);
    });
  }

  it('the forward graph equals the reference forward (x̂ and z), for topk keeping exactly k latents per row at most', async () => {
    const shape: SaeShape = { d_in: 8, d_sae: 32, architecture: 'topk', k: 4 };
    const rng = new Rng('forward');
    const B = 7;
    const x = randn(rng, B * shape.d_in);
    const t = await SaeTrainer.create(shape, initSae(shape, rng, { x, n: B }));
    trainers.push(t);
    const { x_hat, z } = await t.forward(x, B);
    const zRef = activate(shape, preActivations(shape, t.weights, x, B), B);
    const xRef = decode(shape, t.weights, zRef, B);
    for (let i = 0; i < z.length; i++) expect(z[i]).toBeCloseTo(zRef[i], 4);
    for (let i = 0; i < x_hat.length; i++) expect(x_hat[i]).toBeCloseTo(xRef[i], 4);
    for (let b = 0; b < B; b++) expect(z.subarray(b * 32, (b + 1) * 32).filter((v) => v > 0).length).toBeLessThanOrEqual(4);
  });

  it('training keeps decoder rows at unit norm and recovers a planted sparse dictionary', async () => {
    // 24 unit directions in 16 dimensions; each row is 2 of them with positive weights.
    const d_in = 16;
    const truth = 24;
    const rng = new Rng('planted');
    const dirs = randn(rng, truth * d_in);
    for (let i = 0; i < truth; i++) {
      let n = 0;
      for (let d = 0; d < d_in; d++) n += dirs[i * d_in + d] ** 2;
      for (let d = 0; d < d_in; d++) dirs[i * d_in + d] /= Math.sqrt(n);
    }
    const batch = (B: number): Float32Array => {
      const x = new Float32Array(B * d_in);
      for (let b = 0; b < B; b++)
        for (let j = 0; j < 2; j++) {
          const i = rng.int(truth);
          const a = 0.5 + rng.float();
          for (let d = 0; d < d_in; d++) x[b * d_in + d] += a * dirs[i * d_in + d];
        }
      return x;
    };
    const shape: SaeShape = { d_in, d_sae: 48, architecture: 'topk', k: 2 };
    const B = 256;
    const t = await SaeTrainer.create(shape, initSae(shape, new Rng('init'), { x: batch(B), n: B }));
    trainers.push(t);
    let first = 0;
    let last = 0;
    for (let s = 0; s < 1500; s++) {
      const r = await t.step(batch(B), B, 3e-3, 0);
      if (s === 0) first = r.mse;
      last = r.mse;
      if (s % 250 === 249) {
        const { x_hat } = await t.forward(batch(B), B);
        const dead = [...Array(shape.d_sae).keys()].filter((i) => r.fired[i] === 0);
        t.resample(dead.slice(0, 4), batch(B), x_hat, B, rng);
      }
    }
    expect(last).toBeLessThan(first / 10);
    for (let i = 0; i < shape.d_sae; i++) {
      let n = 0;
      for (let d = 0; d < d_in; d++) n += t.weights.W_dec[i * d_in + d] ** 2;
      expect(Math.sqrt(n)).toBeCloseTo(1, 4);
    }
    // Most planted directions have a decoder row within cosine 0.9.
    let found = 0;
    for (let i = 0; i < truth; i++) {
      let best = 0;
      for (let j = 0; j < shape.d_sae; j++) {
        let c = 0;
        for (let d = 0; d < d_in; d++) c += dirs[i * d_in + d] * t.weights.W_dec[j * d_in + d];
        best = Math.max(best, c);
      }
      if (best > 0.9) found++;
    }
    expect(found).toBeGreaterThanOrEqual(18);
  }, 60_000);
});

describe('scoring latents against properties', () => {
  it('ranks share ties; AUC is 1 for a latent that separates a category, 0 reversed, ½ when blind, NaN without rows', async () => {
    const { averageRanks, bestPerCategory, categoryAucs } = await import('../../server/interp/sae/scoring.js');
    expect(Array.from(averageRanks([0, 3, 0, 1]))).toEqual([1.5, 4, 1.5, 3]);
    // 6 rows, 3 latents: latent 0 fires exactly on category 0's rows, latent 1 on everything but
    // them, latent 2 is constant; category 2 has no rows; the last row is unlabelled.
    const labels = Int32Array.from([0, 0, 1, 1, 1, -1]);
    const z = Float32Array.from(
      [
        [2, 0, 1],
        [1, 0, 1],
        [0, 3, 1],
        [0, 1, 1],
        [0, 2, 1],
        [9, 0, 1],
      ].flat(),
    );
    const auc = categoryAucs(z, 6, 3, labels, 3);
    expect(Array.from(auc.subarray(0, 3))).toEqual([1, 0, 0.5]);
    expect(Array.from(auc.subarray(3, 6))).toEqual([0, 1, 0.5]);
    expect(Array.from(auc.subarray(6, 9)).every(Number.isNaN)).toBe(true);
    expect(bestPerCategory(auc, 3, 3)).toEqual([
      { latent: 0, auc: 1 },
      { latent: 1, auc: 1 },
      { latent: -1, auc: NaN },
    ]);
  });
});
