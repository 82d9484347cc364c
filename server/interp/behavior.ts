/**
 * `behavior`: the research plan's generalisation grid — greedy, unconstrained decoding (as
 * maze-transformer evaluates; `constrained` masks all but coordinates and <PATH_END>) scored with
 * the maze metrics (metrics.ts) per generator × grid size, with the plan's baseline solver (random
 * choice at forks, no backtracking; baseline.ts) on the same mazes beside every row. Generators
 * cover acyclic mazes (dfs, wilson), cyclic ones (dfs_percolation, percolation) and open fields.
 * Sizes may exceed the training grid as far as the vocabulary reaches (the corner-first
 * vocabulary makes a small grid's tokens a prefix of a larger one's). Mazes whose sequence would
 * not fit n_ctx are counted (`too_long`) and left out.
 */
import { baselineSolve } from '../maze/baseline.js';
import { generateMazes, type MazeSpec } from '../maze/generate.js';
import { generatorNames } from '../maze/generators/index.js';
import type { SolvedMaze } from '../maze/lattice.js';
import { aggregateMetrics, pathMetrics, type AggregateMetrics } from '../maze/metrics.js';
import { readPredictedPath } from '../maze/parse.js';
import { Rng } from '../maze/rng.js';
import { SPECIAL, SPECIAL_TOKENS } from '../maze/tokenize/index.js';
import { generate } from '../model/engine.js';
import { num, tensor } from './collect.js';
import { encoder, InterpError } from './context.js';
import { defineParams, type SchemaParams } from './params.js';
import { defineKind } from './types.js';

export const paramsSchema = defineParams({
  generators: {
    type: 'string[]',
    doc: 'maze generators (rows of the grid)',
    choices: generatorNames(),
    enum: 'MazeGenerator',
    default: ['dfs', 'wilson', 'dfs_percolation', 'percolation', 'open_field'],
  },
  sizes: {
    type: 'int[]',
    doc: 'grid sides (columns of the grid), up to the largest the vocabulary covers',
    min: 2,
    max: 64,
    default: (m) => [...new Set([Math.max(2, m.grid - 2), Math.max(2, m.grid - 1), m.grid])],
    defaultDoc: 'the vocabulary grid N and N−1, N−2',
  },
  count: { type: 'int', doc: 'mazes per cell of the grid', min: 1, max: 100_000, default: 32 },
  percolationP: { type: 'number', doc: 'edge probability of percolation mazes', min: 0, max: 1, default: 0.6 },
  dfsPercolationP: { type: 'number', doc: 'extra-edge probability of dfs_percolation mazes', min: 0, max: 1, default: 0.2 },
  constrained: { type: 'bool', doc: 'allow only coordinates and <PATH_END> when decoding', default: false },
});

/** The params as run: declared once, by the fields above. */
export type BehaviorParams = SchemaParams<typeof paramsSchema>;

/** Metric columns of the `model` and `baseline` tensors. */
export const BEHAVIOR_METRICS = [
  'exact_path_rate',
  'valid_rollout_rate',
  'target_reached_rate',
  'node_overlap',
  'frac_connected_steps',
  'frac_correct_forks_pooled',
  'backtracks',
  'invalid_tokens',
] as const;

export type BehaviorMetric = (typeof BEHAVIOR_METRICS)[number];

/** One value per metric column, in BEHAVIOR_METRICS order. */
export type BehaviorMetrics = Record<BehaviorMetric, number | null>;

/** A BehaviorMetrics built key by key (so its type names every metric), each from `at(metric)`. */
function metricRecord(at: (k: BehaviorMetric) => number | null): BehaviorMetrics {
  return {
    exact_path_rate: at('exact_path_rate'),
    valid_rollout_rate: at('valid_rollout_rate'),
    target_reached_rate: at('target_reached_rate'),
    node_overlap: at('node_overlap'),
    frac_connected_steps: at('frac_connected_steps'),
    frac_correct_forks_pooled: at('frac_correct_forks_pooled'),
    backtracks: at('backtracks'),
    invalid_tokens: at('invalid_tokens'),
  };
}

/** One cell of the grid (a generator × size, or the context's mazes), as decoded. */
export interface BehaviorRow {
  /** A generator name, or "context" for the mazes the experiment was given. */
  generator: string;
  /** Grid side; null for the context's mazes. */
  size: number | null;
  /** Mazes decoded (those that fit n_ctx). */
  mazes: number;
  /** Mazes left out: their sequence exceeds n_ctx. */
  too_long: number;
  /** Why the cell has no metrics (every maze too long); then model and baseline are absent. */
  skipped?: string;
  model?: AggregateMetrics;
  /** The baseline solver on the same mazes. */
  baseline?: AggregateMetrics;
}

/** A row of the flat table: every metric column of the model and the baseline (null where undefined). */
export interface BehaviorTableRow {
  generator: string;
  size: number | null;
  mazes: number;
  model: BehaviorMetrics;
  baseline: BehaviorMetrics;
}

/** `behavior`'s summary (stored as JSON; served as Experiment.result, BehaviorSummary). */
export interface BehaviorSummary {
  kind: 'behavior';
  constrained: boolean;
  metrics: typeof BEHAVIOR_METRICS;
  rows: BehaviorRow[];
  table: BehaviorTableRow[];
}

