/**
 * `retarget`: "just retarget the search" (Wentworth 2022) on the maze model. The target's
 * representation is taken to be the residual stream at the target token (or at every position from
 * the target token to <PATH_START>); at one layer at a time it is overwritten
 * (blocks.l.hook_resid_pre, replace) with its value from another run of the same prompt whose only
 * difference is the target token (a new target t′), and the model then decodes its path greedily.
 * Success = the rollout is a valid path to the NEW target (metrics.ts `valid_rollout` against the
 * maze with target t′). Controls at every layer:
 *   random  the same positions overwritten with random vectors of the same norms (Gaussian
 *           directions): how often does noise alone send the model to t′?
 *   same    overwritten with the value from a run with the SAME target — identical prompt, or the
 *           same maze with its adjacency list reshuffled (`sameTargetSource`); identical must
 *           change nothing, reshuffled measures the cost of transplanting a representation.
 * Decoding with interventions: decode.ts (exact; the prompt is patched once, the rest is cached).
 * The first DETAIL_MAZES mazes' prompts, new targets and every rollout are stored too (`detail.*`),
 * so a point of the chart opens the rollouts behind it drawn on their mazes.
 */
import { pathMetrics } from '../maze/metrics.js';
import { readPredictedPath } from '../maze/parse.js';
import { Rng } from '../maze/rng.js';
import { bfsDistances, shortestPathIdx } from '../maze/solve.js';
import { cellCoord, type SolvedMaze } from '../maze/lattice.js';
import { SPECIAL } from '../maze/tokenize/index.js';
import type { Intervention } from '../model/engine.js';
import { num, tensor } from './collect.js';
import { encoder, InterpError, loadMazes, mazeFields, requireUnified, specOf } from './context.js';
import { generateMazes } from '../maze/generate.js';
import type { DecodeRow, SteeredRow } from './decode.js';
import { allLayers, defineParams, layerMax, type SchemaParams } from './params.js';
import { mapPositions } from './positions.js';
import { defineKind } from './types.js';

export const paramsSchema = defineParams({
  ...mazeFields(16, 2000),
  layers: { type: 'int[]', doc: 'layers whose resid_pre is overwritten (one at a time)', min: 0, max: layerMax, default: allLayers, defaultDoc: 'every layer' },
  positions: {
    type: 'string',
    doc: 'positions changed; target-onwards (direction only) reaches every later position, generated ones included, at every decoding step',
    choices: ['target', 'target-to-path-start', 'target-onwards'],
    enum: 'RetargetPositions',
    default: 'target',
  },
  controls: { type: 'bool', doc: 'run the random-vector and same-target controls', default: true },
  sameTargetSource: {
    type: 'string',
    doc: 'source of the same-target control (transplant)',
    choices: ['reshuffled', 'identical'],
    enum: 'RetargetSameTarget',
    default: 'reshuffled',
  },
  method: {
    type: 'string',
    doc: "transplant: overwrite with the new-target run's residual; direction: add scale × (mean residual of mazes with the new target − with the old); probe: add the direction between the two cells' \"cell is the target\" logistic probes (fitted on the references' residuals where it is added), with the mean difference's norm × scale",
    choices: ['transplant', 'direction', 'probe'],
    enum: 'RetargetMethod',
    default: 'transplant',
  },
  scale: { type: 'number', doc: 'direction: multiple of the mean difference added', min: 0, max: 100, default: 1 },
  references: { type: 'int', doc: 'direction: generated mazes whose residuals give the per-target means', min: 8, max: 20000, default: 512 },
  span: {
    type: 'string',
    doc: 'direction, target-onwards: pooled: one mean over every position from the target on; by-span: one for the prompt (target…<PATH_START>) and one for the path positions, each added where it was measured',
    choices: ['pooled', 'by-span'],
    enum: 'RetargetSpan',
    default: 'pooled',
  },
});

/** The params as run: declared once, by the fields above. */
export type RetargetParams = SchemaParams<typeof paramsSchema>;

export const RETARGET_CONDITIONS = ['retarget', 'random', 'same'] as const;
export type RetargetCondition = (typeof RETARGET_CONDITIONS)[number];

