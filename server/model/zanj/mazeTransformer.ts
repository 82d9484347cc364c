/**
 * maze-transformer's `ZanjHookedTransformer` saved with ZANJ
 * (https://github.com/understanding-search/maze-transformer), turned into our model file: a
 * TransformerLens config with our field names, the vocabulary, and the state_dict. Pure.
 *
 * What the archive holds (zanj/torchutil.py `ConfiguredModel.serialize`; maze_transformer/training/
 * config.py `ConfigHolder`, `BaseGPTConfig`, `ZanjHookedTransformer`):
 *   root  {"__muutils_format__": "ZanjHookedTransformer", zanj_model_config, meta, training_records, state_dict}
 *   zanj_model_config.model_cfg      BaseGPTConfig: name, act_fn, d_model, d_head, n_layers,
 *                                    positional_embedding_type, weight_processing
 *                                    {are_layernorms_folded, are_weights_processed}, n_heads (= d_model // d_head)
 *   zanj_model_config.dataset_cfg    a MazeDatasetConfig; its seq_len_max is the model's n_ctx
 *   zanj_model_config.maze_tokenizer maze-dataset's legacy MazeTokenizer (maze_dataset/tokenization/
 *                                    maze_tokenizer_legacy.py): tokenization_mode, max_grid_size, and
 *                                    token_arr, the vocabulary in id order (its length is d_vocab)
 *   state_dict                       `HookedTransformer.state_dict()` with TransformerLens' names;
 *                                    tensors of ≥ 256 elements are external .npy entries, smaller ones inline
 * `ConfigHolder.hooked_transformer_cfg` passes act_fn, d_model, d_head, n_layers,
 * positional_embedding_type, n_ctx = dataset_cfg.seq_len_max and d_vocab = maze_tokenizer.vocab_size to
 * HookedTransformerConfig, whose defaults fill the rest (transformer_lens/HookedTransformerConfig.py
 * `__post_init__`): n_heads = d_model // d_head, d_mlp = 4·d_model, eps 1e-5, normalization "LN",
 * rotary_dim = d_head for rotary positions. A model whose layer norms were folded
 * (weight_processing.are_layernorms_folded) has TL's "LNPre" and no ln weights.
 *
 * Tokens: maze-transformer's strings are maze-dataset's, which our tokenizers share: the 11 special
 * tokens (maze_dataset/constants.py SPECIAL_TOKENS, our server/maze/tokenize/vocab.ts), coordinates
 * "(r,c)" (token_utils.py `_coord_to_strings_UT`) in AOTP_UT_* modes, and "(" "," ")" with integers
 * in AOTP_CTT_indexed. The model keeps the archive's id order (rasterized, or maze-dataset's
 * corner-first order, which differs from ours from 4×4 grids on); our encoders map by token string.
 * A token our tokenizer does not have is refused by name.
 */
import { ConfigError, type ModelConfig, paramShapes, validateConfig } from '../config.js';
import { ModelFileError, encodeModel, isIgnoredBuffer } from '../weights.js';
import { MAX_GRID } from '../../maze/lattice.js';
import { SPECIAL_TOKENS, getTokenizer } from '../../maze/tokenize/index.js';
import { FORMAT_KEY, LEGACY_FORMAT_KEY, ZanjError, formatOf, readZanj, zanjArray, zanjList, type ZanjArchive } from './archive.js';

export interface MazeTransformerModel {
  cfg: ModelConfig;
  /** Token strings by id, as the archive orders them. */
  vocab: string[];
  weights: Map<string, Float32Array>;
  /** state_dict entries that are neither parameters of `cfg` nor TL's attn.mask / attn.IGNORE buffers (e.g. rotary tables). */
  ignored: string[];
  /** What to keep from the archive as file metadata (strings). */
  metadata: Record<string, string>;
}

const CFG = 'zanj_model_config';

/** maze-transformer tokenization modes → our tokenizer. */
const MODES: Record<string, 'aotp-ut' | 'aotp-ctt'> = {
  AOTP_UT_uniform: 'aotp-ut',
  AOTP_UT_rasterized: 'aotp-ut',
  AOTP_CTT_indexed: 'aotp-ctt',
};

