/**
 * The ONNX training graph against the other implementations of the same model:
 *  - its loss equals the masked cross-entropy of the pure-TS reference forward's logits, and its
 *    forward-only variant returns the reference logits (1e-4), for every activation function;
 *  - its parameter gradients agree with TensorFlow.js autodiff (the tfjs engine) tensor by tensor
 *    (max |Δ| ≤ 1e-3 × the tensor's max |g|) on the nano and tiny presets;
 *  - bad batches are refused with a message naming what is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramShapes, type ModelConfig, type Weights } from '../../../server/model/config.js';
import { referenceForward } from '../../../server/model/reference.js';
import { OnnxGradEngine } from '../../../server/model/onnx-train/engine.js';
import { initTfjs } from '../../../server/model/tfjs/backend.js';
import { TfGpt } from '../../../server/model/tfjs/gpt.js';
import { nano, randomBatch, randomWeights, tiny, tinyLike } from './helpers.js';

const engines: OnnxGradEngine[] = [];
const make = async (cfg: ModelConfig, w: Weights): Promise<OnnxGradEngine> => {
  const e = await OnnxGradEngine.create(cfg, w, { threads: 1 });
  engines.push(e);
  return e;
};
afterAll(async () => Promise.all(engines.map((e) => e.dispose())));

/** Masked mean CE of reference logits [N, V], in float64. */
function referenceLoss(logits: Float32Array, V: number, targets: Int32Array, mask: Float32Array): number {
  let s = 0,
    c = 0;
  for (let n = 0; n < targets.length; n++) {
    if (!mask[n]) continue;
    const row = logits.subarray(n * V, n * V + V);
    let mx = -Infinity;
    for (const v of row) mx = Math.max(mx, v);
    let z = 0;
    for (const v of row) z += Math.exp(v - mx);
    s += mask[n] * (mx + Math.log(z) - row[targets[n]]);
    c += mask[n];
  }
  return s / c;
}

describe('loss and logits vs the reference forward', () => {
  for (const cfg of [nano('gelu_new'), nano('gelu'), nano('relu'), tinyLike()]) {
    it(`${cfg.act_fn}, d_model ${cfg.d_model}, ${cfg.n_heads} heads: loss within 1e-5 relative, logits within 1e-4`, async () => {
      const w = randomWeights(cfg, 5, 3); // weights ×3: logits far from uniform
      const b = randomBatch(cfg, 3, 10, 6);
      const e = await make(cfg, w);
      const ref = referenceForward(cfg, w, { B: b.B, T: b.T, data: b.tokens });
      const want = referenceLoss(ref.logits, cfg.d_vocab, b.targets, b.mask);
      expect(Math.abs((await e.loss(b)) - want)).toBeLessThan(1e-5 * want);
      expect(Math.abs((await e.lossAndGrads(b)).loss - want)).toBeLessThan(1e-5 * want);
      const logits = await e.logits(b);
      let m = 0;
      for (let i = 0; i < logits.length; i++) m = Math.max(m, Math.abs(logits[i] - ref.logits[i]));
      expect(m).toBeLessThan(1e-4);
    });
  }

  it('setWeights replaces the parameters (the loss follows the new weights)', async () => {
    const cfg = nano();
    const b = randomBatch(cfg, 2, 6, 7);
    const w1 = randomWeights(cfg, 1),
      w2 = randomWeights(cfg, 2);
    const e = await make(cfg, w1);
    const l1 = await e.loss(b);
    await e.setWeights(w2);
    const ref = referenceForward(cfg, w2, { B: b.B, T: b.T, data: b.tokens });
    const l2 = await e.loss(b);
    expect(l2).not.toBe(l1);
    expect(Math.abs(l2 - referenceLoss(ref.logits, cfg.d_vocab, b.targets, b.mask))).toBeLessThan(1e-5 * l2);
  });
});

describe('parameter gradients vs tfjs autodiff', () => {
  beforeAll(async () => {
    await initTfjs();
  });

  for (const [label, cfg] of [
    ['nano gelu_new', nano()],
    ['nano gelu', nano('gelu')],
    ['nano relu', nano('relu')],
    ['tiny preset', tiny()],
  ] as const) {
    it(`${label}: every tensor within 1e-3 of its scale, same loss`, async () => {
      const w = randomWeights(cfg, 8);
      const b = randomBatch(cfg, 3, 12, 9);
      const tf = new TfGpt(cfg, w);
      try {
        const want = tf.lossAndGrads(b);
        const got = await (await make(cfg, w)).lossAndGrads(b);
        expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-5 * want.loss);
        const bad: string[] = [];
        for (const [name] of paramShapes(cfg)) {
          const a = got.grads.get(name)!,
            r = want.grads.get(name)!;
          let scale = 0,
            diff = 0;
          for (let i = 0; i < r.length; i++) {
            scale = Math.max(scale, Math.abs(r[i]));
            diff = Math.max(diff, Math.abs(a[i] - r[i]));
          }
          if (diff > 1e-3 * scale + 1e-7) bad.push(`${name}: max |Δ| ${diff} vs scale ${scale}`);
        }
        expect(bad).toEqual([]);
      } finally {
        tf.dispose();
      }
    });
  }
});

describe('input checks', () => {
  it('refuses an empty loss mask, out-of-vocabulary tokens and targets, and over-long rows', async () => {
    const cfg = nano();
    const e = await make(cfg, randomWeights(cfg));
    const b = randomBatch(cfg, 1, 4, 3);
    await expect(e.lossAndGrads({ ...b, mask: new Float32Array(4) })).rejects.toThrow(/the loss mask selects no position/);
    await expect(e.lossAndGrads({ ...b, tokens: Int32Array.of(1, 2, 19, 3) })).rejects.toThrow(
      /token 19 at row 0, position 2 is outside the vocabulary \[0, 19\)/,
    );
    await expect(e.loss({ ...b, targets: Int32Array.of(1, -1, 2, 3) })).rejects.toThrow(/target -1 at row 0, position 1/);
    await expect(e.logits({ B: 1, T: 17, tokens: new Int32Array(17) })).rejects.toThrow(/sequence length 17 exceeds n_ctx 16/);
    await expect(e.logits({ B: 2, T: 3, tokens: new Int32Array(5) })).rejects.toThrow(/tokens has 5 entries but B×T = 2×3 = 6/);
  });
});
