/**
 * The hook table: every TransformerLens hook point of our GPT, once, in forward order, with what
 * each consumer needs to know about it. Names (`allHookNames`), shapes (`hookShapes`, re-exported
 * by config.ts), geometry (`hookGeometry`: layout and feature size, used by the graph builders,
 * the intervention compiler and the engine) and the ONNX graph's last-block pruning (graph.ts)
 * are all derived from HOOK_TABLE, so adding or changing a hook is one edit here.
 *
 * Pure: no ONNX Runtime, no engine; registries and the CLI import it to check names cheaply.
 *
 * Layouts (TL shapes):
 *   'btf'  [batch, pos, feature]            embed, resid_*, ln*.hook_normalized/scale, mlp.*, *_out
 *   'bthf' [batch, pos, head, feature]      attn.hook_q/k/v/z/result
 *   'bhqk' [batch, head, query_pos, key_pos] attn.hook_attn_scores/pattern (positions = query positions)
 */
import { architecture, type Architecture, type ModelConfig } from './config.js';
import { UserError } from '../errors.js';

export type HookLayout = 'btf' | 'bthf' | 'bhqk';

/**
 * Size of a hook's feature (last) axis: a config field, the constant 1 (LayerNorm scales), or
 * 'keys' for attention scores/patterns, whose last axis is the key positions of the run.
 */
export type HookFeature = 'd_model' | 'd_head' | 'd_mlp' | 1 | 'keys';

export interface HookEntry {
  /** TL name; in per-block hooks `{l}` stands for the block index (e.g. blocks.{l}.attn.hook_q). */
  readonly pattern: string;
  readonly layout: HookLayout;
  readonly feature: HookFeature;
  /**
   * Per-block hooks only: computed separately for every query position from the position's own
   * residual stream and attention. A graph that unembeds only the last position can then compute
   * the last block's value for that position alone; touching such a hook in the last block keeps
   * every position (graph.ts `lastOnly`). False for what keys and values are made of
   * (resid_pre, ln1.*) and for the keys and values themselves.
   */
  readonly queryOnly?: boolean;
  /** Whether the architecture has this hook (TL creates it only then); absent = always. */
  readonly when?: (a: Architecture) => boolean;
  /** Why a model lacks it, for the error that names the hook. */
  readonly missing?: string;
}

const standard = (a: Architecture) => a.positional === 'standard';
const rotary = (a: Architecture) => a.positional === 'rotary';
const normed = (a: Architecture) => a.normalization !== null;
const mlp = (a: Architecture) => !a.attn_only;
const mlpNormed = (a: Architecture) => !a.attn_only && a.normalization !== null;
const midResid = (a: Architecture) => !a.attn_only && !a.parallel_attn_mlp;
const NO_NORM = 'the model has normalization_type null (no LayerNorm)';
const NO_MLP = 'the model is attn_only (no MLPs)';

