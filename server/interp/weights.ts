/**
 * `weights`: the research plan's "geometric structure of the embedding space" — weights alone, no
 * mazes. Following the plan (and Conjecture's "SVD of transformer weights is highly interpretable",
 * Millidge & Black 2022), each head's OV circuit W_V·W_O and QK circuit W_Q·W_Kᵀ [d_model, d_model]
 * is decomposed by SVD (linalg.ts, through the d_head-sized factors) and its top singular directions
 * are compared with the coordinate tokens: cosine with each cell's embedding (OV reads, QK query and
 * key sides) and with each cell's unembedding column (OV writes). The cell × cell circuits
 * E·W_V·W_O·W_U (OV) and E·W_Q·(E·W_K)ᵀ/√d_head (QK) are stored too, with the Pearson correlation of
 * each QK circuit with lattice adjacency. LayerNorm and biases are ignored, as in TL's
 * `model.OV`/`model.QK` on unfolded weights; embeddings are the raw W_E rows.
 *
 * The embedding itself: PCA of the coordinate embeddings (coloured by row and column) and the
 * correlation between embedding distance and lattice (L1) distance over all cell pairs — the seed's
 * group reported 0.368 for their 9.6M-parameter model.
 */
import { column, cosine, matmul, pearson, productSvd, svd } from './linalg.js';
import { num, tensor } from './collect.js';
import { encoder, InterpError, requireUnified } from './context.js';
import { allLayers, defineParams, layerMax, type SchemaParams } from './params.js';
import { defineKind, type NamedTensor } from './types.js';

export const EMBEDDING_DISTANCE_ANCHOR = 0.368;

export const paramsSchema = defineParams({
  grid: {
    type: 'int',
    doc: 'cells (grid × grid) whose tokens are analysed',
    min: 2,
    max: 64,
    default: (m) => m.grid,
    defaultDoc: 'largest grid the vocabulary covers',
  },
  layers: { type: 'int[]', doc: 'layers whose heads are decomposed', min: 0, max: layerMax, default: allLayers, defaultDoc: 'every layer' },
  topK: { type: 'int', doc: 'singular directions kept per circuit', min: 1, max: 64, default: 4 },
});

/** The params as run: declared once, by the fields above. */
export type WeightsParams = SchemaParams<typeof paramsSchema>;

/** One head's OV and QK spectra and its QK circuit's correlation with lattice adjacency. */
export interface WeightsHead {
  layer: number;
  head: number;
  /** Top-k singular values. */
  ov_singular_values: Array<number | null>;
  qk_singular_values: Array<number | null>;
  qk_lattice_adjacency_corr: number | null;
}

/** The coordinate embeddings against the lattice. */
export interface WeightsEmbedding {
  distance_vs_lattice_pearson: number | null;
  cosine_distance_vs_lattice_pearson: number | null;
  /** The figure reported for the seed group's 9.6M-parameter model. */
  anchor: number;
  /** Per principal component (up to 3). */
  pca_explained_variance: Array<number | null>;
  pc_row_corr: Array<number | null>;
  pc_col_corr: Array<number | null>;
}

/** `weights`' summary (stored as JSON; served as Experiment.result, WeightsSummary). */
export interface WeightsSummary {
  kind: 'weights';
  /** Cells per side. */
  grid: number;
  layers: number[];
  embedding: WeightsEmbedding;
  heads: WeightsHead[];
}

/** Rows [cells, D] of `table` [V, D] for the given token ids. */
const rowsOf = (table: Float32Array, ids: number[], D: number): Float64Array => {
  const out = new Float64Array(ids.length * D);
  ids.forEach((id, i) => {
    for (let d = 0; d < D; d++) out[i * D + d] = table[id * D + d];
  });
  return out;
};

