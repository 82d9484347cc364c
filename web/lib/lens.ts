/**
 * Logit lens (nostalgebraist 2020; TransformerLens' `accumulated_resid` + `apply_ln_to_stack`):
 * a layer's residual stream at one position through ln_final and the unembedding, computed in the
 * browser from the cached resid and the checkpoint's ln_final / unembed tensors.
 */
export interface LensWeights {
  /** ln_final.w [d_model] (LN and RMS models), ln_final.b [d_model] (LN only); null where the model has none. */
  lnW: ArrayLike<number> | null;
  lnB: ArrayLike<number> | null;
  /** TL normalization_type of the model: how ln_final normalizes (null: not at all). */
  norm: 'LN' | 'LNPre' | 'RMS' | 'RMSPre' | null;
  /** unembed.W_U: [d_model, d_vocab]; unembed.b_U: [d_vocab] */
  WU: ArrayLike<number>;
  bU: ArrayLike<number>;
  dModel: number;
  dVocab: number;
  eps: number;
}

export interface LensRow {
  token: string;
  prob: number;
}

/** Top-k next tokens read from `resid[pos]` (resid: [1, T, d_model] row-major). */
export function lensTopK(resid: ArrayLike<number>, pos: number, w: LensWeights, vocab: readonly string[], k = 3): LensRow[] {
  const { dModel: D, dVocab: V } = w;
  const x = new Float64Array(D);
  let mean = 0;
  for (let i = 0; i < D; i++) mean += x[i] = resid[pos * D + i];
  mean /= D;
  if (w.norm !== null) {
    // TL LayerNorm: centre, divide by the RMS, affine; RMSNorm: no centring; the Pre variants: no affine.
    const centre = w.norm === 'LN' || w.norm === 'LNPre';
    let varSum = 0;
    for (let i = 0; i < D; i++) varSum += (centre ? (x[i] -= mean) : x[i]) ** 2;
    const scale = Math.sqrt(varSum / D + w.eps);
    for (let i = 0; i < D; i++) x[i] = (x[i] / scale) * (w.lnW ? w.lnW[i] : 1) + (w.lnB ? w.lnB[i] : 0);
  }
  const logits = new Float64Array(V);
  for (let v = 0; v < V; v++) logits[v] = w.bU[v];
  for (let i = 0; i < D; i++) {
    const xi = x[i];
    for (let v = 0; v < V; v++) logits[v] += xi * w.WU[i * V + v];
  }
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[v]);
  let z = 0;
  for (let v = 0; v < V; v++) z += Math.exp(logits[v] - max);
  return Array.from(logits.keys())
    .sort((a, b) => logits[b] - logits[a])
    .slice(0, k)
    .map((v) => ({ token: vocab[v] ?? `#${v}`, prob: Math.exp(logits[v] - max) / z }));
}
