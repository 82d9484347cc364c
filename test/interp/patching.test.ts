/**
 * Activation and attribution patching sanity: patching clean into clean changes nothing; replacing
 * every position of blocks.0.hook_resid_pre with the corrupted run reproduces the corrupted logits;
 * the kind's tensors have TransformerLens' shapes; attribution is exactly zero where clean and
 * corrupted activations agree, and correlates with the exact sweep.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { activationPatching, sweepSite } from '../../server/interp/activation-patching.js';
import { attributionPatching } from '../../server/interp/attribution-patching.js';
import { encoder, modelInfo } from '../../server/interp/context.js';
import { buildPairs, resolveBad, type PatchPair } from '../../server/interp/pairs.js';
import { SITES } from '../../server/interp/patch-common.js';
import type { OnnxEngine } from '../../server/model/onnx/engine.js';
import { ctxOf, mazes, noProgress, randomModel, tensorOf } from './helpers.js';

const model = randomModel('nano', 4, 5);
let engine: OnnxEngine;
let pair: PatchPair;
beforeAll(async () => {
  engine = await model.engine();
  pair = buildPairs('target', mazes(4, 10, 2), encoder(model), 1, 1).pairs[0];
});

const lastLogits = async (tokens: Int32Array) => {
  const V = model.cfg.d_vocab,
    T = tokens.length;
  return (await engine.forward(tokens, 1, T)).slice((T - 1) * V);
};

describe('activation patching sanity', () => {
  it('patching clean into clean changes nothing, at every site', async () => {
    const last = await lastLogits(pair.clean);
    const bad = resolveBad(pair, last);
    const metric = (l: Float32Array) => l[pair.good] - l[bad];
    const ld = metric(last);
    for (const site of SITES) {
      const r = await sweepSite(engine, site, pair.clean, pair.clean, metric);
      for (const v of r) expect(Math.abs(v - ld)).toBeLessThan(1e-4);
    }
  });

  it('replacing every position of resid_pre at layer 0 with the corrupted run reproduces the corrupted logits', async () => {
    const T = pair.clean.length;
    const corrupt = await engine.runWithCache(pair.corrupt, 1, T, { names: ['blocks.0.hook_resid_pre'] });
    const patched = await engine.runWithInterventions(
      pair.clean,
      1,
      T,
      [{ hook: 'blocks.0.hook_resid_pre', kind: 'replace', value: corrupt.cache.get('blocks.0.hook_resid_pre')!.data }],
      { names: [] },
    );
    let max = 0;
    for (let i = 0; i < patched.logits.length; i++) max = Math.max(max, Math.abs(patched.logits[i] - corrupt.logits[i]));
    expect(max).toBeLessThan(1e-4);
    // …and the clean run's logits really differ, so the check is not vacuous.
    const clean = await engine.forward(pair.clean, 1, T);
    expect(Math.max(...clean.map((v, i) => Math.abs(v - corrupt.logits[i])))).toBeGreaterThan(1e-3);
  });

  it('the kind returns TL-shaped sweeps; patching the changed position at layer 0 fully restores the clean metric', async () => {
    const r = await activationPatching.run(
      ctxOf(model, 4),
      activationPatching.paramsSchema.parse({ count: 2, sites: [...SITES] }, modelInfo(model)),
      noProgress,
    );
    const { n_layers: L, n_heads: H } = model.cfg;
    const P = (r.summary.pairs as unknown[]).length;
    const raw = tensorOf(r, 'resid_pre.raw');
    const Tmax = raw.shape[2];
    expect(raw.shape).toEqual([P, L, Tmax]);
    expect(tensorOf(r, 'head_by_pos').shape).toEqual([P, L, Tmax, H]);
    expect(tensorOf(r, 'head_all_pos').shape).toEqual([P, L, H]);
    expect(tensorOf(r, 'resid_pre.by_class').shape[0]).toBe(L);
    const rows = r.summary.pairs as Array<{ changed_positions: number[]; clean_logit_diff: number; corrupt_logit_diff: number; length: number }>;
    rows.forEach((row, i) => {
      // resid_pre at layer 0 of the only changed position (the target token) carries the whole difference.
      const t = row.changed_positions[0];
      expect(raw.data[(i * L + 0) * Tmax + t]).toBeCloseTo(row.clean_logit_diff, 3);
      // Positions before it cannot matter (causality): the corrupted metric.
      for (let p = 0; p < t; p++) expect(raw.data[(i * L + 0) * Tmax + p]).toBeCloseTo(row.corrupt_logit_diff, 3);
      if (Math.abs(row.clean_logit_diff - row.corrupt_logit_diff) > 1e-3) expect(tensorOf(r, 'resid_pre').data[(i * L + 0) * Tmax + t]).toBeCloseTo(1, 3);
    });
  });
});

describe('attribution patching', () => {
  it('gradient × Δactivation: zero where activations agree, same shapes, correlated with the exact sweep', async () => {
    const r = await attributionPatching.run(
      ctxOf(model, 6),
      attributionPatching.paramsSchema.parse({ count: 2, sites: ['resid_pre', 'head_by_pos', 'head_all_pos'] }, modelInfo(model)),
      noProgress,
    );
    const { n_layers: L } = model.cfg;
    const attr = tensorOf(r, 'resid_pre.raw'),
      exact = tensorOf(r, 'exact.resid_pre.raw');
    expect(attr.shape).toEqual(exact.shape);
    const Tmax = attr.shape[2];
    const rows = r.summary.pairs as Array<{ changed_positions: number[] }>;
    rows.forEach((row, i) => {
      for (let l = 0; l < L; l++)
        for (let p = 0; p < row.changed_positions[0]; p++) {
          expect(attr.data[(i * L + l) * Tmax + p]).toBe(0); // identical prefixes: Δ = 0 exactly
          expect(Math.abs(exact.data[(i * L + l) * Tmax + p])).toBeLessThan(1e-4);
        }
    });
    const corr = (r.summary.correlation_with_exact as Record<string, number>).resid_pre;
    expect(Number.isFinite(corr)).toBe(true);
    expect(corr).toBeGreaterThan(0);
    expect(tensorOf(r, 'head_all_pos.mean').shape).toEqual([L, model.cfg.n_heads]);
  });
});
