/**
 * Greedy decoding under interventions, and the mean activations that mean-ablation replaces a
 * hook with.
 *
 * generate.ts decodes with a KV cache and can apply interventions to the prompt only (a cached key
 * cannot be re-intervened on). An intervention on "every position" — zeroing a head, steering the
 * residual — must also act at each generated position, so here every step recomputes the whole
 * sequence with the interventions applied at the positions that exist so far (measured by
 * `npm run bench -- intervene`: hallway preset, 6×6 prompts, 2-core CPU; 200–230 generated tokens/s
 * under load and 1.5–2.6× PyTorch recomputing with a hook on one thread; 275 and 2.05× on a quiet
 * machine (2026-12-06); the bench prints the figures of the machine it runs on). Positions are absolute token positions;
 * one listed beyond the sequence simply has not come yet.
 */
import type { Intervention } from './interventions.js';
import type { OnnxEngine } from './engine.js';
import { hookGeometry, HookError } from '../hooks.js';
import { argmax } from '../argmax.js';
import { checkGenerative } from '../config.js';

export interface InterventionDecodeOptions {
  stopToken: number;
  maxNewTokens: number;
  /** Only tokens with a truthy entry may be generated (length d_vocab); default any. */
  allowedTokens?: ArrayLike<number | boolean>;
  /**
   * More interventions for one step, computed from the sequence so far and the step's own (already
   * cut to its positions): e.g. SAE feature edits, which read the hook they add to (interp/sae/decode.ts).
   */
  perStep?: (tokens: Int32Array, T: number, base: readonly Intervention[]) => Promise<Intervention[]>;
}

/**
 * The prompt followed by its greedy continuation under `interventions` (stop token included),
 * recomputing the whole sequence each step (interp/decode.ts' decodeWithInterventions, a different
 * function, decodes batched rows with a KV cache and intervenes on the prompt only).
 */
export async function decodeRecomputing(
  engine: OnnxEngine,
  prompt: Int32Array,
  interventions: readonly Intervention[],
  opts: InterventionDecodeOptions,
): Promise<Int32Array> {
  checkGenerative(engine.cfg, 'decoding');
  const V = engine.cfg.d_vocab;
  const seq = Array.from(prompt);
  for (let n = 0; n < opts.maxNewTokens && seq.length < engine.cfg.n_ctx; n++) {
    const T = seq.length;
    // Each intervention restricted to the positions this step has (an empty list would mean "all").
    const now = interventions.flatMap((iv) => {
      if (!iv.positions) return [iv];
      const positions = iv.positions.filter((p) => p < T);
      return positions.length ? [{ ...iv, positions }] : [];
    });
    const tokens = Int32Array.from(seq);
    const all = opts.perStep ? [...now, ...(await opts.perStep(tokens, T, now))] : now;
    // A graph that unembeds only the last position has no ln_final hooks to intervene on.
    const lastOnly = !all.some((iv) => hookGeometry(engine.cfg, iv.hook).layer === engine.cfg.n_layers);
    const out = await engine.runWithInterventions(tokens, 1, T, all, { names: [], lastOnly }); // [1, 1 or T, d_vocab]
    const best = argmax(lastOnly ? out.logits : out.logits.subarray((T - 1) * V), opts.allowedTokens);
    seq.push(best);
    if (best === opts.stopToken) break;
  }
  return Int32Array.from(seq);
}

/**
 * Mean of hook `name` over every position of every sequence (one cell: [f] for a hook without a
 * head axis, [n_heads, f] per head otherwise), the value mean-ablation sets. Attention scores and
 * patterns have no per-cell mean (their cells are rows over a run's own key positions) and are refused.
 */