/** Fractions of mazes under one condition at one layer. */
export interface RetargetOutcome {
  valid_to_new_target: number | null;
  valid_to_old_target: number | null;
  /** Rollouts that differ from the unpatched one. */
  changed: number | null;
}

/** One layer: the outcome under each condition run, under its name (the controls only with `controls`). */
export interface RetargetLayer {
  layer: number;
  retarget: RetargetOutcome;
  random?: RetargetOutcome;
  same?: RetargetOutcome;
}

/** `retarget`'s summary (stored as JSON; served as Experiment.result, RetargetSummary). */
export interface RetargetSummary {
  kind: 'retarget';
  mazes: number;
  method: RetargetParams['method'];
  /** Methods direction and probe only: the params they ran with (probe always by-span). */
  scale?: number;
  references?: number;
  span?: RetargetParams['span'];
  positions: RetargetParams['positions'];
  same_target_source: RetargetParams['sameTargetSource'];
  conditions: readonly RetargetCondition[];
  /** The unpatched rollouts. */
  baseline: { valid_to_old_target: number | null; valid_to_new_target: number | null };
  layers: RetargetLayer[];
}

export const retarget = defineKind<RetargetParams, RetargetSummary>({
  kind: 'retarget',
  describe:
    "Overwrites the target token's residual stream at one layer with its value from a run with a different target, decodes, and measures how often the rollout becomes a valid path to the new target, by layer; with random-vector and same-target controls.",
  paramsSchema,
  async run(ctx, p, progress) {
    requireUnified(ctx.model, 'retarget');
    const { cfg, vocab } = ctx.model;
    const D = cfg.d_model;
    const layers = [...new Set(p.layers)].sort((a, b) => a - b);
    const conditions = p.controls ? RETARGET_CONDITIONS : RETARGET_CONDITIONS.slice(0, 1);
    const mazes = loadMazes(ctx, p);
    const enc = encoder(ctx.model);
    const rng = new Rng(`retarget/${ctx.seed}`);
    const engine = await ctx.model.engine();
    const names = layers.map((l) => `blocks.${l}.hook_resid_pre`);
    const rows: Array<DecodeRow & SteeredRow> = []; // steer only with positions target-onwards, interventions otherwise
    const tasks: Array<{ maze: SolvedMaze; moved: SolvedMaze; first: number; prompt: Int32Array; newTarget: number }> = [];
    let maxNew = 0;

    if (p.positions === 'target-onwards' && p.method === 'transplant') {
      throw new InterpError('retarget: positions target-onwards needs method direction (a transplant has no source for the positions the model generates)');
    }
    if (p.method === 'probe' && p.references > 4096)
      throw new InterpError(`retarget: method probe takes at most 4096 references (every reference position is kept to fit the probes), got ${p.references}`);
    if ((p.span === 'by-span' || p.method === 'probe') && p.positions !== 'target-onwards')
      throw new InterpError(
        `retarget: ${p.method === 'probe' ? 'method probe' : 'span by-span'} needs positions target-onwards (the path span is only reached while decoding)`,
      );
    const references = p.method === 'transplant' ? null : await targetMeans(ctx, p, mazes[0], layers, names, progress);
    const directions = references?.means ?? null;
    // method probe: per layer and span, the "cell is the target" probes' weights in residual units ([D, K] each).
    const probeDirs = p.method === 'probe' && references ? await fitTargetProbes(references.samples, D, layers.length, mazes[0], progress) : null;

    for (const [i, maze] of mazes.entries()) {
      const o = maze.origin[0] * maze.cols + maze.origin[1],
        t = maze.target[0] * maze.cols + maze.target[1];
      const dist = bfsDistances(maze, o);
      const known = (c: number) => !directions || directions.has(c);
      if (directions && !directions.has(t))
        throw new InterpError(`maze ${i}: no reference maze has its target ${JSON.stringify(maze.target)}; raise references`);
      const options = Array.from({ length: maze.rows * maze.cols }, (_, c) => c).filter((c) => c !== o && c !== t && dist[c] > 0 && known(c));
      if (options.length === 0) throw new InterpError(`maze ${i}: no other reachable cell to retarget to`);
      const t2 = options[rng.int(options.length)];
      const path2 = shortestPathIdx(maze, o, t2)!;
      const moved: SolvedMaze = { ...maze, target: cellCoord(maze, t2), path: Array.from(path2, (c) => cellCoord(maze, c)) };
      const tokSeed = `retarget/${ctx.seed}/${i}`;
      const P = enc.promptLength(maze);
      const promptOf = (m: SolvedMaze, s: string) => enc.encode(m, new Rng(s), `maze ${i}`).slice(0, P);
      const a = promptOf(maze, tokSeed),
        b = promptOf(moved, tokSeed);
      const c = p.sameTargetSource === 'identical' ? a : promptOf(maze, `${tokSeed}/same`);
      const sp = mapPositions(a, vocab, maze);
      const positions = p.positions === 'target' ? [sp.target] : Array.from({ length: sp.pathStart - sp.target + 1 }, (_, k) => sp.target + k);
      const batch = new Int32Array(3 * P);
      [a, b, c].forEach((x, r) => batch.set(x, r * P));
      const cache = (await engine.runWithCache(batch, 3, P, { names })).cache;
      tasks.push({ maze, moved, first: rows.length, prompt: a, newTarget: t2 });
      maxNew = Math.max(maxNew, maze.rows * maze.cols + 1);
      rows.push({ prompt: a });
      if (directions) {
        // Add a direction: scale × (μ_l(t′) − μ_l(t)); controls a random direction of the same norm
        // and the difference between two halves of the references with the SAME target.
        const [mt, mt2] = [directions.get(t)!, directions.get(t2)!];
        // Spans measured and steered: pooled, one from the target on; by-span, the prompt's from the
        // target token and the path's from the first path position (generated ones included).
        const bySpan = p.span === 'by-span' || p.method === 'probe';
        const spans = bySpan ? [1, 2] : [0];
        const starts = bySpan ? [sp.target, sp.pathStart + 1] : [sp.target];
        layers.forEach((_, li) => {
          for (const cond of conditions) {
            const segments = spans.map((span, si) => {
              const v = new Float32Array(D); // [D]
              const [m1, m2] = [mt.spans[span], mt2.spans[span]];
              for (let d = 0; d < D; d++)
                v[d] = p.scale * (cond === 'same' ? m1.half[0][li * D + d] - m1.half[1][li * D + d] : m2.all[li * D + d] - m1.all[li * D + d]);
              if (probeDirs && cond === 'retarget') {
                // The probes' direction from the old target cell to the new one, with the mean difference's norm.
                const w = probeDirs[li][si]; // [D, K]
                const K = w.length / D;
                const u = Float64Array.from({ length: D }, (_, d) => w[d * K + t2] - w[d * K + t]);
                const k = Math.hypot(...v) / (Math.hypot(...u) || 1);
                for (let d = 0; d < D; d++) v[d] = u[d] * k;
              }
              if (cond === 'random') {
                const dir = Float32Array.from({ length: D }, () => rng.normal());
                const k = Math.hypot(...v) / (Math.hypot(...dir) || 1);
                for (let d = 0; d < D; d++) v[d] = dir[d] * k;
              }
              return { from: starts[si], value: v };
            });
            rows.push(
              p.positions === 'target-onwards'
                ? { prompt: a, steer: { hook: names[li], segments } }
                : { prompt: a, interventions: [{ hook: names[li], kind: 'add', positions, value: segments[0].value }] },
            );
          }
        });
        progress((0.3 * (i + 1)) / mazes.length, `prepared maze ${i + 1}/${mazes.length}`);
        continue;
      }
      layers.forEach((_l, li) => {
        const act = cache.get(names[li])!.data; // [3, P, D]
        const value = (src: number, random: boolean): Intervention => {
          const v = new Float32Array(P * D); // one row [P, D]; only `positions` are read
          for (const q of positions) {
            if (random) {
              const own = act.subarray(q * D, (q + 1) * D);
              const dir = Float32Array.from({ length: D }, () => rng.normal());
              const scale = Math.hypot(...own) / (Math.hypot(...dir) || 1);
              for (let d = 0; d < D; d++) v[q * D + d] = dir[d] * scale;
            } else v.set(act.subarray((src * P + q) * D, (src * P + q + 1) * D), q * D);
          }
          return { hook: names[li], kind: 'replace', positions, value: v };
        };
        for (const cond of conditions)
          rows.push({ prompt: a, interventions: [cond === 'retarget' ? value(1, false) : cond === 'random' ? value(0, true) : value(2, false)] });
      });
      progress((0.3 * (i + 1)) / mazes.length, `prepared maze ${i + 1}/${mazes.length}`);
    }

    const { decodeSteered, decodeWithInterventions } = await import('./decode.js');
    const out =
      p.positions === 'target-onwards'
        ? await decodeSteered(engine, rows, { stopToken: SPECIAL.PATH_END, maxNewTokens: maxNew })
        : await decodeWithInterventions(engine, rows, { stopToken: SPECIAL.PATH_END, maxNewTokens: maxNew });
    progress(0.95, 'decoded');
    const score = (m: SolvedMaze, gen: Int32Array) => {
      const { path, ended } = readPredictedPath(
        Array.from(gen, (id) => vocab[id]),
        enc.tokenizer,
        { grid: { rows: m.rows, cols: m.cols } },
      );
      return pathMetrics(m, path, { ended }).valid_rollout ? 1 : 0;
    };
    const nK = conditions.length,
      Lq = layers.length;
    const successNew = new Float64Array(nK * Lq),
      successOld = new Float64Array(nK * Lq),
      changed = new Float64Array(nK * Lq);
    let baseOld = 0,
      baseNew = 0;
    for (const task of tasks) {
      const base = out[task.first];
      baseOld += score(task.maze, base);
      baseNew += score(task.moved, base);
      layers.forEach((_, li) =>
        conditions.forEach((_, k) => {
          const gen = out[task.first + 1 + li * nK + k];
          successNew[k * Lq + li] += score(task.moved, gen) / tasks.length;
          successOld[k * Lq + li] += score(task.maze, gen) / tasks.length;
          changed[k * Lq + li] += (gen.length !== base.length || gen.some((x, j) => x !== base[j]) ? 1 : 0) / tasks.length;
        }),
      );
    }
    const at = (a: Float64Array, k: number, li: number) => num(a[k * Lq + li]);
    // `conditions` is a prefix of RETARGET_CONDITIONS, so a condition's index there is its row k.
    const outcome = (c: RetargetCondition, li: number): RetargetOutcome => {
      const k = RETARGET_CONDITIONS.indexOf(c);
      return { valid_to_new_target: at(successNew, k, li), valid_to_old_target: at(successOld, k, li), changed: at(changed, k, li) };
    };
    return {
      summary: {
        kind: 'retarget',
        mazes: tasks.length,
        method: p.method,
        ...(p.method !== 'transplant' ? { scale: p.scale, references: p.references, span: p.method === 'probe' ? 'by-span' : p.span } : {}),
        positions: p.positions,
        same_target_source: p.sameTargetSource,
        conditions,
        baseline: { valid_to_old_target: num(baseOld / tasks.length), valid_to_new_target: num(baseNew / tasks.length) },
        layers: layers.map((l, li) => ({
          layer: l,
          retarget: outcome('retarget', li),
          ...(p.controls ? { random: outcome('random', li), same: outcome('same', li) } : {}),
        })),
      } satisfies RetargetSummary,
      tensors: [
        tensor('success_new', [nK, Lq], successNew), // [condition, layer] valid rollouts to the new target
        tensor('success_old', [nK, Lq], successOld), // [condition, layer] valid rollouts to the original target
        tensor('changed', [nK, Lq], changed), // [condition, layer] rollouts that differ from the unpatched one
        tensor('layers', [Lq], layers), // [layer] indices
        ...detailTensors(tasks.slice(0, DETAIL_MAZES), out, 1 + Lq * nK),
      ],
    };
  },
});

