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

/**
 * Checks every third entry of each weight's gradient against central finite differences of the
 * reference loss, skipping entries where ±h flips a latent on or off (a TopK boundary, a ReLU kink,
 * a JumpReLU threshold: the difference quotient means nothing there); returns how many it checked.
 */
function checkWeightGradients(shape: SaeShape, at: SaeWeights, grads: Map<string, Float32Array>, x: Float32Array, B: number, l1: number): number {
  const h = 1e-3;
  let checked = 0;
  for (const p of SAE_PARAMS) {
    const g = grads.get(p)!;
    for (let i = 0; i < at[p].length; i += 3) {
      const plus = copy(at);
      plus[p][i] += h;
      const minus = copy(at);
      minus[p][i] -= h;
      const z0 = activate(shape, preActivations(shape, plus, x, B), B).map((v) => (v > 0 ? 1 : 0));
      const z1 = activate(shape, preActivations(shape, minus, x, B), B).map((v) => (v > 0 ? 1 : 0));
      if (z0.some((v, j) => v !== z1[j])) continue;
      const fd = (loss(shape, plus, x, B, l1) - loss(shape, minus, x, B, l1)) / (2 * h);
      expect(g[i], `${p}[${i}]`).toBeCloseTo(fd, 2);
      checked++;
    }
  }
  return checked;
}

/**
 * A planted sparse dictionary: `truth` random unit directions in d_in dimensions, and batches whose
 * rows are 2 of them with positive weights in [0.5, 1.5); `found` counts the directions some
 * decoder row matches within cosine 0.9.
 */
function planted(seed: string, d_in = 16, truth = 24) {
  const rng = new Rng(seed);
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
  const found = (W_dec: Float32Array, d_sae: number): number => {
    let n = 0;
    for (let i = 0; i < truth; i++) {
      let best = 0;
      for (let j = 0; j < d_sae; j++) {
        let c = 0;
        for (let d = 0; d < d_in; d++) c += dirs[i * d_in + d] * W_dec[j * d_in + d];
        best = Math.max(best, c);
      }
      if (best > 0.9) n++;
    }
    return n;
  };
  return { rng, d_in, batch, found };
}

