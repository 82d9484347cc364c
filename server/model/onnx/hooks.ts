/**
 * Geometry of TransformerLens hook points: which axis of each activation is the batch, the
 * (query) position, the head, and which trailing axis is the per-cell feature. The graph builder
 * uses it to declare patch inputs, the intervention compiler to lay out masks and values, and the
 * engine to slice caches to positions.
 *
 * Layouts (TL shapes, see hookShapes in ../config.ts):
 *   'btf'  [batch, pos, feature]            embed, resid_*, ln*.hook_normalized/scale, mlp.*, *_out
 *   'bthf' [batch, pos, head, feature]      attn.hook_q/k/v/z/result
 *   'bhqk' [batch, head, query_pos, key_pos] attn.hook_attn_scores/pattern (positions = query positions)
 */
import { hookShapes, type ModelConfig } from '../config.js';
import type { Dim } from './builder.js';
import { UserError } from '../../errors.js';

export type HookLayout = 'btf' | 'bthf' | 'bhqk';

export interface HookGeometry {
  name: string;
  /** Block index, or -1 for hook_embed/hook_pos_embed, n_layers for ln_final. */
  layer: number;
  layout: HookLayout;
  /** Feature size (last axis) for 'btf'/'bthf'; for 'bhqk' the key length depends on the run. */
  feature: number;
}

/** A mistake in naming or using a hook point: an unknown name (the default code UNKNOWN_HOOK) or an invalid intervention or cache position (INVALID_INTERVENTION). */
export class HookError extends UserError {
  override name = 'HookError';
  constructor(message: string, code: 'UNKNOWN_HOOK' | 'INVALID_INTERVENTION' = 'UNKNOWN_HOOK') {
    super(message, { code });
  }
}

/**
 * Refuses the first name that is not one of the model's hook points (HookError, code
 * UNKNOWN_HOOK), before any engine runs; `where` prefixes the message (e.g. "runForward").
 */
export function checkHookNames(cfg: ModelConfig, names: readonly string[], where?: string): void {
  const known = new Set(allHookNames(cfg));
  const bad = names.find((n) => !known.has(n));
  if (bad === undefined) return;
  const shown = JSON.stringify(bad.length > 80 ? `${bad.slice(0, 80)}…` : bad);
  throw new HookError(
    `${where ? `${where}: ` : ''}unknown hook ${shown}; hooks are TransformerLens names such as blocks.0.hook_resid_pre or blocks.0.attn.hook_pattern`,
  );
}

/** Every hook point of the model in forward order (TL names; `logits` is not a hook here). */
export function allHookNames(cfg: ModelConfig): string[] {
  return hookShapes(cfg, 1, 1)
    .map(([n]) => n)
    .filter((n) => n !== 'logits');
}

/** Geometry of hook `name`; a name TL does not have for this config is an error naming it. */
export function hookGeometry(cfg: ModelConfig, name: string): HookGeometry {
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  let layer: number;
  let leaf: string;
  if (m) {
    layer = Number(m[1]);
    leaf = m[2];
    if (layer >= cfg.n_layers || String(layer) !== m[1]) throw new HookError(`unknown hook point "${name}": the model has ${cfg.n_layers} blocks`);
  } else {
    layer = name.startsWith('ln_final.') ? cfg.n_layers : -1;
    leaf = name;
  }
  const f = (layout: HookLayout, feature: number): HookGeometry => ({ name, layer, layout, feature });
  switch (leaf) {
    case 'hook_embed':
    case 'hook_pos_embed':
      if (layer !== -1) break;
      return f('btf', cfg.d_model);
    case 'ln_final.hook_normalized':
      if (layer !== cfg.n_layers) break;
      return f('btf', cfg.d_model);
    case 'ln_final.hook_scale':
      if (layer !== cfg.n_layers) break;
      return f('btf', 1);
  }
  if (m) {
    switch (leaf) {
      case 'hook_resid_pre':
      case 'hook_resid_mid':
      case 'hook_resid_post':
      case 'hook_attn_out':
      case 'hook_mlp_out':
      case 'ln1.hook_normalized':
      case 'ln2.hook_normalized':
        return f('btf', cfg.d_model);
      case 'ln1.hook_scale':
      case 'ln2.hook_scale':
        return f('btf', 1);
      case 'mlp.hook_pre':
      case 'mlp.hook_post':
        return f('btf', cfg.d_mlp);
      case 'attn.hook_q':
      case 'attn.hook_k':
      case 'attn.hook_v':
      case 'attn.hook_z':
        return f('bthf', cfg.d_head);
      case 'attn.hook_result':
        return f('bthf', cfg.d_model);
      case 'attn.hook_attn_scores':
      case 'attn.hook_pattern':
        return f('bhqk', 0);
    }
  }
  throw new HookError(`unknown hook point "${name}" (TransformerLens names, e.g. blocks.0.hook_resid_pre, blocks.1.attn.hook_pattern)`);
}

/** Concrete shape of a hook's value for batch B, T new positions and K key positions (K = T without a KV cache). */
export function hookDims(cfg: ModelConfig, g: HookGeometry, B: number, T: number, K = T): number[] {
  if (g.layout === 'btf') return [B, T, g.feature];
  if (g.layout === 'bthf') return [B, T, cfg.n_heads, g.feature];
  return [B, cfg.n_heads, T, K];
}

/** Symbolic shape used to declare the hook as a graph input/output. */
export function hookSymDims(cfg: ModelConfig, g: HookGeometry): Dim[] {
  if (g.layout === 'btf') return ['B', 'T', g.feature];
  if (g.layout === 'bthf') return ['B', 'T', cfg.n_heads, g.feature];
  return ['B', cfg.n_heads, 'T', 'K'];
}

/** Shape of a patch mask: the hook's shape with the feature (last) axis set to 1, so it broadcasts. */
export function maskSymDims(cfg: ModelConfig, g: HookGeometry): Dim[] {
  return [...hookSymDims(cfg, g).slice(0, -1), 1];
}