/** Mazes whose rollouts are stored one by one (the drill-down's). */
export const DETAIL_MAZES = 8;

/**
 * The first mazes' prompts ([M, P] token ids), new target cells ([M, 2] row, col) and rollouts
 * ([M, R, G] generated token ids: row 0 unpatched, then 1 + layer·conditions + condition), −1 padded.
 */
function detailTensors(
  tasks: ReadonlyArray<{ maze: SolvedMaze; first: number; prompt: Int32Array; newTarget: number }>,
  out: readonly Int32Array[],
  R: number,
) {
  const M = tasks.length;
  const P = Math.max(1, ...tasks.map((t) => t.prompt.length));
  const G = Math.max(1, ...tasks.flatMap((t) => Array.from({ length: R }, (_, r) => out[t.first + r].length)));
  const prompts = new Float32Array(M * P).fill(-1);
  const targets = new Float32Array(M * 2);
  const rollouts = new Float32Array(M * R * G).fill(-1);
  tasks.forEach((t, m) => {
    prompts.set(t.prompt, m * P);
    const [r, c] = cellCoord(t.maze, t.newTarget);
    targets[m * 2] = r;
    targets[m * 2 + 1] = c;
    for (let k = 0; k < R; k++) rollouts.set(out[t.first + k], (m * R + k) * G);
  });
  return [
    tensor('detail.prompt', [M, P], prompts), // [maze, pos] token ids of the original prompt
    tensor('detail.new_target', [M, 2], targets), // [maze, (row, col)]
    tensor('detail.rollouts', [M, R, G], rollouts), // [maze, rollout, pos] generated token ids
  ];
}