/**
 * maze-transformer token → ours. Every special token is spelled the same in both (constants.py
 * `_SPECIAL_TOKENS_BASE`, vocab.ts SPECIAL_TOKENS); this table is where a spelling that differs
 * would be mapped. Tokens not listed map to themselves if our tokenizer has them.
 */
const TOKEN_MAP: Record<string, string> = Object.fromEntries(SPECIAL_TOKENS.map((t) => [t, t]));

/** maze-dataset's `corner_first_ndindex(n)` (maze_dataset/utils.py): cells sorted by (max(r,c), (r,c) if r is even else (c,r)), ties in row-major order. */
export function mazeDatasetCornerFirst(n: number): Array<[number, number]> {
  const cells: Array<[number, number]> = [];
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) cells.push([r, c]);
  const key = ([r, c]: [number, number]): [number, number, number] => (r % 2 === 0 ? [Math.max(r, c), r, c] : [Math.max(r, c), c, r]);
  // Array.prototype.sort is stable (ES2019), like Python's sorted.
  return cells.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2];
  });
}

/** The legacy MazeTokenizer's token_arr, rebuilt from mode and grid size (`MazeTokenizer._token_arr`) for archives that do not list it. */
function rebuildTokenArr(mode: string, grid: number): string[] {
  const out: string[] = [...SPECIAL_TOKENS];
  if (mode === 'AOTP_CTT_indexed') return [...out, '(', ',', ')', ...Array.from({ length: grid }, (_, i) => String(i))];
  const cells: Array<[number, number]> = [];
  if (mode === 'AOTP_UT_rasterized') for (let r = 0; r < grid; r++) for (let c = 0; c < grid; c++) cells.push([r, c]);
  else cells.push(...mazeDatasetCornerFirst(grid));
  return [...out, ...cells.map(([r, c]) => `(${r},${c})`)];
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new ZanjError(`${where} must be an object, got ${v === null || v === undefined ? 'nothing' : Array.isArray(v) ? 'a list' : typeof v}`);
  return v as Record<string, unknown>;
}

/** The vocabulary and our tokenizer name, from zanj_model_config.maze_tokenizer. */
function readVocab(holder: Record<string, unknown>, archive: ZanjArchive, datasetGrid: unknown): { tokenizer: string; vocab: string[]; mode: string } {
  const where = `${CFG}.maze_tokenizer`;
  if (holder.maze_tokenizer == null)
    throw new ZanjError(
      `${where} is missing: only models with a maze-dataset MazeTokenizer can be imported (pretrainedtokenizer_kwargs configs are not supported)`,
    );
  const tok = obj(holder.maze_tokenizer, where);
  const fmt = formatOf(tok);
  if (fmt && !fmt.startsWith('MazeTokenizer('))
    throw new ZanjError(
      `${where} is a "${fmt}"; only the legacy MazeTokenizer (tokenization_mode AOTP_UT_uniform, AOTP_UT_rasterized, AOTP_CTT_indexed) is supported`,
    );
  const mode = tok.tokenization_mode;
  if (typeof mode !== 'string' || !Object.hasOwn(MODES, mode))
    throw new ZanjError(`${where}.tokenization_mode ${JSON.stringify(mode)} is not supported; supported: ${Object.keys(MODES).join(', ')}`);
  const tokenizer = MODES[mode];
  let tokens: unknown[];
  if (tok.token_arr != null) tokens = zanjList(tok.token_arr, archive, `${where}.token_arr`);
  else {
    const grid = tok.max_grid_size ?? datasetGrid;
    if (!Number.isInteger(grid) || (grid as number) < 1 || (grid as number) > MAX_GRID)
      throw new ZanjError(
        `${where} has no token_arr, and max_grid_size ${JSON.stringify(tok.max_grid_size)} (or ${CFG}.dataset_cfg.grid_n) is not a grid size in 1..${MAX_GRID}`,
      );
    tokens = rebuildTokenArr(mode, grid as number);
  }
  const ours = new Set(getTokenizer(tokenizer).vocab(MAX_GRID));
  const seen = new Set<string>();
  const vocab = tokens.map((t, i) => {
    if (typeof t !== 'string') throw new ZanjError(`${where}.token_arr[${i}] is ${JSON.stringify(t)}, not a string`);
    const mapped = Object.hasOwn(TOKEN_MAP, t) ? TOKEN_MAP[t] : t;
    if (!ours.has(mapped)) throw new ZanjError(`${where}.token_arr[${i}] = ${JSON.stringify(t)} has no counterpart in Searchlight's ${tokenizer} vocabulary`);
    if (seen.has(mapped)) throw new ZanjError(`${where}.token_arr[${i}] = ${JSON.stringify(t)} appears twice`);
    seen.add(mapped);
    return mapped;
  });
  if (vocab.length === 0) throw new ZanjError(`${where}.token_arr is empty`);
  return { tokenizer, vocab, mode };
}

