/**
 * Gradients with respect to hook activations (`<hook>_grad`, what attribution patching needs):
 * every TransformerLens hook's gradient agrees with a float64 central difference taken by adding
 * ε·u to that activation (f64.ts's `add`), for a logit-difference metric seeded through the logits
 * and for the loss; plus the seed helper and the errors callers can hit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../server/maze/rng.js';
import { hookShapes, type ModelConfig, type Weights } from '../../../server/model/config.js';
import { logitDiffSeed, OnnxGradEngine } from '../../../server/model/onnx-train/engine.js';
import { forward64, toF64, type Weights64 } from './f64.js';
import { centralDiff, dot, nano, nanoArchitectures, probeDirection, randomBatch, randomWeights, relErr, tinyLike } from './helpers.js';

const EPS = 1e-5;

interface Setup {
  cfg: ModelConfig;
  weights: Weights;
  W64: Weights64;
  engine: OnnxGradEngine;
}

const setups: Setup[] = [];
afterAll(async () => Promise.all(setups.map((s) => s.engine.dispose())));

async function setup(cfg: ModelConfig, seed: number): Promise<Setup> {
  const weights = randomWeights(cfg, seed);
  const s = { cfg, weights, W64: toF64(weights), engine: await OnnxGradEngine.create(cfg, weights, { threads: 1 }) };
  setups.push(s);
  return s;
}

/** Every hook point except `logits` (whose gradient is the seed itself). */
const allHooks = (cfg: ModelConfig): string[] =>
  hookShapes(cfg, 1, 1)
    .map(([n]) => n)
    .filter((n) => n !== 'logits');

/** Directional FD of `metric` when hook `name` gets value + δ·u, in float64. */
function fdAlongHook(
  s: Setup,
  batch: { B: number; T: number; tokens: Int32Array },
  name: string,
  u: Float64Array,
  metric: (logits: Float64Array, loss: number) => number,
  lossBatch?: { targets: Int32Array; mask: Float32Array },
): number {
  return centralDiff((d) => {
    const { logits, loss } = forward64(s.cfg, s.W64, { ...batch, ...lossBatch }, new Map([[name, u.map((v) => v * d)]]));
    return metric(logits, loss);
  }, EPS);
}

