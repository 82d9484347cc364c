import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../server/maze/rng.js';
import { hookShapes, PRESETS, type ActFn, type ModelConfig } from '../../../server/model/config.js';
import { referenceForward } from '../../../server/model/reference.js';
import { initTfjs } from '../../../server/model/tfjs/backend.js';
import { TfGpt } from '../../../server/model/tfjs/gpt.js';
import { initWeights } from '../../../server/model/weights.js';

const nano = (act_fn: ActFn = 'gelu_new'): ModelConfig => ({ ...PRESETS.nano, act_fn, d_vocab: 20, n_ctx: 24, tokenizer: 'aotp-ut' });

function tokens(B: number, T: number, V: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: B * T }, () => rng.int(V));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    // Both engines write −∞ above the causal diagonal of attn_scores: equal infinities agree.
    if (a[i] === b[i]) continue;
    m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

beforeAll(async () => {
  await initTfjs();
});

describe('TfGpt forward', () => {
  const models: TfGpt[] = [];
  afterAll(() => models.forEach((m) => m.dispose()));

  for (const act of ['gelu_new', 'gelu', 'relu'] as const) {
    it(`matches the reference forward within 1e-4 on logits and every hook (nano, ${act}, weights ×3)`, () => {
      const cfg = nano(act);
      // Scaled-up weights push logits far from uniform, so a wrong op cannot hide in the noise.
      const weights = initWeights(cfg, new Rng(7), { scale: 3 });
      for (const name of ['blocks.0.attn.b_Q', 'blocks.1.mlp.b_in', 'unembed.b_U', 'ln_final.b']) {
        const r = new Rng(name);
        weights.set(
          name,
          weights.get(name)!.map(() => r.float() - 0.5),
        ); // non-zero biases are exercised too
      }
      const B = 2,
        T = 11;
      const tok = tokens(B, T, cfg.d_vocab, 3);
      const ref = referenceForward(cfg, weights, { B, T, data: tok }, { hooks: 'all' });
      const m = new TfGpt(cfg, weights);
      models.push(m);
      const got = m.forward({ B, T, tokens: tok }, { hooks: 'all' });
      let spread = 0;
      for (const v of ref.logits) spread = Math.max(spread, Math.abs(v));
      expect(spread).toBeGreaterThan(1); // far from uniform
      expect(maxAbsDiff(got.logits, ref.logits)).toBeLessThan(1e-4);
      const names = hookShapes(cfg, B, T);
      for (const [name, shape] of names) {
        const a = got.cache.get(name);
        expect(a, name).toBeDefined();
        expect(a!.shape, name).toEqual(shape);
        const d = maxAbsDiff(a!.data, ref.cache.get(name)!.data);
        expect(d, `${name}: max |Δ| = ${d}`).toBeLessThan(1e-4);
      }
    });
  }

  it('returns only the hooks asked for, and rejects unknown hook names and out-of-vocabulary tokens', () => {
    const cfg = nano();
    const m = new TfGpt(cfg, initWeights(cfg, new Rng(1)));
    models.push(m);
    const g = { B: 1, T: 4, tokens: Int32Array.from([0, 1, 2, 3]) };
    const { cache } = m.forward(g, { hooks: ['blocks.1.attn.hook_pattern'] });
    expect([...cache.keys()]).toEqual(['blocks.1.attn.hook_pattern']);
    expect(() => m.forward(g, { hooks: ['blocks.0.hook_resid'] })).toThrow(/unknown hook point "blocks.0.hook_resid"/);
    expect(() => m.forward({ B: 1, T: 2, tokens: Int32Array.from([0, 20]) })).toThrow(/token 20 at row 0, position 1 is outside the vocabulary/);
    expect(() => m.forward({ B: 1, T: 25, tokens: new Int32Array(25) })).toThrow(/exceeds n_ctx 24/);
  });

  it('round-trips weights: Weights → tf.Variables → Weights is bit-exact, and setWeights replaces every tensor', () => {
    const cfg = nano();
    const w1 = initWeights(cfg, new Rng(11));
    const w2 = initWeights(cfg, new Rng(12), { scale: 2 });
    const m = new TfGpt(cfg, w1);
    models.push(m);
    const back = m.getWeights();
    expect([...back.keys()]).toEqual([...w1.keys()]);
    for (const [name, data] of w1) expect(back.get(name), name).toEqual(data);
    m.setWeights(w2);
    for (const [name, data] of m.getWeights()) expect(data, name).toEqual(w2.get(name));
    // The model copied the arrays: mutating the caller's Weights does not reach the variables.
    w2.get('embed.W_E')![0] += 1;
    expect(m.getWeights().get('embed.W_E')![0]).not.toBe(w2.get('embed.W_E')![0]);
  });
});