/** Per-target-cell means of resid_pre at the chosen layers, over all references and over each half. */
/** Reference residuals for the probes: per span (0 prompt, 1 path), rows [N, layer, D] and each row's target cell. */
interface ProbeSamples {
  /** One [layer, D] row per reference position. */
  rows: [Float32Array[], Float32Array[]];
  cells: [number[], number[]];
}

/**
 * Fits, per layer and span, K logistic probes "cell k is the target" on the references' residuals
 * (logistic.ts), and returns their weights in residual units (W / std): [layer][span] → [D, K].
 */
async function fitTargetProbes(
  samples: ProbeSamples,
  D: number,
  Lq: number,
  like: SolvedMaze,
  progress: (f: number, m: string) => void,
): Promise<Float64Array[][]> {
  const { fitLogistic, jsBackend } = await import('./logistic.js');
  const K = like.rows * like.cols;
  const out: Float64Array[][] = [];
  for (let li = 0; li < Lq; li++) {
    const perSpan: Float64Array[] = [];
    for (const span of [0, 1] as const) {
      const N = samples.cells[span].length;
      const X = new Float32Array(N * D); // [N, D] at this layer
      for (let n = 0; n < N; n++) X.set(samples.rows[span][n].subarray(li * D, (li + 1) * D), n * D);
      const Y = new Float32Array(N * K); // [N, K] one-hot target cell
      samples.cells[span].forEach((c, n) => (Y[n * K + c] = 1));
      const m = await fitLogistic(X, Y, N, D, K, { lambda: 0.01, iters: 60 }, jsBackend);
      perSpan.push(Float64Array.from({ length: D * K }, (_, j) => m.W[j] / m.std[Math.floor(j / K)]));
    }
    out.push(perSpan);
    progress(0.2 + (0.1 * (li + 1)) / Lq, `target probes fitted for layer ${li + 1}/${Lq}`);
  }
  return out;
}

