/**
 * `attribution-patching`: the first-order approximation of activation patching (Nanda 2023,
 * "Attribution patching: activation patching at industrial scale"; Syed et al. 2023): for a patch
 * of activation a from the clean run into the corrupted run,
 *   LD_patched − LD_corrupt ≈ (a_clean − a_corrupt) · ∂LD/∂a |corrupted run,
 * summed over the features of each patched cell (d_model for resid_pre / attn_out / mlp_out,
 * d_head per head for attn.hook_z). One forward+backward per pair instead of one run per patch.
 *
 * Gradients are exact (not finite differences): the ONNX training graph's hand-derived backward
 * (../model/onnx-train, `activationGrads` with the logit-difference seed `logitDiffSeed`). Same
 * pairs, sites, shapes and normalisation as activation-patching (divided by LD_clean − LD_corrupt);
 * with `compare` the exact sweeps run too and the Pearson correlation of attribution with the exact
 * effect (patched − corrupted) is reported per site, over every entry of every pair.
 */
import { logitDiffSeed } from '../model/engine.js';
import { num } from './collect.js';
import { InterpError } from './context.js';
import { pearson } from './linalg.js';
import { defineParams, type SchemaParams } from './params.js';
import { ldGap, packSite, type PatchPairRow, pairsSummary, PATCH_CLASSES, patchFields, type PerSite, preparePairs, type Site } from './patch-common.js';
import { sweepSite } from './activation-patching.js';
import { defineKind, type NamedTensor } from './types.js';

export const paramsSchema = defineParams({
  ...patchFields(4, ['resid_pre', 'attn_out', 'mlp_out', 'head_all_pos']),
  compare: { type: 'bool', doc: 'also run the exact sweeps and report the correlation', default: true },
});

/** The params as run: declared once, by the fields above. */
export type AttributionPatchingParams = SchemaParams<typeof paramsSchema>;

const hookOf = (site: Site, l: number): string =>
  site === 'resid_pre'
    ? `blocks.${l}.hook_resid_pre`
    : site === 'attn_out'
      ? `blocks.${l}.hook_attn_out`
      : site === 'mlp_out'
        ? `blocks.${l}.hook_mlp_out`
        : `blocks.${l}.attn.hook_z`;

/** `attribution-patching`'s summary (stored as JSON; served as Experiment.result, AttributionPatchingSummary). */
export interface AttributionPatchingSummary {
  kind: 'attribution-patching';
  pair: AttributionPatchingParams['pair'];
  sites: Site[];
  pairs: PatchPairRow[];
  skipped_mazes: number;
  classes: typeof PATCH_CLASSES;
  /** How the gradients were computed. */
  gradients: string;
  /** Per site: Pearson r of attribution with the exact effect; null when `compare` is off. */
  correlation_with_exact: PerSite<number | null> | null;
}

export const attributionPatching = defineKind<AttributionPatchingParams, AttributionPatchingSummary>({
  kind: 'attribution-patching',
  describe:
    "Attribution patching: gradient × (clean − corrupted activation) with exact gradients from the ONNX training graph, in activation patching's shapes, plus its correlation with the exact sweeps on the same pairs.",
  paramsSchema,
  async run(ctx, p, progress) {
    const { cfg } = ctx.model;
    const { n_layers: L, n_heads: H, d_model: D, d_head: E } = cfg;
    const engine = await ctx.model.engine();
    const grad = await ctx.model.gradEngine();
    const { prepared, skipped, mazes } = await preparePairs(ctx, p, engine);
    if (prepared.length === 0) throw new InterpError(`no maze among ${mazes} offers a "${p.pair}" pair; try another pair kind or generator`);
    const sites = [...new Set(p.sites)];
    const names = [...new Set(sites.flatMap((s) => Array.from({ length: L }, (_, l) => hookOf(s, l))))];
    const attr = new Map<Site, Float32Array[]>(sites.map((s) => [s, []]));
    const exact = new Map<Site, Float32Array[]>(sites.map((s) => [s, []]));
    for (const [i, pp] of prepared.entries()) {
      const { clean, corrupt } = pp.pair;
      const T = clean.length;
      const cleanRun = await engine.runWithCache(clean, 1, T, { names });
      const corruptRun = await engine.runWithCache(corrupt, 1, T, { names });
      const seed = await logitDiffSeed(cfg, 1, T, [{ pos: T - 1, good: pp.good, bad: pp.bad }]);
      const { grads } = await grad.activationGrads({ B: 1, T, tokens: corrupt }, { kind: 'logits', grad: seed }, names);
      for (const site of sites) {
        const heads = site === 'head_by_pos' || site === 'head_all_pos';
        const f = heads ? E : D; // features summed per cell
        const out = new Float32Array(site === 'head_all_pos' ? L * H : heads ? L * T * H : L * T);
        for (let l = 0; l < L; l++) {
          const n = hookOf(site, l);
          const a = cleanRun.cache.get(n)!.data,
            b = corruptRun.cache.get(n)!.data,
            g = grads.get(n)!.data; // [1, T, (H,) f]
          const cells = heads ? T * H : T;
          for (let c = 0; c < cells; c++) {
            let s = 0;
            for (let k = 0; k < f; k++) s += (a[c * f + k] - b[c * f + k]) * g[c * f + k];
            if (site === 'head_all_pos') out[l * H + (c % H)] += s;
            else out[l * cells + c] = s;
          }
        }
        attr.get(site)!.push(out);
        if (p.compare) {
          const patched = await sweepSite(engine, site, clean, corrupt, pp.metric);
          exact.get(site)!.push(patched.map((v) => v - pp.corruptLd));
        }
      }
      progress((i + 1) / prepared.length, `attributed pair ${i + 1}/${prepared.length}`);
    }
    const normalise = (v: number, pp: (typeof prepared)[number]) => v / ldGap(pp);
    const tensors: NamedTensor[] = [];
    const correlation: PerSite<number | null> = {};
    for (const site of sites) {
      tensors.push(...packSite(cfg, site, prepared, attr.get(site)!, normalise));
      if (p.compare) {
        tensors.push(...packSite(cfg, site, prepared, exact.get(site)!, normalise).map((t) => ({ ...t, name: `exact.${t.name}` })));
        const xs = attr.get(site)!.flatMap((a) => Array.from(a)),
          ys = exact.get(site)!.flatMap((a) => Array.from(a));
        correlation[site] = num(pearson(xs, ys));
      }
    }
    const ps = pairsSummary(ctx.model.vocab, prepared);
    tensors.push(...ps.tensors);
    return {
      summary: {
        kind: 'attribution-patching',
        pair: p.pair,
        sites,
        pairs: ps.rows,
        skipped_mazes: skipped,
        classes: PATCH_CLASSES,
        gradients: 'exact, ONNX training graph (activationGrads)',
        // Pearson r between attribution and the exact effect (patched − corrupted LD), all entries of all pairs.
        correlation_with_exact: p.compare ? correlation : null,
      } satisfies AttributionPatchingSummary,
      tensors,
    };
  },
});
