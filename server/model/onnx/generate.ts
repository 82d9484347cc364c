/**
 * Greedy batch decoding with a KV cache (graph variant kvBuffer, graph.ts): the prompts' common
 * prefix length is run at once, then one token per step, each step reading every earlier
 * position's keys and values from fixed-capacity buffers instead of recomputing them; only the
 * new token's keys/values come back from ORT and are written into the buffers here.
 *
 * Prompts of different lengths decode in lockstep by absolute position, with no padding: at step t
 * a row whose prompt is longer than t feeds its own next prompt token (teacher forcing, its
 * prediction is ignored); a row past its prompt feeds its argmax. Position embeddings therefore stay
 * exact. Rows that finish (stop token, maxNewTokens, or n_ctx) leave the batch and its cache.
 *
 * Unconstrained by default (maze-transformer's models learn the constraints); `allowedTokens`
 * restricts the argmax, e.g. to coordinates and <PATH_END>.
 *
 * `interventions` (per prompt) are applied during the prefill only: the prefill graph gets them as
 * patch/add inputs (interventions.ts), so the prompt positions' keys/values in the buffers already
 * carry their effect, and every later step reads those. This is exact for interventions on prompt
 * positions (no later position is intervened on); a position the prefill does not cover (a prompt
 * longer than the common length) is refused rather than silently skipped. This is the only KV-cache
 * decode loop: interp's decodeWithInterventions (retargeting) runs on it.
 */
import type { OnnxEngine } from './engine.js';
import { feedF32, feedI32, feedI64, type Feed } from './runtime.js';
import type { GraphSpec } from './graph.js';
import { compileInterventions, type CompiledInterventions, type Intervention } from './interventions.js';
import { argmax } from '../argmax.js';
import { HookError } from '../hooks.js';
import { checkGenerative } from '../config.js';

export interface GenerateOptions {
  /** Token that ends a row's generation (e.g. <PATH_END>); it is included in the output. */
  stopToken: number;
  /** At most this many new tokens per row (default: until n_ctx). */
  maxNewTokens?: number;
  /** Length d_vocab; only tokens with a truthy entry may be generated. */
  allowedTokens?: ArrayLike<number | boolean>;
  /**
   * One entry per prompt (absent or undefined: none): interventions on that prompt's positions,
   * applied while the prompts are prefilled (their `rows` field is ignored: each applies to its
   * prompt only). Prompts of different lengths prefill only their common length, so every position
   * an intervention names must lie below it.
   */
  interventions?: ReadonlyArray<readonly Intervention[] | undefined>;
}

// Prefill runs without a cache (nothing is cached yet); decoding steps read the buffers.
const PREFILL: GraphSpec = { newKV: true, lastOnly: true };
const STEP: GraphSpec = { kvBuffer: true, newKV: true, lastOnly: true };

