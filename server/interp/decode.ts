/**
 * Greedy decoding in which each row may carry interventions on its PROMPT positions (retargeting:
 * overwrite the target's residual stream, then let the model write its path).
 *
 * The prompt is run once with the interventions (graph variant patch + newKV + lastOnly), its
 * keys/values go into fixed-capacity buffers, and every later token is one cached step (variant
 * kvBuffer + newKV), exactly as ../model/onnx/generate.ts decodes. This is exact: an intervention
 * on prompt positions changes those positions' keys/values, which later steps read from the cache;
 * no later position is intervened on. Rows in one call must share the prompt length (no padding,
 * so position embeddings stay exact); `decodeWithInterventions` groups rows by length.
 */
import type { OnnxEngine } from '../model/onnx/engine.js';
import { argmax } from '../model/argmax.js';
import type { GraphSpec } from '../model/onnx/graph.js';
import { compileInterventions, type Intervention } from '../model/onnx/interventions.js';
import { feedF32, feedI32, feedI64, type Feed } from '../model/onnx/runtime.js';

const STEP: GraphSpec = { kvBuffer: true, newKV: true, lastOnly: true };

export interface DecodeRow {
  prompt: Int32Array;
  /** Interventions for this row (their `rows` field is ignored: they apply to this row only). */
  interventions?: Intervention[];
}

/** The generated tokens of each row (after its prompt, the stop token included when produced). */
export async function decodeWithInterventions(
  engine: OnnxEngine,
  rows: readonly DecodeRow[],
  opts: { stopToken: number; maxNewTokens: number; batch?: number },
): Promise<Int32Array[]> {
  const out: Int32Array[] = new Array(rows.length);
  const byLen = new Map<number, number[]>();
  rows.forEach((r, i) => {
    const list = byLen.get(r.prompt.length) ?? [];
    list.push(i);
    byLen.set(r.prompt.length, list);
  });
  const batch = Math.max(1, opts.batch ?? 32);
  for (const idx of byLen.values()) {
    for (let s = 0; s < idx.length; s += batch) {
      const group = idx.slice(s, s + batch);
      const gen = await decodeGroup(
        engine,
        group.map((i) => rows[i]),
        opts.stopToken,
        opts.maxNewTokens,
      );
      group.forEach((i, j) => (out[i] = gen[j]));
    }
  }
  return out;
}

async function decodeGroup(engine: OnnxEngine, rows: readonly DecodeRow[], stop: number, maxNewTokens: number): Promise<Int32Array[]> {
  const { n_ctx, n_layers: L, n_heads: H, d_head: E, d_vocab: V } = engine.cfg;
  const B = rows.length;
  const T = rows[0].prompt.length;
  const tokens = new Int32Array(B * T);
  rows.forEach((r, b) => tokens.set(r.prompt, b * T));
  engine.checkTokens(tokens, B, T);
  const maxNew = Math.max(0, Math.min(maxNewTokens, n_ctx - T));
  const generated: number[][] = rows.map(() => []);
  if (maxNew === 0) return generated.map((g) => Int32Array.from(g));

  const ivs = rows.flatMap((r, b) => (r.interventions ?? []).map((iv) => ({ ...iv, rows: [b] })));
  const iv = compileInterventions(engine.cfg, ivs, B, T);
  const fetch = ['logits', ...Array.from({ length: L }, (_, l) => [`new_key.${l}`, `new_value.${l}`]).flat()];
  const C = T + maxNew; // cache capacity: every position ever fed
  let keys: Float32Array[] = Array.from({ length: L }, () => new Float32Array(B * H * E * C)); // [A, H, E, C]
  let values: Float32Array[] = Array.from({ length: L }, () => new Float32Array(B * H * C * E)); // [A, H, C, E]

  let active = rows.map((_, b) => b);
  let feeds: Record<string, Feed> = { tokens: feedI32(tokens, [B, T]), ...iv.feeds };
  let spec: GraphSpec = { newKV: true, lastOnly: true, patch: iv.patch, add: iv.add };
  let pos = 0;
  let Tn = T;
  for (;;) {
    const A = active.length;
    const res = await engine.runSpec(spec, feeds, fetch);
    for (let l = 0; l < L; l++) {
      const nk = res[`new_key.${l}`].data; // [A, H, E, Tn]
      const nv = res[`new_value.${l}`].data; // [A, H, Tn, E]
      for (let ahe = 0; ahe < A * H * E; ahe++) for (let t = 0; t < Tn; t++) keys[l][ahe * C + pos + t] = nk[ahe * Tn + t];
      for (let ah = 0; ah < A * H; ah++) values[l].set(nv.subarray(ah * Tn * E, (ah + 1) * Tn * E), (ah * C + pos) * E);
    }
    pos += Tn;
    const logits = res.logits.data; // [A, 1, V]
    const keep: number[] = [];
    const next: number[] = [];
    active.forEach((b, r) => {
      const best = argmax(logits.subarray(r * V, (r + 1) * V));
      generated[b].push(best);
      if (best !== stop && generated[b].length < maxNew) {
        keep.push(r);
        next.push(best);
      }
    });
    if (keep.length === 0) break;
    if (keep.length < A) {
      const compact = (buf: Float32Array): Float32Array => {
        const per = buf.length / A;
        const o = new Float32Array(keep.length * per);
        keep.forEach((r, j) => o.set(buf.subarray(r * per, (r + 1) * per), j * per));
        return o;
      };
      keys = keys.map(compact);
      values = values.map(compact);
    }
    active = keep.map((r) => active[r]);
    const A2 = active.length;
    feeds = { tokens: feedI32(Int32Array.from(next), [A2, 1]), past_len: feedI64(BigInt64Array.of(BigInt(pos)), [1]) };
    for (let l = 0; l < L; l++) {
      feeds[`past_key.${l}`] = feedF32(keys[l], [A2, H, E, C]);
      feeds[`past_value.${l}`] = feedF32(values[l], [A2, H, C, E]);
    }
    spec = STEP;
    Tn = 1;
  }
  return generated.map((g) => Int32Array.from(g));
}

