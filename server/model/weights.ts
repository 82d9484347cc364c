/**
 * Model weights: initialisation, and the weights file (safetensors, float32, TransformerLens
 * state_dict names and shapes; `__metadata__` holds `config` and `vocab` as JSON strings).
 */
import { readFile } from 'node:fs/promises';
import { architecture, ConfigError, paramShapes, validateConfig, type ModelConfig, type Weights } from './config.js';
import { rotaryTables } from './rotary.js';
import { decodeSafetensors, encodeSafetensorsRaw, f32ToLeBytes, type RawTensor, SafetensorsError, writeFileAtomic } from './safetensors.js';
import type { Rng } from '../maze/rng.js';

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

const fmt = (s: number[]): string => `[${s.join(', ')}]`;

/**
 * TransformerLens' default init (`HookedTransformer._init_weights_gpt2`, init_mode "gpt2"): every
 * parameter whose name contains "W_" ~ Normal(0, initializer_range), with initializer_range defaulting
 * to 0.8 / sqrt(d_model) (HookedTransformerConfig.__post_init__); biases start at zero and LayerNorm
 * weights at one (their constructors). `scale` multiplies the std — parity tests use > 1 so logits
 * are far from uniform. Tensors are drawn in paramShapes order, so a seed fixes every value.
 */
export function initWeights(cfg: ModelConfig, rng: Rng, opts: { scale?: number } = {}): Weights {
  const std = (0.8 / Math.sqrt(cfg.d_model)) * (opts.scale ?? 1);
  const weights: Weights = new Map();
  for (const [name, shape] of paramShapes(cfg)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    if (leaf.startsWith('W_')) for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
    else if (leaf === 'w') data.fill(1); // LayerNorm / RMSNorm gains (ln1.w, ln2.w, ln_final.w) are the only `w`
    weights.set(name, data);
  }
  return weights;
}

/** Checks that `weights` holds every parameter of `cfg` with the right length; names the first problem. */
export function checkWeights(cfg: ModelConfig, weights: Weights): void {
  for (const [name, shape] of paramShapes(cfg)) {
    const w = weights.get(name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!w) throw new ModelFileError(`missing weight "${name}" (expected shape ${fmt(shape)})`);
    if (w.length !== n) throw new ModelFileError(`weight "${name}" has ${w.length} values but shape ${fmt(shape)} needs ${n}`);
  }
}

function checkVocab(cfg: ModelConfig, vocab: unknown): string[] {
  if (!Array.isArray(vocab) || !vocab.every((t) => typeof t === 'string')) throw new ModelFileError('vocab must be an array of strings');
  if (vocab.length !== cfg.d_vocab) throw new ModelFileError(`vocab has ${vocab.length} tokens but config.d_vocab is ${cfg.d_vocab}`);
  const seen = new Set<string>();
  for (const [i, t] of vocab.entries()) {
    if (seen.has(t)) throw new ModelFileError(`vocab token ${JSON.stringify(t)} appears twice (again at id ${i})`);
    seen.add(t);
  }
  return vocab as string[];
}

/** Serialises a model to safetensors bytes. `extraMeta` may not use the keys `config` or `vocab`. */
export function encodeModel(cfg: ModelConfig, weights: Weights, vocab: string[], extraMeta: Record<string, string> = {}): Uint8Array {
  const config = validateConfig(cfg);
  checkWeights(config, weights);
  checkVocab(config, vocab);
  for (const k of ['config', 'vocab']) if (k in extraMeta) throw new ModelFileError(`extraMeta may not override "${k}"`);
  const tensors: RawTensor[] = paramShapes(config).map(([name, shape]) => ({ name, dtype: 'F32', shape, bytes: f32ToLeBytes(weights.get(name)!) }));
  tensors.push(...transformerLensBuffers(config));
  return encodeSafetensorsRaw(tensors, { ...extraMeta, config: JSON.stringify(config), vocab: JSON.stringify(vocab) });
}

/**
 * TransformerLens registers two persistent buffers per attention layer (components/abstract_attention.py):
 * `mask`, the lower-triangular causal mask [n_ctx, n_ctx] (bool), and `IGNORE`, the score written at
 * masked positions (-inf); with rotary positions also `rotary_sin` and `rotary_cos`, [cache, rotary_dim]
 * with cache = min(n_ctx, ROTARY_INITIAL_CACHE_SIZE = 2048). Writing them lets
 * `model.load_state_dict(state_dict)` succeed with the default strict=True; on load we ignore them
 * (the engines build their own mask and tables).
 */