/** Where each of our config fields came from in the archive, for error messages. */
const SOURCE: Record<string, string> = {
  d_model: `${CFG}.model_cfg.d_model`,
  d_head: `${CFG}.model_cfg.d_head`,
  n_layers: `${CFG}.model_cfg.n_layers`,
  n_heads: `${CFG}.model_cfg.n_heads (d_model // d_head)`,
  act_fn: `${CFG}.model_cfg.act_fn`,
  eps: `${CFG}.model_cfg.eps`,
  positional_embedding_type: `${CFG}.model_cfg.positional_embedding_type`,
  rotary_dim: `${CFG}.model_cfg.rotary_dim (default d_head)`,
  normalization_type: `${CFG}.model_cfg.normalization_type (or weight_processing.are_layernorms_folded)`,
  n_ctx: `${CFG}.dataset_cfg.seq_len_max`,
  d_vocab: `${CFG}.maze_tokenizer.token_arr (its length)`,
  d_mlp: 'state_dict.blocks.0.mlp.W_in (its shape; 4·d_model without it)',
};

/** TL's defaults for the architecture fields we pass on: a value equal to it may be dropped by validateConfig. */
const TL_DEFAULTS: Record<string, unknown> = {
  positional_embedding_type: 'standard',
  normalization_type: 'LN',
  attn_only: false,
  parallel_attn_mlp: false,
  rotary_base: 10000,
  rotary_adjacent_pairs: false,
};

/** Optional TL fields a model_cfg may carry beyond BaseGPTConfig's (forks and newer versions), passed on as they are. */
const PASS_THROUGH = ['attn_only', 'parallel_attn_mlp', 'rotary_base', 'rotary_adjacent_pairs', 'd_vocab_out'];

