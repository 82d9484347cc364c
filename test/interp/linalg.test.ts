/** linalg.ts: the SVD reconstructs its matrix with orthonormal factors; correlation basics. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { cosine, matmul, pearson, productSvd, svd, type Svd } from '../../server/interp/linalg.js';

const rand = (n: number, seed: number): Float64Array => {
  const r = new Rng(seed);
  return Float64Array.from({ length: n }, () => r.float() * 2 - 1);
};

function reconstruct(s: Svd): Float64Array {
  const US = new Float64Array(s.m * s.k);
  for (let i = 0; i < s.m; i++) for (let j = 0; j < s.k; j++) US[i * s.k + j] = s.U[i * s.k + j] * s.S[j];
  const Vt = new Float64Array(s.k * s.n);
  for (let i = 0; i < s.n; i++) for (let j = 0; j < s.k; j++) Vt[j * s.n + i] = s.V[i * s.k + j];
  return matmul(US, Vt, s.m, s.k, s.n);
}
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));

describe('svd', () => {
  for (const [m, n] of [
    [12, 12],
    [20, 7],
    [6, 15],
    [1, 5],
    [33, 33],
  ]) {
    it(`${m}×${n}: U·S·Vᵀ reconstructs A, S descending, V orthonormal`, () => {
      const A = rand(m * n, m * 100 + n);
      const s = svd(A, m, n);
      expect(s.k).toBe(Math.min(m, n));
      expect(maxDiff(reconstruct(s), A)).toBeLessThan(1e-10);
      for (let i = 1; i < s.k; i++) expect(s.S[i]).toBeLessThanOrEqual(s.S[i - 1]);
      const VtV = matmul(
        Float64Array.from({ length: s.k * s.n }, (_, x) => s.V[(x % s.n) * s.k + Math.floor(x / s.n)]),
        s.V,
        s.k,
        s.n,
        s.k,
      );
      for (let i = 0; i < s.k; i++) for (let j = 0; j < s.k; j++) expect(VtV[i * s.k + j]).toBeCloseTo(i === j ? 1 : 0, 10);
    });
  }

  it('a rank-2 matrix has exactly two non-zero singular values', () => {
    const u = rand(10, 1),
      v = rand(8, 2),
      w = rand(10, 3),
      z = rand(8, 4);
    const A = Float64Array.from({ length: 80 }, (_, x) => u[Math.floor(x / 8)] * v[x % 8] + w[Math.floor(x / 8)] * z[x % 8]);
    const s = svd(A, 10, 8);
    expect(s.S[1]).toBeGreaterThan(1e-6);
    for (let i = 2; i < s.k; i++) expect(s.S[i]).toBeLessThan(1e-12);
    expect(maxDiff(reconstruct(s), A)).toBeLessThan(1e-12);
  });

  it('productSvd(A, B) reconstructs A·B (an OV circuit W_V·W_O) without forming it', () => {
    const D = 16,
      E = 4;
    const A = rand(D * E, 9),
      B = rand(E * D, 10);
    const s = productSvd(A, B, D, E, D);
    expect(s.k).toBe(E);
    expect(maxDiff(reconstruct(s), matmul(A, B, D, E, D))).toBeLessThan(1e-10);
    const full = svd(matmul(A, B, D, E, D), D, D);
    for (let i = 0; i < E; i++) expect(s.S[i]).toBeCloseTo(full.S[i], 9);
  });
});

describe('pearson / cosine', () => {
  it('are 1 for proportional data, -1 for reversed, NaN for a constant', () => {
    expect(pearson([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([2, 2], [1, 1])).toBeCloseTo(1, 12);
  });
});
