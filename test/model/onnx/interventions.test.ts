import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceForward, type HookFn } from '../../../server/model/reference.js';
import { OnnxEngine } from '../../../server/model/onnx/engine.js';
import { allHookNames } from '../../../server/model/onnx/hooks.js';
import { maxAbsDiff, randomTokens, randomWeights, rows, tinyLike } from './helpers.js';

const cfg = tinyLike();
const w = randomWeights(cfg, 21);
const { n_heads: H, d_head: E, d_model: D, d_vocab: V } = cfg;
const B = 3;
const T = 7;
const tokens = randomTokens(cfg, B * T, 8);
const ref = (interventions: Record<string, HookFn> = {}) => referenceForward(cfg, w, { B, T, data: tokens }, { interventions });
let engine: OnnxEngine;
beforeAll(async () => {
  engine = await OnnxEngine.create(cfg, w, { device: 'cpu' });
});
afterAll(async () => engine.dispose());

describe('interventions', () => {
  it('replacing every hook with its own cached value (all rows, one run per hook) changes nothing', async () => {
    const clean = await engine.runWithCache(tokens, B, T);
    for (const hook of allHookNames(cfg)) {
      const a = clean.cache.get(hook)!;
      const row = a.data.length / B;
      // Each row gets its own row of the cache: a per-row intervention.
      const ivs = [0, 1, 2].map((b) => ({ hook, kind: 'replace' as const, rows: [b], value: rows(a.data, row, b) }));
      const run = await engine.runWithInterventions(tokens, B, T, ivs, { names: [] });
      expect(maxAbsDiff(run.logits, clean.logits), hook).toBeLessThan(1e-4);
    }
  });

  it('zero-ablating one head of hook_z matches the reference forward with a hook that zeros it', async () => {
    const run = await engine.runWithInterventions(tokens, B, T, [{ hook: 'blocks.1.attn.hook_z', kind: 'zero', heads: [2] }], {
      names: ['blocks.2.hook_resid_pre'],
    });
    const expected = ref({
      'blocks.1.attn.hook_z': (v) => {
        for (let n = 0; n < B * T; n++) v.fill(0, (n * H + 2) * E, (n * H + 3) * E);
      },
    });
    expect(maxAbsDiff(run.logits, expected.logits)).toBeLessThan(1e-4);
    const plain = ref();
    expect(maxAbsDiff(run.logits, plain.logits)).toBeGreaterThan(1e-2); // the ablation mattered
  });

  it('per-row interventions in one batch equal the same interventions run separately', async () => {
    const steer = Float32Array.from({ length: D }, (_, i) => Math.sin(i) * 2);
    const mean = Float32Array.from({ length: T * D }, (_, i) => Math.cos(i)); // per-position mean [T, D]
    const ivs = [
      { hook: 'blocks.0.hook_resid_post', kind: 'add' as const, rows: [0], positions: [2, 5], value: steer },
      { hook: 'blocks.1.hook_mlp_out', kind: 'mean' as const, rows: [1], positions: [3], value: mean },
      { hook: 'blocks.2.attn.hook_pattern', kind: 'zero' as const, rows: [2], heads: [1], positions: [6] },
    ];
    const batched = await engine.runWithInterventions(tokens, B, T, ivs, { names: [] });
    for (let b = 0; b < B; b++) {
      const single = await engine.runWithInterventions(tokens.slice(b * T, (b + 1) * T), 1, T, [{ ...ivs[b], rows: [0] }], { names: [] });
      expect(maxAbsDiff(rows(batched.logits, T * V, b), single.logits), `row ${b}`).toBeLessThan(1e-5);
      // and each row's intervention had an effect
      expect(maxAbsDiff(single.logits, rows(await engine.forward(tokens, B, T), T * V, b))).toBeGreaterThan(1e-3);
    }
  });

  it('steering (add a vector at some positions) and mean ablation match reference hooks', async () => {
    const steer = Float32Array.from({ length: D }, (_, i) => (i % 3) - 1);
    const mean = Float32Array.from({ length: cfg.d_mlp }, (_, i) => i / cfg.d_mlp);
    const run = await engine.runWithInterventions(tokens, B, T, [
      { hook: 'blocks.1.hook_resid_mid', kind: 'add', positions: [1, 4], value: steer },
      { hook: 'blocks.2.mlp.hook_post', kind: 'mean', positions: [0, 6], value: mean },
    ]);
    const expected = ref({
      'blocks.1.hook_resid_mid': (v) => {
        for (let b = 0; b < B; b++) for (const t of [1, 4]) for (let d = 0; d < D; d++) v[(b * T + t) * D + d] += steer[d];
      },
      'blocks.2.mlp.hook_post': (v) => {
        for (let b = 0; b < B; b++) for (const t of [0, 6]) v.set(mean, (b * T + t) * cfg.d_mlp);
      },
    });
    expect(maxAbsDiff(run.logits, expected.logits)).toBeLessThan(1e-4);
  });

  it('interventions on ln hook_scale, attn_scores and per-head result reach downstream as in the reference', async () => {
    const cases: Array<[string, HookFn, object]> = [
      ['blocks.0.ln2.hook_scale', (v) => v.fill(2.5, 3, 7), { kind: 'replace', rows: [0], positions: [3, 4, 5, 6], value: Float32Array.of(2.5) }],
      [
        'blocks.1.attn.hook_attn_scores',
        (v) => {
          for (let j = 0; j <= 4; j++) v[((1 * H + 3) * T + 4) * T + j] = j;
        },
        { kind: 'replace', rows: [1], heads: [3], positions: [4], value: Float32Array.from({ length: T }, (_, j) => (j <= 4 ? j : -Infinity)) },
      ],
      [
        'blocks.0.attn.hook_result',
        (v) => v.fill(0, ((2 * T + 5) * H + 1) * D, ((2 * T + 5) * H + 2) * D),
        { kind: 'zero', rows: [2], heads: [1], positions: [5] },
      ],
    ];
    for (const [hook, fn, iv] of cases) {
      const run = await engine.runWithInterventions(tokens, B, T, [{ hook, ...iv } as never], { names: [hook] });
      const expected = referenceForward(cfg, w, { B, T, data: tokens }, { interventions: { [hook]: fn }, hooks: [hook] });
      expect(maxAbsDiff(run.logits, expected.logits), hook).toBeLessThan(1e-4);
      expect(maxAbsDiff(run.cache.get(hook)!.data, expected.cache.get(hook)!.data), hook).toBeLessThan(1e-4);
      expect(maxAbsDiff(run.logits, ref().logits), hook).toBeGreaterThan(1e-3);
    }
  });

  it('causality: a patch at (layer l, position p) leaves logits at positions < p unchanged', async () => {
    const base = await engine.forward(tokens, B, T);
    const p = 4;
    const run = await engine.runWithInterventions(
      tokens,
      B,
      T,
      [{ hook: 'blocks.1.hook_resid_pre', kind: 'add', positions: [p], value: Float32Array.from({ length: D }, (_, i) => (i % 2 ? 3 : -1)) }],
      { names: [] },
    );
    for (let b = 0; b < B; b++) {
      expect(maxAbsDiff(run.logits.subarray(b * T * V, (b * T + p) * V), base.subarray(b * T * V, (b * T + p) * V))).toBe(0);
      expect(maxAbsDiff(run.logits.subarray((b * T + p) * V, (b + 1) * T * V), base.subarray((b * T + p) * V, (b + 1) * T * V))).toBeGreaterThan(1e-3);
    }
  });

  it('patching resid_pre of block 0 at every position with the corrupted run reproduces the corrupted logits', async () => {
    const corrupt = randomTokens(cfg, B * T, 99);
    const c = await engine.runWithCache(corrupt, B, T, { names: ['blocks.0.hook_resid_pre'] });
    const a = c.cache.get('blocks.0.hook_resid_pre')!.data;
    const ivs = [0, 1, 2].map((b) => ({ hook: 'blocks.0.hook_resid_pre', kind: 'replace' as const, rows: [b], value: rows(a, T * D, b) }));
    const run = await engine.runWithInterventions(tokens, B, T, ivs, { names: [] });
    expect(maxAbsDiff(run.logits, c.logits)).toBeLessThan(1e-5);
  });

  it('rejects malformed interventions with a message naming the problem', async () => {
    const bad = (iv: object) => engine.runWithInterventions(tokens, B, T, [iv as never]);
    await expect(bad({ hook: 'blocks.0.hook_resid_pre', kind: 'zero', heads: [0] })).rejects.toThrow(/no head axis/);
    await expect(bad({ hook: 'blocks.0.attn.hook_z', kind: 'zero', heads: [H] })).rejects.toThrow(`head ${H} is outside [0, ${H})`);
    await expect(bad({ hook: 'blocks.0.hook_resid_pre', kind: 'replace', value: new Float32Array(5) })).rejects.toThrow(/value has 5 numbers/);
    await expect(bad({ hook: 'blocks.0.hook_resid_pre', kind: 'add' })).rejects.toThrow(/needs a value/);
    await expect(bad({ hook: 'blocks.0.hook_resid_pre', kind: 'zero', rows: [B] })).rejects.toThrow(`row ${B} is outside`);
    await expect(bad({ hook: 'blocks.0.hook_resid_pre', kind: 'swap' })).rejects.toThrow(/kind must be/);
    await expect(bad({ hook: 'blocks.9.hook_resid_pre', kind: 'zero' })).rejects.toThrow(/intervention 0: unknown hook point/);
  });
});
