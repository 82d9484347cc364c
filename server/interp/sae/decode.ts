/**
 * Greedy decoding with SAE features edited at every step (issue 19: "set, scale or zero chosen
 * features at chosen positions during decoding, the error term kept"). Each step runs the sequence
 * so far twice: once to read the SAE's hook at the edited positions (under any other
 * interventions), then with x' = x + Σ (z'_f − z_f)·W_dec[f] added there (intervene.ts) to take the
 * next token — so an edit at "every position" also acts on each generated token as it appears.
 */
import type { Intervention, OnnxEngine } from '../../model/engine.js';
import { hookGeometry } from '../../model/hooks.js';
import { deltaIntervention, type FeatureEdit, featureDeltas } from './intervene.js';
import type { SaeShape, SaeWeights } from './sae.js';

export interface SaeForEdits {
  hook: string;
  shape: SaeShape;
  weights: SaeWeights;
}

/** A feature edit at absolute token positions (default: every position, generated ones included). */
export interface PositionedEdit extends FeatureEdit {
  positions?: readonly number[] | null;
}

export async function decodeWithFeatureEdits(
  engine: OnnxEngine,
  prompt: Int32Array,
  interventions: readonly Intervention[],
  sae: SaeForEdits,
  edits: readonly PositionedEdit[],
  opts: { stopToken: number; maxNewTokens: number },
): Promise<Int32Array> {
  const V = engine.cfg.d_vocab;
  const d_in = sae.shape.d_in;
  // A graph that unembeds only the last position has no ln_final hooks to intervene on.
  const lastOnly = !interventions.some((iv) => hookGeometry(engine.cfg, iv.hook).layer === engine.cfg.n_layers);
  const seq = Array.from(prompt);
  for (let n = 0; n < opts.maxNewTokens && seq.length < engine.cfg.n_ctx; n++) {
    const T = seq.length;
    const tokens = Int32Array.from(seq);
    // Which edits act at each position that exists so far.
    const at = new Map<number, FeatureEdit[]>();
    for (const e of edits) for (const p of e.positions ?? Array.from({ length: T }, (_, i) => i)) if (p < T) (at.get(p) ?? at.set(p, []).get(p)!).push(e);
    const base = interventions.flatMap((iv) => {
      if (!iv.positions) return [iv];
      const positions = iv.positions.filter((p) => p < T);
      return positions.length ? [{ ...iv, positions }] : [];
    });
    const ivs = [...base];
    if (at.size > 0) {
      const positions = [...at.keys()].sort((a, b) => a - b);
      const read = await engine.runWithInterventions(tokens, 1, T, base, { names: [sae.hook], positions });
      const x = read.cache.get(sae.hook)!.data; // [1, P, d_in]
      const delta = new Float32Array(positions.length * d_in); // [P, d_in]
      positions.forEach((p, j) => delta.set(featureDeltas(sae.shape, sae.weights, x.subarray(j * d_in, (j + 1) * d_in), 1, at.get(p)!), j * d_in));
      ivs.push(deltaIntervention(sae.hook, positions, delta, d_in, T));
    }
    const out = await engine.runWithInterventions(tokens, 1, T, ivs, { names: [], lastOnly }); // [1, 1 or T, d_vocab]
    const logits = lastOnly ? out.logits : out.logits.subarray((T - 1) * V);
    let best = 0;
    for (let t = 1; t < V; t++) if (logits[t] > logits[best]) best = t;
    seq.push(best);
    if (best === opts.stopToken) break;
  }
  return Int32Array.from(seq);
}
