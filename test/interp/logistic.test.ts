/** logistic.ts: probes learn a linear rule, and sit at chance on labels independent of the features. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { fitLogistic, jsBackend, ortBackend, predictLogistic, scoreLogistic, spdInverse } from '../../server/interp/logistic.js';

function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.float())) * Math.cos(2 * Math.PI * rng.float());
}

function data(N: number, D: number, seed: number) {
  const rng = new Rng(seed);
  return Float32Array.from({ length: N * D }, () => gaussian(rng) * 3 + 1);
}

describe('fitLogistic', async () => {
  it('recovers a linear rule (two outputs, one its negation) with high test accuracy', async () => {
    const D = 10,
      N = 400,
      M = 400;
    const w = Array.from({ length: D }, (_, d) => (d % 3) - 1);
    const label = (X: Float32Array, n: number) => {
      const Y = new Uint8Array(n * 2);
      for (let i = 0; i < n; i++) {
        let s = -1;
        for (let d = 0; d < D; d++) s += w[d] * X[i * D + d];
        Y[i * 2] = s > 0 ? 1 : 0;
        Y[i * 2 + 1] = 1 - Y[i * 2];
      }
      return Y;
    };
    const Xtr = data(N, D, 1),
      Xte = data(M, D, 2);
    const model = await fitLogistic(Xtr, label(Xtr, N), N, D, 2, { lambda: 1e-3, iters: 400 });
    const s = scoreLogistic(model, Xte, label(Xte, M), M, label(Xtr, N), N);
    expect(s.accuracy[0]).toBeGreaterThan(0.95);
    expect(s.accuracy[1]).toBeGreaterThan(0.95);
    const p = predictLogistic(model, Xte, M);
    for (let i = 0; i < M; i++) expect(p[i * 2] + p[i * 2 + 1]).toBeCloseTo(1, 2);
  });

  it('on random labels (independent of the features) test accuracy sits at chance', async () => {
    const D = 16,
      N = 600,
      M = 2000,
      K = 6;
    const rng = new Rng(9);
    const Ytr = Uint8Array.from({ length: N * K }, () => (rng.float() < 0.5 ? 1 : 0));
    const Yte = Uint8Array.from({ length: M * K }, () => (rng.float() < 0.5 ? 1 : 0));
    const model = await fitLogistic(data(N, D, 3), Ytr, N, D, K);
    const s = scoreLogistic(model, data(M, D, 4), Yte, M, Ytr, N);
    for (let k = 0; k < K; k++) {
      expect(Math.abs(s.accuracy[k] - 0.5)).toBeLessThan(0.05);
      expect(Math.abs(s.balanced[k] - 0.5)).toBeLessThan(0.05);
    }
  });

  it('is deterministic', async () => {
    const Y = Uint8Array.from({ length: 50 }, (_, i) => i % 2);
    const a = await fitLogistic(data(50, 4, 5), Y, 50, 4, 1),
      b = await fitLogistic(data(50, 4, 5), Y, 50, 4, 1);
    expect(Array.from(a.W)).toEqual(Array.from(b.W));
  });

  it('converges before the step cap on correlated features (Böhning bound + momentum)', async () => {
    const N = 300,
      D = 12,
      K = 3;
    const base = data(N, D, 6);
    const X = base.map((v, i) => v + 5 * base[Math.floor(i / D) * D]); // every feature shares feature 0
    const rng = new Rng(2);
    const Y = Uint8Array.from({ length: N * K }, (_, j) => (X[Math.floor(j / K) * D + (j % K)] + rng.float() > 1 ? 1 : 0));
    const m = await fitLogistic(X, Y, N, D, K, { iters: 500, tol: 1e-6 });
    expect(m.iters).toBeLessThan(500);
  });

  it('the ONNX Runtime backend gives the same probes as the float64 one', async () => {
    const N = 200,
      D = 8,
      K = 4;
    const X = data(N, D, 7);
    const rng = new Rng(3);
    const Y = Uint8Array.from({ length: N * K }, (_, j) => (X[Math.floor(j / K) * D + (j % K)] > 1 + rng.float() ? 1 : 0));
    const ort = await ortBackend();
    try {
      const a = await fitLogistic(X, Y, N, D, K, { iters: 60 }, jsBackend);
      const b = await fitLogistic(X, Y, N, D, K, { iters: 60 }, ort);
      const pa = predictLogistic(a, X, N),
        pb = predictLogistic(b, X, N);
      let max = 0;
      for (let i = 0; i < pa.length; i++) max = Math.max(max, Math.abs(pa[i] - pb[i]));
      expect(max).toBeLessThan(1e-3);
    } finally {
      await ort.dispose();
    }
  });
});

describe('spdInverse', () => {
  it('inverts a symmetric positive-definite matrix and rejects an indefinite one', () => {
    const A = Float64Array.of(4, 2, 0.5, 2, 3, 0.25, 0.5, 0.25, 2);
    const inv = spdInverse(A, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += A[i * 3 + k] * inv[k * 3 + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    expect(() => spdInverse(Float64Array.of(1, 2, 2, 1), 2)).toThrow(/not positive definite/);
  });
});
