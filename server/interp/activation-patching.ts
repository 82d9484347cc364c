/**
 * `activation-patching`: TransformerLens-style sweeps (patching.get_act_patch_*: run the corrupted
 * prompt, replace one activation with its clean value, read the metric) on clean/corrupted pairs
 * from pairs.ts, with the normalised logit difference
 *   (LD_patched − LD_corrupt) / (LD_clean − LD_corrupt)
 * (1 = the patch restores clean behaviour, 0 = no effect; NaN for a pair whose clean and corrupted
 * logit differences agree, e.g. the *-off control pairs). The sweeps run on the ONNX engine's
 * exact fast path (../model/onnx/patching.ts via the engine entry: many patches per call, skipping
 * unaffected layers and positions).
 */
import {
  actPatchAttnHeadOutAllPos,
  actPatchAttnHeadOutByPos,
  actPatchAttnOut,
  actPatchMlpOut,
  actPatchResidPre,
  type Metric,
  type OnnxEngine,
} from '../model/engine.js';
import { num } from './collect.js';
import { InterpError } from './context.js';
import { defineParams, type SchemaParams } from './params.js';
import { ldGap, packSite, type PatchPairRow, pairsSummary, PATCH_CLASSES, patchFields, type PerSite, preparePairs, type Site } from './patch-common.js';
import { defineKind, type NamedTensor } from './types.js';

export const paramsSchema = defineParams({
  ...patchFields(4, ['resid_pre', 'attn_out', 'mlp_out', 'head_all_pos']),
  rowsPerRun: { type: 'int', doc: 'patched runs per ONNX call', min: 1, max: 256, default: 8 },
});

/** The params as run: declared once, by the fields above. */
export type ActivationPatchingParams = SchemaParams<typeof paramsSchema>;

/** One exact sweep of `site`: the patched metric in TL's output shape. */
export async function sweepSite(engine: OnnxEngine, site: Site, clean: Int32Array, corrupt: Int32Array, metric: Metric, rowsPerRun = 8): Promise<Float32Array> {
  const o = { rowsPerRun };
  // The engine entry loads the sweeps (and ONNX Runtime) on first run, so the registry stays light to import.
  const f = {
    resid_pre: actPatchResidPre,
    attn_out: actPatchAttnOut,
    mlp_out: actPatchMlpOut,
    head_by_pos: actPatchAttnHeadOutByPos,
    head_all_pos: actPatchAttnHeadOutAllPos,
  }[site];
  return (await f(engine, clean, corrupt, metric, o)).data;
}

/** The largest normalised effect of a site (mean over pairs): where, and how large. */
export interface PatchPeak {
  /** Multi-index into the site's aggregate tensor: [layer, class] (or [layer, class, head]); [layer, head] for head_all_pos. */
  index: number[];
  value: number | null;
}

/** `activation-patching`'s summary (stored as JSON; served as Experiment.result, ActivationPatchingSummary). */
export interface ActivationPatchingSummary {
  kind: 'activation-patching';
  pair: ActivationPatchingParams['pair'];
  sites: Site[];
  pairs: PatchPairRow[];
  skipped_mazes: number;
  classes: typeof PATCH_CLASSES;
  /** Per site run: its peak, or null when no entry is finite. */
  peaks: PerSite<PatchPeak | null>;
}

export const activationPatching = defineKind<ActivationPatchingParams, ActivationPatchingSummary>({
  kind: 'activation-patching',
  describe:
    'Activation patching sweeps (TransformerLens get_act_patch_* shapes) on clean/corrupted maze pairs: change the target, move the origin, add or remove a wall on or off the solution; metric: normalised logit difference at the decision position.',
  paramsSchema,
  async run(ctx, p, progress) {
    const engine = await ctx.model.engine();
    const { prepared, skipped, mazes } = await preparePairs(ctx, p, engine);
    if (prepared.length === 0) throw new InterpError(`no maze among ${mazes} offers a "${p.pair}" pair; try another pair kind or generator`);
    const sites = [...new Set(p.sites)];
    const raw = new Map<Site, Float32Array[]>(sites.map((s) => [s, []]));
    const total = prepared.length * sites.length;
    let done = 0;
    for (const pp of prepared) {
      for (const site of sites) {
        raw.get(site)!.push(await sweepSite(engine, site, pp.pair.clean, pp.pair.corrupt, pp.metric, p.rowsPerRun));
        progress(++done / total, `patched ${site} of pair ${prepared.indexOf(pp) + 1}/${prepared.length}`);
      }
    }
    const normalise = (v: number, pp: (typeof prepared)[number]) => (v - pp.corruptLd) / ldGap(pp);
    const tensors: NamedTensor[] = [];
    for (const site of sites) tensors.push(...packSite(ctx.model.cfg, site, prepared, raw.get(site)!, normalise));
    const ps = pairsSummary(ctx.model.vocab, prepared);
    tensors.push(...ps.tensors);
    return {
      summary: {
        kind: 'activation-patching',
        pair: p.pair,
        sites,
        pairs: ps.rows,
        skipped_mazes: skipped,
        classes: PATCH_CLASSES,
        // Largest normalised effect per site (mean over pairs, by layer and class / head).
        peaks: Object.fromEntries(
          sites.map((s): [Site, PatchPeak | null] => {
            const t = tensors.find((x) => x.name === `${s}.${s === 'head_all_pos' ? 'mean' : 'by_class'}`)!;
            let best = -1;
            t.data.forEach((v, i) => {
              if (Number.isFinite(v) && (best < 0 || Math.abs(v) > Math.abs(t.data[best]))) best = i;
            });
            return [s, best < 0 ? null : { index: unravel(best, t.shape), value: num(t.data[best]) }];
          }),
        ),
      } satisfies ActivationPatchingSummary,
      tensors,
    };
  },
});

/** Multi-index of flat index `i` in `shape`. */
export function unravel(i: number, shape: number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return out;
}
