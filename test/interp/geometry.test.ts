/**
 * Residual-stream geometry (issue 19): maze distances by BFS, kNN purity and its chance level,
 * the distance's neighbour gain, PCA on data with a known spectrum, and the kind's shapes, counts
 * and reported subsampling on a small random model.
 */
import { describe, expect, it } from 'vitest';
import { TSNE } from '@saehrimnir/druidjs';
import { modelInfo } from '../../server/interp/context.js';
import { geometry, nearest, neighbourGain, paramsSchema, pca2, PROPERTIES, purity } from '../../server/interp/geometry.js';
import { Rng } from '../../server/maze/rng.js';
import { bfsDistances } from '../../server/maze/solve.js';
import { ctxOf, mazes, noProgress, randomModel, tensorOf } from './helpers.js';

describe('geometry helpers', () => {
  it('maze distances: 0 at the target, one more per step back along the solution, every cell reached in a spanning tree', () => {
    for (const m of mazes(5, 5, 11)) {
      const t = m.target[0] * m.cols + m.target[1];
      const d = bfsDistances(m, t); // the distances geometry scores (maze/solve.ts)
      expect(d[t]).toBe(0);
      m.path.forEach(([r, c], i) => expect(d[r * m.cols + c]).toBe(m.path.length - 1 - i));
      expect(Array.from(d).every((x) => x >= 0)).toBe(true);
    }
  });

  it('kNN purity is 1 for well-separated clusters and near chance for shuffled labels; chance is Σ p²', () => {
    const rng = new Rng('geo-test');
    const N = 90,
      D = 4,
      k = 5;
    const X = new Float32Array(N * D);
    const labels = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      labels[i] = i % 3;
      for (let d = 0; d < D; d++) X[i * D + d] = (d === i % 3 ? 100 : 0) + rng.float();
    }
    const nbrs = nearest(X, N, D, k);
    expect(Array.from(nbrs.subarray(0, k)).includes(0)).toBe(false); // never its own neighbour
    expect(purity(labels, nbrs, k)).toEqual({ purity: 1, chance: expect.closeTo(1 / 3, 6) });
    // Copies of a point (one cell named twice) are never each other's neighbours.
    const group = Float64Array.from({ length: N }, (_, i) => Math.floor(i / 2));
    const grouped = nearest(X, N, D, k, group);
    for (let i = 0; i < N; i++) for (let a = 0; a < k; a++) expect(group[grouped[i * k + a]]).not.toBe(group[i]);
    const shuffled = rng.shuffle(Float32Array.from(labels));
    expect(purity(shuffled, nbrs, k).purity).toBeLessThan(0.6);
  });

  it('neighbour gain is near 1 when neighbours share the value and near 0 when the value is unrelated', () => {
    const N = 60,
      k = 4;
    const X = Float32Array.from({ length: N }, (_, i) => i); // points on a line, D = 1
    const nbrs = nearest(X, N, 1, k);
    expect(
      neighbourGain(
        Float32Array.from({ length: N }, (_, i) => i),
        nbrs,
        k,
      ),
    ).toBeGreaterThan(0.9);
    const rng = new Rng('gain');
    const noise = Float32Array.from({ length: N }, () => rng.float());
    expect(Math.abs(neighbourGain(noise, nbrs, k))).toBeLessThan(0.35);
    // Unreachable cells (NaN distance) count in neither mean: the gain of the rest is unchanged.
    const withGaps = Float32Array.from({ length: N }, (_, i) => (i % 10 === 0 ? Number.NaN : i));
    expect(neighbourGain(withGaps, nbrs, k)).toBeGreaterThan(0.9);
  });

  it('PCA of points on a line in 3-D: one component explains everything, and the coordinates keep the order', () => {
    const N = 20;
    const X = new Float32Array(N * 3);
    for (let i = 0; i < N; i++) X.set([i, 2 * i, -i], i * 3);
    const { coords, explained } = pca2(X, N, 3);
    expect(explained[0]).toBeCloseTo(1, 6);
    expect(explained[1]).toBeCloseTo(0, 6);
    const first = Array.from({ length: N }, (_, i) => coords[i * 2]);
    const sign = Math.sign(first[N - 1] - first[0]);
    for (let i = 1; i < N; i++) expect(sign * (first[i] - first[i - 1])).toBeGreaterThan(0);
  });
});