/** Every hook point in forward order: embeddings, then one block's hooks (repeated per block), then ln_final. */
export const HOOK_TABLE: readonly HookEntry[] = [
  { pattern: 'hook_embed', layout: 'btf', feature: 'd_model' },
  { pattern: 'hook_pos_embed', layout: 'btf', feature: 'd_model', when: standard, missing: 'the model uses rotary positions (no pos_embed)' },
  { pattern: 'blocks.{l}.hook_resid_pre', layout: 'btf', feature: 'd_model' },
  { pattern: 'blocks.{l}.ln1.hook_scale', layout: 'btf', feature: 1, when: normed, missing: NO_NORM },
  { pattern: 'blocks.{l}.ln1.hook_normalized', layout: 'btf', feature: 'd_model', when: normed, missing: NO_NORM },
  { pattern: 'blocks.{l}.attn.hook_q', layout: 'bthf', feature: 'd_head', queryOnly: true },
  { pattern: 'blocks.{l}.attn.hook_k', layout: 'bthf', feature: 'd_head' },
  { pattern: 'blocks.{l}.attn.hook_v', layout: 'bthf', feature: 'd_head' },
  // TL rotates q and k after hook_q/hook_k and hooks the rotated values (abstract_attention.py).
  {
    pattern: 'blocks.{l}.attn.hook_rot_q',
    layout: 'bthf',
    feature: 'd_head',
    queryOnly: true,
    when: rotary,
    missing: 'the model has learned positions (no rotary)',
  },
  { pattern: 'blocks.{l}.attn.hook_rot_k', layout: 'bthf', feature: 'd_head', when: rotary, missing: 'the model has learned positions (no rotary)' },
  { pattern: 'blocks.{l}.attn.hook_attn_scores', layout: 'bhqk', feature: 'keys', queryOnly: true },
  { pattern: 'blocks.{l}.attn.hook_pattern', layout: 'bhqk', feature: 'keys', queryOnly: true },
  { pattern: 'blocks.{l}.attn.hook_z', layout: 'bthf', feature: 'd_head', queryOnly: true },
  { pattern: 'blocks.{l}.attn.hook_result', layout: 'bthf', feature: 'd_model', queryOnly: true },
  { pattern: 'blocks.{l}.hook_attn_out', layout: 'btf', feature: 'd_model', queryOnly: true },
  {
    pattern: 'blocks.{l}.hook_resid_mid',
    layout: 'btf',
    feature: 'd_model',
    queryOnly: true,
    when: midResid,
    missing: 'the model is attn_only or parallel_attn_mlp (TL has no resid_mid there)',
  },
  // (With parallel_attn_mlp ln2 reads resid_pre, still per position: query-only holds.)
  { pattern: 'blocks.{l}.ln2.hook_scale', layout: 'btf', feature: 1, queryOnly: true, when: mlpNormed, missing: `${NO_MLP} or ${NO_NORM}` },
  { pattern: 'blocks.{l}.ln2.hook_normalized', layout: 'btf', feature: 'd_model', queryOnly: true, when: mlpNormed, missing: `${NO_MLP} or ${NO_NORM}` },
  { pattern: 'blocks.{l}.mlp.hook_pre', layout: 'btf', feature: 'd_mlp', queryOnly: true, when: mlp, missing: NO_MLP },
  { pattern: 'blocks.{l}.mlp.hook_post', layout: 'btf', feature: 'd_mlp', queryOnly: true, when: mlp, missing: NO_MLP },
  { pattern: 'blocks.{l}.hook_mlp_out', layout: 'btf', feature: 'd_model', queryOnly: true, when: mlp, missing: NO_MLP },
  { pattern: 'blocks.{l}.hook_resid_post', layout: 'btf', feature: 'd_model', queryOnly: true },
  { pattern: 'ln_final.hook_scale', layout: 'btf', feature: 1, when: normed, missing: NO_NORM },
  { pattern: 'ln_final.hook_normalized', layout: 'btf', feature: 'd_model', when: normed, missing: NO_NORM },
];

const BLOCK_PREFIX = 'blocks.{l}.';

/** Where an entry sits: before the blocks (layer -1), in every block, or in ln_final (layer n_layers). */
const scopeOf = (e: HookEntry): 'embed' | 'block' | 'final' =>
  e.pattern.startsWith(BLOCK_PREFIX) ? 'block' : e.pattern.startsWith('ln_final.') ? 'final' : 'embed';

const EMBED = HOOK_TABLE.filter((e) => scopeOf(e) === 'embed');
const FINAL = HOOK_TABLE.filter((e) => scopeOf(e) === 'final');
/** Per-block entries by their name inside the block (e.g. "attn.hook_q"). */
const BLOCK = new Map(HOOK_TABLE.filter((e) => scopeOf(e) === 'block').map((e): [string, HookEntry] => [e.pattern.slice(BLOCK_PREFIX.length), e]));
/** Entries outside the blocks by full name. */
const GLOBAL = new Map([...EMBED, ...FINAL].map((e): [string, HookEntry] => [e.pattern, e]));

/** TL name of a per-block hook `leaf` (e.g. "attn.hook_q") in block l. */
const blockName = (l: number, leaf: string): string => `blocks.${l}.${leaf}`;

/** Names of block l's hooks for which `keep` holds, in forward order. */
export function blockHookNames(l: number, keep: (e: HookEntry) => boolean = () => true): string[] {
  return [...BLOCK].filter(([, e]) => keep(e)).map(([leaf]) => blockName(l, leaf));
}

export interface HookGeometry {
  name: string;
  /** Block index, or -1 for hook_embed/hook_pos_embed, n_layers for ln_final. */
  layer: number;
  layout: HookLayout;
  /** Feature size (last axis) for 'btf'/'bthf'; for 'bhqk' the key length depends on the run (0 here). */
  feature: number;
}

/** A mistake in naming or using a hook point: an unknown name (the default code UNKNOWN_HOOK) or an invalid intervention or cache position (INVALID_INTERVENTION). */
export class HookError extends UserError {
  override name = 'HookError';
  constructor(message: string, code: 'UNKNOWN_HOOK' | 'INVALID_INTERVENTION' = 'UNKNOWN_HOOK') {
    super(message, { code });
  }
}

