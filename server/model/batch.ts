/** Row-major token batches for the engines. */

/** Row-major [B, T] batch of sequences right-padded with `pad` (causal attention: pads never change earlier positions). */
export function padBatch(seqs: readonly Int32Array[], pad: number): { tokens: Int32Array; B: number; T: number } {
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.length));
  const tokens = new Int32Array(B * T).fill(pad); // [B, T]
  seqs.forEach((s, b) => tokens.set(s, b * T));
  return { tokens, B, T };
}
