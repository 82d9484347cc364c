/**
 * SAELens' on-disk layout for an SAE (what `SAE.load_from_disk(path)` reads and `save_model`
 * writes): a directory with `sae_weights.safetensors` holding W_enc [d_in, d_sae], b_enc [d_sae],
 * W_dec [d_sae, d_in] and b_dec [d_in] (float32), and `cfg.json`. Written from SAELens' documented
 * config fields: the current form (architecture "topk" | "standard", k, and provenance under
 * `metadata`) with the flat provenance fields older releases read (hook_name, hook_layer,
 * activation_fn_str, activation_fn_kwargs, context_size, …) beside it.
 *
 * Our weights act on the raw activations (kind.ts folds the training scale in), so
 * normalize_activations is "none" and apply_b_dec_to_input is true.
 */
import type { SaeSummary } from './kind.js';

export const SAELENS_TENSORS = ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const;

/** Where an SAE came from, for cfg.json's provenance fields. */
export interface SaeProvenance {
  modelName: string;
  /** The model's n_ctx (SAELens' context_size). */
  contextSize: number;
  /** e.g. "Experiment:12", kept under metadata.searchlight. */
  experiment: string;
}

export function saeLensConfig(s: SaeSummary, p: SaeProvenance): Record<string, unknown> {
  const layer = /^blocks\.(\d+)\./.exec(s.hook);
  const topk = s.architecture === 'topk';
  const provenance = {
    model_name: p.modelName,
    hook_name: s.hook,
    hook_layer: layer ? Number(layer[1]) : -1,
    hook_head_index: null,
    context_size: p.contextSize,
    prepend_bos: false,
    dataset_path: `searchlight:${p.experiment}`,
  };
  return {
    architecture: topk ? 'topk' : 'standard',
    d_in: s.d_in,
    d_sae: s.d_sae,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: true,
    normalize_activations: 'none',
    ...(topk ? { k: s.topk } : {}),
    metadata: {
      ...provenance,
      searchlight: {
        experiment: p.experiment,
        token_classes: s.classes,
        steps: s.steps,
        l1_coefficient: s.l1_coefficient,
        explained_variance: s.eval.explained_variance,
      },
    },
    // The flat fields SAELens releases before the `metadata` block read.
    ...provenance,
    activation_fn_str: topk ? 'topk' : 'relu',
    activation_fn_kwargs: topk ? { k: s.topk } : {},
    finetuning_scaling_factor: false,
  };
}