function columns(a: AggregateMetrics): number[] {
  return BEHAVIOR_METRICS.map((k) => {
    const v = k === 'node_overlap' || k === 'frac_connected_steps' || k === 'backtracks' || k === 'invalid_tokens' ? a.means[k] : a[k];
    return v ?? NaN;
  });
}

export const behavior = defineKind<BehaviorParams, BehaviorSummary>({
  kind: 'behavior',
  describe:
    "Maze metrics of greedy decoding over a generalisation grid (generator × grid size, including cyclic percolation mazes and open fields, sizes up to the vocabulary's), with the baseline solver's row beside the model's.",
  paramsSchema,
  async run(ctx, p, progress) {
    const { cfg, vocab } = ctx.model;
    const enc = encoder(ctx.model);
    const engine = await ctx.model.engine();
    const specials = new Set<string>(SPECIAL_TOKENS);
    const allowed = p.constrained ? vocab.map((t) => t === SPECIAL_TOKENS[SPECIAL.PATH_END] || (!specials.has(t) && !t.startsWith('<'))) : undefined;
    const cells: Array<{ generator: string; size: number | null; mazes: SolvedMaze[] }> = [];
    if (ctx.mazes) {
      const src = ctx.mazes;
      cells.push({
        generator: 'context',
        size: null,
        mazes: 'mazes' in src ? src.mazes.slice(0, p.count) : [...generateMazes(src.spec, Math.min(src.count, p.count), src.seed)],
      });
    }
    for (const g of [...new Set(p.generators)]) {
      for (const n of [...new Set(p.sizes)]) {
        if (enc.tokenizer.format.coords === 'unified' && enc.cellId(n - 1, n - 1) < 0) {
          throw new InterpError(`params.sizes: the model's vocabulary has no token for cell (${n - 1},${n - 1}), so ${n}x${n} mazes cannot be written`);
        }
        const spec: MazeSpec = { generator: g, rows: n };
        if (g === 'percolation') spec.p = p.percolationP;
        if (g === 'dfs_percolation') spec.p = p.dfsPercolationP;
        cells.push({ generator: g, size: n, mazes: [...generateMazes(spec, p.count, `${ctx.seed}/${g}/${n}`)] });
      }
    }
    const rows: BehaviorRow[] = [];
    const modelT: number[] = [],
      baseT: number[] = [];
    for (const [ci, cell] of cells.entries()) {
      const tokRng = new Rng(`behavior/${ctx.seed}/${ci}`);
      const baseRng = new Rng(`behavior/baseline/${ctx.seed}/${ci}`);
      const kept: SolvedMaze[] = [],
        prompts: Int32Array[] = [];
      let tooLong = 0;
      for (const m of cell.mazes) {
        if (enc.tokenizer.seqLength(m) > cfg.n_ctx) {
          tooLong++;
          continue;
        }
        const seq = enc.encode(m, tokRng);
        kept.push(m);
        prompts.push(seq.slice(0, enc.promptLength(m)));
      }
      const row: BehaviorRow = { generator: cell.generator, size: cell.size, mazes: kept.length, too_long: tooLong };
      if (kept.length === 0) {
        row.skipped = `every maze's sequence exceeds n_ctx ${cfg.n_ctx}`;
        modelT.push(...BEHAVIOR_METRICS.map(() => NaN));
        baseT.push(...BEHAVIOR_METRICS.map(() => NaN));
      } else {
        const maxNew = Math.max(...kept.map((m) => m.rows * m.cols * (enc.tokenizer.format.coords === 'split' ? 5 : 1) + 1));
        const seqs = await generate(engine, prompts, { stopToken: SPECIAL.PATH_END, maxNewTokens: maxNew, ...(allowed ? { allowedTokens: allowed } : {}) });
        const metrics = kept.map((m, i) => {
          const gen = Array.from(seqs[i].subarray(prompts[i].length), (id) => vocab[id]);
          const { path, ended } = readPredictedPath(gen, enc.tokenizer, { grid: { rows: m.rows, cols: m.cols } });
          return pathMetrics(m, path, { ended });
        });
        const model = aggregateMetrics(metrics);
        const baseline = aggregateMetrics(kept.map((m) => pathMetrics(m, baselineSolve(m, baseRng).path, { ended: true })));
        row.model = model;
        row.baseline = baseline;
        modelT.push(...columns(model));
        baseT.push(...columns(baseline));
      }
      rows.push(row);
      progress((ci + 1) / cells.length, `evaluated ${cell.generator} ${cell.size ?? ''}`);
    }
    const R = rows.length,
      K = BEHAVIOR_METRICS.length;
    return {
      summary: {
        kind: 'behavior',
        constrained: p.constrained,
        metrics: BEHAVIOR_METRICS,
        rows,
        table: rows.map((r, i) => ({
          generator: r.generator,
          size: r.size,
          mazes: r.mazes,
          model: metricRecord((k) => num(modelT[i * K + BEHAVIOR_METRICS.indexOf(k)])),
          baseline: metricRecord((k) => num(baseT[i * K + BEHAVIOR_METRICS.indexOf(k)])),
        })),
      } satisfies BehaviorSummary,
      tensors: [
        tensor('model', [R, K], modelT), // [row, metric] (rows as summary.rows)
        tensor('baseline', [R, K], baseT), // [row, metric] the baseline solver on the same mazes
      ],
    };
  },
});