describe('the geometry kind', () => {
  it('maps every layer, scores every property, and reports a subsample instead of hiding it', async () => {
    const model = randomModel('nano', 4, 3);
    const p = paramsSchema.parse({ count: 12, maxPoints: 60, classes: ['path', 'adj_cell'], k: 5 }, modelInfo(model));
    const r = await geometry.run(ctxOf(model, 2), p, noProgress);
    const L = model.cfg.n_layers + 1; // every resid_pre and the final resid_post
    const s = r.summary as { points_total: number; points_used: number; layers: string[]; best: unknown[] };
    expect(s.points_total).toBeGreaterThan(60);
    expect(s.points_used).toBe(60);
    expect(s.layers).toHaveLength(L);
    expect(tensorOf(r, 'pca').shape).toEqual([L, 60, 2]);
    expect(tensorOf(r, 'umap').shape).toEqual([L, 60, 2]);
    expect(tensorOf(r, 'knn').shape).toEqual([L, PROPERTIES.length]);
    expect(tensorOf(r, 'points.meta').shape).toEqual([60, 4]);
    const knn = tensorOf(r, 'knn').data;
    PROPERTIES.forEach((prop, j) => {
      for (let l = 0; l < L; l++) {
        const v = knn[l * PROPERTIES.length + j];
        if (prop === 'dist_to_target') expect(v).toBeLessThanOrEqual(1);
        else expect(v >= 0 && v <= 1).toBe(true);
      }
    });
    expect(Array.from(tensorOf(r, 'umap').data).every(Number.isFinite)).toBe(true);
    expect(s.best).toHaveLength(PROPERTIES.length);
  });

  it('t-SNE (DruidJS) maps every layer, deterministically for a seed, and refuses a perplexity the points cannot carry', async () => {
    const model = randomModel('nano', 4, 3);
    const p = paramsSchema.parse(
      { count: 12, maxPoints: 60, classes: ['path', 'adj_cell'], k: 5, methods: ['tsne'], perplexity: 10, tsneIterations: 200 },
      modelInfo(model),
    );
    const a = await geometry.run(ctxOf(model, 2), p, noProgress);
    const b = await geometry.run(ctxOf(model, 2), p, noProgress);
    const L = model.cfg.n_layers + 1;
    expect(tensorOf(a, 'tsne').shape).toEqual([L, 60, 2]);
    expect(Array.from(tensorOf(a, 'tsne').data).every(Number.isFinite)).toBe(true);
    expect(Array.from(tensorOf(b, 'tsne').data)).toEqual(Array.from(tensorOf(a, 'tsne').data));
    expect(a.tensors.some((t) => t.name === 'pca' || t.name === 'umap')).toBe(false);
    const tooFew = paramsSchema.parse({ count: 8, maxPoints: 60, methods: ['tsne'], perplexity: 50 }, modelInfo(model));
    await expect(geometry.run(ctxOf(model, 2), tooFew, noProgress)).rejects.toThrow(
      /params\.perplexity: 50 needs more than 150 points for t-SNE, but only \d+ were found/,
    );
  });

  it('the t-SNE library separates two far-apart clusters (what the map is for)', () => {
    const rng = new Rng('tsne-clusters');
    const X = Array.from({ length: 80 }, (_, i) => Array.from({ length: 16 }, () => rng.float() + (i < 40 ? 0 : 20)));
    const y = new TSNE(X, { perplexity: 10, d: 2, seed: 3 }).transform(300) as number[][];
    const centre = (a: number[][]) => [0, 1].map((k) => a.reduce((s, r) => s + r[k], 0) / a.length);
    const [c0, c1] = [centre(y.slice(0, 40)), centre(y.slice(40))];
    const spread = Math.max(...y.slice(0, 40).map((r) => Math.hypot(r[0] - c0[0], r[1] - c0[1])));
    expect(Math.hypot(c0[0] - c1[0], c0[1] - c1[1])).toBeGreaterThan(spread);
  });
});
