import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceForward } from '../../../server/model/reference.js';
import { OnnxEngine } from '../../../server/model/onnx/engine.js';
import type { Intervention } from '../../../server/model/onnx/interventions.js';
import {
  actPatchAttnHeadOutAllPos,
  actPatchAttnHeadOutByPos,
  actPatchAttnOut,
  actPatchMlpOut,
  actPatchResidPre,
  type Metric,
} from '../../../server/model/onnx/patching.js';
import { randomTokens, randomWeights, tinyLike } from './helpers.js';

const cfg = tinyLike();
const w = randomWeights(cfg, 31);
const { n_layers: L, n_heads: H, d_vocab: V } = cfg;
const T = 9;
const clean = randomTokens(cfg, T, 1);
const corrupt = clean.slice();
corrupt[2] = (corrupt[2] + 5) % V; // corrupt two tokens
corrupt[6] = (corrupt[6] + 7) % V;
const metric: Metric = (last) => last[3] - last[11]; // a logit difference
let engine: OnnxEngine;
beforeAll(async () => {
  engine = await OnnxEngine.create(cfg, w, { device: 'cpu' });
});
afterAll(async () => engine.dispose());

/** Naive TL-style sweep: one full corrupted run per patch (batched one patch per row), no tricks. */
async function naive(site: string, cells: Array<{ l: number; p?: number; h?: number }>): Promise<number[]> {
  const names = [...new Set(cells.map((c) => `blocks.${c.l}.${site}`))];
  const cache = (await engine.runWithCache(clean, 1, T, { names })).cache;
  const ivs: Intervention[] = cells.map((c, r) => ({
    hook: `blocks.${c.l}.${site}`,
    kind: 'replace',
    rows: [r],
    value: cache.get(`blocks.${c.l}.${site}`)!.data,
    ...(c.p === undefined ? {} : { positions: [c.p] }),
    ...(c.h === undefined ? {} : { heads: [c.h] }),
  }));
  const B = cells.length;
  const tokens = new Int32Array(B * T);
  for (let b = 0; b < B; b++) tokens.set(corrupt, b * T);
  const run = await engine.runWithInterventions(tokens, B, T, ivs, { names: [] });
  return cells.map((_, b) => metric(run.logits.subarray(((b + 1) * T - 1) * V, (b + 1) * T * V)));
}

const grid = (withHeads: boolean, allPos = false) => {
  const cells: Array<{ l: number; p?: number; h?: number }> = [];
  for (let l = 0; l < L; l++) {
    if (allPos) for (let h = 0; h < H; h++) cells.push({ l, h });
    else for (let p = 0; p < T; p++) for (let h = 0; h < (withHeads ? H : 1); h++) cells.push({ l, p, ...(withHeads ? { h } : {}) });
  }
  return cells;
};

describe('activation patching sweeps (TL get_act_patch_* semantics)', () => {
  it.each([
    ['resid_pre', actPatchResidPre, 'hook_resid_pre', [L, T]],
    ['attn_out', actPatchAttnOut, 'hook_attn_out', [L, T]],
    ['mlp_out', actPatchMlpOut, 'hook_mlp_out', [L, T]],
  ] as const)('%s: shape [n_layers, pos]; equals naive full patched runs (cache + causal shortcuts are exact)', async (_, fn, site, shape) => {
    for (const rowsPerRun of [1, 4, 64]) {
      const res = await fn(engine, clean, corrupt, metric, { rowsPerRun });
      expect(res.shape).toEqual(shape);
      const expected = await naive(site, grid(false));
      for (let i = 0; i < expected.length; i++) expect(Math.abs(res.data[i] - expected[i]), `cell ${i}`).toBeLessThan(1e-4);
    }
  });

  it('head out by position: shape [n_layers, pos, n_heads]; equals naive runs patching hook_z', async () => {
    const res = await actPatchAttnHeadOutByPos(engine, clean, corrupt, metric, { rowsPerRun: 10 });
    expect(res.shape).toEqual([L, T, H]);
    const expected = await naive('attn.hook_z', grid(true));
    for (let i = 0; i < expected.length; i++) expect(Math.abs(res.data[i] - expected[i]), `cell ${i}`).toBeLessThan(1e-4);
  });

  it('head out over all positions: shape [n_layers, n_heads]; equals naive runs patching hook_z', async () => {
    const res = await actPatchAttnHeadOutAllPos(engine, clean, corrupt, metric);
    expect(res.shape).toEqual([L, H]);
    const expected = await naive('attn.hook_z', grid(true, true));
    for (let i = 0; i < expected.length; i++) expect(Math.abs(res.data[i] - expected[i]), `cell ${i}`).toBeLessThan(1e-4);
  });

  it('the sweep agrees with the pure-TS reference for a few cells (independent of the ONNX intervention path)', async () => {
    const res = await actPatchResidPre(engine, clean, corrupt, metric);
    const cleanRef = referenceForward(cfg, w, { B: 1, T, data: clean }, { hooks: ['blocks.1.hook_resid_pre'] }).cache.get('blocks.1.hook_resid_pre')!.data;
    const D = cfg.d_model;
    for (const p of [0, 2, 5, 8]) {
      const patched = referenceForward(
        cfg,
        w,
        { B: 1, T, data: corrupt },
        {
          interventions: { 'blocks.1.hook_resid_pre': (v) => v.set(cleanRef.subarray(p * D, (p + 1) * D), p * D) },
        },
      );
      expect(Math.abs(res.data[1 * T + p] - metric(patched.logits.subarray((T - 1) * V)))).toBeLessThan(1e-4);
    }
  });

  it('patching clean into clean gives the clean metric everywhere; patching block 0 resid_pre at an uncorrupted position gives the corrupted metric', async () => {
    const cleanMetric = metric((await engine.forward(clean, 1, T)).subarray((T - 1) * V));
    const corruptMetric = metric((await engine.forward(corrupt, 1, T)).subarray((T - 1) * V));
    expect(Math.abs(cleanMetric - corruptMetric)).toBeGreaterThan(1e-2);
    for (const fn of [actPatchResidPre, actPatchAttnOut, actPatchMlpOut, actPatchAttnHeadOutByPos, actPatchAttnHeadOutAllPos]) {
      const res = await fn(engine, clean, clean, metric);
      for (const x of res.data) expect(Math.abs(x - cleanMetric)).toBeLessThan(1e-4);
    }
    // Patching an uncorrupted position's embedding-level residual changes nothing.
    const res = await actPatchResidPre(engine, clean, corrupt, metric);
    for (const p of [0, 1, 3, 4, 5, 7, 8]) expect(Math.abs(res.data[p] - corruptMetric)).toBeLessThan(1e-4);
  });

  it('rejects prompts of different lengths', async () => {
    await expect(actPatchResidPre(engine, clean, corrupt.slice(1), metric)).rejects.toThrow(/equal lengths/);
  });
});
