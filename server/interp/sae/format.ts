/**
 * SAELens' on-disk layout for an SAE (what `SAE.load_from_disk(path)` reads and `save_model`
 * writes): a directory with `sae_weights.safetensors` holding W_enc [d_in, d_sae], b_enc [d_sae],
 * W_dec [d_sae, d_in] and b_dec [d_in] (float32), and `cfg.json`. Written from SAELens' documented
 * config fields: the current form (architecture "topk" | "standard", k, and provenance under
 * `metadata`) with the flat provenance fields older releases read (hook_name, hook_layer,
 * activation_fn_str, activation_fn_kwargs, context_size, …) beside it.
 *
 * Our weights act on the raw activations (kind.ts folds the training scale in), so
 * normalize_activations is "none" and apply_b_dec_to_input is true. An imported SAE with
 * apply_b_dec_to_input false (SAELens' JumpReLU releases, e.g. Gemma Scope) encodes x·W_enc + b_enc;
 * that is (x − b_dec)·W_enc + (b_enc + b_dec·W_enc), so b_enc is folded on import and the SAE runs
 * under our convention exactly. JumpReLU SAEs (architecture "jumprelu") carry a `threshold` [d_sae].
 */
import { decodeSafetensors } from '../../model/engine.js';
import { InterpError } from '../context.js';
import type { SaeSummary } from './kind.js';
import { SAE_PARAMS, type SaeShape, type SaeWeights, saeParamShape } from './sae.js';

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
  const jump = s.architecture === 'jumprelu';
  return {
    architecture: topk ? 'topk' : jump ? 'jumprelu' : 'standard',
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
        ...(s.l0_coefficient !== null && s.l0_coefficient !== undefined ? { l0_coefficient: s.l0_coefficient, jumprelu_bandwidth: s.bandwidth } : {}),
        explained_variance: s.eval.explained_variance,
      },
    },
    // The flat fields SAELens releases before the `metadata` block read.
    ...provenance,
    activation_fn_str: topk ? 'topk' : jump ? 'jumprelu' : 'relu',
    activation_fn_kwargs: topk ? { k: s.topk } : {},
    finetuning_scaling_factor: false,
  };
}

/** An SAE read from SAELens' layout: what the `sae` kind evaluates as it is (no training). */
export interface ImportedSae {
  shape: SaeShape;
  hook: string;
  weights: SaeWeights;
}

/**
 * Reads SAELens' cfg.json (text) and sae_weights.safetensors (bytes): d_in, d_sae, the
 * architecture (topk with its k — top level or activation_fn_kwargs — or standard / relu), the hook
 * (top level or under metadata), and the four float32 tensors in SAELens' shapes. Only what this
 * engine computes is accepted: apply_b_dec_to_input true, normalize_activations none (or absent),
 * no finetuning scaling factor, no per-head hook; anything else is refused naming the field.
 */
