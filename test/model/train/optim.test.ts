import { describe, expect, it } from 'vitest';
import { Rng } from '../../../server/maze/rng.js';
import { adamwUpdate, clipGlobalNorm, decays, globalNorm, zeroState } from '../../../server/model/train/adamw.js';
import { checkSchedule, lrAt, ScheduleError } from '../../../server/model/train/schedule.js';
import { paramShapes } from '../../../server/model/config.js';
import { nanoFor } from './helpers.js';

describe('lrAt (warmup + cosine)', () => {
  const s = { lr: 1e-3, warmup: 10, total: 110, minRatio: 0.1 };
  it('rises linearly during warmup, peaks at the end of it, halves the span at mid-decay and ends at the floor', () => {
    expect(lrAt(0, s)).toBeCloseTo(1e-4, 15); // first update already trains: peak · 1/warmup
    expect(lrAt(4, s)).toBeCloseTo(5e-4, 15);
    expect(lrAt(9, s)).toBeCloseTo(1e-3, 15);
    expect(lrAt(10, s)).toBeCloseTo(1e-3, 15); // cosine starts at the peak
    expect(lrAt(60, s)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 15); // progress ½: halfway between peak and floor
    expect(lrAt(35, s)).toBeCloseTo(1e-4 + 9e-4 * 0.5 * (1 + Math.cos(Math.PI / 4)), 15);
    expect(lrAt(110, s)).toBeCloseTo(1e-4, 15);
    expect(lrAt(500, s)).toBeCloseTo(1e-4, 15);
  });
  it('never increases after warmup', () => {
    for (let k = 10; k < 120; k++) expect(lrAt(k + 1, s)).toBeLessThanOrEqual(lrAt(k, s));
  });
  it('starts at the peak without warmup, and rejects bad settings with the field named', () => {
    expect(lrAt(0, { ...s, warmup: 0 })).toBeCloseTo(1e-3, 15);
    expect(() => checkSchedule({ ...s, warmup: 200 })).toThrow(ScheduleError);
    expect(() => checkSchedule({ ...s, lr: -1 })).toThrow(/learning rate must be a positive number/);
  });
});

function randomGrads(scale: number) {
  const cfg = nanoFor(3);
  const rng = new Rng(9);
  return new Map(
    paramShapes(cfg).map(([name, shape]) => [name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * (rng.float() - 0.5))]),
  );
}

describe('clipGlobalNorm', () => {
  it('scales gradients down to the threshold when their global norm exceeds it, keeping directions', () => {
    const g = randomGrads(10);
    const before = globalNorm(g);
    const copy = g.get('blocks.0.mlp.W_in')!.slice();
    const { norm, scale } = clipGlobalNorm(g, 1);
    expect(norm).toBeCloseTo(before, 6);
    expect(before).toBeGreaterThan(1);
    expect(globalNorm(g)).toBeLessThanOrEqual(1 + 1e-6);
    expect(globalNorm(g)).toBeGreaterThan(0.999);
    const after = g.get('blocks.0.mlp.W_in')!;
    for (let i = 0; i < after.length; i++) expect(after[i]).toBeCloseTo(copy[i] * scale, 6);
  });
  it('leaves small gradients, and clip = 0, untouched', () => {
    const g = randomGrads(1e-3);
    const copy = new Map([...g].map(([k, v]) => [k, v.slice()]));
    expect(clipGlobalNorm(g, 1).scale).toBe(1);
    const big = randomGrads(10);
    expect(clipGlobalNorm(big, 0).scale).toBe(1);
    for (const [k, v] of g) expect(v).toEqual(copy.get(k));
  });
});

describe('AdamW', () => {
  it('decays the weight matrices but not biases, LayerNorm parameters or embeddings', () => {
    for (const n of ['blocks.0.attn.W_Q', 'blocks.1.attn.W_O', 'blocks.0.mlp.W_in', 'blocks.0.mlp.W_out', 'unembed.W_U']) expect(decays(n), n).toBe(true);
    for (const n of ['embed.W_E', 'pos_embed.W_pos', 'blocks.0.ln1.w', 'blocks.0.ln2.b', 'blocks.0.attn.b_Q', 'unembed.b_U', 'ln_final.w'])
      expect(decays(n), n).toBe(false);
  });
  it('takes the first update as torch.optim.AdamW does: θ(1 − lr·λ) − lr·g/(|g| + ε) element-wise', () => {
    const cfg = nanoFor(3);
    const w = new Map(paramShapes(cfg).map(([n, s]) => [n, new Float32Array(s.reduce((a, b) => a * b, 1)).fill(0.5)]));
    const g = randomGrads(2);
    const state = zeroState(cfg);
    const o = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
    adamwUpdate(w, g, state, 0.01, o);
    expect(state.step).toBe(1);
    for (const name of ['blocks.0.mlp.W_in', 'blocks.0.mlp.b_in']) {
      const keep = decays(name) ? 1 - 0.01 * 0.1 : 1;
      const gi = g.get(name)!;
      // After one step m̂ = g and v̂ = g², so the step is lr · g / (|g| + ε).
      w.get(name)!.forEach((p, i) => expect(p).toBeCloseTo(0.5 * keep - (0.01 * gi[i]) / (Math.abs(gi[i]) + 1e-8), 6));
    }
  });
});
