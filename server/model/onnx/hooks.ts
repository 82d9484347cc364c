/**
 * Hook geometry as the ONNX graphs declare it: symbolic shapes of hook inputs/outputs and patch
 * masks. The hook points themselves (names, layouts, feature sizes) come from the one hook table,
 * ../hooks.ts; its functions are re-exported here for the modules that import them from this path.
 */
import type { HookGeometry } from '../hooks.js';
import type { ModelConfig } from '../config.js';
import type { Dim } from './builder.js';

export { allHookNames, checkHookNames, hookDims, HookError, hookGeometry, type HookGeometry, type HookLayout } from '../hooks.js';

/** Symbolic shape used to declare the hook as a graph input/output. */
export function hookSymDims(cfg: ModelConfig, g: HookGeometry): Dim[] {
  if (g.layout === 'btf') return ['B', 'T', g.feature];
  if (g.layout === 'bthf') return ['B', 'T', cfg.n_heads, g.feature];
  return ['B', cfg.n_heads, 'T', 'K'];
}

/**
 * Shape of a patch mask: the hook's shape with a symbolic feature (last) axis, fed as 1 (whole
 * cells: it broadcasts) or as the feature size (single features, e.g. MLP neurons); Where takes either.
 */
export function maskSymDims(cfg: ModelConfig, g: HookGeometry): Dim[] {
  return [...hookSymDims(cfg, g).slice(0, -1), `${g.name}.mask_f`];
}
