/**
 * What an SAE's latents encode, scored automatically: for a categorical property of each row (e.g.
 * which maze connection the `;` closes), how well each latent's activation separates one category's
 * rows from the rest, as ROC AUC (the probability that a random row of the category activates the
 * latent more than a random other row; ties count half). Spies et al. 2024 read connection features
 * off this way (decision trees on SAE activations at `;` tokens); AUC needs no threshold and is
 * comparable across latents of different scales.
 *
 * Ranks are computed once per latent (ties averaged, so the many exact zeros of a sparse latent
 * share one rank), and each category's AUC is the Mann–Whitney U of its rows' rank sum:
 *   AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊ · n₋).
 */

/** Average ranks (1-based) of values [n], ties sharing the mean of their positions. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * ROC AUC of `scores` [n] for the rows where `positive` [n] is 1 against the rest (ties count half);
 * NaN when either side is empty. A linear probe's on its test rows, a direction's over a page's mazes.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<number>): number {
  const ranks = averageRanks(scores);
  let sum = 0;
  let nPos = 0;
  for (let i = 0; i < ranks.length; i++)
    if (positive[i] === 1) {
      sum += ranks[i];
      nPos++;
    }
  const nNeg = ranks.length - nPos;
  return nPos && nNeg ? (sum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg) : NaN;
}

/**
 * AUC [C, d_sae] of every latent for every category: z [n, d_sae] activations, labels [n] the
 * category of each row in [0, C) or −1 (the row belongs to no category and is left out).
 * NaN where a category has no rows, or every kept row is in it.
 */
export function categoryAucs(z: Float32Array, n: number, d_sae: number, labels: Int32Array, C: number): Float32Array {
  const kept: number[] = [];
  const pos = new Float64Array(C);
  for (let r = 0; r < n; r++) {
    if (labels[r] >= 0 && labels[r] < C) {
      kept.push(r);
      pos[labels[r]]++;
    }
  }
  const m = kept.length;
  const out = new Float32Array(C * d_sae).fill(NaN);
  const col = new Float64Array(m);
  for (let f = 0; f < d_sae; f++) {
    for (let i = 0; i < m; i++) col[i] = z[kept[i] * d_sae + f];
    const ranks = averageRanks(col);
    const sums = new Float64Array(C);
    for (let i = 0; i < m; i++) sums[labels[kept[i]]] += ranks[i];
    for (let c = 0; c < C; c++) {
      const np = pos[c];
      const nn = m - np;
      if (np > 0 && nn > 0) out[c * d_sae + f] = (sums[c] - (np * (np + 1)) / 2) / (np * nn);
    }
  }
  return out;
}

/** The best latent of each category by AUC: [C] latent index (−1 when none scores) and its AUC. */
export function bestPerCategory(aucs: Float32Array, C: number, d_sae: number): Array<{ latent: number; auc: number }> {
  const out: Array<{ latent: number; auc: number }> = [];
  for (let c = 0; c < C; c++) {
    let best = -1;
    let auc = -Infinity;
    for (let f = 0; f < d_sae; f++) {
      const a = aucs[c * d_sae + f];
      if (a > auc) {
        auc = a;
        best = f;
      }
    }
    out.push(best >= 0 ? { latent: best, auc } : { latent: -1, auc: NaN });
  }
  return out;
}

/**
 * AUC [C, d_sae] for a property a row can have several categories of at once (e.g. the cells still
 * ahead on the path): `rows` the rows the property applies to, `positives[c]` the rows among them
 * that have category c; each category's rows against the property's other rows. NaN where a
 * category has no rows, or every row has it.
 */
export function multiLabelAucs(z: Float32Array, d_sae: number, rows: Int32Array, positives: readonly Int32Array[]): Float32Array {
  const m = rows.length;
  const C = positives.length;
  const index = new Map<number, number>();
  rows.forEach((r, i) => index.set(r, i));
  const pos = positives.map((p) => Int32Array.from(p, (r) => index.get(r) ?? -1).filter((i) => i >= 0));
  const out = new Float32Array(C * d_sae).fill(NaN);
  const col = new Float64Array(m);
  for (let f = 0; f < d_sae; f++) {
    for (let i = 0; i < m; i++) col[i] = z[rows[i] * d_sae + f];
    const ranks = averageRanks(col);
    for (let c = 0; c < C; c++) {
      const np = pos[c].length;
      const nn = m - np;
      if (np === 0 || nn === 0) continue;
      let sum = 0;
      for (const i of pos[c]) sum += ranks[i];
      out[c * d_sae + f] = (sum - (np * (np + 1)) / 2) / (np * nn);
    }
  }
  return out;
}