/** Reads a maze-transformer ZANJ archive into our config, vocabulary and weights; every problem names its field. */
export function readMazeTransformerZanj(bytes: Uint8Array): MazeTransformerModel {
  const archive = readZanj(bytes);
  const root = obj(archive.main, '__zanj__.json');
  const fmt = formatOf(root);
  if (!fmt?.startsWith('ZanjHookedTransformer'))
    throw new ZanjError(`__zanj__.json holds ${fmt ? `a "${fmt}"` : 'no __muutils_format__'}, not a maze-transformer ZanjHookedTransformer`);
  const holder = obj(root[CFG], CFG);
  const model = obj(holder.model_cfg, `${CFG}.model_cfg`);
  const dataset = holder.dataset_cfg == null ? {} : obj(holder.dataset_cfg, `${CFG}.dataset_cfg`);
  const sd = obj(root.state_dict, 'state_dict');
  const { tokenizer, vocab, mode } = readVocab(holder, archive, dataset.grid_n);

  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const dModel = num(model.d_model);
  const dHead = num(model.d_head);
  const raw: Record<string, unknown> = {
    d_model: model.d_model,
    d_head: model.d_head,
    n_layers: model.n_layers,
    n_heads: model.n_heads ?? (dModel !== undefined && dHead ? Math.floor(dModel / dHead) : undefined),
    act_fn: model.act_fn,
    eps: model.eps ?? 1e-5,
    n_ctx: dataset.seq_len_max ?? 512, // GPTDatasetConfig's default seq_len_max
    d_vocab: vocab.length,
    tokenizer,
  };
  const win = sd['blocks.0.mlp.W_in'];
  const winShape =
    win && typeof win === 'object' && Array.isArray((win as Record<string, unknown>).shape) ? ((win as Record<string, unknown>).shape as unknown[]) : null;
  raw.d_mlp = winShape && typeof winShape[1] === 'number' ? winShape[1] : dModel !== undefined ? 4 * dModel : undefined;
  const pos = model.positional_embedding_type ?? 'standard';
  raw.positional_embedding_type = pos;
  if (pos === 'rotary') raw.rotary_dim = model.rotary_dim ?? dHead;
  const wp = model.weight_processing && typeof model.weight_processing === 'object' ? (model.weight_processing as Record<string, unknown>) : {};
  raw.normalization_type = model.normalization_type !== undefined ? model.normalization_type : wp.are_layernorms_folded === true ? 'LNPre' : 'LN';
  for (const k of PASS_THROUGH) if (model[k] !== undefined) raw[k] = model[k];

  let cfg: ModelConfig;
  try {
    cfg = validateConfig(raw);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const field = /^config\.(\w+)/.exec(e.message)?.[1];
    throw new ZanjError(`${field && SOURCE[field] ? `${SOURCE[field]}: ` : ''}${e.message}`);
  }
  // A field this server's config does not know is dropped by validateConfig: refuse it rather than
  // run a different architecture than the archive's.
  const kept = cfg as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(raw)) {
    const isDefault = v === TL_DEFAULTS[k] || (k === 'd_vocab_out' && (v === -1 || v === cfg.d_vocab));
    if (kept[k] === undefined && v !== undefined && v !== null && !isDefault && !(k === 'rotary_dim' && pos !== 'rotary'))
      throw new ZanjError(`${SOURCE[k] ?? `${CFG}.model_cfg.${k}`} = ${JSON.stringify(v)} is not supported by this server's model engine`);
  }

  const weights = new Map<string, Float32Array>();
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const [name, shape] of paramShapes(cfg)) {
    expected.add(name);
    if (!(name in sd)) {
      problems.push(`state_dict has no "${name}" (expected shape [${shape.join(', ')}])`);
      continue;
    }
    const a = zanjArray(sd[name], archive, `state_dict.${name}`);
    if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
      problems.push(`state_dict.${name} has shape [${a.shape.join(', ')}] but the config expects [${shape.join(', ')}]`);
      continue;
    }
    const bad = a.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      problems.push(`state_dict.${name} holds ${a.data[bad]} at flat index ${bad}; weights must be finite`);
      continue;
    }
    weights.set(name, Float32Array.from(a.data));
  }
  if (problems.length > 0) throw new ZanjError(problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : ''));
  // TL's attn.mask / attn.IGNORE buffers are rebuilt by encodeModel; anything else unused is reported.
  const ignored = Object.keys(sd)
    .filter((n) => !expected.has(n) && n !== FORMAT_KEY && n !== LEGACY_FORMAT_KEY && !isIgnoredBuffer(n))
    .sort();
  const metadata: Record<string, string> = {
    source: 'maze-transformer ZanjHookedTransformer (ZANJ)',
    zanj_tokenization_mode: mode,
  };
  if (typeof model.name === 'string') metadata.zanj_model_cfg_name = model.name;
  if (typeof holder.name === 'string') metadata.zanj_name = holder.name;
  if (ignored.length > 0) metadata.zanj_ignored_tensors = JSON.stringify(ignored);
  return { cfg, vocab, weights, ignored, metadata };
}

/**
 * The archive as our model file (safetensors with TL names, `config` and `vocab` metadata, and TL's
 * mask/IGNORE buffers: weights.ts `encodeModel`), ready for the safetensors import path.
 */
export function mazeTransformerToModelFile(bytes: Uint8Array): Uint8Array {
  const m = readMazeTransformerZanj(bytes);
  try {
    return encodeModel(m.cfg, m.weights, m.vocab, m.metadata);
  } catch (e) {
    if (e instanceof ModelFileError || e instanceof ConfigError) throw new ZanjError(e.message);
    throw e;
  }
}