function geometryOf(cfg: ModelConfig, name: string, layer: number, e: HookEntry): HookGeometry {
  const feature = e.feature === 'keys' ? 0 : e.feature === 1 ? 1 : cfg[e.feature];
  return { name, layer, layout: e.layout, feature };
}

/** Whether the model's architecture has hook entry `e`. */
const present = (cfg: ModelConfig, e: HookEntry): boolean => !e.when || e.when(architecture(cfg));

/** Every hook point of the model with its geometry, in forward order. */
function allGeometries(cfg: ModelConfig): HookGeometry[] {
  const arch = architecture(cfg);
  const has = (e: HookEntry) => !e.when || e.when(arch);
  const out = EMBED.filter(has).map((e) => geometryOf(cfg, e.pattern, -1, e));
  for (let l = 0; l < cfg.n_layers; l++) for (const [leaf, e] of BLOCK) if (has(e)) out.push(geometryOf(cfg, blockName(l, leaf), l, e));
  for (const e of FINAL.filter(has)) out.push(geometryOf(cfg, e.pattern, cfg.n_layers, e));
  return out;
}

/** Every hook point of the model in forward order (TL names; `logits` is not a hook here). */
export function allHookNames(cfg: ModelConfig): string[] {
  return allGeometries(cfg).map((g) => g.name);
}

/**
 * Refuses the first name that is not one of the model's hook points (HookError, code
 * UNKNOWN_HOOK), before any engine runs; `where` prefixes the message (e.g. "runForward").
 */
export function checkHookNames(cfg: ModelConfig, names: readonly string[], where?: string): void {
  const known = new Set(allHookNames(cfg));
  const bad = names.find((n) => !known.has(n));
  if (bad === undefined) return;
  const lacking = absentHook(cfg, bad);
  if (lacking) throw new HookError(`${where ? `${where}: ` : ''}${lacking}`);
  const shown = JSON.stringify(bad.length > 80 ? `${bad.slice(0, 80)}…` : bad);
  throw new HookError(
    `${where ? `${where}: ` : ''}unknown hook ${shown}; hooks are TransformerLens names such as blocks.0.hook_resid_pre or blocks.0.attn.hook_pattern`,
  );
}

/** For a TL hook name this architecture lacks (e.g. hook_pos_embed under rotary), the sentence saying why; else null. */
function absentHook(cfg: ModelConfig, name: string): string | null {
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  const e = m ? (Number(m[1]) < cfg.n_layers ? BLOCK.get(m[2]) : undefined) : GLOBAL.get(name);
  return e && !present(cfg, e) ? `the model has no hook point "${name}": ${e.missing}` : null;
}

/** Geometry of hook `name`; a name TL does not have for this config is an error naming it. */
export function hookGeometry(cfg: ModelConfig, name: string): HookGeometry {
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (m) {
    const layer = Number(m[1]);
    // "blocks.01" is not a TL name, and a block past the last is named as such.
    if (layer >= cfg.n_layers || String(layer) !== m[1]) throw new HookError(`unknown hook point "${name}": the model has ${cfg.n_layers} blocks`);
    const e = BLOCK.get(m[2]);
    if (e && present(cfg, e)) return geometryOf(cfg, name, layer, e);
  } else {
    const e = GLOBAL.get(name);
    if (e && present(cfg, e)) return geometryOf(cfg, name, scopeOf(e) === 'final' ? cfg.n_layers : -1, e);
  }
  const lacking = absentHook(cfg, name);
  if (lacking) throw new HookError(lacking);
  throw new HookError(`unknown hook point "${name}" (TransformerLens names, e.g. blocks.0.hook_resid_pre, blocks.1.attn.hook_pattern)`);
}

/** Concrete shape of a hook's value for batch B, T new positions and K key positions (K = T without a KV cache). */
export function hookDims(cfg: ModelConfig, g: HookGeometry, B: number, T: number, K = T): number[] {
  if (g.layout === 'btf') return [B, T, g.feature];
  if (g.layout === 'bthf') return [B, T, cfg.n_heads, g.feature];
  return [B, cfg.n_heads, T, K];
}

/** Hook point names, exactly as TransformerLens, with their shapes for batch B and sequence length T; `logits` last. */
export function hookShapes(cfg: ModelConfig, B: number, T: number): Array<[name: string, shape: number[]]> {
  const out = allGeometries(cfg).map((g): [string, number[]] => [g.name, hookDims(cfg, g, B, T)]);
  out.push(['logits', [B, T, architecture(cfg).d_vocab_out]]);
  return out;
}