function transformerLensBuffers(cfg: ModelConfig): RawTensor[] {
  const n = cfg.n_ctx;
  const mask = new Uint8Array(n * n); // [n_ctx, n_ctx] 1 where key_pos <= query_pos
  for (let q = 0; q < n; q++) mask.fill(1, q * n, q * n + q + 1);
  const ignore = f32ToLeBytes(Float32Array.of(-Infinity)); // [] scalar
  const arch = architecture(cfg);
  const rows = Math.min(n, 2048);
  const tables = arch.positional === 'rotary' ? rotaryTables(arch, rows) : null; // [rows, rotary_dim] each
  const out: RawTensor[] = [];
  for (let l = 0; l < cfg.n_layers; l++) {
    out.push({ name: `blocks.${l}.attn.mask`, dtype: 'BOOL', shape: [n, n], bytes: mask });
    out.push({ name: `blocks.${l}.attn.IGNORE`, dtype: 'F32', shape: [], bytes: ignore });
    if (tables) {
      out.push({ name: `blocks.${l}.attn.rotary_sin`, dtype: 'F32', shape: [rows, arch.rotary_dim], bytes: f32ToLeBytes(tables.sin) });
      out.push({ name: `blocks.${l}.attn.rotary_cos`, dtype: 'F32', shape: [rows, arch.rotary_dim], bytes: f32ToLeBytes(tables.cos) });
    }
  }
  return out;
}

/** Writes a model file atomically (temporary file + rename). */
export async function saveModel(path: string, cfg: ModelConfig, weights: Weights, vocab: string[], extraMeta?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeModel(cfg, weights, vocab, extraMeta));
}

/** TransformerLens buffers that are not parameters: the causal mask, the masking value, the rotary tables. */
export const isIgnoredBuffer = (name: string): boolean => /\.(mask|IGNORE|rotary_sin|rotary_cos)$/.test(name);

/**
 * Infers the architecture from state_dict shapes (a TransformerLens model saved from Python carries
 * no config): d_vocab, d_model from embed.W_E; n_ctx from pos_embed.W_pos (rotary models: from the
 * attn.mask buffer); n_layers from the block indices present; n_heads, d_head from
 * blocks.0.attn.W_Q; d_mlp from blocks.0.mlp.W_in (absent: attn_only); d_vocab_out from
 * unembed.W_U; rotary positions and rotary_dim from the attn.rotary_sin buffer; normalization from
 * the ln weights present (w and b: LN; w only: RMS). What shapes cannot show must come in `base`:
 * act_fn and eps default to gelu_new and 1e-5, rotary_base and rotary_adjacent_pairs and
 * parallel_attn_mlp to TL's defaults, and a model with no ln weights at all needs
 * normalization_type (LNPre, RMSPre or null look the same).
 */
export function inferConfig(shapes: Map<string, number[]>, base: Partial<ModelConfig> = {}): ModelConfig {
  const get = (name: string, rank: number): number[] => {
    const s = shapes.get(name);
    if (!s) throw new ModelFileError(`cannot infer the config: tensor "${name}" is missing`);
    if (s.length !== rank) throw new ModelFileError(`cannot infer the config: tensor "${name}" has rank ${s.length} (shape ${fmt(s)}), expected ${rank}`);
    return s;
  };
  const [d_vocab, d_model] = get('embed.W_E', 2);
  const rotary = shapes.has('blocks.0.attn.rotary_sin') || (!shapes.has('pos_embed.W_pos') && base.positional_embedding_type === 'rotary');
  const arch: Partial<ModelConfig> = {};
  let n_ctx: number;
  if (rotary) {
    if (!shapes.has('blocks.0.attn.mask') && base.n_ctx === undefined)
      throw new ModelFileError('cannot infer the config: a rotary model without the attn.mask buffer needs n_ctx given');
    n_ctx = base.n_ctx ?? get('blocks.0.attn.mask', 2)[0];
    arch.positional_embedding_type = 'rotary';
    arch.rotary_dim = base.rotary_dim ?? get('blocks.0.attn.rotary_sin', 2)[1];
  } else [n_ctx] = get('pos_embed.W_pos', 2);
  const [n_heads, , d_head] = get('blocks.0.attn.W_Q', 3);
  const attn_only = !shapes.has('blocks.0.mlp.W_in');
  const d_mlp = attn_only ? (base.d_mlp ?? 4 * d_model) : get('blocks.0.mlp.W_in', 2)[1];
  if (attn_only) arch.attn_only = true;
  if (shapes.has('blocks.0.ln1.w')) arch.normalization_type = shapes.has('blocks.0.ln1.b') ? 'LN' : 'RMS';
  else if (base.normalization_type === undefined || base.normalization_type === 'LN' || base.normalization_type === 'RMS')
    throw new ModelFileError('cannot infer the config: the file has no ln weights; give normalization_type (LNPre, RMSPre or null look the same in shapes)');
  const [, d_vocab_out] = get('unembed.W_U', 2);
  let n_layers = 0;
  for (const name of shapes.keys()) {
    const m = /^blocks\.(\d+)\./.exec(name);
    if (m) n_layers = Math.max(n_layers, Number(m[1]) + 1);
  }
  return validateConfig({
    act_fn: 'gelu_new',
    eps: 1e-5,
    tokenizer: 'aotp-ut',
    ...base,
    ...arch,
    d_vocab,
    d_vocab_out,
    d_model,
    n_ctx,
    n_layers,
    n_heads,
    d_head,
    d_mlp,
  });
}