export const weights = defineKind<WeightsParams, WeightsSummary>({
  kind: 'weights',
  describe:
    'OV and QK circuits of each head (SVD) projected on the coordinate embeddings and unembeddings; embedding PCA coloured by row/column; correlation of embedding distance with lattice distance (anchor 0.368).',
  paramsSchema,
  async run(ctx, p, progress) {
    requireUnified(ctx.model, 'weights');
    const { cfg, weights: W } = ctx.model;
    const { d_model: D, n_heads: H, d_head: E, d_vocab: V } = cfg;
    const N = p.grid,
      n = N * N;
    const enc = encoder(ctx.model);
    const ids: number[] = [];
    for (let r = 0; r < N; r++)
      for (let c = 0; c < N; c++) {
        const id = enc.cellId(r, c);
        if (id < 0) throw new InterpError(`params.grid: the vocabulary has no token for cell (${r},${c}); it covers a smaller grid`);
        ids.push(id);
      }
    const Ec = rowsOf(W.get('embed.W_E')!, ids, D); // [n, D] coordinate embeddings
    const WU = W.get('unembed.W_U')!; // [D, V]
    const Uc = new Float64Array(D * n); // [D, n] unembedding columns of the cells
    for (let d = 0; d < D; d++) ids.forEach((id, i) => (Uc[d * n + i] = WU[d * V + id]));
    const rowIdx = Array.from({ length: n }, (_, i) => Math.floor(i / N)),
      colIdx = Array.from({ length: n }, (_, i) => i % N);

    // ---- embedding PCA and distances ----
    const centered = Ec.slice();
    for (let d = 0; d < D; d++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += Ec[i * D + d] / n;
      for (let i = 0; i < n; i++) centered[i * D + d] -= m;
    }
    const pca = svd(centered, n, D);
    const nPc = Math.min(3, pca.k);
    const pcs = new Float64Array(n * nPc); // [cell, pc] coordinates
    for (let i = 0; i < n; i++) for (let j = 0; j < nPc; j++) pcs[i * nPc + j] = pca.U[i * pca.k + j] * pca.S[j];
    const totalVar = pca.S.reduce((a, s) => a + s * s, 0);
    const euclid: number[] = [],
      cosDist: number[] = [],
      l1: number[] = [];
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += (Ec[i * D + d] - Ec[j * D + d]) ** 2;
        euclid.push(Math.sqrt(s));
        cosDist.push(1 - cosine(Ec.subarray(i * D, i * D + D), Ec.subarray(j * D, j * D + D)));
        l1.push(Math.abs(rowIdx[i] - rowIdx[j]) + Math.abs(colIdx[i] - colIdx[j]));
      }
    const adjacency = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) adjacency[i * n + j] = Math.abs(rowIdx[i] - rowIdx[j]) + Math.abs(colIdx[i] - colIdx[j]) === 1 ? 1 : 0;

    // ---- per-head circuits ----
    const layers = [...new Set(p.layers)].sort((a, b) => a - b);
    const Lq = layers.length,
      K = Math.min(p.topK, E, D);
    const ovIn = new Float32Array(Lq * H * K * n),
      ovOut = new Float32Array(Lq * H * K * n),
      qkQ = new Float32Array(Lq * H * K * n),
      qkK = new Float32Array(Lq * H * K * n);
    const ovS = new Float32Array(Lq * H * K),
      qkS = new Float32Array(Lq * H * K);
    const ovCells = new Float32Array(Lq * H * n * n),
      qkCells = new Float32Array(Lq * H * n * n);
    const heads: WeightsHead[] = [];
    const slice = (w: Float32Array, h: number, a: number, b: number) => Float64Array.from(w.subarray(h * a * b, (h + 1) * a * b));
    const transpose = (x: Float64Array, a: number, b: number) => {
      const o = new Float64Array(a * b);
      for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) o[j * a + i] = x[i * b + j];
      return o;
    };
    const project = (dirs: Float64Array, k: number, targets: (i: number) => ArrayLike<number>, out: Float32Array, at: number) => {
      for (let r = 0; r < K; r++) {
        const v = column(dirs, D, k, r);
        for (let i = 0; i < n; i++) out[at + r * n + i] = cosine(v, targets(i));
      }
    };
    const embRow = (i: number) => Ec.subarray(i * D, i * D + D);
    const unembCol = (i: number) => Float64Array.from({ length: D }, (_, d) => Uc[d * n + i]);
    layers.forEach((l, li) => {
      const WQ = W.get(`blocks.${l}.attn.W_Q`)!,
        WK = W.get(`blocks.${l}.attn.W_K`)!,
        WV = W.get(`blocks.${l}.attn.W_V`)!,
        WO = W.get(`blocks.${l}.attn.W_O`)!;
      for (let h = 0; h < H; h++) {
        const at = (li * H + h) * K;
        const wv = slice(WV, h, D, E),
          wo = slice(WO, h, E, D),
          wq = slice(WQ, h, D, E),
          wk = slice(WK, h, D, E);
        const ov = productSvd(wv, wo, D, E, D); // OV = W_V·W_O: reads U, writes V
        const qk = productSvd(wq, transpose(wk, D, E), D, E, D); // QK = W_Q·W_Kᵀ: query side U, key side V
        for (let r = 0; r < K; r++) {
          ovS[at + r] = ov.S[r] ?? 0;
          qkS[at + r] = qk.S[r] ?? 0;
        }
        project(ov.U, ov.k, embRow, ovIn, at * n);
        project(ov.V, ov.k, unembCol, ovOut, at * n);
        project(qk.U, qk.k, embRow, qkQ, at * n);
        project(qk.V, qk.k, embRow, qkK, at * n);
        const ovc = matmul(matmul(Ec, wv, n, D, E), matmul(wo, Uc, E, D, n), n, E, n); // [n, n] E·W_V·W_O·W_U
        const qkc = matmul(matmul(Ec, wq, n, D, E), transpose(matmul(Ec, wk, n, D, E), n, E), n, E, n).map((x) => x / Math.sqrt(E)); // [n, n]
        ovCells.set(ovc, (li * H + h) * n * n);
        qkCells.set(qkc, (li * H + h) * n * n);
        const off = (m: Float64Array) => m.filter((_, i) => Math.floor(i / n) !== i % n);
        heads.push({
          layer: l,
          head: h,
          ov_singular_values: Array.from(ov.S.subarray(0, K), num),
          qk_singular_values: Array.from(qk.S.subarray(0, K), num),
          qk_lattice_adjacency_corr: num(pearson(off(qkc), off(adjacency))),
        });
      }
      progress((li + 1) / Lq, `decomposed layer ${l}`);
    });

    const tensors: NamedTensor[] = [
      tensor('embedding_pca', [n, nPc], pcs), // [cell (row-major), pc] coordinates of each cell's embedding
      tensor('cell_row', [n], rowIdx), // [cell] row, for colouring
      tensor('cell_col', [n], colIdx), // [cell] column
      tensor('ov_singular_values', [Lq, H, K], ovS), // [layer, head, k]
      tensor('qk_singular_values', [Lq, H, K], qkS), // [layer, head, k]
      tensor('ov_read', [Lq, H, K, N, N], ovIn), // cos(OV input direction k, cell embedding)
      tensor('ov_write', [Lq, H, K, N, N], ovOut), // cos(OV output direction k, cell unembedding)
      tensor('qk_query', [Lq, H, K, N, N], qkQ), // cos(QK query direction k, cell embedding)
      tensor('qk_key', [Lq, H, K, N, N], qkK), // cos(QK key direction k, cell embedding)
      tensor('ov_cells', [Lq, H, n, n], ovCells), // [layer, head, source cell, logit cell]
      tensor('qk_cells', [Lq, H, n, n], qkCells), // [layer, head, query cell, key cell]
    ];
    return {
      summary: {
        kind: 'weights',
        grid: N,
        layers,
        embedding: {
          distance_vs_lattice_pearson: num(pearson(euclid, l1)),
          cosine_distance_vs_lattice_pearson: num(pearson(cosDist, l1)),
          anchor: EMBEDDING_DISTANCE_ANCHOR,
          pca_explained_variance: Array.from(pca.S.subarray(0, nPc), (s) => num((s * s) / totalVar)),
          pc_row_corr: Array.from({ length: nPc }, (_, j) => num(pearson(column(pcs, n, nPc, j), rowIdx))),
          pc_col_corr: Array.from({ length: nPc }, (_, j) => num(pearson(column(pcs, n, nPc, j), colIdx))),
        },
        heads,
      } satisfies WeightsSummary,
      tensors,
    };
  },
});
