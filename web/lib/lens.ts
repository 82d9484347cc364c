/**
 * Logit lens (nostalgebraist 2020; TransformerLens' `accumulated_resid` + `apply_ln_to_stack`):
 * a layer's residual stream at one position through ln_final and the unembedding, computed in the
 * browser from the cached resid and the checkpoint's ln_final / unembed tensors.
 */
export interface LensWeights {
  /** ln_final.w, ln_final.b: [d_model] */
  lnW: ArrayLike<number>;
  lnB: ArrayLike<number>;
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
  let varSum = 0;
  for (let i = 0; i < D; i++) varSum += (x[i] -= mean) ** 2;
  const scale = Math.sqrt(varSum / D + w.eps); // TL LayerNorm: centre, divide by the RMS, affine
  for (let i = 0; i < D; i++) x[i] = (x[i] / scale) * w.lnW[i] + w.lnB[i];
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
