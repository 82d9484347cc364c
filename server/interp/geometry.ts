/**
 * `geometry` (issue 19; the research plan: "t-SNE to check for clustering of tokens at different
 * layers … if tokens representing coordinates along the predicted path are clustered together"):
 * the residual stream at chosen token classes, layer by layer, drawn in two dimensions (PCA; UMAP
 * through umap-js, the PAIR team's implementation of McInnes et al. 2018; t-SNE, van der Maaten &
 * Hinton 2008, through DruidJS, a maintained dimensionality-reduction library — the JS t-SNE
 * packages are unmaintained ports) and scored for how well it clusters by each maze property the
 * platform knows.
 *
 * Points: every position of the chosen classes (coordinate tokens: `path`, `adj_cell`, `origin`,
 * `target`) in `count` mazes; above `maxPoints` a random subset (the summary reports both counts).
 * Properties of a point's cell: row, col, on the solution, a fork (≥ 3 open neighbours), the
 * target, and the maze distance to the target.
 *
 * Clustering, in the full d_model space (the 2-D maps are for looking, not for scoring): for each
 * point its k nearest neighbours (Euclidean); for a categorical property the share of neighbours with
 * the point's value ("kNN purity") beside chance (Σ_v p_v², the share two random points agree); for
 * the distance, 1 − mean |Δ| to neighbours / mean |Δ| to every point (0 = no better than random,
 * 1 = neighbours always equally far from the target).
 */
import { UMAP } from 'umap-js';
import { TSNE } from '@saehrimnir/druidjs';
import { degreeIdx } from '../maze/lattice.js';
import { bfsDistances } from '../maze/solve.js';
import { Rng } from '../maze/rng.js';
import { forEachCached, num, residLabel, residName, tensor } from './collect.js';
import { encoder, InterpError, loadMazes, mazeFields, requireUnified } from './context.js';
import { svd } from './linalg.js';
import { defineParams, residLayersField, type SchemaParams } from './params.js';
import { mapPositions, type TokenClass } from './positions.js';
import { defineKind, type NamedTensor } from './types.js';

const COORD_CLASSES = ['path', 'adj_cell', 'origin', 'target'] as const satisfies readonly TokenClass[];
export const PROPERTIES = ['row', 'col', 'on_solution', 'fork', 'is_target', 'dist_to_target'] as const;
export type Property = (typeof PROPERTIES)[number];
const CATEGORICAL: readonly Property[] = ['row', 'col', 'on_solution', 'fork', 'is_target'];

export const paramsSchema = defineParams({
  ...mazeFields(40, 5000),
  classes: { type: 'string[]', doc: 'token classes whose positions are points', choices: COORD_CLASSES, enum: 'TokenClass', default: ['path'] },
  layers: residLayersField('residual streams'),

  methods: {
    type: 'string[]',
    doc: '2-D maps drawn (UMAP and t-SNE cost seconds per layer)',
    choices: ['pca', 'umap', 'tsne'],
    enum: 'GeometryMethod',
    default: ['pca', 'umap'],
  },
  perplexity: { type: 'number', doc: 't-SNE perplexity (effective neighbours); points must exceed 3× it', min: 2, max: 100, default: 30 },
  tsneIterations: { type: 'int', doc: 't-SNE gradient steps', min: 50, max: 5000, default: 500 },
  maxPoints: { type: 'int', doc: 'points used at most (a random subset above it; reported)', min: 50, max: 5000, default: 800 },
  k: { type: 'int', doc: 'neighbours for kNN purity and for UMAP', min: 2, max: 50, default: 10 },
});

export type GeometryParams = SchemaParams<typeof paramsSchema>;

/** One property's kNN score at one layer (purity, or the distance's neighbour gain). */
export interface GeometryScore {
  property: Property;
  score: number | null;
}

export interface GeometryLayer {
  /** e.g. "resid_pre 3". */
  layer: string;
  scores: GeometryScore[];
}

export interface GeometryChance {
  property: Property;
  /** Σ p_v² for a categorical property; 0 for the distance (its gain is already relative). */
  chance: number | null;
}

export interface GeometryBest {
  property: Property;
  layer: string;
  score: number | null;
  chance: number | null;
}

