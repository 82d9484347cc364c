import { afterAll, describe, expect, it } from 'vitest';
import { hookShapes, type ActFn, type ModelConfig } from '../../../server/model/config.js';
import { referenceForward } from '../../../server/model/reference.js';
import { OnnxEngine } from '../../../server/model/onnx/engine.js';
import { allHookNames } from '../../../server/model/onnx/hooks.js';
import { architectureCases, maxAbsDiff, nano, randomTokens, randomWeights, tinyLike } from './helpers.js';

const engines: OnnxEngine[] = [];
afterAll(async () => {
  for (const e of engines) await e.dispose();
});

const cases: Array<[string, ModelConfig]> = [];
for (const act of ['gelu_new', 'gelu', 'relu'] as ActFn[]) cases.push([`nano/${act}`, nano(act)], [`tiny-like/${act}`, tinyLike(act)]);
cases.push(...architectureCases());

describe('ONNX forward agrees with the pure-TS reference forward', () => {
  // Tolerance 1e-4 of each tensor's scale (its largest |value|, at least 1): without normalization
  // the scaled-up weights grow activations to ~1e5, where float32 rounding alone is ~1e-2.
  const tol = (ref: Float32Array): number => 1e-4 * ref.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 1);
  it.each(cases)('%s: logits and every hook within 1e-4 (of its scale), shapes as TL', async (_, cfg) => {
    const w = randomWeights(cfg, 11);
    const B = 3;
    const T = 9;
    const tokens = randomTokens(cfg, B * T, 5);
    const ref = referenceForward(cfg, w, { B, T, data: tokens }, { hooks: 'all' });
    const engine = await OnnxEngine.create(cfg, w, { device: 'cpu' });
    engines.push(engine);

    // Scaled-up weights: logits must be far from uniform, or the comparison proves little.
    let spread = 0;
    const Vout = cfg.d_vocab_out ?? cfg.d_vocab;
    for (let r = 0; r < B * T; r++) {
      const row = ref.logits.subarray(r * Vout, (r + 1) * Vout);
      spread = Math.max(spread, Math.max(...row) - Math.min(...row));
    }
    expect(spread).toBeGreaterThan(5);

    const logits = await engine.forward(tokens, B, T);
    expect(maxAbsDiff(logits, ref.logits)).toBeLessThan(tol(ref.logits));

    const run = await engine.runWithCache(tokens, B, T);
    expect(maxAbsDiff(run.logits, ref.logits)).toBeLessThan(tol(ref.logits));
    const shapes = new Map(hookShapes(cfg, B, T));
    expect([...run.cache.keys()].sort()).toEqual(allHookNames(cfg).sort());
    for (const [name, act] of run.cache) {
      expect(act.shape, name).toEqual(shapes.get(name));
      const want = ref.cache.get(name)!.data;
      expect(maxAbsDiff(act.data, want), name).toBeLessThan(tol(want));
    }
  });
});