export interface LoadedModel {
  cfg: ModelConfig;
  weights: Weights;
  /** Token strings by id; null when the file has none and none was given. */
  vocab: string[] | null;
  /** The file's whole `__metadata__` (config and vocab included). */
  metadata: Record<string, string>;
  /** Tensors in the file that are neither parameters nor known TL buffers; they were not loaded. */
  unknownTensors: string[];
}

export interface LoadOptions {
  /** Used only when the file has no `__metadata__.config`: merged over the shape-inferred config. */
  config?: Partial<ModelConfig>;
  /** Used only when the file has no `__metadata__.vocab`. */
  vocab?: string[];
}

/** Decodes a model from safetensors bytes, checking every parameter's presence and exact shape. */
/**
 * Largest safetensors header a model file may have: its tensor names, shapes, config and vocabulary
 * take a few kB. Downloads of one tensor parse the stored file's header on the request path, so an
 * imported 100 MB header stalled every request 0.47 s per download (issue 16).
 */
export const MAX_MODEL_HEADER_BYTES = 1 << 20;

export function decodeModel(bytes: Uint8Array, opts: LoadOptions = {}): LoadedModel {
  if (bytes.length > 8 && bytes[8] === 0x7b) {
    const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (n > BigInt(MAX_MODEL_HEADER_BYTES))
      throw new ModelFileError(
        `the safetensors header is ${n} bytes; a model file's header (tensor names, shapes, config, vocab) may be at most ${MAX_MODEL_HEADER_BYTES} bytes`,
      );
  }
  // Skip converting TL's buffers (the n_ctx² mask); they are still validated as part of the file.
  // The buffers are not converted; their shapes (which inferConfig reads) come from the header.
  const { tensors, metadata, shapes } = decodeSafetensors(bytes, { select: (n) => !isIgnoredBuffer(n) });
  let cfg: ModelConfig;
  if (metadata.config !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(metadata.config);
    } catch (e) {
      throw new ModelFileError(`__metadata__.config is not valid JSON: ${(e as Error).message}`);
    }
    cfg = validateConfig(raw);
  } else {
    cfg = inferConfig(shapes, opts.config);
  }
  const problems: string[] = [];
  const weights: Weights = new Map();
  const expected = new Set<string>();
  for (const [name, shape] of paramShapes(cfg)) {
    expected.add(name);
    const t = tensors.get(name);
    if (!t) problems.push(`missing tensor "${name}" (expected shape ${fmt(shape)})`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`tensor "${name}" has shape ${fmt(t.shape)} but the config expects ${fmt(shape)}`);
    } else {
      // NaN/Inf weights would import and then fail (or silently poison) every forward pass.
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) problems.push(`tensor "${name}" holds ${t.data[bad]} at flat index ${bad}; weights must be finite`);
      else weights.set(name, t.data);
    }
  }
  if (problems.length > 0) {
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
    throw new ModelFileError(problems.slice(0, 5).join('; ') + more);
  }
  const unknownTensors = [...tensors.keys()].filter((n) => !expected.has(n)).sort();
  let vocab: string[] | null = opts.vocab ?? null;
  if (metadata.vocab !== undefined) {
    try {
      vocab = JSON.parse(metadata.vocab);
    } catch (e) {
      throw new ModelFileError(`__metadata__.vocab is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (vocab !== null) vocab = checkVocab(cfg, vocab);
  return { cfg, weights, vocab, metadata: { ...metadata }, unknownTensors };
}

/** Loads a model from a path or from bytes; errors name the file. */
export async function loadModel(src: string | Uint8Array, opts: LoadOptions = {}): Promise<LoadedModel> {
  if (typeof src !== 'string') return decodeModel(src, opts);
  const bytes = await readFile(src);
  try {
    return decodeModel(bytes, opts);
  } catch (e) {
    if (e instanceof ModelFileError || e instanceof SafetensorsError || e instanceof ConfigError) {
      const Ctor = e.constructor as new (m: string) => Error;
      throw new Ctor(`${src}: ${e.message}`);
    }
    throw e;
  }
}