/** `geometry`'s summary (stored as JSON; served as Experiment.result, GeometrySummary). */
export interface GeometrySummary {
  kind: 'geometry';
  classes: GeometryParams['classes'];
  layers: string[];
  properties: Property[];
  methods: GeometryParams['methods'];
  k: number;
  mazes: number;
  /** Points at the chosen classes in all mazes, and how many were used (a random subset above maxPoints). */
  points_total: number;
  points_used: number;
  by_layer: GeometryLayer[];
  chance: GeometryChance[];
  /** Each property's best layer. */
  best: GeometryBest[];
  /** [layer][2]: the variance share of the first two principal components (empty without pca). */
  pca_explained: Array<Array<number | null>>;
}

/**
 * Indices of the k nearest other points of each point, by Euclidean distance; X [N, D]. Points of
 * the same `group` (e.g. one maze's cell named at several positions) are not each other's
 * neighbours: they share every property by construction and would inflate purity.
 */
export function nearest(X: Float32Array, N: number, D: number, k: number, group?: ArrayLike<number>): Int32Array {
  const sq = new Float64Array(N);
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) sq[i] += X[i * D + d] ** 2;
  const out = new Int32Array(N * k);
  const dist = new Float64Array(N);
  const idx = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += X[i * D + d] * X[j * D + d];
      dist[j] = j === i || (group && group[j] === group[i]) ? Infinity : sq[i] + sq[j] - 2 * dot;
      idx[j] = j;
    }
    // Partial selection of the k smallest (k ≪ N).
    for (let a = 0; a < k; a++) {
      let best = a;
      for (let b = a + 1; b < N; b++) if (dist[idx[b]] < dist[idx[best]]) best = b;
      [idx[a], idx[best]] = [idx[best], idx[a]];
      out[i * k + a] = idx[a];
    }
  }
  return out;
}

/** kNN purity of a categorical labelling and its chance level (Σ p_v²). */
export function purity(labels: ArrayLike<number>, nbrs: Int32Array, k: number): { purity: number; chance: number } {
  const N = labels.length;
  let agree = 0;
  for (let i = 0; i < N; i++) for (let a = 0; a < k; a++) if (labels[nbrs[i * k + a]] === labels[i]) agree++;
  const counts = new Map<number, number>();
  for (let i = 0; i < N; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  let chance = 0;
  for (const c of counts.values()) chance += (c / N) ** 2;
  return { purity: agree / (N * k), chance };
}

/**
 * 1 − mean |Δ| to the k neighbours / mean |Δ| over all pairs; points whose value is NaN (e.g. a cell
 * the target cannot be reached from) take part in neither mean.
 */
export function neighbourGain(values: ArrayLike<number>, nbrs: Int32Array, k: number): number {
  const N = values.length;
  let near = 0,
    nearN = 0;
  for (let i = 0; i < N; i++) {
    if (Number.isNaN(values[i])) continue;
    for (let a = 0; a < k; a++) {
      const v = values[nbrs[i * k + a]];
      if (Number.isNaN(v)) continue;
      near += Math.abs(v - values[i]);
      nearN++;
    }
  }
  let all = 0,
    allN = 0;
  for (let i = 0; i < N; i++)
    for (let j = 0; j < N; j++) {
      if (i === j || Number.isNaN(values[i]) || Number.isNaN(values[j])) continue;
      all += Math.abs(values[j] - values[i]);
      allN++;
    }
  return all > 0 && nearN > 0 ? 1 - near / nearN / (all / allN) : Number.NaN;
}

/** The first two principal components of X [N, D] (centred): coordinates [N, 2] and explained variance shares [2]. */
export function pca2(X: Float32Array, N: number, D: number): { coords: Float32Array; explained: [number, number] } {
  const mean = new Float64Array(D);
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) mean[d] += X[i * D + d] / N;
  const C = new Float64Array(N * D); // [N, D] centred
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) C[i * D + d] = X[i * D + d] - mean[d];
  const { U, S, k } = svd(C, N, D);
  const total = S.reduce((a, s) => a + s * s, 0) || 1;
  const coords = new Float32Array(N * 2);
  for (let i = 0; i < N; i++) for (let c = 0; c < 2 && c < k; c++) coords[i * 2 + c] = U[i * k + c] * S[c];
  return { coords, explained: [(S[0] ?? 0) ** 2 / total, (S[1] ?? 0) ** 2 / total] };
}