interface SpanMean {
  all: Float32Array; // [layer, D]
  half: [Float32Array, Float32Array]; // [layer, D] each
}

/** Per target cell: the means over [0] every position from the target on, [1] the prompt span (target…<PATH_START>), [2] the path positions. */
interface TargetMean {
  spans: [SpanMean, SpanMean, SpanMean];
}

/**
 * The mean residual stream, per layer, at every position from the target token to the last path
 * token of teacher-forced reference mazes, grouped by their target cell (and, for the same-target
 * control, by which half of the references a maze falls in). A cell the references never target
 * (or target in one half only) is left out.
 */
async function targetMeans(
  ctx: Parameters<typeof retarget.run>[0],
  p: RetargetParams,
  like: SolvedMaze,
  layers: number[],
  names: string[],
  progress: (f: number, m: string) => void,
): Promise<{ means: Map<number, TargetMean>; samples: ProbeSamples }> {
  const { cfg, vocab } = ctx.model;
  const samples: ProbeSamples = { rows: [[], []], cells: [[], []] };
  const D = cfg.d_model;
  const Lq = layers.length;
  const enc = encoder(ctx.model);
  const engine = await ctx.model.engine();
  const spec = specOf({ ...p, grid: like.rows });
  // sums[span][half] over positions (span 0: target…T-2, 1: target…<PATH_START>, 2: path), per target cell.
  type Acc = { s: Float64Array[][]; n: number[][] };
  const sums = new Map<number, Acc>();
  let k = 0;
  for (const maze of generateMazes(spec, p.references, `${ctx.seed}/retarget-directions`)) {
    const ids = enc.encode(maze, new Rng(`${ctx.seed}/retarget-directions/${k}`), `reference maze ${k}`);
    const T = ids.length;
    const sp = mapPositions(ids, vocab, maze);
    const cache = (await engine.runWithCache(ids, 1, T, { names })).cache;
    const cell = maze.target[0] * maze.cols + maze.target[1];
    const acc =
      sums.get(cell) ??
      ({
        s: [0, 1, 2].map(() => [new Float64Array(Lq * D), new Float64Array(Lq * D)]),
        n: [0, 1, 2].map(() => [0, 0]),
      } satisfies Acc);
    const h = k % 2;
    // Spans 1 (target…<PATH_START>) and 2 (the path) are summed; span 0, their union, is derived below.
    const ranges: Array<[number, number]> = [
      [sp.target, T - 2],
      [sp.target, sp.pathStart],
      [sp.pathStart + 1, T - 2],
    ];
    layers.forEach((_, li) => {
      const act = cache.get(names[li])!.data; // [1, T, D]
      for (const span of [1, 2]) {
        const [from, to] = ranges[span];
        for (let q = from; q <= to; q++) for (let d = 0; d < D; d++) acc.s[span][h][li * D + d] += act[q * D + d];
      }
    });
    for (const span of [1, 2]) acc.n[span][h] += Math.max(0, ranges[span][1] - ranges[span][0] + 1);
    if (p.method === 'probe') {
      // The probes' training rows: every prompt-span and path position of this reference, all layers.
      for (const span of [1, 2] as const) {
        const [from, to] = ranges[span];
        for (let q = from; q <= to; q++) {
          const row = new Float32Array(Lq * D); // [layer, D]
          layers.forEach((_, li) => row.set(cache.get(names[li])!.data.subarray(q * D, (q + 1) * D), li * D));
          samples.rows[span - 1].push(row);
          samples.cells[span - 1].push(cell);
        }
      }
    }
    sums.set(cell, acc);
    k++;
    if (k % 32 === 0) progress((0.2 * k) / p.references, `reference mazes ${k}/${p.references}`);
  }
  const out = new Map<number, TargetMean>();
  for (const [cell, { s, n }] of sums) {
    for (const h of [0, 1]) {
      for (let i = 0; i < Lq * D; i++) s[0][h][i] = s[1][h][i] + s[2][h][i];
      n[0][h] = n[1][h] + n[2][h];
    }
    if (n.some(([a, b]) => a === 0 || b === 0)) continue;
    const spans = [0, 1, 2].map((span) => {
      const all = new Float32Array(Lq * D),
        half: [Float32Array, Float32Array] = [new Float32Array(Lq * D), new Float32Array(Lq * D)];
      for (let i = 0; i < Lq * D; i++) {
        all[i] = (s[span][0][i] + s[span][1][i]) / (n[span][0] + n[span][1]);
        half[0][i] = s[span][0][i] / n[span][0];
        half[1][i] = s[span][1][i] / n[span][1];
      }
      return { all, half };
    }) as [SpanMean, SpanMean, SpanMean];
    out.set(cell, { spans });
  }
  return { means: out, samples };
}
