/**
 * Interventions on hook points, compiled to the graph inputs of graph.ts: for a hook h,
 *   h__patch_mask  bool, the hook's shape with the last axis 1 (true = replace this cell), or the
 *                  hook's whole shape when an intervention picks single features (true = replace this value)
 *   h__patch_value float, the hook's shape (what replaced cells become)
 *   h__add         float, the hook's shape (added after the patch; zero where nothing is added)
 * so every row of a batch can carry its own intervention and one ORT call runs them all.
 *
 * A "cell" is one (position[, head]) slice of the hook: a feature vector of d_model, d_head,
 * d_mlp or 1 values, or for attn_scores/pattern one query row over key positions.
 */
import type { ModelConfig } from '../config.js';
import { feedBool, feedF32, type Feed } from './runtime.js';
import { hookDims, hookGeometry, HookError, type HookGeometry } from '../hooks.js';

export type InterventionKind = 'replace' | 'zero' | 'mean' | 'add';

export interface Intervention {
  /** TL hook name, e.g. "blocks.1.attn.hook_z". */
  hook: string;
  /** replace/mean: set cells to `value`; zero: set them to 0; add: add `value` (steering). */
  kind: InterventionKind;
  /** Batch rows it applies to (default: every row). */
  rows?: number[];
  /** (Query) positions it applies to (default: all). */
  positions?: number[];
  /** Heads it applies to (default: all); only for hooks with a head axis (q, k, v, z, result, scores, pattern). */
  heads?: number[];
  /** Indices along the hook's last axis it applies to (e.g. MLP neurons of mlp.hook_post); default: all. */
  features?: number[];
  /**
   * Either one row of the hook (its shape without the batch axis, e.g. [T, d_model] for resid_pre,
   * [T, H, d_head] for z, [H, T, T] for pattern; e.g. a row of another run's cache, or a per-position
   * mean) used element-wise, or one cell (e.g. a [d_model] steering vector or mean) used everywhere.
   */
  value?: Float32Array;
}

export interface CompiledInterventions {
  patch: string[];
  add: string[];
  feeds: Record<string, Feed>;
}

interface HookBuffers {
  geo: HookGeometry;
  dims: number[];
  mask?: Uint8Array; // [B, outer, f] (element-level; fed per cell unless some intervention picked features)
  byFeature?: boolean;
  value?: Float32Array; // [B, outer, f]
  add?: Float32Array; // [B, outer, f]
}

/** (position, head) of outer cell o of one row; head -1 if the hook has no head axis. */
function cellAt(geo: HookGeometry, o: number, T: number, H: number): [t: number, h: number] {
  if (geo.layout === 'btf') return [o, -1];
  if (geo.layout === 'bthf') return [Math.floor(o / H), o % H];
  return [o % T, Math.floor(o / T)]; // bhqk: [H, T] outer, query position fastest
}

/** Checks every intervention against the config and batch, and builds the feeds. */
export function compileInterventions(cfg: ModelConfig, interventions: readonly Intervention[], B: number, T: number): CompiledInterventions {
  const H = cfg.n_heads;
  const byHook = new Map<string, HookBuffers>();
  interventions.forEach((iv, idx) => {
    const where = `intervention ${idx} on ${iv.hook}`;
    let geo: HookGeometry;
    try {
      geo = hookGeometry(cfg, iv.hook);
    } catch (e) {
      throw new HookError(`intervention ${idx}: ${(e as Error).message}`, (e as HookError).code === 'UNKNOWN_HOOK' ? 'UNKNOWN_HOOK' : 'INVALID_INTERVENTION');
    }
    if (!['replace', 'zero', 'mean', 'add'].includes(iv.kind))
      throw new HookError(`${where}: kind must be replace, zero, mean or add; got ${JSON.stringify(iv.kind)}`, 'INVALID_INTERVENTION');
    const check = (what: string, xs: number[] | undefined, n: number) => {
      for (const x of xs ?? [])
        if (!Number.isInteger(x) || x < 0 || x >= n) throw new HookError(`${where}: ${what} ${x} is outside [0, ${n})`, 'INVALID_INTERVENTION');
    };
    check('row', iv.rows, B);
    check('position', iv.positions, T);
    if (iv.heads !== undefined && geo.layout === 'btf')
      throw new HookError(`${where}: this hook has no head axis, so heads cannot be chosen`, 'INVALID_INTERVENTION');
    check('head', iv.heads, H);

    const dims = hookDims(cfg, geo, B, T); // [B, ...]
    const f = dims[dims.length - 1];
    check('feature', iv.features, f);
    const rowSize = dims.slice(1).reduce((a, b) => a * b, 1);
    const outer = rowSize / f;
    const v = iv.value;
    if (iv.kind !== 'zero') {
      if (!v) throw new HookError(`${where}: kind ${iv.kind} needs a value`, 'INVALID_INTERVENTION');
      if (v.length !== rowSize && v.length !== f) {
        throw new HookError(
          `${where}: value has ${v.length} numbers; expected one row [${dims.slice(1)}] (${rowSize}) or one cell (${f})`,
          'INVALID_INTERVENTION',
        );
      }
    }
    let buf = byHook.get(iv.hook);
    if (!buf) byHook.set(iv.hook, (buf = { geo, dims }));
    const isAdd = iv.kind === 'add';
    if (isAdd) buf.add ??= new Float32Array(B * rowSize);
    else {
      buf.mask ??= new Uint8Array(B * rowSize);
      buf.value ??= new Float32Array(B * rowSize);
      if (iv.features) buf.byFeature = true;
    }
    const posOk = iv.positions ? new Set(iv.positions) : null;
    const headOk = iv.heads ? new Set(iv.heads) : null;
    const feats = iv.features ?? Array.from({ length: f }, (_, i) => i);
    const rows = iv.rows ?? Array.from({ length: B }, (_, b) => b);
    for (let o = 0; o < outer; o++) {
      const [t, h] = cellAt(geo, o, T, H);
      if ((posOk && !posOk.has(t)) || (headOk && !headOk.has(h))) continue;
      const src = v ? (v.length === rowSize ? o * f : 0) : -1;
      for (const b of rows) {
        const dst = (b * outer + o) * f;
        for (const i of feats) {
          if (isAdd) buf.add![dst + i] += v![src + i];
          else {
            buf.mask![dst + i] = 1;
            buf.value![dst + i] = src < 0 ? 0 : v![src + i];
          }
        }
      }
    }
  });

  const out: CompiledInterventions = { patch: [], add: [], feeds: {} };
  for (const [name, buf] of byHook) {
    if (buf.mask) {
      out.patch.push(name);
      const f = buf.dims[buf.dims.length - 1];
      // Whole cells unless features were picked: one flag per cell (every cell's flags are equal then).
      const mask = buf.byFeature ? buf.mask : buf.mask.filter((_, i) => i % f === 0);
      out.feeds[`${name}__patch_mask`] = feedBool(mask, [...buf.dims.slice(0, -1), buf.byFeature ? f : 1]);
      out.feeds[`${name}__patch_value`] = feedF32(buf.value!, buf.dims);
    }
    if (buf.add) {
      out.add.push(name);
      out.feeds[`${name}__add`] = feedF32(buf.add, buf.dims);
    }
  }
  return out;
}
