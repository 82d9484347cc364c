/**
 * Greedy decoding in which each row may carry interventions (retargeting: overwrite the target's
 * residual stream, then let the model write its path).
 *
 * decodeWithInterventions: interventions on PROMPT positions, decoded by the engine's one KV-cache
 * loop (generate, ../model/onnx/generate.ts, through ../model/engine.ts): the prompt is prefilled
 * once with the interventions, its keys/values are cached, and every later token is one cached
 * step. This is exact: an intervention on prompt positions changes those positions' keys/values,
 * which later steps read from the cache; no later position is intervened on. Rows are grouped by
 * prompt length, so each group's prefill covers every prompt position (no padding, so position
 * embeddings stay exact).
 *
 * decodeSteered: a vector added at generated positions too, which a cache cannot do (see there).
 */
import { argmax, generate, type Intervention, type OnnxEngine } from '../model/engine.js';

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

/** Rows of one prompt length: checked as one batch, then decoded by generate with the interventions applied in its prefill. */
async function decodeGroup(engine: OnnxEngine, rows: readonly DecodeRow[], stop: number, maxNewTokens: number): Promise<Int32Array[]> {
  const B = rows.length;
  const T = rows[0].prompt.length;
  const tokens = new Int32Array(B * T); // [B, T]
  rows.forEach((r, b) => tokens.set(r.prompt, b * T));
  engine.checkTokens(tokens, B, T); // the batch's errors (row, position) rather than generate's per-prompt ones
  const maxNew = Math.max(0, Math.min(maxNewTokens, engine.cfg.n_ctx - T));
  if (maxNew === 0) return rows.map(() => new Int32Array(0));
  const seqs = await generate(
    engine,
    rows.map((r) => r.prompt),
    { stopToken: stop, maxNewTokens: maxNew, interventions: rows.map((r) => r.interventions) },
  );
  return seqs.map((seq) => seq.slice(T));
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
 * Deliberately NOT the engine's KV-cache loop (generate, which decodeWithInterventions uses): that
 * loop intervenes during the prefill only, and every cached step runs the plain step graph, while
 * here the vector must also be added at each generated position when it is fed. Instead of
 * threading per-step interventions through the cached step graph, each step re-runs the whole
 * sequence so far (rows of one call share the prompt length; active rows then share every later
 * length too) with the add intervention rebuilt for the current length: exact by construction, at
 * O(steps × T) positions instead of O(T + steps), acceptable for maze paths (~10–30 steps of
 * ~100–300 positions).
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
        const res = await engine.runWithInterventions(tokens, A, T, ivs, { names: [], lastOnly: true });
        const logits = res.logits; // [A, 1, V]
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