/** The JumpReLU training test's L0 coefficient and kernel bandwidth (wider than SAELens' 0.001 default, so 1,500 steps suffice). */
const LAMBDA = 0.1;
const BANDWIDTH = 0.05;

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
      const checked = checkWeightGradients(shape, at, grads, x, B, l1);
      expect(checked).toBeGreaterThan(40);
    });
  }

  it("jumprelu: the weights' gradients equal finite differences of the reference loss (L0 term included); the threshold's is the paper's straight-through estimate", async () => {
    const shape: SaeShape = { d_in: 6, d_sae: 10, architecture: 'jumprelu', k: 1, threshold: new Float32Array(10) };
    const rng = new Rng('grad-jumprelu');
    const B = 6;
    const x = randn(rng, B * shape.d_in, 2);
    const w = initSae(shape, rng, { x, n: B });
    for (const p of SAE_PARAMS) {
      const noise = randn(rng, w[p].length, 0.3);
      for (let i = 0; i < w[p].length; i++) w[p][i] += noise[i];
    }
    // Thresholds near the pre-activations, so some fall inside the kernel's window.
    const pre0 = preActivations(shape, w, x, B);
    for (let i = 0; i < shape.d_sae; i++) shape.threshold![i] = Math.max(0.05, Math.abs(pre0[i]) + (i % 2 ? 0.01 : -0.01));
    const lambda = 0.3;
    const eps = 0.5;
    const t = await SaeTrainer.create(shape, copy(w), { bandwidth: eps });
    trainers.push(t);
    const at = copy(t.weights);
    const { loss: graphLoss, grads, result } = await t.gradients(x, B, lambda);
    expect(graphLoss).toBeCloseTo(loss(shape, at, x, B, lambda), 3);
    const z = activate(shape, preActivations(shape, at, x, B), B);
    expect(result.l1).toBeCloseTo(z.filter((v) => v > 0).length / B, 6);
    const checked = checkWeightGradients(shape, at, grads, x, B, lambda);
    expect(checked).toBeGreaterThan(30);
    // ∂L/∂log θ = θ ⊙ −(1/ε)·Σ_rows K ⊙ (θ·dz + λ/B), dz = 2(x̂ − x)/B · W_decᵀ, K = [|pre − θ| < ε/2].
    const pre = preActivations(shape, at, x, B);
    const xh = decode(shape, at, z, B);
    const { d_in, d_sae } = shape;
    const th = shape.threshold!;
    let inWindow = 0;
    const gTh = grads.get('log_threshold')!;
    for (let i = 0; i < d_sae; i++) {
      let sum = 0;
      for (let b = 0; b < B; b++) {
        if (Math.abs(pre[b * d_sae + i] - th[i]) >= eps / 2) continue;
        inWindow++;
        let dz = 0;
        for (let d = 0; d < d_in; d++) dz += ((2 * (xh[b * d_in + d] - x[b * d_in + d])) / B) * at.W_dec[i * d_in + d];
        sum += th[i] * dz + lambda / B;
      }
      expect(gTh[i], `log_threshold[${i}]`).toBeCloseTo(th[i] * (-sum / eps), 4);
    }
    expect(inWindow).toBeGreaterThan(5);
  });

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
    const { rng, d_in, batch, found } = planted('planted');
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
    expect(found(t.weights.W_dec, shape.d_sae)).toBeGreaterThanOrEqual(18);
  }, 60_000);

  it('jumprelu training: the thresholds rise until the L0 penalty stops paying, the reconstruction holds, the planted directions are found', async () => {
    const { d_in, batch, found } = planted('planted-jump');
    const shape: SaeShape = { d_in, d_sae: 48, architecture: 'jumprelu', k: 1, threshold: new Float32Array(48).fill(0.001) };
    const B = 256;
    const t = await SaeTrainer.create(shape, initSae(shape, new Rng('init-jump'), { x: batch(B), n: B }), { bandwidth: BANDWIDTH });
    trainers.push(t);
    let first = { mse: 0, l0: 0 };
    let last = { mse: 0, l0: 0 };
    for (let s = 0; s < 1500; s++) {
      const r = await t.step(batch(B), B, 3e-3, LAMBDA);
      if (s === 0) first = r;
      last = r;
    }
    // Every row is 2 planted directions: L0 goes from half the latents (~24) to about 2 (seen: 2.4),
    // while the error falls (seen: 3.3 → 0.11).
    expect(first.l0).toBeGreaterThan(15);
    expect(last.l0).toBeLessThan(3);
    expect(last.mse).toBeLessThan(first.mse / 10);
    expect(Math.min(...shape.threshold!)).toBeGreaterThan(0);
    expect(Math.max(...shape.threshold!)).toBeGreaterThan(0.01); // thresholds moved off their start
    expect(found(t.weights.W_dec, shape.d_sae)).toBeGreaterThanOrEqual(12);
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

describe('editing features inside the model (error term kept)', () => {
  it('setting a latent to its own value changes nothing; zeroing every latent equals splicing the bias-only reconstruction plus the error', async () => {
    const { featureDeltas, deltaIntervention } = await import('../../server/interp/sae/intervene.js');
    const { randomModel, mazes } = await import('./helpers.js');
    const { encoder } = await import('../../server/interp/context.js');
    const model = randomModel('nano', 3, 5);
    const engine = await model.engine();
    const hook = 'blocks.0.hook_resid_post';
    const d_in = model.cfg.d_model;
    const shape: SaeShape = { d_in, d_sae: 24, architecture: 'topk', k: 4 };
    const seq = encoder(model).encode(mazes(3, 1, 9)[0], new Rng(2));
    const T = seq.length;
    const clean = await engine.runWithCache(seq, 1, T, { names: [hook] });
    const acts = clean.cache.get(hook)!.data; // [1, T, d_in]
    const positions = [3, 7, 11, 15];
    const x = new Float32Array(positions.length * d_in);
    positions.forEach((t, j) => x.set(acts.subarray(t * d_in, (t + 1) * d_in), j * d_in));
    const w = initSae(shape, new Rng('edit'), { x, n: positions.length });
    for (let i = 0; i < w.b_enc.length; i++) w.b_enc[i] = 0.05 * ((i % 5) - 2);
    const z = activate(shape, preActivations(shape, w, x, positions.length), positions.length);
    const active = [...Array(shape.d_sae).keys()].filter((i) => z[i] > 0); // latents firing at the first position
    expect(active.length).toBeGreaterThan(0);

    // Its own value, at each position: no change at all.
    const own = featureDeltas(shape, w, x.subarray(0, d_in), 1, [{ latent: active[0], mode: 'set', value: z[active[0]] }]);
    expect(own.every((v) => v === 0)).toBe(true);
    const same = await engine.runWithInterventions(seq, 1, T, [deltaIntervention(hook, [positions[0]], own, d_in, T)], { names: [] });
    expect(Array.from(same.logits)).toEqual(Array.from(clean.logits));
    // A real edit changes the logits downstream of the position.
    const set = featureDeltas(shape, w, x.subarray(0, d_in), 1, [{ latent: active[0], mode: 'set', value: z[active[0]] + 5 }]);
    const moved = await engine.runWithInterventions(seq, 1, T, [deltaIntervention(hook, [positions[0]], set, d_in, T)], { names: [] });
    expect(Math.max(...Array.from(moved.logits, (v, i) => Math.abs(v - clean.logits[i])))).toBeGreaterThan(1e-3);

    // Zero every latent: x + (b_dec − x̂) at each position, which is the bias-only reconstruction with the error kept.
    const all = [...Array(shape.d_sae).keys()].map((latent) => ({ latent, mode: 'zero' as const }));
    const zeroed = await engine.runWithInterventions(
      seq,
      1,
      T,
      [deltaIntervention(hook, positions, featureDeltas(shape, w, x, positions.length, all), d_in, T)],
      {
        names: [],
      },
    );
    const xh = decode(shape, w, z, positions.length);
    const value = new Float32Array(T * d_in);
    positions.forEach((t, j) => {
      for (let d = 0; d < d_in; d++) value[t * d_in + d] = w.b_dec[d] + (x[j * d_in + d] - xh[j * d_in + d]);
    });
    const spliced = await engine.runWithInterventions(seq, 1, T, [{ hook, kind: 'replace', positions, value }], { names: [] });
    for (let i = 0; i < spliced.logits.length; i++) expect(zeroed.logits[i]).toBeCloseTo(spliced.logits[i], 4);
  });
});

describe('scoring a property a row has several categories of', () => {
  it('multi-label AUC: each category against the property’s other rows; rows outside the property left out', async () => {
    const { multiLabelAucs } = await import('../../server/interp/sae/scoring.js');
    // 5 rows, 2 latents; rows 0-3 have the property (row 4 does not). Category 0 = rows {0, 1},
    // category 1 = rows {1, 2, 3}, category 2 = no rows, category 3 = every row.
    const z = Float32Array.from(
      [
        [3, 0],
        [2, 1],
        [0, 2],
        [0, 3],
        [9, 9],
      ].flat(),
    );
    const auc = multiLabelAucs(z, 2, Int32Array.from([0, 1, 2, 3]), [
      Int32Array.from([0, 1]),
      Int32Array.from([1, 2, 3]),
      new Int32Array(0),
      Int32Array.from([0, 1, 2, 3]),
    ]);
    expect(Array.from(auc.subarray(0, 2))).toEqual([1, 0]); // latent 0 ranks rows 0, 1 highest
    expect(auc[2]).toBe(0); // latent 0 for {1, 2, 3} (2, 0, 0) vs {0} (3): no positive row above the negative
    expect(auc[3]).toBe(1); // latent 1 for {1, 2, 3} vs {0}
    expect(Number.isNaN(auc[4]) && Number.isNaN(auc[6])).toBe(true);
  });
});

describe('feature views from stored codes', () => {
  it('a ReLU row whose stored code is full without the latent reads as unknown, a TopK row as 0', async () => {
    const { activationsInMaze } = await import('../../server/interp/sae/feature.js');
    // One maze, two rows at positions 1 and 2, codes of 2 latents per row: row 0 full (latents 3, 4),
    // row 1 not full (latent 5 only). Latent 7 is in neither.
    const store = {
      rowMaze: Float32Array.from([0, 0]),
      rowPosition: Float32Array.from([1, 2]),
      codeLatent: Float32Array.from([3, 4, 5, -1]),
      codeValue: Float32Array.from([2, 1, 3, 0]),
      codesPerRow: 2,
    };
    const relu = activationsInMaze({ ...store, codesComplete: false } as never, 7, 0, 4);
    expect(Array.from(relu).map((v) => (Number.isNaN(v) ? null : v))).toEqual([null, null, 0, null]);
    const topk = activationsInMaze({ ...store, codesComplete: true } as never, 7, 0, 4);
    expect(Array.from(topk).map((v) => (Number.isNaN(v) ? null : v))).toEqual([null, 0, 0, null]);
    expect(activationsInMaze({ ...store, codesComplete: false } as never, 4, 0, 4)[1]).toBe(1);
  });
});
