/**
 * Activation-patching sweeps with the semantics and output shapes of TransformerLens'
 * `patching.get_act_patch_*`: run the CORRUPTED prompt, replace one activation (layer, position
 * [, head]) with its value from the CLEAN run, and record metric(patched logits).
 *
 *   actPatchResidPre / actPatchAttnOut / actPatchMlpOut   [n_layers, pos]         (resid_pre, attn_out, mlp_out)
 *   actPatchAttnHeadOutByPos                              [n_layers, pos, n_heads] (attn.hook_z per head and position)
 *   actPatchAttnHeadOutAllPos                             [n_layers, n_heads]      (attn.hook_z per head, all positions)
 *
 * The metric sees the last position's logits [d_vocab] of one patched run (e.g. a logit
 * difference); TL passes the whole logits tensor, but maze metrics read the last position.
 *
 * Speed, all exact (the patched run's logits are the same function of the same values):
 * 1. Many patches per ORT call: each batch row carries its own patch (per-row masks).
 * 2. Skip earlier layers: a patch at layer l cannot change anything before block l, so the run
 *    starts at block l from the corrupted run's cached blocks.l.hook_resid_pre (graph `startLayer`).
 * 3. Skip earlier positions: a patch at position p cannot change positions < p (causal attention),
 *    so a row only computes positions ≥ P and reads keys/values of positions < P from the corrupted
 *    run's cache (graph `past`, one cache broadcast to every row). Rows in one call share P, the
 *    smallest patched position among them; rows patched later recompute a few unpatched positions,
 *    which reproduces the corrupted values exactly as a full run would.
 * 4. Only the last position is unembedded (graph `lastOnly`).
 */
import type { OnnxEngine } from './engine.js';
import { feedBool, feedF32, type Feed } from './runtime.js';
import type { GraphSpec } from './graph.js';

/** A function of the last position's logits [d_vocab] → a number (e.g. logit difference). */
export type Metric = (lastLogits: Float32Array) => number;

export interface PatchResult {
  shape: number[];
  data: Float32Array;
}

export interface SweepOptions {
  /** Patched runs per ORT call (default 8: small groups waste little recomputation, see note 3). */
  rowsPerRun?: number;
}

type Site = 'resid_pre' | 'attn_out' | 'mlp_out' | 'z';

const hookOf = (site: Site, l: number): string => (site === 'z' ? `blocks.${l}.attn.hook_z` : `blocks.${l}.hook_${site}`);

export const actPatchResidPre = (e: OnnxEngine, clean: Int32Array, corrupt: Int32Array, metric: Metric, o?: SweepOptions) =>
  sweep(e, clean, corrupt, metric, 'resid_pre', 'pos', o);
export const actPatchAttnOut = (e: OnnxEngine, clean: Int32Array, corrupt: Int32Array, metric: Metric, o?: SweepOptions) =>
  sweep(e, clean, corrupt, metric, 'attn_out', 'pos', o);
export const actPatchMlpOut = (e: OnnxEngine, clean: Int32Array, corrupt: Int32Array, metric: Metric, o?: SweepOptions) =>
  sweep(e, clean, corrupt, metric, 'mlp_out', 'pos', o);
export const actPatchAttnHeadOutByPos = (e: OnnxEngine, clean: Int32Array, corrupt: Int32Array, metric: Metric, o?: SweepOptions) =>
  sweep(e, clean, corrupt, metric, 'z', 'posHead', o);
export const actPatchAttnHeadOutAllPos = (e: OnnxEngine, clean: Int32Array, corrupt: Int32Array, metric: Metric, o?: SweepOptions) =>
  sweep(e, clean, corrupt, metric, 'z', 'head', o);

/** One patched run: position p (-1 = every position) and head h (-1 = no head axis). */
interface Job {
  p: number;
  h: number;
  out: number; // index into the result
}

