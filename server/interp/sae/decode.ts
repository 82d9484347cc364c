/**
 * Greedy decoding with SAE features edited at every step (issue 19: "set, scale or zero chosen
 * features at chosen positions during decoding, the error term kept"). Each step runs the sequence
 * so far twice: once to read the SAE's hook at the edited positions (under any other
 * interventions), then with x' = x + Σ (z'_f − z_f)·W_dec[f] added there (intervene.ts) to take the
 * next token — so an edit at "every position" also acts on each generated token as it appears.
 */
import { decodeRecomputing, type Intervention, type OnnxEngine } from '../../model/engine.js';
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
  opts: { stopToken: number; maxNewTokens: number; allowedTokens?: ArrayLike<number | boolean> },
): Promise<Int32Array> {
  const d_in = sae.shape.d_in;
  return decodeRecomputing(engine, prompt, interventions, {
    ...opts,
    perStep: async (tokens, T, base) => {
      // Which edits act at each position that exists so far.
      const at = new Map<number, FeatureEdit[]>();
      for (const e of edits) for (const p of e.positions ?? Array.from({ length: T }, (_, i) => i)) if (p < T) (at.get(p) ?? at.set(p, []).get(p)!).push(e);
      if (at.size === 0) return [];
      const positions = [...at.keys()].sort((a, b) => a - b);
      const read = await engine.runWithInterventions(tokens, 1, T, base, { names: [sae.hook], positions });
      const x = read.cache.get(sae.hook)!.data; // [1, P, d_in]
      const delta = new Float32Array(positions.length * d_in); // [P, d_in]
      positions.forEach((p, j) => delta.set(featureDeltas(sae.shape, sae.weights, x.subarray(j * d_in, (j + 1) * d_in), 1, at.get(p)!), j * d_in));
      return [deltaIntervention(sae.hook, positions, delta, d_in, T)];
    },
  });
}