export function parseSaeLens(cfgText: string, weights: Uint8Array): ImportedSae {
  let cfg: Record<string, unknown>;
  try {
    const v = JSON.parse(cfgText) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    cfg = v as Record<string, unknown>;
  } catch (e) {
    throw new InterpError(`cfg.json: ${(e as Error).message}`);
  }
  const meta = (cfg.metadata && typeof cfg.metadata === 'object' ? cfg.metadata : {}) as Record<string, unknown>;
  const int = (v: unknown, name: string): number => {
    if (!Number.isInteger(v) || (v as number) < 1) throw new InterpError(`cfg.json: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const d_in = int(cfg.d_in, 'd_in');
  const d_sae = int(cfg.d_sae, 'd_sae');
  const arch = String(cfg.architecture ?? cfg.activation_fn_str ?? 'standard');
  const kwargs = (cfg.activation_fn_kwargs && typeof cfg.activation_fn_kwargs === 'object' ? cfg.activation_fn_kwargs : {}) as Record<string, unknown>;
  let shape: SaeShape;
  if (arch === 'topk') shape = { d_in, d_sae, architecture: 'topk', k: int(cfg.k ?? kwargs.k, 'k') };
  else if (arch === 'standard' || arch === 'relu') shape = { d_in, d_sae, architecture: 'relu', k: 1 };
  else if (arch === 'jumprelu') shape = { d_in, d_sae, architecture: 'jumprelu', k: 1 };
  else throw new InterpError(`cfg.json: architecture ${JSON.stringify(arch)} is not one this engine runs (topk, standard, jumprelu)`);
  if (shape.architecture === 'topk' && shape.k > d_sae) throw new InterpError(`cfg.json: k ${shape.k} is more than d_sae ${d_sae}`);
  const foldBDec = cfg.apply_b_dec_to_input === false; // see the module comment
  const norm = cfg.normalize_activations ?? 'none';
  if (norm !== 'none' && norm !== null)
    throw new InterpError(`cfg.json: normalize_activations ${JSON.stringify(norm)} is not supported; fold the scale into the weights and give "none"`);
  if (cfg.finetuning_scaling_factor === true) throw new InterpError('cfg.json: finetuning_scaling_factor is not supported');
  if (cfg.rescale_acts_by_decoder_norm === true || meta.rescale_acts_by_decoder_norm === true)
    throw new InterpError('cfg.json: rescale_acts_by_decoder_norm is not supported (this engine encodes without rescaling by the decoder norms)');
  const headIndex = cfg.hook_head_index ?? meta.hook_head_index;
  if (headIndex !== undefined && headIndex !== null) throw new InterpError('cfg.json: hook_head_index is set; an SAE on one head is not supported');
  const hook = cfg.hook_name ?? meta.hook_name;
  if (typeof hook !== 'string' || !hook) throw new InterpError('cfg.json: hook_name (top level or under metadata) is missing');
  let st: ReturnType<typeof decodeSafetensors>;
  try {
    st = decodeSafetensors(weights);
  } catch (e) {
    throw new InterpError(`sae_weights.safetensors: ${(e as Error).message}`);
  }
  const w = {} as SaeWeights;
  // SAELens' four weight tensors are our SAE's parameters, by the same names.
  for (const name of SAE_PARAMS) {
    const t = st.tensors.get(name);
    if (!t) throw new InterpError(`sae_weights.safetensors: no ${name} tensor (it has ${[...st.tensors.keys()].join(', ') || 'none'})`);
    const want = saeParamShape(shape, name);
    if (t.shape.join() !== want.join())
      throw new InterpError(`sae_weights.safetensors: ${name} is [${t.shape.join(', ')}], cfg.json's d_in and d_sae need [${want.join(', ')}]`);
    w[name] = t.data; // every dtype is read as float32 (model/safetensors.ts)
  }
  if (shape.architecture === 'jumprelu') {
    const t = st.tensors.get('threshold');
    if (!t) throw new InterpError('sae_weights.safetensors: a jumprelu SAE needs its threshold tensor [d_sae]');
    if (t.shape.join() !== String(d_sae)) throw new InterpError(`sae_weights.safetensors: threshold is [${t.shape.join(', ')}], d_sae needs [${d_sae}]`);
    if (!t.data.every(Number.isFinite)) throw new InterpError('sae_weights.safetensors: threshold holds a non-finite value');
    shape.threshold = Float32Array.from(t.data);
  }
  if (foldBDec) {
    // b_enc' = b_enc + b_dec·W_enc: the same pre-activations with b_dec subtracted first.
    const b = Float32Array.from(w.b_enc);
    for (let d = 0; d < d_in; d++) {
      const v = w.b_dec[d];
      if (v !== 0) for (let i = 0; i < d_sae; i++) b[i] += v * w.W_enc[d * d_sae + i];
    }
    w.b_enc = b;
  }
  return { shape, hook, weights: w };
}
