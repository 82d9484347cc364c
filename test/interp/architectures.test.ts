/**
 * Every experiment kind on every TransformerLens architecture variant the engine runs (rotary,
 * LNPre / RMS / RMSPre / no normalization, attn_only, parallel_attn_mlp, other activations): each
 * kind reads only the hooks and weights the variant has, and its numbers are finite. Small params:
 * the kinds' own tests check what they compute; this checks they run on each architecture.
 */
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../server/interp/index.js';
import type { ModelConfig } from '../../server/model/config.js';
import { ctxOf, mazeConfig, randomWeights, storedSae, testModel } from './helpers.js';

const LIGHT: Record<string, Record<string, unknown>> = {
  attention: {},
  'logit-lens': { count: 4 },
  dla: { count: 4 },
  'activation-patching': { count: 2 },
  'attribution-patching': { count: 2 },
  'path-patching': { count: 2 },
  geometry: { count: 6, methods: ['pca'] },
  probes: { count: 24, iters: 10 },
  weights: {},
  'adjacency-heads': { count: 4 },
  retarget: { count: 4 },
  behavior: { count: 4, generators: ['dfs'] },
  lookahead: { count: 12 },
  sae: { steps: 10, count: 10 },
  'sae-intervention': { count: 6, minAuc: 0.5 },
};

const base = mazeConfig('nano', 3);
const VARIANTS: Array<[string, ModelConfig]> = [
  ['rotary', { ...base, positional_embedding_type: 'rotary', rotary_dim: 4 }],
  ['LNPre + silu', { ...base, normalization_type: 'LNPre', act_fn: 'silu' }],
  ['RMS', { ...base, normalization_type: 'RMS' }],
  ['RMSPre', { ...base, normalization_type: 'RMSPre' }],
  ['no normalization', { ...base, normalization_type: null }],
  ['attn_only', { ...base, attn_only: true }],
  ['GPT-J-like (rotary + parallel + RMS)', { ...base, positional_embedding_type: 'rotary', rotary_dim: 2, parallel_attn_mlp: true, normalization_type: 'RMS' }],
];

/** Every number in a JSON-able value (the summary), to check they are all finite or null. */
function numbers(v: unknown, out: number[] = []): number[] {
  if (typeof v === 'number') out.push(v);
  else if (Array.isArray(v)) for (const x of v) numbers(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) numbers(x, out);
  return out;
}

describe('every experiment kind runs on every architecture variant', () => {
  for (const [label, cfg] of VARIANTS) {
    it(`${label}: all ${Object.keys(LIGHT).length} kinds`, async () => {
      const model = testModel(cfg, randomWeights(cfg, 5, 1));
      const sae = storedSae(await runExperiment('sae', ctxOf(model, 2), LIGHT.sae));
      const failures: string[] = [];
      for (const [kind, params] of Object.entries(LIGHT)) {
        try {
          const out = await runExperiment(kind, kind === 'sae-intervention' ? { ...ctxOf(model, 1), sae } : ctxOf(model, 1), params);
          expect(out.summary.kind).toBe(kind);
          expect(out.tensors.length, kind).toBeGreaterThan(0);
          // dla's components must still sum to the logit difference under this normalization.
          if (out.summary.kind === 'dla') expect(out.summary.max_sum_error, 'dla components sum to the logit difference').toBeLessThan(1e-3);
          const bad = numbers(out.summary).filter((x) => !Number.isFinite(x));
          if (bad.length) failures.push(`${kind}: non-finite numbers in the summary (${bad.slice(0, 3).join(', ')})`);
        } catch (e) {
          failures.push(`${kind}: ${(e as Error).message}`);
        }
      }
      expect(failures).toEqual([]);
    }, 300_000);
  }
});
