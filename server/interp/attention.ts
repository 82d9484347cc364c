/**
 * `attention`: attention patterns (blocks.l.attn.hook_pattern [head, query_pos, key_pos]) per layer
 * and head, with token positions mapped to maze cells; for a chosen query position, the attention
 * of every head summed onto the cells its keys name (the maze overlay maze-transformer users asked
 * for in its issue #47). Mass on non-cell tokens (specials, connectors) is reported as `other`, so
 * cells + other = 1 for every head. Over all mazes: the mean mass from the query onto each token
 * class (positions.ts's TOKEN_CLASSES).
 */
import { Rng } from '../maze/rng.js';
import { forEachCached, num, tensor } from './collect.js';
import { encoder, InterpError, loadMazes, mazeFields, requireUnified } from './context.js';
import { allLayers, defineParams, layerMax, type SchemaParams } from './params.js';
import { aggregateOnCells, mapPositions, TOKEN_CLASSES, type SequencePositions } from './positions.js';
import { defineKind, type NamedTensor } from './types.js';

export const QUERY_NAMES = ['path_start', 'last', 'target', 'origin', 'adjlist_end'] as const;

export const paramsSchema = defineParams({
  ...mazeFields(1),
  layers: { type: 'int[]', doc: 'layers to read', min: 0, max: layerMax, default: allLayers, defaultDoc: 'every layer' },
  query: { type: 'int|string', doc: 'query position: an index, or a named position', min: 0, choices: QUERY_NAMES, default: 'path_start' },
  patterns: { type: 'bool', doc: 'store the full patterns of the first maze', default: true },
});

/** The params as run: declared once, by the fields above. */
export type AttentionParams = SchemaParams<typeof paramsSchema>;

/** Position of a named (or numeric) query in a mapped sequence. */
export function queryPosition(sp: SequencePositions, q: AttentionParams['query']): number {
  if (typeof q === 'number') {
    if (q >= sp.length) throw new InterpError(`params.query: position ${q} is past the end of a ${sp.length}-token sequence`);
    return q;
  }
  switch (q) {
    case 'path_start':
      return sp.pathStart;
    case 'last':
      return sp.length - 1;
    case 'target':
      return sp.target;
    case 'origin':
      return sp.origin;
    case 'adjlist_end':
      return sp.adjlistEnd;
  }
}

/** The cell a head attends to most from the query (maze 0). */
export interface AttentionTopCell {
  layer: number;
  head: number;
  /** [row, col] */
  cell: [number, number];
  mass: number | null;
}

/** `attention`'s summary (stored as JSON; served as Experiment.result, AttentionSummary). */
export interface AttentionSummary {
  kind: 'attention';
  mazes: number;
  layers: number[];
  /** The query as asked: a named position or an index. */
  query: AttentionParams['query'];
  /** Its position in maze 0. */
  query_position: number;
  query_token: string;
  /** [rows, cols] of maze 0. */
  grid: [number, number];
  /** Token strings of maze 0. */
  tokens: string[];
  classes: typeof TOKEN_CLASSES;
  max_row_sum_error: number | null;
  /** One per (layer, head), layers as run. */
  top_cells: AttentionTopCell[];
}