/** Completed sequences: each prompt followed by its greedy continuation (up to and including the stop token). */
export async function generate(engine: OnnxEngine, prompts: readonly Int32Array[], opts: GenerateOptions): Promise<Int32Array[]> {
  const { n_ctx, n_layers: L, n_heads: H, d_head: E, d_vocab: V } = engine.cfg;
  checkGenerative(engine.cfg, 'generate');
  const maxNew = opts.maxNewTokens ?? n_ctx;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new RangeError(`maxNewTokens must be a non-negative integer, got ${maxNew}`);
  if (!Number.isInteger(opts.stopToken) || opts.stopToken < 0 || opts.stopToken >= V)
    throw new RangeError(`stopToken ${opts.stopToken} is outside the vocabulary [0, ${V})`);
  const allowed = opts.allowedTokens;
  if (allowed) {
    if (allowed.length !== V) throw new RangeError(`allowedTokens has length ${allowed.length}, expected d_vocab = ${V}`);
    if (!Array.from(allowed).some(Boolean)) throw new RangeError('allowedTokens allows no token');
  }
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new RangeError(`prompt ${i} is empty`);
    try {
      engine.checkTokens(p, 1, p.length);
    } catch (e) {
      throw new RangeError(`prompt ${i}: ${(e as Error).message}`);
    }
  });
  const perPrompt = opts.interventions;
  if (perPrompt && perPrompt.length !== prompts.length)
    throw new RangeError(`interventions has ${perPrompt.length} entries, expected one per prompt (${prompts.length})`);

  const seqs = prompts.map((p) => Array.from(p));
  // Active rows: indices into prompts; a row is done once it cannot or need not grow.
  let active = prompts.map((_, i) => i).filter((i) => prompts[i].length < n_ctx && maxNew > 0);
  if (active.length === 0) return seqs.map((s) => Int32Array.from(s));
  const generated = new Array<number>(prompts.length).fill(0);

  // KV buffers per layer: keys [A, H, E, C] (transposed), values [A, H, C, E]; C covers every
  // position that is ever fed (the last token of a row is never fed back).
  const C = Math.min(n_ctx, Math.max(...active.map((i) => prompts[i].length)) + maxNew);
  let keys: Float32Array[] = Array.from({ length: L }, () => new Float32Array(active.length * H * E * C));
  let values: Float32Array[] = Array.from({ length: L }, () => new Float32Array(active.length * H * C * E));
  const fetch = ['logits', ...Array.from({ length: L }, (_, l) => [`new_key.${l}`, `new_value.${l}`]).flat()];

  let pos = 0; // positions already in the cache
  let T = Math.min(...active.map((i) => prompts[i].length)); // prefill the common length at once
  let tokens = new Int32Array(active.length * T); // [A, T]
  active.forEach((i, r) => tokens.set(prompts[i].subarray(0, T), r * T));
  const prefill = perPrompt ? prefillInterventions(engine, prompts, perPrompt, active, T) : undefined;

  for (;;) {
    const A = active.length;
    const feeds: Record<string, Feed> = { tokens: feedI32(tokens, [A, T]) };
    if (pos === 0 && prefill) Object.assign(feeds, prefill.feeds);
    if (pos > 0) {
      feeds.past_len = feedI64(BigInt64Array.of(BigInt(pos)), [1]);
      for (let l = 0; l < L; l++) {
        feeds[`past_key.${l}`] = feedF32(keys[l], [A, H, E, C]);
        feeds[`past_value.${l}`] = feedF32(values[l], [A, H, C, E]);
      }
    }
    const out = await engine.runSpec(pos > 0 ? STEP : prefill ? { ...PREFILL, patch: prefill.patch, add: prefill.add } : PREFILL, feeds, fetch);
    // Store the new tokens' keys/values at positions pos..pos+T-1.
    for (let l = 0; l < L; l++) {
      const nk = out[`new_key.${l}`].data; // [A, H, E, T]
      const nv = out[`new_value.${l}`].data; // [A, H, T, E]
      const kb = keys[l];
      for (let ahe = 0; ahe < A * H * E; ahe++) for (let t = 0; t < T; t++) kb[ahe * C + pos + t] = nk[ahe * T + t];
      for (let ah = 0; ah < A * H; ah++) values[l].set(nv.subarray(ah * T * E, (ah + 1) * T * E), (ah * C + pos) * E);
    }
    pos += T;

    const logits = out.logits.data; // [A, 1, V]: prediction for position `pos`
    const next = new Int32Array(A);
    const keep: number[] = []; // indices into `active` that continue
    active.forEach((i, r) => {
      const prompt = prompts[i];
      if (pos < prompt.length) {
        next[r] = prompt[pos]; // still inside this row's prompt: feed it (teacher forcing)
        keep.push(r);
        return;
      }
      const tok = argmax(logits.subarray(r * V, (r + 1) * V), allowed);
      seqs[i].push(tok);
      generated[i]++;
      next[r] = tok;
      if (tok !== opts.stopToken && generated[i] < maxNew && pos + 1 < n_ctx) keep.push(r);
    });
    if (keep.length === 0) break;
    if (keep.length < A) {
      // Drop finished rows from the buffers (each row is one contiguous block).
      const compact = (buf: Float32Array): Float32Array => {
        const per = buf.length / A;
        const outBuf = new Float32Array(keep.length * per);
        keep.forEach((r, j) => outBuf.set(buf.subarray(r * per, (r + 1) * per), j * per));
        return outBuf;
      };
      keys = keys.map(compact);
      values = values.map(compact);
    }
    tokens = Int32Array.from(keep, (r) => next[r]);
    active = keep.map((r) => active[r]);
    T = 1;
  }
  return seqs.map((s) => Int32Array.from(s));
}

/**
 * The prefill's interventions, compiled for the prefill batch: row r of the batch is prompt
 * active[r], and the batch covers positions [0, T). A position at or beyond T on a prompt longer
 * than T would never be intervened on, so it is refused (HookError, INVALID_INTERVENTION); on a
 * prompt of exactly T tokens compileInterventions reports it like any position outside the run.
 */
function prefillInterventions(
  engine: OnnxEngine,
  prompts: readonly Int32Array[],
  perPrompt: ReadonlyArray<readonly Intervention[] | undefined>,
  active: readonly number[],
  T: number,
): CompiledInterventions {
  const all: Intervention[] = [];
  active.forEach((i, r) => {
    (perPrompt[i] ?? []).forEach((iv, k) => {
      if (prompts[i].length > T) {
        const where = `prompt ${i}, intervention ${k} on ${iv.hook}`;
        const why = `prompts of different lengths prefill only their common length ${T}, and interventions apply during the prefill`;
        if (iv.positions === undefined)
          throw new HookError(`${where}: it covers every position, but ${why}; list its positions (below ${T})`, 'INVALID_INTERVENTION');
        const late = iv.positions.find((p) => p >= T);
        if (late !== undefined) throw new HookError(`${where}: position ${late} is at or beyond the prefill length (${why})`, 'INVALID_INTERVENTION');
      }
      all.push({ ...iv, rows: [r] });
    });
  });
  return compileInterventions(engine.cfg, all, active.length, T);
}