export async function hookMean(engine: OnnxEngine, sequences: readonly Int32Array[], name: string): Promise<Float32Array> {
  const geo = hookGeometry(engine.cfg, name);
  if (geo.layout === 'bhqk')
    throw new HookError(`${name}: attention scores and patterns have no mean cell to ablate to; use zero or replace`, 'INVALID_INTERVENTION');
  if (sequences.length === 0) throw new HookError(`${name}: a mean needs at least one sequence`, 'INVALID_INTERVENTION');
  const cell = geo.layout === 'btf' ? geo.feature : engine.cfg.n_heads * geo.feature;
  const sum = new Float64Array(cell);
  let count = 0;
  for (const seq of sequences) {
    const { cache } = await engine.runWithCache(seq, 1, seq.length, { names: [name] });
    const data = cache.get(name)!.data; // [1, T, f] or [1, T, H, f]
    for (let i = 0; i < data.length; i++) sum[i % cell] += data[i];
    count += seq.length;
  }
  return Float32Array.from(sum, (s) => s / count);
}

/** An intervention as a user writes it (API, CLI, playground URL): value given as numbers, mean computed here. */
export interface InterventionSpec {
  hook: string;
  kind: 'replace' | 'zero' | 'mean' | 'add';
  /** Absolute token positions; default every position (generated ones included). */
  positions?: number[] | null;
  heads?: number[] | null;
  /** Indices along the hook's last axis (e.g. MLP neurons); default all. */
  features?: number[] | null;
  /** replace / add: one number (used for every chosen feature) or one whole cell (the hook's last axis). */
  value?: number[] | null;
}

/**
 * The engine's interventions for `specs`: values checked against the hook's cell size (errors name
 * the intervention and what was expected), scalars broadcast, `mean` replaced by the hook's mean
 * over `reference()` sequences (per head for hooks with a head axis). `where` prefixes errors.
 */
export async function resolveInterventions(
  engine: OnnxEngine,
  specs: readonly InterventionSpec[],
  reference: () => Int32Array[],
  where: string,
): Promise<Intervention[]> {
  const cfg = engine.cfg;
  const out: Intervention[] = [];
  for (const [i, s] of specs.entries()) {
    const at = `${where}: intervention ${i} (${s.kind} ${s.hook})`;
    let geo: ReturnType<typeof hookGeometry>;
    try {
      geo = hookGeometry(cfg, s.hook);
    } catch (e) {
      throw new HookError(`${at}: ${(e as Error).message}`, 'INVALID_INTERVENTION');
    }
    const f = geo.layout === 'bhqk' ? 0 : geo.feature;
    const base: Intervention = {
      hook: s.hook,
      kind: s.kind === 'mean' ? 'replace' : s.kind,
      ...(s.positions ? { positions: [...s.positions] } : {}),
      ...(s.heads ? { heads: [...s.heads] } : {}),
      ...(s.features ? { features: [...s.features] } : {}),
    };
    if (s.kind === 'zero') {
      if (s.value?.length) throw new HookError(`${at}: zero takes no value`, 'INVALID_INTERVENTION');
      out.push(base);
      continue;
    }
    // A cell of attn_scores / pattern is a row over the run's key positions, which grows every step.
    if (geo.layout === 'bhqk')
      throw new HookError(`${at}: attention scores and patterns can only be zeroed (their cells are rows over key positions)`, 'INVALID_INTERVENTION');
    if (s.kind === 'mean') {
      if (s.value?.length) throw new HookError(`${at}: mean computes its value; give none`, 'INVALID_INTERVENTION');
      const mean = await hookMean(engine, reference(), s.hook); // [f] or [H, f]
      if (geo.layout === 'btf') out.push({ ...base, value: mean });
      // Per head: one intervention per chosen head, each with that head's mean cell.
      else
        for (const h of s.heads ?? Array.from({ length: cfg.n_heads }, (_, k) => k)) out.push({ ...base, heads: [h], value: mean.slice(h * f, (h + 1) * f) });
      continue;
    } else {
      const v = s.value ?? [];
      if (v.length !== 1 && v.length !== f)
        throw new HookError(`${at}: value has ${v.length} numbers; give one number or one cell of ${f} (the hook's last axis)`, 'INVALID_INTERVENTION');
      if (!v.every(Number.isFinite)) throw new HookError(`${at}: value holds a non-finite number`, 'INVALID_INTERVENTION');
      base.value = v.length === 1 ? new Float32Array(f).fill(v[0]) : Float32Array.from(v);
    }
    out.push(base);
  }
  return out;
}
