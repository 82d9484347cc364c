/**
 * Interventions at feature level (single MLP neurons, residual dimensions) and decoding under
 * interventions (server/model/onnx/intervene.ts): element masks agree with the reference forward's
 * hook functions; decoding with no intervention equals the KV-cache generate; an intervention that
 * sets a hook to itself changes nothing; mean-ablation's value is the hook's mean; bad specs are
 * refused naming the intervention.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxEngine } from '../../../server/model/onnx/engine.js';
import { generate } from '../../../server/model/onnx/generate.js';
import { decodeRecomputing, hookMean, resolveInterventions } from '../../../server/model/onnx/intervene.js';
import { referenceForward } from '../../../server/model/reference.js';
import { maxAbsDiff, randomTokens, randomWeights, tinyLike } from './helpers.js';

const cfg = tinyLike();
const w = randomWeights(cfg, 51);
let engine: OnnxEngine;
beforeAll(async () => {
  engine = await OnnxEngine.create(cfg, w, { device: 'cpu' });
});
afterAll(async () => engine.dispose());

describe('feature-level interventions', () => {
  it('zeroing neurons 3 and 7 of mlp.hook_post at positions 2 and 5 equals the reference forward with those values zeroed', async () => {
    const T = 8;
    const tokens = randomTokens(cfg, T, 9);
    const run = await engine.runWithInterventions(tokens, 1, T, [{ hook: 'blocks.1.mlp.hook_post', kind: 'zero', positions: [2, 5], features: [3, 7] }], {
      names: [],
    });
    const ref = referenceForward(
      cfg,
      w,
      { B: 1, T, data: tokens },
      {
        interventions: {
          'blocks.1.mlp.hook_post': (v) => {
            for (const t of [2, 5]) for (const n of [3, 7]) v[t * cfg.d_mlp + n] = 0;
          },
        },
      },
    );
    expect(maxAbsDiff(run.logits, ref.logits)).toBeLessThan(1e-4);
    const clean = await engine.forward(tokens, 1, T);
    expect(maxAbsDiff(run.logits, clean)).toBeGreaterThan(1e-3); // it did something
  });

  it('adds to one head and one feature only', async () => {
    const T = 6;
    const tokens = randomTokens(cfg, T, 10);
    const value = Float32Array.from({ length: cfg.d_head }, () => 2);
    const run = await engine.runWithInterventions(tokens, 1, T, [{ hook: 'blocks.0.attn.hook_z', kind: 'add', heads: [1], features: [4], value }], {
      names: [],
    });
    const ref = referenceForward(
      cfg,
      w,
      { B: 1, T, data: tokens },
      {
        interventions: {
          'blocks.0.attn.hook_z': (v) => {
            for (let t = 0; t < T; t++) v[(t * cfg.n_heads + 1) * cfg.d_head + 4] += 2;
          },
        },
      },
    );
    expect(maxAbsDiff(run.logits, ref.logits)).toBeLessThan(1e-4);
  });
});

describe('decodeRecomputing', () => {
  const prompt = randomTokens(cfg, 7, 12);
  const stop = cfg.d_vocab - 1;

  it('without interventions equals the KV-cache generate', async () => {
    const [want] = await generate(engine, [prompt], { stopToken: stop, maxNewTokens: 10 });
    expect(Array.from(await decodeRecomputing(engine, prompt, [], { stopToken: stop, maxNewTokens: 10 }))).toEqual(Array.from(want));
  });

  it('an intervention that changes nothing (adding zero everywhere) leaves the rollout; zeroing the residual changes it', async () => {
    const [want] = await generate(engine, [prompt], { stopToken: stop, maxNewTokens: 10 });
    const same = await decodeRecomputing(engine, prompt, [{ hook: 'blocks.1.hook_resid_pre', kind: 'add', value: new Float32Array(cfg.d_model) }], {
      stopToken: stop,
      maxNewTokens: 10,
    });
    expect(Array.from(same)).toEqual(Array.from(want));
    // Zeroing the last residual at every position (generated ones too) leaves only the biases: one constant prediction.
    const zeroed = await decodeRecomputing(engine, prompt, [{ hook: `blocks.${cfg.n_layers - 1}.hook_resid_post`, kind: 'zero' }], {
      stopToken: -1,
      maxNewTokens: 5,
    });
    const gen = Array.from(zeroed.subarray(prompt.length));
    expect(new Set(gen).size).toBe(1);
  });
});

describe('resolveInterventions', () => {
  const seqs = () => [randomTokens(cfg, 9, 1), randomTokens(cfg, 5, 2)];

  it("mean-ablation uses the hook's mean over the reference sequences (per head where the hook has heads)", async () => {
    const mean = await hookMean(engine, seqs(), 'blocks.0.hook_resid_post');
    const [a, b] = await Promise.all(seqs().map((s) => engine.runWithCache(s, 1, s.length, { names: ['blocks.0.hook_resid_post'] })));
    const D = cfg.d_model;
    const all = [a, b].flatMap((r) => Array.from(r.cache.get('blocks.0.hook_resid_post')!.data));
    for (const d of [0, 5, D - 1]) {
      const vals = all.filter((_, i) => i % D === d);
      expect(mean[d]).toBeCloseTo(vals.reduce((s, x) => s + x, 0) / vals.length, 5);
    }
    const ivs = await resolveInterventions(engine, [{ hook: 'blocks.1.attn.hook_z', kind: 'mean', heads: [0, 2] }], seqs, 'test');
    expect(ivs.map((iv) => [iv.kind, iv.heads, iv.value?.length])).toEqual([
      ['replace', [0], cfg.d_head],
      ['replace', [2], cfg.d_head],
    ]);
  });

  it('refuses what cannot be done, naming the intervention', async () => {
    const bad = (spec: object) => resolveInterventions(engine, [spec as never], seqs, 'generatePath');
    await expect(bad({ hook: 'blocks.0.hook_resid_pre', kind: 'zero', value: [1] })).rejects.toThrow(
      'generatePath: intervention 0 (zero blocks.0.hook_resid_pre): zero takes no value',
    );
    await expect(bad({ hook: 'blocks.0.hook_resid_pre', kind: 'add', value: [1, 2] })).rejects.toThrow(
      `value has 2 numbers; give one number or one cell of ${cfg.d_model} (the hook's last axis)`,
    );
    await expect(bad({ hook: 'blocks.0.attn.hook_pattern', kind: 'mean' })).rejects.toThrow('attention scores and patterns can only be zeroed');
    await expect(bad({ hook: 'blocks.9.hook_resid_pre', kind: 'zero' })).rejects.toThrow('the model has 3 blocks');
    const ivs = await resolveInterventions(engine, [{ hook: 'blocks.0.hook_resid_pre', kind: 'zero', features: [99] }], seqs, 'x');
    await expect(decodeRecomputing(engine, prompt3(), ivs, { stopToken: 0, maxNewTokens: 1 })).rejects.toThrow(`feature 99 is outside [0, ${cfg.d_model})`);
  });
});

const prompt3 = () => randomTokens(cfg, 3, 3);