async function sweep(
  engine: OnnxEngine,
  clean: Int32Array,
  corrupt: Int32Array,
  metric: Metric,
  site: Site,
  grid: 'pos' | 'posHead' | 'head',
  opts: SweepOptions = {},
): Promise<PatchResult> {
  const cfg = engine.cfg;
  const { n_layers: L, n_heads: H, d_head: E, d_model: D, d_vocab: V } = cfg;
  const T = corrupt.length;
  if (clean.length !== T) throw new RangeError(`clean has ${clean.length} tokens but corrupt has ${T}; patching needs equal lengths`);
  engine.checkTokens(clean, 1, T);
  engine.checkTokens(corrupt, 1, T);
  const rowsPerRun = Math.max(1, Math.floor(opts.rowsPerRun ?? 8));
  const layers = Array.from({ length: L }, (_, l) => l);

  // Clean values to patch in; the corrupted run's residual stream, keys and values to resume from.
  const cleanRun = await engine.runWithCache(clean, 1, T, { names: layers.map((l) => hookOf(site, l)) });
  const corruptRun = await engine.runWithCache(corrupt, 1, T, {
    names: layers.flatMap((l) => [`blocks.${l}.hook_resid_pre`, `blocks.${l}.attn.hook_k`, `blocks.${l}.attn.hook_v`]),
  });
  const cc = (n: string) => corruptRun.cache.get(n)!.data;

  const shape = grid === 'pos' ? [L, T] : grid === 'posHead' ? [L, T, H] : [L, H];
  const result = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const cell = site === 'z' ? E : D; // feature size of the patched hook

  for (const l of layers) {
    const jobs: Job[] = [];
    if (grid === 'head') for (let h = 0; h < H; h++) jobs.push({ p: -1, h, out: l * H + h });
    else {
      for (let p = 0; p < T; p++) {
        if (grid === 'pos') jobs.push({ p, h: -1, out: l * T + p });
        else for (let h = 0; h < H; h++) jobs.push({ p, h, out: (l * T + p) * H + h });
      }
    }
    const hook = hookOf(site, l);
    const cleanVal = cleanRun.cache.get(hook)!.data; // [1, T, D] or [1, T, H, E]
    const residPre = cc(`blocks.${l}.hook_resid_pre`); // [1, T, D]

    for (let j0 = 0; j0 < jobs.length; j0 += rowsPerRun) {
      const group = jobs.slice(j0, j0 + rowsPerRun);
      const R = group.length;
      const P = Math.max(0, group[0].p); // jobs are sorted by p; -1 = all positions ⇒ P = 0
      const Tn = T - P;
      const feeds: Record<string, Feed> = {};
      const spec: GraphSpec = { startLayer: l, residIn: true, past: true, lastOnly: true };

      // resid_in [R, Tn, D]: the corrupted residual stream from position P on.
      const resid = new Float32Array(R * Tn * D);
      for (let r = 0; r < R; r++) resid.set(residPre.subarray(P * D, T * D), r * Tn * D);
      // KV cache of positions < P from the corrupted run, for blocks ≥ l, shared by all rows.
      for (let m = l; m < L; m++) {
        const k = cc(`blocks.${m}.attn.hook_k`); // [1, T, H, E]
        const v = cc(`blocks.${m}.attn.hook_v`); // [1, T, H, E]
        const pk = new Float32Array(H * E * P); // [1, H, E, P]
        const pv = new Float32Array(H * P * E); // [1, H, P, E]
        for (let t = 0; t < P; t++) {
          for (let h = 0; h < H; h++) {
            for (let e = 0; e < E; e++) {
              pk[(h * E + e) * P + t] = k[(t * H + h) * E + e];
              pv[(h * P + t) * E + e] = v[(t * H + h) * E + e];
            }
          }
        }
        feeds[`past_key.${m}`] = feedF32(pk, [1, H, E, P]);
        feeds[`past_value.${m}`] = feedF32(pv, [1, H, P, E]);
      }

      if (site === 'resid_pre') {
        // The patch is the input itself: row r's position p holds the clean residual.
        group.forEach((job, r) => resid.set(cleanVal.subarray(job.p * D, job.p * D + D), (r * Tn + job.p - P) * D));
      } else {
        const heads = site === 'z' ? H : 1;
        const mask = new Uint8Array(R * Tn * heads); // [R, Tn, (H,) 1]
        const value = new Float32Array(R * Tn * heads * cell); // [R, Tn, (H,) cell]
        group.forEach((job, r) => {
          for (let t = job.p < 0 ? 0 : job.p; t < (job.p < 0 ? T : job.p + 1); t++) {
            for (let h = 0; h < heads; h++) {
              if (job.h >= 0 && h !== job.h) continue;
              const dst = (r * Tn + t - P) * heads + h;
              mask[dst] = 1;
              value.set(cleanVal.subarray((t * heads + h) * cell, (t * heads + h + 1) * cell), dst * cell);
            }
          }
        });
        const dims = site === 'z' ? [R, Tn, H] : [R, Tn];
        feeds[`${hook}__patch_mask`] = feedBool(mask, [...dims, 1]);
        feeds[`${hook}__patch_value`] = feedF32(value, [...dims, cell]);
        spec.patch = [hook];
      }
      feeds.resid_in = feedF32(resid, [R, Tn, D]);

      const out = await engine.runSpec(spec, feeds, ['logits']);
      const logits = out.logits.data; // [R, 1, V]
      group.forEach((job, r) => (result[job.out] = metric(logits.subarray(r * V, (r + 1) * V))));
    }
  }
  return { shape, data: result };
}
