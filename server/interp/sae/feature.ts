/**
 * One latent of a trained SAE as its feature page shows it (Neuronpedia's dashboard, maze-native),
 * computed from what the `sae` kind stored (kind.ts): its density and activation histogram over the
 * held-out rows, its top-activating rows, the latent's activation at every held-out row of a maze
 * (drawn on the maze's cells), its logit weights, its nearest decoder directions, and the maze
 * properties it separates best (ROC AUC, scoring.ts).
 */
import type { SequencePositions } from '../positions.js';

/** The stored tensors a feature view reads (names as kind.ts stores them). */
export interface SaeStore {
  d_sae: number;
  d_in: number;
  /** [d_sae, d_in] */
  W_dec: Float32Array;
  /** [d_sae] */
  density: Float32Array;
  /** [d_sae] mean activation where it fires */
  meanActivation: Float32Array;
  /** [n] */
  rowMaze: Float32Array;
  rowPosition: Float32Array;
  /** [n, c] latent ids (−1 pad) and values of each row's sparse code */
  codeLatent: Float32Array;
  codeValue: Float32Array;
  codesPerRow: number;
  /** Whether a row's code holds every active latent (TopK: its k), so an absent latent is 0. */
  codesComplete: boolean;
  /** [mazes, T] token ids, −1 padded */
  tokens: Float32Array;
  T: number;
  /** logit_weights.* [d_sae, K], absent when the hook does not write the residual stream */
  logits?: { topId: Float32Array; top: Float32Array; bottomId: Float32Array; bottom: Float32Array; K: number };
  /** auc.<property> [categories, d_sae] with the category names */
  aucs: Array<{ property: string; names: readonly string[]; auc: Float32Array }>;
  /** Each latent over every held-out row (kind.ts latentTensors); absent in runs before they were stored. */
  exact?: { max: Float32Array; histogram: Float32Array; bins: number; topRow: Float32Array; topValue: Float32Array; top: number };
}

export interface FeatureExample {
  maze: number;
  position: number;
  activation: number;
}

export interface FeatureView {
  latent: number;
  density: number;
  meanActivation: number;
  maxActivation: number;
  /** Rows it fires on, in 20 equal bins over (0, max]. */
  histogram: Array<{ from: number; to: number; count: number }>;
  examples: FeatureExample[];
  logitsUp: Array<{ token: number; weight: number }>;
  logitsDown: Array<{ token: number; weight: number }>;
  /** Latents whose decoder rows have the largest cosine with this one's. */
  neighbours: Array<{ latent: number; cosine: number }>;
  /** Per property, the categories this latent separates best. */
  encodes: Array<{ property: string; category: string; auc: number }>;
}

/** Every (row, value) where `latent` fires. */
function firing(s: SaeStore, latent: number): Array<{ row: number; value: number }> {
  const out: Array<{ row: number; value: number }> = [];
  const n = s.rowMaze.length;
  for (let r = 0; r < n; r++)
    for (let j = 0; j < s.codesPerRow; j++) {
      const l = s.codeLatent[r * s.codesPerRow + j];
      if (l < 0) break;
      if (l === latent) out.push({ row: r, value: s.codeValue[r * s.codesPerRow + j] });
    }
  return out;
}