describe('hook gradients vs float64 central differences (every hook, rel. error < 1e-3)', () => {
  let nanoS: Setup;
  let tinyS: Setup;
  beforeAll(async () => {
    nanoS = await setup(nano(), 21);
    tinyS = await setup(tinyLike(), 22);
  });

  for (const which of ['nano', 'tiny-like'] as const) {
    it(`logit-difference metric seeded through d(metric)/d(logits) (${which})`, async () => {
      const s = which === 'nano' ? nanoS : tinyS;
      const B = 2,
        T = 8;
      const { tokens } = randomBatch(s.cfg, B, T, 31);
      const rows = [
        { pos: T - 1, good: 3, bad: 5 },
        { pos: 4, good: 7, bad: 1 },
      ];
      const seed = logitDiffSeed(s.cfg, B, T, rows);
      const hooks = allHooks(s.cfg);
      const { logits, grads } = await s.engine.activationGrads({ B, T, tokens }, { kind: 'logits', grad: seed }, hooks);
      // The same pass returns the logits, so the caller can evaluate its metric alongside.
      expect(logits.length).toBe(B * T * s.cfg.d_vocab);
      const metric = (l: Float64Array): number => dot(seed, l);
      const rng = new Rng(`hooks/${which}`);
      const bad: string[] = [];
      const shapes = new Map(hookShapes(s.cfg, B, T));
      for (const name of hooks) {
        const g = grads.get(name)!;
        expect(g.shape).toEqual(shapes.get(name));
        // attn_scores carries −∞ above the diagonal; its gradient there must be exactly 0.
        const u = probeDirection(g.data, rng);
        const fd = fdAlongHook(s, { B, T, tokens }, name, u, metric);
        const an = dot(g.data, u);
        if (!(relErr(an, fd) < 1e-3 || (Math.abs(an) < 1e-6 && Math.abs(fd) < 1e-6))) bad.push(`${name}: analytic ${an}, FD ${fd}`);
      }
      expect(bad).toEqual([]);
    }, 300_000);
  }

  it('loss objective: hook gradients match FD of the masked cross-entropy, and the loss is returned', async () => {
    const s = nanoS;
    const batch = randomBatch(s.cfg, 2, 7, 32);
    const hooks = ['hook_embed', 'blocks.0.hook_resid_pre', 'blocks.1.attn.hook_pattern', 'blocks.1.mlp.hook_post', 'ln_final.hook_scale'];
    const r = await s.engine.activationGrads(batch, { kind: 'loss', targets: batch.targets, mask: batch.mask }, hooks);
    expect(Math.abs(r.loss! - forward64(s.cfg, s.W64, batch).loss)).toBeLessThan(1e-5);
    const rng = new Rng('hooks/loss');
    for (const name of hooks) {
      const g = r.grads.get(name)!.data;
      const u = probeDirection(g, rng);
      const fd = fdAlongHook(s, batch, name, u, (_, loss) => loss, batch);
      expect(relErr(dot(g, u), fd)).toBeLessThan(1e-3);
    }
  });

  for (const [label, cfg] of nanoArchitectures()) {
    it(`${label}: every hook's loss gradient (hook_rot_q/k, RMS's pre-gain normalized, …) matches FD`, async () => {
      const s = await setup(cfg, 24);
      const batch = randomBatch(cfg, 2, 7, 33);
      const hooks = allHooks(cfg);
      const r = await s.engine.activationGrads(batch, { kind: 'loss', targets: batch.targets, mask: batch.mask }, hooks);
      expect(Math.abs(r.loss! - forward64(cfg, s.W64, batch).loss)).toBeLessThan(1e-5);
      const rng = new Rng(`hooks/${label}`);
      const bad: string[] = [];
      for (const name of hooks) {
        const g = r.grads.get(name)!.data;
        const u = probeDirection(g, rng);
        const fd = fdAlongHook(s, batch, name, u, (_, loss) => loss, batch);
        const an = dot(g, u);
        if (!(relErr(an, fd) < 1e-3 || (Math.abs(an) < 1e-6 && Math.abs(fd) < 1e-6))) bad.push(`${name}: analytic ${an}, FD ${fd}`);
      }
      expect(bad).toEqual([]);
    });
  }

  it('attention-score gradients are exactly 0 above the causal diagonal', async () => {
    const s = nanoS;
    const B = 1,
      T = 6;
    const { tokens } = randomBatch(s.cfg, B, T, 33);
    const seed = logitDiffSeed(s.cfg, B, T, [{ pos: 5, good: 2, bad: 9 }]);
    const { grads } = await s.engine.activationGrads({ B, T, tokens }, { kind: 'logits', grad: seed }, ['blocks.0.attn.hook_attn_scores']);
    const g = grads.get('blocks.0.attn.hook_attn_scores')!.data; // [B, H, T, T]
    for (let r = 0; r < s.cfg.n_heads * T; r++) for (let j = (r % T) + 1; j < T; j++) expect(Math.abs(g[r * T + j])).toBe(0);
  });
});

describe('activationGrads inputs', () => {
  it("logitDiffSeed puts +1 / −1 at each row's position and rejects bad positions and tokens", () => {
    const cfg = nano();
    const seed = logitDiffSeed(cfg, 1, 3, [{ pos: 2, good: 4, bad: 6 }]);
    const V = cfg.d_vocab;
    expect(seed[2 * V + 4]).toBe(1);
    expect(seed[2 * V + 6]).toBe(-1);
    expect(seed.reduce((a, b) => a + Math.abs(b), 0)).toBe(2);
    expect(() => logitDiffSeed(cfg, 1, 3, [{ pos: 3, good: 4, bad: 6 }])).toThrow(/position 3 is outside \[0, 3\)/);
    expect(() => logitDiffSeed(cfg, 1, 3, [{ pos: 0, good: V, bad: 6 }])).toThrow(/token 19 is outside the vocabulary/);
    expect(() => logitDiffSeed(cfg, 2, 3, [{ pos: 0, good: 1, bad: 6 }])).toThrow(/one \{pos, good, bad\} per row/);
  });

  it('names unknown hooks, and a seed of the wrong size', async () => {
    const s = await setup(nano(), 23);
    const grid = { B: 1, T: 4, tokens: Int32Array.of(1, 2, 3, 4) };
    const seed = new Float32Array(4 * s.cfg.d_vocab);
    await expect(s.engine.activationGrads(grid, { kind: 'logits', grad: seed }, ['blocks.0.hook_resid_pree'])).rejects.toThrow(
      /unknown hook point "blocks.0.hook_resid_pree"/,
    );
    await expect(s.engine.activationGrads(grid, { kind: 'logits', grad: seed.subarray(1) }, ['hook_embed'])).rejects.toThrow(
      /logits gradient has 75 values; \[B, T, d_vocab_out\] = \[1, 4, 19\] needs 76/,
    );
    await expect(s.engine.activationGrads(grid, { kind: 'logits', grad: seed }, ['logits'])).rejects.toThrow(/"logits" has no hook gradient output/);
  });
});
