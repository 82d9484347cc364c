/**
 * Model configuration with TransformerLens' field names (HookedTransformerConfig), so a config
 * written here reads the same in Python. Only the fields our GPT uses are kept.
 */
import { UserError } from '../errors.js';

export type ActFn = 'gelu_new' | 'gelu' | 'relu';

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
  if (act !== 'gelu_new' && act !== 'gelu' && act !== 'relu') {
    throw new ConfigError(`config.act_fn must be one of gelu_new, gelu, relu; got ${JSON.stringify(act)}`);
  }
  const eps = c.eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) throw new ConfigError(`config.eps must be a number in (0, 1), got ${JSON.stringify(eps)}`);
  const tokenizer = c.tokenizer ?? 'aotp-ut';
  if (typeof tokenizer !== 'string' || tokenizer.length === 0) throw new ConfigError(`config.tokenizer must be a non-empty string`);
  return {
    d_model: int('d_model', 1, 8192),
    n_layers: int('n_layers', 1, 256),
    n_heads: int('n_heads', 1, 256),
    d_head: int('d_head', 1, 8192),
    d_mlp: int('d_mlp', 1, 65536),
    d_vocab: int('d_vocab', 1, 1 << 20),
    n_ctx: int('n_ctx', 1, 1 << 16),
    act_fn: act,
    eps,
    tokenizer,
  };
}

/**
 * Every parameter tensor, named and shaped exactly as TransformerLens' state_dict, in a fixed order
 * (the order they are written to safetensors and fed to graphs).
 */
export function paramShapes(cfg: ModelConfig): Array<[name: string, shape: number[]]> {
  const { d_model, d_vocab, n_ctx, n_heads, d_head, d_mlp } = cfg;
  const out: Array<[string, number[]]> = [
    ['embed.W_E', [d_vocab, d_model]],
    ['pos_embed.W_pos', [n_ctx, d_model]],
  ];
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    out.push(
      [`${b}.ln1.w`, [d_model]],
      [`${b}.ln1.b`, [d_model]],
      [`${b}.attn.W_Q`, [n_heads, d_model, d_head]],
      [`${b}.attn.W_K`, [n_heads, d_model, d_head]],
      [`${b}.attn.W_V`, [n_heads, d_model, d_head]],
      [`${b}.attn.W_O`, [n_heads, d_head, d_model]],
      [`${b}.attn.b_Q`, [n_heads, d_head]],
      [`${b}.attn.b_K`, [n_heads, d_head]],
      [`${b}.attn.b_V`, [n_heads, d_head]],
      [`${b}.attn.b_O`, [d_model]],
      [`${b}.ln2.w`, [d_model]],
      [`${b}.ln2.b`, [d_model]],
      [`${b}.mlp.W_in`, [d_model, d_mlp]],
      [`${b}.mlp.b_in`, [d_mlp]],
      [`${b}.mlp.W_out`, [d_mlp, d_model]],
      [`${b}.mlp.b_out`, [d_model]],
    );
  }
  out.push(['ln_final.w', [d_model]], ['ln_final.b', [d_model]], ['unembed.W_U', [d_model, d_vocab]], ['unembed.b_U', [d_vocab]]);
  return out;
}

/** A model's parameters: TransformerLens names → row-major float32 data (shapes from paramShapes). */
export type Weights = Map<string, Float32Array>;

export function parameterCount(cfg: ModelConfig): number {
  return paramShapes(cfg).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}

/** Hook point names and shapes: derived from the hook table (hooks.ts), kept here for the callers of the model-info record. */
export { hookShapes } from './hooks.js';