export function featureView(s: SaeStore, latent: number, opts: { examples?: number; neighbours?: number; categories?: number } = {}): FeatureView {
  let max: number;
  let histogram: FeatureView['histogram'];
  let top: Array<{ row: number; value: number }>;
  if (s.exact) {
    // Exact: computed from every latent of every held-out row.
    const { bins } = s.exact;
    max = s.exact.max[latent];
    histogram = Array.from({ length: bins }, (_, b) => ({ from: (max * b) / bins, to: (max * (b + 1)) / bins, count: s.exact!.histogram[latent * bins + b] }));
    top = [];
    for (let j = 0; j < s.exact.top; j++) {
      const row = s.exact.topRow[latent * s.exact.top + j];
      if (row < 0) break;
      top.push({ row, value: s.exact.topValue[latent * s.exact.top + j] });
    }
  } else {
    // Older runs: from the per-row codes (complete for TopK; a ReLU row's largest latents only).
    const fire = firing(s, latent);
    max = fire.reduce((a, f) => Math.max(a, f.value), 0);
    const bins = 20;
    histogram = Array.from({ length: bins }, (_, b) => ({ from: (max * b) / bins, to: (max * (b + 1)) / bins, count: 0 }));
    for (const f of fire) histogram[Math.min(bins - 1, Math.floor((f.value / max) * bins))].count++;
    top = [...fire].sort((a, b) => b.value - a.value || a.row - b.row);
  }
  // Top rows (distinct positions already).
  const examples = top.slice(0, opts.examples ?? 8).map((f) => ({ maze: s.rowMaze[f.row], position: s.rowPosition[f.row], activation: f.value }));
  const logitsUp: FeatureView['logitsUp'] = [];
  const logitsDown: FeatureView['logitsDown'] = [];
  if (s.logits) {
    const { K } = s.logits;
    for (let j = 0; j < K; j++) {
      logitsUp.push({ token: s.logits.topId[latent * K + j], weight: s.logits.top[latent * K + j] });
      logitsDown.push({ token: s.logits.bottomId[latent * K + j], weight: s.logits.bottom[latent * K + j] });
    }
  }
  const { d_in, d_sae, W_dec } = s;
  const norm = (i: number): number => {
    let v = 0;
    for (let d = 0; d < d_in; d++) v += W_dec[i * d_in + d] ** 2;
    return Math.sqrt(v);
  };
  const me = norm(latent);
  const cos: Array<{ latent: number; cosine: number }> = [];
  for (let i = 0; i < d_sae; i++) {
    if (i === latent) continue;
    let dot = 0;
    for (let d = 0; d < d_in; d++) dot += W_dec[latent * d_in + d] * W_dec[i * d_in + d];
    const den = me * norm(i);
    if (den > 0) cos.push({ latent: i, cosine: dot / den });
  }
  cos.sort((a, b) => b.cosine - a.cosine || a.latent - b.latent);
  const encodes: FeatureView['encodes'] = [];
  for (const a of s.aucs) {
    const cats = a.names
      .map((category, c) => ({ property: a.property, category, auc: a.auc[c * d_sae + latent] }))
      .filter((x) => Number.isFinite(x.auc))
      .sort((x, y) => y.auc - x.auc)
      .slice(0, opts.categories ?? 3);
    encodes.push(...cats);
  }
  return {
    latent,
    density: s.density[latent],
    meanActivation: s.meanActivation[latent],
    maxActivation: max,
    histogram,
    examples,
    logitsUp,
    logitsDown,
    neighbours: cos.slice(0, opts.neighbours ?? 6),
    encodes,
  };
}

/** The token ids of held-out maze `maze` (padding dropped). */
export function mazeTokens(s: SaeStore, maze: number): Int32Array {
  const row = s.tokens.subarray(maze * s.T, (maze + 1) * s.T);
  let len = row.indexOf(-1);
  if (len < 0) len = s.T;
  return Int32Array.from(row.subarray(0, len));
}

/**
 * The latent's activation at each position of held-out maze `maze` [T of the maze]; NaN where no row
 * was taken, or where a row's stored code is full without this latent (a ReLU row keeps its largest
 * latents only, so a smaller activation there is unknown rather than 0).
 */
export function activationsInMaze(s: SaeStore, latent: number, maze: number, length: number): Float64Array {
  const out = new Float64Array(length).fill(NaN);
  for (let r = 0; r < s.rowMaze.length; r++) {
    if (s.rowMaze[r] !== maze) continue;
    let v = 0;
    let full = true;
    for (let j = 0; j < s.codesPerRow; j++) {
      const l = s.codeLatent[r * s.codesPerRow + j];
      if (l < 0) {
        full = false;
        break;
      }
      if (l === latent) v = s.codeValue[r * s.codesPerRow + j];
    }
    out[s.rowPosition[r]] = v === 0 && full && !s.codesComplete ? NaN : v;
  }
  return out;
}

/**
 * Activations by position drawn on the maze's cells [rows·cols]: a coordinate token's on its cell,
 * a `;`'s on both cells of its adjacency-list entry; the largest where several land on one cell.
 */
export function cellHeat(sp: SequencePositions, acts: ArrayLike<number>): Float64Array {
  const heat = new Float64Array(sp.rows * sp.cols);
  const put = (c: number, v: number): void => {
    if (c >= 0 && v > heat[c]) heat[c] = v;
  };
  const entryOfSep = new Map(sp.edges.map((e) => [e.sep, e]));
  for (let t = 0; t < acts.length; t++) {
    const v = acts[t];
    if (!(v > 0)) continue;
    put(sp.cell[t], v);
    const e = entryOfSep.get(t);
    if (e) {
      put(e.a, v);
      put(e.b, v);
    }
  }
  return heat;
}
