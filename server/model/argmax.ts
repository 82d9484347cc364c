/** Greedy decoding's choice over one row of logits; no engine dependency (registries import it). */

/** Index of the largest value (the first on ties), among `allowed` when given. */
export function argmax(row: ArrayLike<number>, allowed?: ArrayLike<number | boolean>): number {
  let best = -1;
  let bestV = -Infinity;
  for (let t = 0; t < row.length; t++) {
    if (allowed && !allowed[t]) continue;
    if (best < 0 || row[t] > bestV) {
      best = t;
      bestV = row[t];
    }
  }
  return best;
}
