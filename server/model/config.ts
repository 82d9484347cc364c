/**
 * Model configuration with TransformerLens' field names (HookedTransformerConfig), so a config
 * written here reads the same in Python. Only the fields our GPT uses are kept.
 *
 * Architecture fields (positional_embedding_type … d_vocab_out) follow HookedTransformerConfig's
 * meaning and defaults; a config leaves out those at their default, so the files of the standard
 * architecture (learned positions, LayerNorm, MLP after attention, d_vocab_out = d_vocab) read and
 * write exactly as before they existed. `architecture(cfg)` resolves them for the engines.
 */
import { UserError } from '../errors.js';

/**
 * TL act_fn names (transformer_lens/utilities/activation_functions.py): gelu_fast and
 * gelu_pytorch_tanh are GPT-2's tanh approximation written two other ways (the same function as
 * gelu_new up to float rounding); silu is x·σ(x).
 */
export type ActFn = 'gelu_new' | 'gelu' | 'relu' | 'silu' | 'gelu_fast' | 'gelu_pytorch_tanh';
export const ACT_FNS: readonly ActFn[] = ['gelu_new', 'gelu', 'relu', 'silu', 'gelu_fast', 'gelu_pytorch_tanh'];

/**
 * TL normalization_type: LN (centre, scale, gain w and bias b), LNPre (centre and scale only: what
 * fold_ln leaves), RMS (scale by the root mean square, gain w), RMSPre (scale only), or null (none,
 * and no ln hooks).
 */
export type NormalizationType = 'LN' | 'LNPre' | 'RMS' | 'RMSPre' | null;
export const NORMALIZATION_TYPES: readonly NormalizationType[] = ['LN', 'LNPre', 'RMS', 'RMSPre', null];

/** TL positional_embedding_type: learned absolute positions (pos_embed.W_pos) or rotary (RoPE on q and k). */
export type PositionalEmbeddingType = 'standard' | 'rotary';

export interface ModelConfig {
  d_model: number;
  n_layers: number;
  n_heads: number;
  d_head: number;
  d_mlp: number;
  d_vocab: number;
  n_ctx: number;
  act_fn: ActFn;
  /** LayerNorm epsilon; TransformerLens' default. */
  eps: number;
  /** Name of the maze tokenizer whose vocabulary indexes d_vocab (e.g. "aotp-ut"). */
  tokenizer: string;
  // ---- architecture (TL fields; absent = TL's default) ----
  /** Default 'standard'. */
  positional_embedding_type?: PositionalEmbeddingType;
  /** Rotary only: how many leading dimensions of each head's q and k rotate (even, ≤ d_head). */
  rotary_dim?: number;
  /** Rotary only: frequency base, default 10000. */
  rotary_base?: number;
  /** Rotary only: rotate adjacent pairs (GPT-J) instead of halves (GPT-NeoX, TL's default). */
  rotary_adjacent_pairs?: boolean;
  /** Default 'LN'. */
  normalization_type?: NormalizationType;
  /** Blocks without MLPs (and without ln2). Default false. */
  attn_only?: boolean;
  /** resid_post = resid_pre + attn_out + mlp_out, the MLP reading ln2(resid_pre) (GPT-J). Default false. */
  parallel_attn_mlp?: boolean;
  /** Size of the unembedding's output; default d_vocab. */
  d_vocab_out?: number;
}

/** The architecture fields of a config with TL's defaults filled in (what the engines branch on). */
export interface Architecture {
  positional: PositionalEmbeddingType;
  /** 0 unless rotary. */
  rotary_dim: number;
  rotary_base: number;
  rotary_adjacent_pairs: boolean;
  normalization: NormalizationType;
  attn_only: boolean;
  parallel_attn_mlp: boolean;
  d_vocab_out: number;
}

export function architecture(cfg: ModelConfig): Architecture {
  const rotary = cfg.positional_embedding_type === 'rotary';
  return {
    positional: rotary ? 'rotary' : 'standard',
    rotary_dim: rotary ? (cfg.rotary_dim ?? 0) : 0,
    rotary_base: cfg.rotary_base ?? 10000,
    rotary_adjacent_pairs: cfg.rotary_adjacent_pairs ?? false,
    normalization: cfg.normalization_type === undefined ? 'LN' : cfg.normalization_type,
    attn_only: cfg.attn_only ?? false,
    parallel_attn_mlp: cfg.parallel_attn_mlp ?? false,
    d_vocab_out: cfg.d_vocab_out ?? cfg.d_vocab,
  };
}