describe('initTfjs', () => {
  it('reports the backend it started, refuses to switch in the same process, and rejects unknown names', async () => {
    const info = await initTfjs();
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.backend);
    expect(await initTfjs(info.backend)).toEqual(info);
    const other = info.backend === 'cpu' ? 'wasm' : 'cpu';
    await expect(initTfjs(other)).rejects.toThrow(new RegExp(`already runs on "${info.backend}"`));
    await expect(initTfjs(undefined, { SEARCHLIGHT_TFJS_BACKEND: 'gpu' })).rejects.toThrow(
      /SEARCHLIGHT_TFJS_BACKEND must be one of auto, tensorflow, wasm, cpu; got "gpu"/,
    );
  });
});

describe('TfGpt micro-batches', () => {
  it('splits only batches whose attention activations exceed the budget (hallway 32 × 256 runs 10 rows a pass)', () => {
    const hallway: ModelConfig = { ...PRESETS.hallway, d_vocab: 47, tokenizer: 'aotp-ut' };
    const m = new TfGpt(hallway, initWeights(hallway, new Rng(1)));
    try {
      expect(m.microBatchRows(32, 256)).toBe(10);
      expect(m.microBatchRows(32, 64)).toBe(32);
    } finally {
      m.dispose();
    }
  });

  it('gives the one-pass loss and gradients when run in slices, rows without counted positions included', () => {
    const cfg = nano();
    const m = new TfGpt(cfg, initWeights(cfg, new Rng(4), { scale: 3 }));
    try {
      const B = 7,
        T = 10;
      const rng = new Rng(9);
      // Rows 2 and 3 (one whole slice of 2) count nothing: that slice is skipped.
      const mask = Float32Array.from({ length: B * T }, (_, i) => (Math.floor(i / T) === 2 || Math.floor(i / T) === 3 ? 0 : rng.float() < 0.6 ? 1 : 0));
      const batch = { B, T, tokens: tokens(B, T, cfg.d_vocab, 3), targets: tokens(B, T, cfg.d_vocab, 4), mask };
      const one = m.lossAndGrads(batch);
      const perRow = cfg.n_layers * cfg.n_heads * T * T;
      expect(m.microBatchRows(B, T, 2 * perRow)).toBe(2); // slices of rows 0–1, 2–3 (masked out), 4–5, 6
      const sliced = m.lossAndGrads(batch, 2 * perRow);
      // A bad target in the skipped slice is still an error, as in one pass.
      const badTargets = batch.targets.slice();
      badTargets[2 * T + 1] = cfg.d_vocab;
      expect(() => m.lossAndGrads({ ...batch, targets: badTargets }, 2 * perRow)).toThrow(
        `target ${cfg.d_vocab} at row 2, position 1 is outside the vocabulary [0, ${cfg.d_vocab})`,
      );
      expect(Math.abs(sliced.loss - one.loss)).toBeLessThan(1e-5 * Math.abs(one.loss));
      for (const [name, g] of one.grads) {
        const s = sliced.grads.get(name)!;
        let scale = 0;
        for (const x of g) scale = Math.max(scale, Math.abs(x));
        expect(maxAbsDiff(g, s), name).toBeLessThan(1e-5 * scale + 1e-6); // b_K's gradient is 0 up to rounding
      }
    } finally {
      m.dispose();
    }
  });
});