export const geometry = defineKind<GeometryParams, GeometrySummary>({
  kind: 'geometry',
  describe:
    'Residual-stream geometry by layer: the residuals at coordinate tokens (path, adjacency list, origin, target) mapped to 2-D by PCA and UMAP, and scored by kNN purity for each maze property (row, column, on the solution, fork, target, distance to the target).',
  paramsSchema,
  async run(ctx, p, progress) {
    requireUnified(ctx.model, 'geometry');
    const { cfg, vocab } = ctx.model;
    const D = cfg.d_model;
    const mazes = loadMazes(ctx, p);
    const rng = new Rng(`geometry/${ctx.seed}`);
    const enc = encoder(ctx.model);
    const seqs = mazes.map((m, i) => enc.encode(m, rng, `maze ${i}`));
    const classes = new Set<TokenClass>(p.classes);
    // Every candidate point: (maze, position, cell).
    const all: Array<{ maze: number; pos: number; cell: number; klass: TokenClass }> = [];
    seqs.forEach((s, i) => {
      const sp = mapPositions(s, vocab, mazes[i]);
      sp.classes.forEach((c, t) => {
        if (classes.has(c) && sp.cell[t] >= 0) all.push({ maze: i, pos: t, cell: sp.cell[t], klass: c });
      });
    });
    if (all.length < p.k + 2) throw new InterpError(`only ${all.length} points at ${[...classes].join(', ')} in ${mazes.length} mazes; raise count`);
    const chosen = all.length > p.maxPoints ? rng.shuffle([...all]).slice(0, p.maxPoints) : all;
    chosen.sort((a, b) => a.maze - b.maze || a.pos - b.pos);
    const N = chosen.length;

    // Properties per point.
    const perMaze = mazes.map((m) => {
      const onPath = new Uint8Array(m.rows * m.cols);
      for (const [r, c] of m.path) onPath[r * m.cols + c] = 1;
      const target = m.target[0] * m.cols + m.target[1];
      return { onPath, deg: Int32Array.from({ length: m.rows * m.cols }, (_, c) => degreeIdx(m, c)), dist: bfsDistances(m, target), target, cols: m.cols };
    });
    const props: Record<Property, Float32Array> = Object.fromEntries(PROPERTIES.map((k) => [k, new Float32Array(N)])) as Record<Property, Float32Array>;
    chosen.forEach((pt, i) => {
      const mz = perMaze[pt.maze];
      props.row[i] = Math.floor(pt.cell / mz.cols);
      props.col[i] = pt.cell % mz.cols;
      props.on_solution[i] = mz.onPath[pt.cell];
      props.fork[i] = mz.deg[pt.cell] >= 3 ? 1 : 0;
      props.is_target[i] = pt.cell === mz.target ? 1 : 0;
      props.dist_to_target[i] = mz.dist[pt.cell] >= 0 ? mz.dist[pt.cell] : Number.NaN; // unreachable (percolation): no distance
    });

    // One maze's cell named at several positions (adjacency list, origin, path) is one group.
    const cellOf = Float64Array.from(chosen, (pt) => pt.maze * 65536 + pt.cell);

    // Residuals [layer][N, D].
    const layers = [...new Set(p.layers)].sort((a, b) => a - b);
    const names = layers.map((l) => residName(cfg, l));
    const X = layers.map(() => new Float32Array(N * D));
    const byMaze = new Map<number, number[]>();
    chosen.forEach((pt, i) => byMaze.set(pt.maze, [...(byMaze.get(pt.maze) ?? []), i]));
    const engine = await ctx.model.engine();
    await forEachCached(
      engine,
      seqs,
      names,
      (row) => {
        const pts = byMaze.get(row.index);
        if (!pts) return;
        layers.forEach((_, li) => {
          const r = row.get(names[li]); // [T, D]
          for (const i of pts) X[li].set(r.subarray(chosen[i].pos * D, (chosen[i].pos + 1) * D), i * D);
        });
      },
      { progress, from: 0, to: 0.2, batch: 8 },
    );

    const methods = [...new Set(p.methods)];
    const nL = layers.length;
    const pcaCoords = new Float32Array(nL * N * 2);
    const pcaExplained = new Float32Array(nL * 2);
    const umapCoords = new Float32Array(nL * N * 2);
    const tsneCoords = new Float32Array(nL * N * 2);
    // t-SNE's perplexity is an effective neighbour count: it needs several times that many points.
    if (methods.includes('tsne') && N <= 3 * p.perplexity)
      throw new InterpError(
        `params.perplexity: ${p.perplexity} needs more than ${3 * p.perplexity} points for t-SNE, but only ${N} were found; lower perplexity or add mazes`,
      );
    const scores = new Float32Array(nL * PROPERTIES.length); // [layer, property]
    const chance = new Float32Array(PROPERTIES.length);
    for (let li = 0; li < nL; li++) {
      const nbrs = nearest(X[li], N, D, p.k, cellOf);
      PROPERTIES.forEach((prop, j) => {
        if (CATEGORICAL.includes(prop)) {
          const s = purity(props[prop], nbrs, p.k);
          scores[li * PROPERTIES.length + j] = s.purity;
          chance[j] = s.chance;
        } else scores[li * PROPERTIES.length + j] = neighbourGain(props[prop], nbrs, p.k);
      });
      if (methods.includes('pca')) {
        const { coords, explained } = pca2(X[li], N, D);
        pcaCoords.set(coords, li * N * 2);
        pcaExplained.set(explained, li * 2);
      }
      // UMAP and t-SNE take the points as number[][] [N, D]: built once per layer for either.
      const rows =
        methods.includes('umap') || methods.includes('tsne') ? Array.from({ length: N }, (_, i) => Array.from(X[li].subarray(i * D, (i + 1) * D))) : [];
      if (methods.includes('umap')) {
        const urng = new Rng(`geometry/umap/${ctx.seed}/${li}`);
        const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(p.k + 5, N - 1), minDist: 0.1, random: () => urng.float() });
        umap.fit(rows).forEach(([a, b], i) => umapCoords.set([a, b], (li * N + i) * 2));
      }
      if (methods.includes('tsne')) {
        // DruidJS seeds its own generator: the same seed and layer give the same map.
        const seed = new Rng(`geometry/tsne/${ctx.seed}/${li}`).int(2 ** 31);
        const y = new TSNE(rows, { perplexity: p.perplexity, d: 2, seed }).transform(p.tsneIterations) as number[][]; // [N, 2]
        y.forEach(([a, b], i) => tsneCoords.set([a, b], (li * N + i) * 2));
      }
      progress(0.2 + (0.8 * (li + 1)) / nL, `scored ${residLabel(cfg, layers[li])}`);
    }

    const meta = new Float32Array(N * 4); // [N, 4]: maze, position, cell, class index
    chosen.forEach((pt, i) => meta.set([pt.maze, pt.pos, pt.cell, COORD_CLASSES.indexOf(pt.klass as (typeof COORD_CLASSES)[number])], i * 4));
    const tensors: NamedTensor[] = [
      tensor('points.meta', [N, 4], meta),
      tensor(
        'points.properties',
        [N, PROPERTIES.length],
        Float32Array.from({ length: N * PROPERTIES.length }, (_, x) => props[PROPERTIES[x % PROPERTIES.length]][Math.floor(x / PROPERTIES.length)]),
      ),
      tensor('knn', [nL, PROPERTIES.length], scores), // [layer, property]
      ...(methods.includes('pca') ? [tensor('pca', [nL, N, 2], pcaCoords), tensor('pca.explained', [nL, 2], pcaExplained)] : []),
      ...(methods.includes('umap') ? [tensor('umap', [nL, N, 2], umapCoords)] : []),
      ...(methods.includes('tsne') ? [tensor('tsne', [nL, N, 2], tsneCoords)] : []),
    ];
    const best = PROPERTIES.map((prop, j) => {
      let bl = 0;
      for (let li = 1; li < nL; li++) if (scores[li * PROPERTIES.length + j] > scores[bl * PROPERTIES.length + j]) bl = li;
      return {
        property: prop,
        layer: residLabel(cfg, layers[bl]),
        score: num(scores[bl * PROPERTIES.length + j]),
        chance: CATEGORICAL.includes(prop) ? num(chance[j]) : 0,
      };
    });
    return {
      summary: {
        kind: 'geometry',
        classes: [...new Set(p.classes)],
        layers: layers.map((l) => residLabel(cfg, l)),
        properties: [...PROPERTIES],
        methods,
        k: p.k,
        mazes: mazes.length,
        points_total: all.length,
        points_used: N,
        // kNN score by layer: purity for the categorical properties (chance beside it), neighbour gain for the distance.
        by_layer: layers.map((l, li) => ({
          layer: residLabel(cfg, l),
          scores: PROPERTIES.map((prop, j) => ({ property: prop, score: num(scores[li * PROPERTIES.length + j]) })),
        })),
        chance: PROPERTIES.map((prop, j) => ({ property: prop, chance: CATEGORICAL.includes(prop) ? num(chance[j]) : 0 })),
        best,
        pca_explained: methods.includes('pca') ? layers.map((_, li) => [num(pcaExplained[li * 2]), num(pcaExplained[li * 2 + 1])]) : [],
      } satisfies GeometrySummary,
      tensors,
    };
  },
});
