/**
 * The hand-derived backward of the ONNX training graph against central finite differences of a
 * float64 implementation of the same loss (f64.ts), for EVERY parameter tensor:
 *  - the directional derivative along a probe direction covering the whole tensor, and
 *  - single coordinates: the largest-gradient one and three random ones with |g| ≥ 10% of the max,
 * each within 1e-3 relative error. A tensor whose true gradient is 0 (b_K: softmax over keys is
 * invariant to adding the same q·b_K to every score of a row) must have |g| < 1e-6 instead.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../server/maze/rng.js';
import { paramShapes, type ModelConfig } from '../../../server/model/config.js';
import { referenceForward } from '../../../server/model/reference.js';
import { OnnxGradEngine } from '../../../server/model/onnx-train/engine.js';
import { forward64, toF64 } from './f64.js';
import { centralDiff, dot, nano, nanoArchitectures, probeDirection, randomBatch, randomWeights, relErr, tiny, tinyLike } from './helpers.js';

const EPS = 1e-5; // FD step in float64: truncation ~ε²·f‴ ≈ 1e-10, rounding ~1e-16/ε ≈ 1e-11
const TOL = 1e-3;
const ZERO = 1e-6;

const engines: OnnxGradEngine[] = [];
afterAll(async () => Promise.all(engines.map((e) => e.dispose())));

interface Check {
  name: string;
  what: string;
  analytic: number;
  fd: number;
}

async function gradCheck(cfg: ModelConfig, B: number, T: number, seed: number): Promise<Check[]> {
  const weights = randomWeights(cfg, seed);
  const batch = randomBatch(cfg, B, T, seed + 100);
  const engine = await OnnxGradEngine.create(cfg, weights, { threads: 1 });
  engines.push(engine);
  const { loss, grads } = await engine.lossAndGrads(batch);
  const W64 = toF64(weights);
  const f64Loss = forward64(cfg, W64, batch).loss;
  expect(Math.abs(loss - f64Loss)).toBeLessThan(1e-5 * Math.max(1, f64Loss));

  const rng = new Rng(`probe/${seed}`);
  const checks: Check[] = [];
  for (const [name] of paramShapes(cfg)) {
    const g = grads.get(name)!;
    const w0 = W64.get(name)!.slice();
    const along = (u: ArrayLike<number>) => (d: number) => {
      W64.set(
        name,
        w0.map((v, i) => v + d * u[i]),
      );
      return forward64(cfg, W64, batch).loss;
    };
    const u = probeDirection(g, rng);
    checks.push({ name, what: 'direction', analytic: dot(g, u), fd: centralDiff(along(u), EPS) });
    let max = 0,
      top = 0;
    g.forEach((v, i) => {
      if (Math.abs(v) > max) (max = Math.abs(v)), (top = i);
    });
    const big = [...g.keys()].filter((i) => Math.abs(g[i]) >= 0.1 * max && i !== top);
    const coords = [top, ...[0, 1, 2].map(() => big[rng.int(big.length)]).filter((i) => i !== undefined)];
    for (const i of coords) {
      const e = new Float64Array(g.length);
      e[i] = 1;
      checks.push({ name, what: `[${i}]`, analytic: g[i], fd: centralDiff(along(e), EPS) });
    }
    W64.set(name, w0);
  }
  return checks;
}

function expectAgreement(checks: Check[]): void {
  const bad = checks.filter((c) => !(relErr(c.analytic, c.fd) < TOL || (Math.abs(c.analytic) < ZERO && Math.abs(c.fd) < ZERO)));
  expect(bad.map((c) => `${c.name} ${c.what}: analytic ${c.analytic}, FD ${c.fd}`)).toEqual([]);
}

describe('float64 model used as the finite-difference ground truth', () => {
  it('gives the same logits as the reference forward (within 1e-4)', () => {
    for (const cfg of [nano(), tinyLike('gelu'), tinyLike('relu'), ...nanoArchitectures().map(([, c]) => c)]) {
      const w = randomWeights(cfg, 3);
      const b = randomBatch(cfg, 2, 9, 4);
      const ref = referenceForward(cfg, w, { B: 2, T: 9, data: b.tokens });
      const got = forward64(cfg, toF64(w), b).logits;
      let m = 0;
      for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - ref.logits[i]));
      expect(m).toBeLessThan(1e-4);
    }
  });
});

describe('ONNX backward vs float64 central differences, every parameter tensor (rel. error < 1e-3)', () => {
  for (const act of ['gelu_new', 'gelu', 'relu'] as const) {
    it(`nano preset, ${act}, B=2 T=9`, async () => {
      const checks = await gradCheck(nano(act), 2, 9, 11);
      // Every parameter tensor was probed: a direction plus at least one coordinate each.
      expect(new Set(checks.map((c) => c.name)).size).toBe(paramShapes(nano(act)).length);
      expectAgreement(checks);
    });
  }

  it('tiny-like config (4 heads, d_head 5, 3 layers), B=3 T=12', async () => {
    expectAgreement(await gradCheck(tinyLike(), 3, 12, 12));
  }, 300_000);

  it('tiny preset architecture (d_model 32, 4 layers, 2 heads), B=2 T=14', async () => {
    const checks = await gradCheck(tiny(), 2, 14, 13);
    expect(new Set(checks.map((c) => c.name)).size).toBe(paramShapes(tiny()).length);
    expectAgreement(checks);
  }, 300_000);

  for (const [label, cfg] of nanoArchitectures()) {
    it(`${label}: every parameter tensor, B=2 T=9`, async () => {
      const checks = await gradCheck(cfg, 2, 9, 15);
      expect(new Set(checks.map((c) => c.name)).size).toBe(paramShapes(cfg).length);
      expectAgreement(checks);
    });
  }

  it('b_K has an exactly zero gradient (softmax shift invariance) and the FD agrees', async () => {
    const cfg = nano();
    const checks = await gradCheck(cfg, 2, 6, 14);
    for (const c of checks.filter((x) => x.name.endsWith('attn.b_K'))) {
      expect(Math.abs(c.analytic)).toBeLessThan(ZERO);
      expect(Math.abs(c.fd)).toBeLessThan(ZERO);
    }
  });
});