export const attention = defineKind<AttentionParams, AttentionSummary>({
  kind: 'attention',
  describe:
    "Attention patterns per layer and head with positions mapped to maze cells; for one query position, each head's attention summed onto the cells (an overlay on the maze) and onto token classes.",
  paramsSchema,
  async run(ctx, p, progress) {
    requireUnified(ctx.model, 'attention');
    const { cfg, vocab } = ctx.model;
    const H = cfg.n_heads;
    const layers = [...new Set(p.layers)].sort((a, b) => a - b);
    const Lq = layers.length;
    const mazes = loadMazes(ctx, p);
    const enc = encoder(ctx.model);
    const rng = new Rng(`attention/${ctx.seed}`);
    const seqs = mazes.map((m, i) => enc.encode(m, rng, `maze ${i}`));
    const maps = seqs.map((s, i) => mapPositions(s, vocab, mazes[i]));
    const queries = maps.map((sp) => queryPosition(sp, p.query));
    const engine = await ctx.model.engine();
    const names = layers.map((l) => `blocks.${l}.attn.hook_pattern`);
    const nC = TOKEN_CLASSES.length;
    const classMass = new Float64Array(Lq * H * nC);
    const tensors: NamedTensor[] = [];
    let maxRowError = 0;

    await forEachCached(
      engine,
      seqs,
      names,
      (row) => {
        const sp = maps[row.index];
        const q = queries[row.index];
        const T = row.T,
          Ti = row.len;
        const cells = new Float32Array(Lq * H * sp.rows * sp.cols),
          other = new Float32Array(Lq * H);
        const patterns = row.index === 0 && p.patterns ? new Float32Array(Lq * H * Ti * Ti) : null;
        layers.forEach((l, li) => {
          const pat = row.get(`blocks.${l}.attn.hook_pattern`); // [H, T, T] (padded T)
          for (let h = 0; h < H; h++) {
            const qrow = pat.subarray((h * T + q) * T, (h * T + q) * T + Ti); // [Ti] keys of the query
            let s = 0;
            for (let k = 0; k < Ti; k++) {
              s += qrow[k];
              classMass[(li * H + h) * nC + TOKEN_CLASSES.indexOf(sp.classes[k])] += qrow[k] / mazes.length;
            }
            maxRowError = Math.max(maxRowError, Math.abs(s - 1));
            if (row.index === 0) {
              const agg = aggregateOnCells(sp, qrow, Ti);
              cells.set(agg.cells, (li * H + h) * sp.rows * sp.cols);
              other[li * H + h] = agg.other;
            }
            if (patterns) for (let i = 0; i < Ti; i++) patterns.set(pat.subarray((h * T + i) * T, (h * T + i) * T + Ti), ((li * H + h) * Ti + i) * Ti);
          }
        });
        if (row.index === 0) {
          tensors.push(
            tensor('tokens', [Ti], seqs[0]), // [T] token ids of maze 0
            tensor('cell_of_position', [Ti], sp.cell), // [T] flat cell (row·cols + col) or -1
            tensor('cells', [Lq, H, sp.rows, sp.cols], cells), // [layer, head, row, col] attention of the query on each cell
            tensor('other', [Lq, H], other), // [layer, head] attention on non-cell tokens
          );
          if (patterns) tensors.push(tensor('pattern', [Lq, H, Ti, Ti], patterns)); // [layer, head, query, key]
        }
      },
      { progress, batch: 4 },
    );
    tensors.push(tensor('class_mass', [Lq, H, nC], classMass)); // [layer, head, class] mean over mazes

    const sp0 = maps[0];
    return {
      summary: {
        kind: 'attention',
        mazes: mazes.length,
        layers,
        query: p.query,
        query_position: queries[0],
        query_token: vocab[seqs[0][queries[0]]],
        grid: [sp0.rows, sp0.cols],
        tokens: Array.from(seqs[0], (id) => vocab[id]),
        classes: TOKEN_CLASSES,
        // Attention rows are softmax outputs: this is float rounding only.
        max_row_sum_error: num(maxRowError),
        top_cells: layers.flatMap((l, li) =>
          Array.from({ length: H }, (_, h) => {
            const c = tensors.find((t) => t.name === 'cells')!.data.subarray((li * H + h) * sp0.rows * sp0.cols, (li * H + h + 1) * sp0.rows * sp0.cols);
            let best = 0;
            for (let i = 1; i < c.length; i++) if (c[i] > c[best]) best = i;
            return { layer: l, head: h, cell: [Math.floor(best / sp0.cols), best % sp0.cols], mass: num(c[best]) };
          }),
        ),
      } satisfies AttentionSummary,
      tensors,
    };
  },
});