/** Whether the config is the architecture every engine and trainer has always run (and tfjs runs). */
export function isStandardArchitecture(cfg: ModelConfig): boolean {
  const a = architecture(cfg);
  return a.positional === 'standard' && a.normalization === 'LN' && !a.attn_only && !a.parallel_attn_mlp && a.d_vocab_out === cfg.d_vocab;
}

/**
 * Refuses (ConfigError, prefixed with `where`) a model whose unembedding does not cover its input
 * vocabulary id for id: decoding feeds each predicted token back in, and a maze model predicts its
 * next token from its own vocabulary.
 */
export function checkGenerative(cfg: ModelConfig, where: string): void {
  const out = architecture(cfg).d_vocab_out;
  if (out !== cfg.d_vocab)
    throw new ConfigError(
      `${where}: d_vocab_out is ${out} but d_vocab is ${cfg.d_vocab}; a maze model predicts its next token from its own vocabulary, so they must be equal`,
    );
}

/** Names of a LayerNorm's parameters under a normalization type: LN has w and b, RMS w only, the rest none. */
export function normParams(norm: NormalizationType): Array<'w' | 'b'> {
  return norm === 'LN' ? ['w', 'b'] : norm === 'RMS' ? ['w'] : [];
}

export type PresetName = 'nano' | 'tiny' | 'hallway' | 'demo' | 'deep' | 'deeper';

/** Architecture presets; d_vocab and tokenizer come from the maze grid and tokenizer at init. */
export const PRESETS: Record<PresetName, Omit<ModelConfig, 'd_vocab' | 'tokenizer'>> = {
  // Smallest useful model, for tests and parity checks.
  nano: { d_model: 8, n_layers: 2, n_heads: 2, d_head: 4, d_mlp: 32, n_ctx: 512, act_fn: 'gelu_new', eps: 1e-5 },
  // maze-transformer's "tiny-v1": d_model 32, 4 layers, 2 heads.
  tiny: { d_model: 32, n_layers: 4, n_heads: 2, d_head: 16, d_mlp: 128, n_ctx: 512, act_fn: 'gelu_new', eps: 1e-5 },
  // The 1.24M-parameter "hallway" model studied in the seed post (6 layers, d_model 128, 4 heads).
  hallway: { d_model: 128, n_layers: 6, n_heads: 4, d_head: 32, d_mlp: 512, n_ctx: 256, act_fn: 'gelu_new', eps: 1e-5 },
  // Sized to train to a working 5×5 solver on 2 CPU cores within about an hour.
  demo: { d_model: 64, n_layers: 4, n_heads: 4, d_head: 16, d_mlp: 256, n_ctx: 256, act_fn: 'gelu_new', eps: 1e-5 },
  // The demo's width at twice and three times its depth: deciding a fork that needs k steps of
  // lookahead takes about k hops through the adjacency list, one attention layer each (issue 13;
  // Nolte et al. 2024 needed 40 layers × d_model 128 for 100% on 5×5 DFS).
  deep: { d_model: 64, n_layers: 8, n_heads: 4, d_head: 16, d_mlp: 256, n_ctx: 256, act_fn: 'gelu_new', eps: 1e-5 },
  deeper: { d_model: 64, n_layers: 12, n_heads: 4, d_head: 16, d_mlp: 256, n_ctx: 256, act_fn: 'gelu_new', eps: 1e-5 },
};

/** Refuses a sequence longer than the model's context (code SEQUENCE_TOO_LONG); `what` names it. */
export function checkSequenceLength(cfg: Pick<ModelConfig, 'n_ctx'>, length: number, what: string): void {
  if (length > cfg.n_ctx) throw new UserError(`${what}: ${length} tokens exceed the model's context of ${cfg.n_ctx}`, { code: 'SEQUENCE_TOO_LONG' });
}

export class ConfigError extends UserError {
  override name = 'ConfigError';
}