/** A row decoded with a steering vector added at every position from `from` on, generated ones included. */
export interface SteeredRow {
  prompt: Int32Array;
  /**
   * Added to `hook` at every decoding step: each segment's value at positions from its `from` up to
   * the next segment's (the last one to the end, generated positions included); absent: plain
   * greedy decoding.
   */
  steer?: { hook: string; segments: ReadonlyArray<{ from: number; value: Float32Array }> };
}

/**
 * Greedy decoding in which a vector is added to a hook at every position from `from` on — the
 * prompt's and each generated token's, at every step. A retargeting direction must reach the
 * generated positions too: they read the target through the layers below the hook, so an edit
 * of the prompt alone leaves the path's own positions carrying the old target (issue 13).
 *
 * Exact by construction and without a cache: each step runs the whole sequence so far (rows of one
 * call share the prompt length; active rows then share every later length too), with the add
 * intervention rebuilt for the current length. That costs O(steps × T) positions instead of
 * O(T + steps), acceptable for maze paths (~10–30 steps of ~100–300 positions).
 */
export async function decodeSteered(
  engine: OnnxEngine,
  rows: readonly SteeredRow[],
  opts: { stopToken: number; maxNewTokens: number; batch?: number },
): Promise<Int32Array[]> {
  const out: Int32Array[] = new Array(rows.length);
  const byLen = new Map<number, number[]>();
  rows.forEach((r, i) => byLen.set(r.prompt.length, [...(byLen.get(r.prompt.length) ?? []), i]));
  const batch = Math.max(1, opts.batch ?? 32);
  const { n_ctx, d_vocab: V } = engine.cfg;
  for (const idx of byLen.values()) {
    for (let s = 0; s < idx.length; s += batch) {
      const group = idx.slice(s, s + batch);
      const seqs = group.map((i) => Array.from(rows[i].prompt));
      let active = group.map((_, j) => j);
      const generated: number[][] = group.map(() => []);
      const maxNew = Math.max(0, Math.min(opts.maxNewTokens, n_ctx - seqs[0].length));
      for (let step = 0; step < maxNew && active.length > 0; step++) {
        const A = active.length;
        const T = seqs[active[0]].length;
        const tokens = new Int32Array(A * T); // [A, T]
        active.forEach((j, r) => tokens.set(seqs[j], r * T));
        engine.checkTokens(tokens, A, T);
        const ivs: Intervention[] = [];
        active.forEach((j, r) => {
          const st = rows[group[j]].steer;
          st?.segments.forEach((seg, k) => {
            const end = Math.min(T, st.segments[k + 1]?.from ?? T);
            if (seg.from < end)
              ivs.push({ hook: st.hook, kind: 'add', rows: [r], positions: Array.from({ length: end - seg.from }, (_, q) => seg.from + q), value: seg.value });
          });
        });
        const iv = compileInterventions(engine.cfg, ivs, A, T);
        const res = await engine.runSpec({ lastOnly: true, patch: iv.patch, add: iv.add }, { tokens: feedI32(tokens, [A, T]), ...iv.feeds }, ['logits']);
        const logits = res.logits.data; // [A, 1, V]
        const still: number[] = [];
        active.forEach((j, r) => {
          const best = argmax(logits.subarray(r * V, (r + 1) * V));
          generated[j].push(best);
          seqs[j].push(best);
          if (best !== opts.stopToken) still.push(j);
        });
        active = still;
      }
      group.forEach((i, j) => (out[i] = Int32Array.from(generated[j])));
    }
  }
  return out;
}