describe('runWithCache', () => {
  it('returns only the requested names, sliced to the requested positions in the given order', async () => {
    const cfg = tinyLike();
    const w = randomWeights(cfg, 3);
    const B = 2;
    const T = 6;
    const tokens = randomTokens(cfg, B * T, 4);
    const ref = referenceForward(cfg, w, { B, T, data: tokens }, { hooks: 'all' });
    const engine = await OnnxEngine.create(cfg, w, { device: 'cpu' });
    engines.push(engine);
    const names = ['blocks.1.hook_resid_pre', 'blocks.0.attn.hook_z', 'blocks.2.attn.hook_pattern', 'ln_final.hook_scale'];
    const positions = [4, 0];
    const run = await engine.runWithCache(tokens, B, T, { names, positions });
    expect([...run.cache.keys()]).toEqual(names);
    const H = cfg.n_heads;
    const resid = run.cache.get('blocks.1.hook_resid_pre')!;
    expect(resid.shape).toEqual([B, 2, cfg.d_model]);
    const refResid = ref.cache.get('blocks.1.hook_resid_pre')!.data;
    const D = cfg.d_model;
    for (let b = 0; b < B; b++) {
      positions.forEach((p, i) => {
        expect(maxAbsDiff(resid.data.subarray((b * 2 + i) * D, (b * 2 + i + 1) * D), refResid.subarray((b * T + p) * D, (b * T + p + 1) * D))).toBeLessThan(
          1e-4,
        );
      });
    }
    expect(run.cache.get('blocks.0.attn.hook_z')!.shape).toEqual([B, 2, H, cfg.d_head]);
    const pat = run.cache.get('blocks.2.attn.hook_pattern')!;
    expect(pat.shape).toEqual([B, H, 2, T]); // query positions sliced, key positions kept
    const refPat = ref.cache.get('blocks.2.attn.hook_pattern')!.data;
    // row (b=1, h=3, query 4) of the reference is row (1, 3, 0) of the sliced cache
    expect(
      maxAbsDiff(
        pat.data.subarray(((1 * H + 3) * 2 + 0) * T, ((1 * H + 3) * 2 + 1) * T),
        refPat.subarray(((1 * H + 3) * T + 4) * T, ((1 * H + 3) * T + 5) * T),
      ),
    ).toBeLessThan(1e-5);
    expect(run.cache.get('ln_final.hook_scale')!.shape).toEqual([B, 2, 1]);
    expect(maxAbsDiff(run.logits, ref.logits)).toBeLessThan(1e-4);

    // q/k/v that are only read leave the graph as [B, T, H·E] projections (graph.ts); the engine
    // restores [B, pos, H, d_head], sliced like every other hook.
    const E = cfg.d_head;
    const qk = await engine.runWithCache(tokens, B, T, { names: ['blocks.1.attn.hook_q', 'blocks.2.attn.hook_k'], positions });
    for (const name of ['blocks.1.attn.hook_q', 'blocks.2.attn.hook_k']) {
      const act = qk.cache.get(name)!;
      expect(act.shape, name).toEqual([B, 2, H, E]);
      const refAct = ref.cache.get(name)!.data;
      for (let b = 0; b < B; b++) {
        positions.forEach((p, i) => {
          expect(
            maxAbsDiff(act.data.subarray((b * 2 + i) * H * E, (b * 2 + i + 1) * H * E), refAct.subarray((b * T + p) * H * E, (b * T + p + 1) * H * E)),
            name,
          ).toBeLessThan(1e-4);
        });
      }
    }
    // A q that is also zero-ablated keeps the 4-d path: the cache holds the patched value.
    const zeroQ = await engine.runWithInterventions(tokens, B, T, [{ hook: 'blocks.1.attn.hook_q', kind: 'zero', heads: [2] }], {
      names: ['blocks.1.attn.hook_q'],
    });
    const q = zeroQ.cache.get('blocks.1.attn.hook_q')!;
    expect(q.shape).toEqual([B, T, H, E]);
    const refQ = ref.cache.get('blocks.1.attn.hook_q')!.data;
    for (let cell = 0; cell < B * T * H; cell++) {
      const got = q.data.subarray(cell * E, (cell + 1) * E);
      const want = cell % H === 2 ? new Float32Array(E) : refQ.subarray(cell * E, (cell + 1) * E);
      expect(maxAbsDiff(got, want), `cell ${cell}`).toBeLessThan(1e-4);
    }
  });

  it('rejects unknown hook names, out-of-range positions and bad tokens with precise errors', async () => {
    const cfg = nano();
    const engine = await OnnxEngine.create(cfg, randomWeights(cfg), { device: 'cpu' });
    engines.push(engine);
    const tokens = randomTokens(cfg, 4);
    await expect(engine.runWithCache(tokens, 1, 4, { names: ['blocks.0.hook_resid'] })).rejects.toThrow(/unknown hook point "blocks.0.hook_resid"/);
    await expect(engine.runWithCache(tokens, 1, 4, { names: ['blocks.2.hook_resid_pre'] })).rejects.toThrow(/2 blocks/);
    await expect(engine.runWithCache(tokens, 1, 4, { positions: [4] })).rejects.toThrow(/position 4 is outside \[0, 4\)/);
    await expect(engine.forward(Int32Array.from([0, 1, 99, 2]), 1, 4)).rejects.toThrow(/token 99 at row 0, position 2/);
    await expect(engine.forward(tokens, 2, 4)).rejects.toThrow(/B×T/);
    await expect(engine.forward(new Int32Array(cfg.n_ctx + 1), 1, cfg.n_ctx + 1)).rejects.toThrow(/exceeds n_ctx/);
  });
});