/** Validates every field; the message names the field and the bad value. */
export function validateConfig(raw: unknown): ModelConfig {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('model config must be a JSON object');
  const c = raw as Record<string, unknown>;
  const int = (k: string, min = 1, max = 1 << 20): number => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new ConfigError(`config.${k} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const act = c.act_fn;
  if (!ACT_FNS.includes(act as ActFn)) {
    const hint = act === 'solu_ln' || act === 'reglu' || act === 'geglu' || act === 'swiglu' ? ' (SoLU and gated MLPs are not supported)' : '';
    throw new ConfigError(`config.act_fn must be one of ${ACT_FNS.join(', ')}; got ${JSON.stringify(act)}${hint}`);
  }
  const eps = c.eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) throw new ConfigError(`config.eps must be a number in (0, 1), got ${JSON.stringify(eps)}`);
  const tokenizer = c.tokenizer ?? 'aotp-ut';
  if (typeof tokenizer !== 'string' || tokenizer.length === 0) throw new ConfigError(`config.tokenizer must be a non-empty string`);
  const out: ModelConfig = {
    d_model: int('d_model', 1, 8192),
    n_layers: int('n_layers', 1, 256),
    n_heads: int('n_heads', 1, 256),
    d_head: int('d_head', 1, 8192),
    d_mlp: int('d_mlp', 1, 65536),
    d_vocab: int('d_vocab', 1, 1 << 20),
    n_ctx: int('n_ctx', 1, 1 << 16),
    act_fn: act as ActFn,
    eps,
    tokenizer,
  };
  Object.assign(out, validateArchitecture(c, out));
  return out;
}

/**
 * TL fields that change the forward pass in ways this engine does not implement, with the value that
 * means "off" (HookedTransformerConfig defaults). A config that sets one otherwise is refused rather
 * than run as if it were not there.
 */
const UNSUPPORTED: Array<[field: string, off: (v: unknown) => boolean, what: string]> = [
  ['gated_mlp', (v) => v === false, 'gated MLPs'],
  ['final_rms', (v) => v === false, 'an RMS final norm under LayerNorm blocks'],
  ['use_attn_scale', (v) => v === true, 'attention without the 1/√d_head scale'],
  ['attention_dir', (v) => v === 'causal', 'bidirectional attention'],
  ['n_key_value_heads', (v) => v === null, 'grouped-query attention'],
  ['use_local_attn', (v) => v === false, 'local attention'],
  ['scale_attn_by_inverse_layer_idx', (v) => v === false, 'attention scaled by the inverse layer index'],
  ['use_normalization_before_and_after', (v) => v === false, 'norms before and after each sublayer'],
  ['use_qk_norm', (v) => v === false, 'q/k normalisation'],
  ['output_logits_soft_cap', (v) => typeof v === 'number' && v <= 0, 'soft-capped logits'],
  ['use_NTK_by_parts_rope', (v) => v === false, 'NTK-by-parts rotary scaling'],
];

/** The architecture fields, validated; those at TL's default are left out (see the module comment). */
function validateArchitecture(c: Record<string, unknown>, base: ModelConfig): Partial<ModelConfig> {
  const out: Partial<ModelConfig> = {};
  const bool = (k: 'attn_only' | 'parallel_attn_mlp' | 'rotary_adjacent_pairs'): boolean => {
    const v = c[k] ?? false;
    if (typeof v !== 'boolean') throw new ConfigError(`config.${k} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  for (const [field, off, what] of UNSUPPORTED) {
    if (c[field] !== undefined && !off(c[field]))
      throw new ConfigError(`config.${field} = ${JSON.stringify(c[field])} asks for ${what}, which Searchlight's engine does not implement`);
  }
  if (
    c.attn_scale !== undefined &&
    c.attn_scale !== -1 &&
    (typeof c.attn_scale !== 'number' || Math.abs(c.attn_scale - Math.sqrt(base.d_head)) > 1e-6 * Math.sqrt(base.d_head))
  ) {
    throw new ConfigError(`config.attn_scale = ${JSON.stringify(c.attn_scale)}: only TL's default √d_head = ${Math.sqrt(base.d_head)} is implemented`);
  }

  const pos = c.positional_embedding_type ?? 'standard';
  if (pos !== 'standard' && pos !== 'rotary') {
    throw new ConfigError(
      `config.positional_embedding_type must be "standard" or "rotary", got ${JSON.stringify(pos)} (shortformer, alibi and relative biases are not supported)`,
    );
  }
  if (pos === 'rotary') {
    const rd = c.rotary_dim;
    if (typeof rd !== 'number' || !Number.isInteger(rd) || rd < 2 || rd > base.d_head || rd % 2 !== 0) {
      throw new ConfigError(`config.rotary_dim must be an even integer in [2, d_head = ${base.d_head}] for rotary positions, got ${JSON.stringify(rd)}`);
    }
    const rb = c.rotary_base ?? 10000;
    if (typeof rb !== 'number' || !(rb > 1) || !Number.isFinite(rb))
      throw new ConfigError(`config.rotary_base must be a number above 1, got ${JSON.stringify(rb)}`);
    out.positional_embedding_type = 'rotary';
    out.rotary_dim = rd;
    if (rb !== 10000) out.rotary_base = rb;
    if (bool('rotary_adjacent_pairs')) out.rotary_adjacent_pairs = true;
  } else {
    // Rotary settings without rotary positions would be silently meaningless.
    for (const k of ['rotary_base', 'rotary_adjacent_pairs'] as const) {
      if (c[k] !== undefined && c[k] !== null && c[k] !== (k === 'rotary_base' ? 10000 : false)) {
        throw new ConfigError(`config.${k} is set but positional_embedding_type is "standard"; set positional_embedding_type to "rotary" or drop ${k}`);
      }
    }
  }

  const norm = c.normalization_type === undefined ? 'LN' : c.normalization_type;
  if (!NORMALIZATION_TYPES.includes(norm as NormalizationType)) {
    throw new ConfigError(`config.normalization_type must be one of "LN", "LNPre", "RMS", "RMSPre" or null, got ${JSON.stringify(norm)}`);
  }
  if (norm !== 'LN') out.normalization_type = norm as NormalizationType;

  const attnOnly = bool('attn_only');
  const parallel = bool('parallel_attn_mlp');
  // TL builds no MLP for attn_only, and its parallel branch then has none to call.
  if (attnOnly && parallel)
    throw new ConfigError('config.attn_only and config.parallel_attn_mlp cannot both be true: an attention-only block has no MLP to run in parallel');
  if (attnOnly) out.attn_only = true;
  if (parallel) out.parallel_attn_mlp = true;

  const dvo = c.d_vocab_out ?? -1; // TL: -1 means d_vocab
  if (dvo !== -1) {
    if (typeof dvo !== 'number' || !Number.isInteger(dvo) || dvo < 1 || dvo > 1 << 20)
      throw new ConfigError(`config.d_vocab_out must be -1 (= d_vocab) or an integer in [1, ${1 << 20}], got ${JSON.stringify(dvo)}`);
    if (dvo !== base.d_vocab) out.d_vocab_out = dvo;
  }
  return out;
}

/**
 * Every parameter tensor, named and shaped exactly as TransformerLens' state_dict, in a fixed order
 * (the order they are written to safetensors and fed to graphs).
 */
export function paramShapes(cfg: ModelConfig): Array<[name: string, shape: number[]]> {
  const { d_model, d_vocab, n_ctx, n_heads, d_head, d_mlp } = cfg;
  const arch = architecture(cfg);
  const norm = (prefix: string): Array<[string, number[]]> => normParams(arch.normalization).map((p): [string, number[]] => [`${prefix}.${p}`, [d_model]]);
  const out: Array<[string, number[]]> = [['embed.W_E', [d_vocab, d_model]]];
  if (arch.positional === 'standard') out.push(['pos_embed.W_pos', [n_ctx, d_model]]);
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    out.push(
      ...norm(`${b}.ln1`),
      [`${b}.attn.W_Q`, [n_heads, d_model, d_head]],
      [`${b}.attn.W_K`, [n_heads, d_model, d_head]],
      [`${b}.attn.W_V`, [n_heads, d_model, d_head]],
      [`${b}.attn.W_O`, [n_heads, d_head, d_model]],
      [`${b}.attn.b_Q`, [n_heads, d_head]],
      [`${b}.attn.b_K`, [n_heads, d_head]],
      [`${b}.attn.b_V`, [n_heads, d_head]],
      [`${b}.attn.b_O`, [d_model]],
    );
    if (!arch.attn_only) {
      out.push(
        ...norm(`${b}.ln2`),
        [`${b}.mlp.W_in`, [d_model, d_mlp]],
        [`${b}.mlp.b_in`, [d_mlp]],
        [`${b}.mlp.W_out`, [d_mlp, d_model]],
        [`${b}.mlp.b_out`, [d_model]],
      );
    }
  }
  out.push(...norm('ln_final'), ['unembed.W_U', [d_model, arch.d_vocab_out]], ['unembed.b_U', [arch.d_vocab_out]]);
  return out;
}

/** A model's parameters: TransformerLens names → row-major float32 data (shapes from paramShapes). */
export type Weights = Map<string, Float32Array>;

export function parameterCount(cfg: ModelConfig): number {
  return paramShapes(cfg).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}

/** Hook point names and shapes: derived from the hook table (hooks.ts), kept here for the callers of the model-info record. */
export { hookShapes } from './hooks.js';
