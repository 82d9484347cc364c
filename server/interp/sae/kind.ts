/**
 * The `sae` experiment kind (issue 19): trains a sparse autoencoder on one hook of the model at
 * chosen token classes (e.g. `blocks.0.hook_resid_post` at the `;` closing each adjacency-list
 * entry, where Spies et al. 2024 found one feature per maze connection), and measures it.
 *
 * Activations stream: mazes are generated in chunks (never all held), run with a cache of the one
 * hook, and their rows at the chosen classes fill a shuffle buffer; each round draws batches from
 * half the buffer and refills that half with fresh rows (SAELens' activation store, in miniature).
 * Inputs are scaled so that E‖x‖ = √d_in while training (SAELens' `expected_average_only_in`); the
 * scale is folded into the stored weights, which therefore act on the raw activations.
 *
 * Measured on held-out mazes (the context's, e.g. a dataset's test split, else generated): MSE,
 * explained variance, L0, dead fraction, and loss recovered — the model's path cross-entropy with
 * the SAE's reconstruction spliced in at those positions, between clean (1) and the same positions
 * zero-ablated (0), as SAELens' evals report it.
 *
 * What the latents encode is scored on the held-out rows (scoring.ts): for each category of each
 * maze property (SAE_PROPERTIES: the connection an entry row completes, the cell a coordinate row
 * names, whether it is on the solution, its degree, the maze's target and origin), the latent with
 * the best ROC AUC.
 *
 * Tensors: W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in] (SAELens' names
 * and layout), per latent its firing density and mean activation on the held-out rows, and
 * auc.connection [lattice edges, d_sae] / auc.cell [cells, d_sae] where the rows have them, the
 * held-out set and its sparse codes (eval.*, for the feature pages), and each latent's logit
 * weights (logit_weights.*) when the hook writes the residual stream.
 */
import { generateMazes } from '../../maze/generate.js';
import { Rng } from '../../maze/rng.js';
import type { SolvedMaze } from '../../maze/lattice.js';
import { hookGeometry } from '../../model/hooks.js';
import { type Intervention, type OnnxEngine, padBatch } from '../../model/engine.js';
import { SPECIAL } from '../../maze/tokenize/index.js';
import { forEachCached, num, tensor } from '../collect.js';
import { type Encoder, encoder, InterpError, loadMazes, mazeFields, requireUnified, specOf } from '../context.js';
import { defineParams, type SchemaParams } from '../params.js';
import { mapPositions, TOKEN_CLASSES, type TokenClass } from '../positions.js';
import { degreeIdx } from '../../maze/lattice.js';
import { latticeEdges } from '../probes.js';
import { defineKind, type ExperimentResult, type InterpModel, type NamedTensor } from '../types.js';
import { bestPerCategory, categoryAucs, multiLabelAucs } from './scoring.js';
import { accumulate, initSae, jumpThreshold, reconAccumulator, type SaeArchitecture, type SaeShape, type SaeWeights, stats } from './sae.js';
import { JUMPRELU_BANDWIDTH, JUMPRELU_INIT_THRESHOLD, JUMPRELU_L0, RELU_L1, SaeTrainer } from './train.js';

const { count: countField, ...generatedMazes } = mazeFields(200, 20_000);

export const paramsSchema = defineParams({
  ...generatedMazes,
  count: { ...countField, doc: "held-out mazes the SAE is measured on (the first `count` of the context's mazes, or generated)" },
  hook: {
    type: 'string',
    doc: 'TransformerLens hook whose activations are reconstructed (one vector per position: resid, attn_out, mlp_out, hook_post, …)',
    default: 'blocks.0.hook_resid_post',
  },
  classes: { type: 'string[]', doc: 'token classes whose positions give the training rows', choices: TOKEN_CLASSES, enum: 'TokenClass', default: ['sep'] },
  architecture: {
    type: 'string',
    doc: 'topk: keep the k largest pre-activations (Gao et al. 2024); relu: ReLU with an L1 penalty (SAELens "standard"); jumprelu: a per-latent threshold trained with an L0 penalty through straight-through pseudo-derivatives (Rajamanoharan et al. 2024)',
    choices: ['topk', 'relu', 'jumprelu'],
    enum: 'SaeArchitecture',
    default: 'topk',
  },
  expansion: { type: 'int', doc: 'latents per input dimension (d_sae = expansion × d_in)', min: 1, max: 64, default: 8 },
  k: { type: 'int', doc: 'topk: active latents per row', min: 1, max: 1024, default: 16 },
  l1: { type: 'number', doc: 'relu: L1 coefficient on the latents (inputs scaled to E‖x‖ = √d_in)', min: 0, max: 1000, default: RELU_L1 },
  // Measured on data/demo/search-5x5 (blocks.0.hook_resid_post at ;, 1,500 steps of 512, `npx
  // searchlight exp run sae`): λ 10, ε 0.01 give L0 26.3 at lr 0.003 (explained variance 0.993, loss
  // recovered 0.998) but L0 94.9 at the default lr 1e-3 (log θ moves about lr a step).
  l0: {
    type: 'number',
    doc: 'jumprelu: L0 coefficient λ (the penalty is λ × active latents per row; inputs scaled to E‖x‖ = √d_in); the thresholds rise at about lr per step, so a sparse SAE wants lr ≈ 0.003 or more steps',
    min: 0,
    max: 1000,
    default: JUMPRELU_L0,
  },
  bandwidth: {
    type: 'number',
    doc: "jumprelu: width ε of the rectangle kernel whose pseudo-derivative trains the thresholds (SAELens' default is 0.001; the thresholds start at 0.001)",
    min: 1e-6,
    max: 10,
    default: JUMPRELU_BANDWIDTH,
  },
  steps: { type: 'int', doc: 'optimiser steps', min: 1, max: 1_000_000, default: 1000 },
  batch: { type: 'int', doc: 'activation rows per step', min: 8, max: 16_384, default: 512 },
  lr: { type: 'number', doc: 'Adam learning rate (β 0.9, 0.999; no decay)', min: 1e-6, max: 1, default: 1e-3 },
  buffer: { type: 'int', doc: 'activation rows held for shuffling (half is refreshed each round)', min: 256, max: 262_144, default: 16_384 },
  resampleEvery: { type: 'int', doc: 'steps between resampling latents that fired on none of them (0: never)', min: 0, max: 1_000_000, default: 250 },
});

export type SaeParams = SchemaParams<typeof paramsSchema>;

/** One logged point of training (every steps/50). */
export interface SaeCurvePoint {
  step: number;
  /** Mean ‖x̂ − x‖² over the steps since the last point, in training units (E‖x‖ = √d_in). */
  mse: number;
  explained_variance: number | null;
  l0: number;
  /** Latents that fired on none of the rows since the last resampling check. */
  dead_fraction: number;
}

/** Measured on the held-out mazes. */
export interface SaeEval {
  mazes: number;
  rows: number;
  mse: number | null;
  explained_variance: number | null;
  l0: number | null;
  /** Latents that fired on none of the held-out rows. */
  dead_fraction: number;
  /** Path cross-entropy (nats per path token): clean, with the SAE spliced in, with the rows zero-ablated. */
  ce_clean: number | null;
  ce_sae: number | null;
  ce_zero: number | null;
  /** (ce_zero − ce_sae) / (ce_zero − ce_clean); null when ablating changes nothing. */
  loss_recovered: number | null;
}

/** A latent's AUC for one category of a property (the best latent for that category). */
export interface SaeCategoryBest {
  /** e.g. "(0,1)-(0,2)" for a connection, "(2,3)" for a cell. */
  category: string;
  /** Held-out rows of the category. */
  rows: number;
  latent: number;
  auc: number | null;
}

/** How well the latents encode one maze property of the rows, category by category. */
export interface SaePropertyScores {
  /** See SAE_PROPERTIES. */
  property: SaeProperty;
  /** Categories with held-out rows (scored). */
  scored: number;
  /** Of those, how many have a latent with AUC ≥ 0.95. */
  above_095: number;
  best: SaeCategoryBest[];
}

/** How the weights came to be: training, or (all zero, curve empty) an import measured as it is. */
type SaeTraining = Pick<
  SaeSummary,
  'steps' | 'rows_trained' | 'mazes_trained' | 'input_scale' | 'resampled' | 'curve' | 'l1_coefficient' | 'l0_coefficient' | 'bandwidth'
>;

export interface SaeSummary {
  kind: 'sae';
  hook: string;
  classes: TokenClass[];
  architecture: SaeArchitecture;
  d_in: number;
  d_sae: number;
  /** Active latents per row of a TopK SAE (null for relu). */
  topk: number | null;
  /** relu only. */
  l1_coefficient: number | null;
  /** jumprelu trained here only: λ of the L0 penalty, and the kernel bandwidth ε. */
  l0_coefficient: number | null;
  bandwidth: number | null;
  steps: number;
  batch: number;
  /** Activation rows and mazes streamed for training. */
  rows_trained: number;
  mazes_trained: number;
  /** The input scale used while training (√d_in / E‖x‖), folded into the stored weights. */
  input_scale: number;
  /** Latents resampled over the run. */
  resampled: number;
  curve: SaeCurvePoint[];
  /** Grid [rows, cols] of the held-out mazes (the categories of `encodes` are its cells and connections). */
  grid: number[];
  eval: SaeEval;
  /** What the latents encode, per property the rows have (tensors auc.<property> [categories, d_sae]). */
  encodes: SaePropertyScores[];
}

/**
 * Maze properties of each row, as categories for scoring latents (scoring.ts): the lattice edge of
 * the adjacency-list entry a row completes (its second cell, or its `;`; latticeEdges order), and
 * the cell a coordinate row names; −1 where a row has none
 * (or its maze is not of the first maze's grid, whose categories these are).
 */
interface RowLabels {
  grid: { rows: number; cols: number };
  /** Per property, each row's category (categoryNames order) or −1 (future: unused, see `future`). */
  by: Record<SaeProperty, Int32Array>;
  /** future: the path rows, and per cell the rows whose remaining path holds it. */
  future: { rows: Int32Array; positives: Int32Array[] };
}

/**
 * The maze properties latents are scored against: connection (the entry a row completes), cell (the
 * cell a coordinate row names), on_solution and degree (of that cell), target and origin (of the
 * row's maze, at every row), and future: the cells still ahead on the solution from a path row
 * (<PATH_START> or a path token), several per row: whether a latent at step t already encodes where
 * the path goes next.
 */
export const SAE_PROPERTIES = ['connection', 'cell', 'on_solution', 'degree', 'target', 'origin', 'future'] as const;
export type SaeProperty = (typeof SAE_PROPERTIES)[number];

/** Rows [n, d_in] of `hook` at `classes` for a set of sequences (row order: sequence, then position). */
async function collectRows(
  engine: OnnxEngine,
  model: InterpModel,
  mazes: readonly SolvedMaze[],
  seqs: readonly Int32Array[],
  hook: string,
  classes: ReadonlySet<TokenClass>,
  d_in: number,
): Promise<{ rows: Float32Array; n: number; positions: number[][]; pathStarts: number[]; labels: RowLabels }> {
  const pathStarts: number[] = [];
  const grid = mazes.length > 0 ? { rows: mazes[0].rows, cols: mazes[0].cols } : { rows: 0, cols: 0 };
  const edgeIndex = new Map(latticeEdges(grid.rows, grid.cols).map(([a, b], i) => [a * 4096 + b, i]));
  const by = Object.fromEntries(SAE_PROPERTIES.map((p) => [p, [] as number[]])) as Record<SaeProperty, number[]>;
  const futureRows: number[] = [];
  const futurePos: number[][] = Array.from({ length: grid.rows * grid.cols }, () => []);
  let rowIndex = 0;
  const positions = seqs.map((s, i) => {
    const m = mazes[i];
    const sp = mapPositions(s, model.vocab, m);
    pathStarts.push(sp.pathStart);
    const sameGrid = m.rows === grid.rows && m.cols === grid.cols;
    const onPath = new Set(m.path.map(([r, c]) => r * m.cols + c));
    const flat = ([r, c]: readonly [number, number]): number => r * m.cols + c;
    // Cells after each path position (the solution as the sequence writes it).
    const ahead = new Map<number, number[]>();
    const pathCells = sp.path.map((t) => sp.cell[t]);
    if (sp.pathStart >= 0)
      ahead.set(
        sp.pathStart,
        pathCells.filter((c) => c >= 0),
      );
    sp.path.forEach((t, j) =>
      ahead.set(
        t,
        pathCells.slice(j + 1).filter((c) => c >= 0),
      ),
    );
    // The entry `a CONN b ;` is known from its second cell on: label that position and the `;`.
    const closes = new Map(sp.edges.flatMap((e) => [[e.sep, e] as const, [e.posB, e] as const]));
    const out: number[] = [];
    sp.classes.forEach((c, t) => {
      if (!classes.has(c)) return;
      out.push(t);
      const e = closes.get(t);
      const cell = sameGrid ? sp.cell[t] : -1;
      by.connection.push(sameGrid && e ? (edgeIndex.get(Math.min(e.a, e.b) * 4096 + Math.max(e.a, e.b)) ?? -1) : -1);
      by.cell.push(cell);
      by.on_solution.push(cell < 0 ? -1 : onPath.has(cell) ? 0 : 1);
      by.degree.push(cell < 0 ? -1 : Math.min(2, Math.max(0, degreeIdx(m, cell) - 1)));
      by.target.push(sameGrid ? flat(m.target) : -1);
      by.origin.push(sameGrid ? flat(m.origin) : -1);
      by.future.push(-1);
      const next = sameGrid ? ahead.get(t) : undefined;
      if (next) {
        futureRows.push(rowIndex);
        for (const c of next) futurePos[c].push(rowIndex);
      }
      rowIndex++;
    });
    return out;
  });
  const n = positions.reduce((a, p) => a + p.length, 0);
  const rows = new Float32Array(n * d_in);
  const offsets: number[] = [];
  let o = 0;
  for (const p of positions) {
    offsets.push(o);
    o += p.length;
  }
  await forEachCached(
    engine,
    seqs,
    [hook],
    (row) => {
      const act = row.get(hook); // [T, d_in]
      positions[row.index].forEach((t, j) => rows.set(act.subarray(t * d_in, (t + 1) * d_in), (offsets[row.index] + j) * d_in));
    },
    { batch: 32 },
  );
  return {
    rows,
    n,
    positions,
    pathStarts,
    labels: {
      grid,
      by: Object.fromEntries(SAE_PROPERTIES.map((p) => [p, Int32Array.from(by[p])])) as Record<SaeProperty, Int32Array>,
      future: { rows: Int32Array.from(futureRows), positives: futurePos.map((r) => Int32Array.from(r)) },
    },
  };
}

/** Mean path cross-entropy (nats per predicted path token, <PATH_END> included) of logits [B, T, V]. */
function pathCE(logits: Float32Array, seqs: readonly Int32Array[], pathStarts: readonly number[], T: number, V: number): { sum: number; n: number } {
  let sum = 0;
  let n = 0;
  seqs.forEach((s, b) => {
    for (let t = pathStarts[b]; t < s.length - 1; t++) {
      const row = logits.subarray((b * T + t) * V, (b * T + t + 1) * V);
      let max = -Infinity;
      for (const v of row) if (v > max) max = v;
      let z = 0;
      for (const v of row) z += Math.exp(v - max);
      sum += Math.log(z) + max - row[s[t + 1]];
      n++;
    }
  });
  return { sum, n };
}

export const sae = defineKind<SaeParams, SaeSummary>({
  kind: 'sae',
  describe:
    "Trains a sparse autoencoder (TopK or ReLU+L1) on one hook at chosen token classes from freshly generated mazes, and measures it on held-out mazes: MSE, explained variance, L0, dead latents and loss recovered; stores W_enc, b_enc, W_dec, b_dec in SAELens' layout.",
  paramsSchema,
  async run(ctx, p, progress) {
    requireUnified(ctx.model, 'sae');
    const { model } = ctx;
    let geo: ReturnType<typeof hookGeometry>;
    try {
      geo = hookGeometry(model.cfg, p.hook);
    } catch (e) {
      throw new InterpError(`params.hook: ${(e as Error).message}`);
    }
    if (geo.layout !== 'btf')
      throw new InterpError(
        `params.hook: ${p.hook} has a head axis or is an attention pattern; an SAE here reads one vector per position (resid, attn_out, mlp_out, hook_post, …)`,
      );
    const d_in = geo.feature;
    const shape: SaeShape = ctx.saeInit?.shape ?? { d_in, d_sae: p.expansion * d_in, architecture: p.architecture, k: p.k };
    if (!ctx.saeInit && p.architecture === 'topk' && p.k > shape.d_sae) throw new InterpError(`params.k: ${p.k} is more than d_sae = ${shape.d_sae}`);
    // A JumpReLU SAE trained here starts every threshold at SAELens' initial value.
    if (!ctx.saeInit && p.architecture === 'jumprelu') shape.threshold = new Float32Array(shape.d_sae).fill(JUMPRELU_INIT_THRESHOLD);
    if (p.buffer < 2 * p.batch) throw new InterpError(`params.buffer: ${p.buffer} rows cannot feed batches of ${p.batch} (need at least 2 × batch)`);
    const classes = new Set<TokenClass>(p.classes);
    const engine = await model.engine();
    const enc: Encoder = encoder(model);
    const rng = new Rng(`sae/${ctx.seed}`);

    const spec = specOf(p);

    // ---- evaluation on held-out mazes (trained or imported weights, acting on raw activations) ----
    const evaluate = async (folded: SaeWeights, training: SaeTraining): Promise<ExperimentResult<SaeSummary>> => {
      const evalMazes = ctx.mazes ? loadMazes(ctx, p) : [...generateMazes(spec, p.count, `sae-eval/${ctx.seed}`)];
      const evalRng = new Rng(`sae-eval-order/${ctx.seed}`);
      const seqs = evalMazes.map((m, i) => enc.encode(m, evalRng, `held-out maze ${i}`));
      const { rows, n, positions, pathStarts, labels } = await collectRows(engine, model, evalMazes, seqs, p.hook, classes, d_in);
      if (n === 0) throw new InterpError(`the held-out mazes have no positions of class ${p.classes.join(', ')}`);
      // The held-out codes are kept whole (scoring ranks every row per latent): bound them up front.
      if (n * shape.d_sae > MAX_HELD_OUT_CODES)
        throw new InterpError(
          `params.count: ${evalMazes.length} held-out mazes give ${n} rows × ${shape.d_sae} latents, over the ${MAX_HELD_OUT_CODES.toLocaleString('en-US')}-value limit of the held-out codes; lower count, classes or expansion`,
        );
      const evalTrainer = await SaeTrainer.create(shape, folded);
      const xh = new Float32Array(n * d_in); // [n, d_in]
      const z = new Float32Array(n * shape.d_sae); // [n, d_sae]
      try {
        // In chunks: ORT's intermediate pre-activations stay the size of one chunk.
        for (let a = 0; a < n; a += EVAL_CHUNK) {
          const b = Math.min(n, a + EVAL_CHUNK);
          const out = await evalTrainer.forward(rows.subarray(a * d_in, b * d_in), b - a);
          xh.set(out.x_hat, a * d_in);
          z.set(out.z, a * shape.d_sae);
        }
      } finally {
        await evalTrainer.dispose();
      }
      const acc = reconAccumulator(d_in);
      const density = new Float32Array(shape.d_sae);
      const meanAct = new Float64Array(shape.d_sae);
      let active = 0;
      for (let r = 0; r < n; r++)
        for (let i = 0; i < shape.d_sae; i++) {
          const v = z[r * shape.d_sae + i];
          if (v > 0) {
            active++;
            density[i]++;
            meanAct[i] += v;
          }
        }
      for (let i = 0; i < shape.d_sae; i++) {
        meanAct[i] = density[i] > 0 ? meanAct[i] / density[i] : 0;
        density[i] /= n;
      }
      accumulate(acc, rows, xh, n, active);
      const recon = stats(acc);
      progress(0.88, 'scoring latents against maze properties');
      const { encodes, aucTensors } = scoreProperties(labels, z, n, shape.d_sae);
      progress(0.9, 'loss recovered: clean, spliced and ablated runs');
      const ce = await lossRecovered(engine, seqs, positions, pathStarts, xh, p.hook, d_in);
      const evalOut: SaeEval = {
        mazes: evalMazes.length,
        rows: n,
        mse: num(recon.mse),
        explained_variance: num(recon.explained_variance),
        l0: num(recon.l0),
        dead_fraction: num(density.reduce((a, d) => a + (d === 0 ? 1 : 0), 0) / shape.d_sae) ?? 0,
        ce_clean: num(ce.clean),
        ce_sae: num(ce.sae),
        ce_zero: num(ce.zero),
        loss_recovered: num(ce.zero - ce.clean > 1e-9 ? (ce.zero - ce.sae) / (ce.zero - ce.clean) : NaN),
      };
      progress(1, `explained variance ${evalOut.explained_variance}, L0 ${evalOut.l0}, loss recovered ${evalOut.loss_recovered}`);
      return {
        summary: {
          kind: 'sae',
          hook: p.hook,
          classes: [...p.classes] as TokenClass[],
          architecture: shape.architecture,
          d_in,
          d_sae: shape.d_sae,
          topk: shape.architecture === 'topk' ? shape.k : null,
          batch: p.batch,
          ...training,
          grid: [labels.grid.rows, labels.grid.cols],
          eval: evalOut,
          encodes,
        },
        tensors: [
          tensor('W_enc', [d_in, shape.d_sae], folded.W_enc),
          tensor('b_enc', [shape.d_sae], folded.b_enc),
          tensor('W_dec', [shape.d_sae, d_in], folded.W_dec),
          tensor('b_dec', [d_in], folded.b_dec),
          ...(shape.architecture === 'jumprelu' ? [tensor('threshold', [shape.d_sae], jumpThreshold(shape))] : []),
          tensor('feature_density', [shape.d_sae], density),
          tensor('feature_mean_activation', [shape.d_sae], meanAct),
          ...aucTensors,
          ...heldOutTensors(seqs, positions, z, n, shape),
          ...latentTensors(z, n, shape.d_sae),
          ...logitWeights(model, shape, folded, d_in),
        ],
      };
    };

    // An SAE brought in from SAELens' layout (format.ts) is measured as it is, untrained.
    if (ctx.saeInit) {
      const init = ctx.saeInit;
      if (init.hook !== p.hook) throw new InterpError(`params.hook: the imported SAE reads ${init.hook}, not ${p.hook}`);
      if (init.shape.d_in !== d_in) throw new InterpError(`the imported SAE's d_in is ${init.shape.d_in}, but ${p.hook} has ${d_in} features`);
      return evaluate(init.weights, {
        steps: 0,
        rows_trained: 0,
        mazes_trained: 0,
        input_scale: 1,
        resampled: 0,
        curve: [],
        l1_coefficient: null,
        l0_coefficient: null,
        bandwidth: null,
      });
    }

    // ---- the activation stream -------------------------------------------------------------
    const source = generateMazes(spec, 0x100000000, `sae-train/${ctx.seed}`);
    let mazesTrained = 0;
    const fresh = async (need: number): Promise<Float32Array> => {
      const out = new Float32Array(need * d_in);
      let have = 0;
      while (have < need) {
        const mazes: SolvedMaze[] = [];
        for (let i = 0; i < 64; i++) mazes.push(source.next().value as SolvedMaze);
        mazesTrained += mazes.length;
        const seqs = mazes.map((m, i) => enc.encode(m, rng, `training maze ${mazesTrained - mazes.length + i}`));
        const { rows, n } = await collectRows(engine, model, mazes, seqs, p.hook, classes, d_in);
        if (n === 0 && mazesTrained >= 64 * 4) throw new InterpError(`no positions of class ${p.classes.join(', ')} in ${mazesTrained} mazes`);
        const take = Math.min(n, need - have);
        out.set(rows.subarray(0, take * d_in), have * d_in);
        have += take;
      }
      return out;
    };
    const N = p.buffer;
    const half = Math.floor(N / 2);
    let buffer = await fresh(N);
    // Scale so that E‖x‖ = √d_in (estimated on the first buffer).
    let normSum = 0;
    for (let r = 0; r < N; r++) {
      let s = 0;
      for (let d = 0; d < d_in; d++) s += buffer[r * d_in + d] ** 2;
      normSum += Math.sqrt(s);
    }
    const scale = normSum > 0 ? Math.sqrt(d_in) / (normSum / N) : 1;
    const scaleRows = (x: Float32Array): Float32Array => {
      for (let i = 0; i < x.length; i++) x[i] *= scale;
      return x;
    };
    scaleRows(buffer);
    const shuffleRows = (): void => {
      const order = rng.shuffle(Int32Array.from({ length: N }, (_, i) => i));
      const next = new Float32Array(N * d_in);
      order.forEach((r, i) => next.set(buffer.subarray(r * d_in, (r + 1) * d_in), i * d_in));
      buffer = next;
    };
    shuffleRows();

    // ---- training ----------------------------------------------------------------------------
    const weights = initSae(shape, new Rng(`sae-init/${ctx.seed}`), { x: buffer, n: Math.min(N, 4096) });
    const trainer = await SaeTrainer.create(shape, weights, { bandwidth: p.bandwidth });
    const curve: SaeCurvePoint[] = [];
    const logEvery = Math.max(1, Math.floor(p.steps / 50));
    let resampled = 0;
    try {
      let cursor = 0;
      let window = { mse: 0, l0: 0, steps: 0, acc: reconAccumulator(d_in) };
      let firedSince = new Float64Array(shape.d_sae);
      for (let step = 1; step <= p.steps; step++) {
        if (cursor + p.batch > half) {
          buffer.set(scaleRows(await fresh(half)), 0);
          shuffleRows();
          cursor = 0;
        }
        const x = buffer.slice(cursor * d_in, (cursor + p.batch) * d_in);
        cursor += p.batch;
        const r = await trainer.step(x, p.batch, p.lr, p.architecture === 'relu' ? p.l1 : p.architecture === 'jumprelu' ? p.l0 : 0);
        for (let i = 0; i < shape.d_sae; i++) firedSince[i] += r.fired[i];
        window.mse += r.mse;
        window.l0 += r.l0;
        window.steps++;
        if (step % logEvery === 0 || step === p.steps) {
          // Explained variance on this step's rows (a fresh forward after the update).
          const { x_hat, z } = await trainer.forward(x, p.batch);
          let active = 0;
          for (const v of z) if (v > 0) active++;
          accumulate(window.acc, x, x_hat, p.batch, active);
          const dead = firedSince.reduce((a, f) => a + (f === 0 ? 1 : 0), 0);
          curve.push({
            step,
            mse: num(window.mse / window.steps) ?? 0,
            explained_variance: num(stats(window.acc).explained_variance),
            l0: num(window.l0 / window.steps) ?? 0,
            dead_fraction: num(dead / shape.d_sae) ?? 0,
          });
          window = { mse: 0, l0: 0, steps: 0, acc: reconAccumulator(d_in) };
        }
        if (p.resampleEvery > 0 && step % p.resampleEvery === 0 && step < p.steps) {
          const dead = [...firedSince.keys()].filter((i) => firedSince[i] === 0);
          if (dead.length > 0) {
            const { x_hat } = await trainer.forward(x, p.batch);
            resampled += trainer.resample(dead, x, x_hat, p.batch, rng);
          }
          firedSince = new Float64Array(shape.d_sae);
        }
        progress(
          (0.85 * step) / p.steps,
          `step ${step} of ${p.steps}: mse ${(window.steps ? window.mse / window.steps : (curve.at(-1)?.mse ?? 0)).toFixed(4)}`,
        );
      }

      return await evaluate(foldScale(shape, trainer.weights, scale), {
        steps: p.steps,
        rows_trained: p.steps * p.batch,
        mazes_trained: mazesTrained,
        input_scale: num(scale) ?? 1,
        resampled,
        curve,
        l1_coefficient: p.architecture === 'relu' ? p.l1 : null,
        l0_coefficient: p.architecture === 'jumprelu' ? p.l0 : null,
        bandwidth: p.architecture === 'jumprelu' ? p.bandwidth : null,
      });
    } finally {
      await trainer.dispose();
    }
  },
});

/**
 * The SaeShape of a stored `sae` result: its summary's sizes and architecture, and for jumprelu its
 * `threshold` tensor (read through `tensor`, which gives undefined for a tensor the result lacks).
 */
export function storedSaeShape(s: Pick<SaeSummary, 'd_in' | 'd_sae' | 'architecture' | 'topk'>, tensor: (name: string) => Float32Array | undefined): SaeShape {
  const shape: SaeShape = { d_in: s.d_in, d_sae: s.d_sae, architecture: s.architecture, k: s.topk ?? 1 };
  if (s.architecture === 'jumprelu') {
    const threshold = tensor('threshold');
    if (!threshold) throw new InterpError('this jumprelu SAE has no threshold tensor');
    shape.threshold = threshold;
  }
  return shape;
}

/** Top-activating held-out rows kept per latent (top.row / top.value). */
export const TOP_ROWS = 16;
/** Bins of each latent's activation histogram over (0, its max]. */
export const HISTOGRAM_BINS = 20;

/**
 * Each latent over every held-out row, from the full codes (the per-row codes of eval.code_* keep
 * only the largest latents of a ReLU row): feature_max [d_sae], feature_histogram [d_sae, 20] (rows
 * it fires on, by activation over (0, max]), top.row / top.value [d_sae, 16] (its largest rows,
 * −1 padded).
 */
function latentTensors(z: Float32Array, n: number, d_sae: number): NamedTensor[] {
  const max = new Float32Array(d_sae);
  for (let r = 0; r < n; r++)
    for (let f = 0; f < d_sae; f++) {
      const v = z[r * d_sae + f];
      if (v > max[f]) max[f] = v;
    }
  const hist = new Float32Array(d_sae * HISTOGRAM_BINS);
  const firing: Array<Array<[number, number]>> = Array.from({ length: d_sae }, () => []);
  for (let r = 0; r < n; r++)
    for (let f = 0; f < d_sae; f++) {
      const v = z[r * d_sae + f];
      if (!(v > 0)) continue;
      hist[f * HISTOGRAM_BINS + Math.min(HISTOGRAM_BINS - 1, Math.floor((v / max[f]) * HISTOGRAM_BINS))]++;
      firing[f].push([v, r]);
    }
  const topRow = new Float32Array(d_sae * TOP_ROWS).fill(-1);
  const topValue = new Float32Array(d_sae * TOP_ROWS);
  firing.forEach((rows, f) => {
    rows.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    rows.slice(0, TOP_ROWS).forEach(([v, r], j) => {
      topRow[f * TOP_ROWS + j] = r;
      topValue[f * TOP_ROWS + j] = v;
    });
  });
  return [
    tensor('feature_max', [d_sae], max),
    tensor('feature_histogram', [d_sae, HISTOGRAM_BINS], hist),
    tensor('top.row', [d_sae, TOP_ROWS], topRow),
    tensor('top.value', [d_sae, TOP_ROWS], topValue),
  ];
}

/** Held-out rows × latents kept in memory for scoring (256 MB of float32). */
const MAX_HELD_OUT_CODES = 64 * 1024 * 1024;
/** Rows per ONNX call when encoding the held-out set. */
const EVAL_CHUNK = 4096;

/** Latents kept per held-out row in eval.code_* (every active one for topk; the largest for relu). */
export const CODES_PER_ROW = 32;

/**
 * The held-out set, compactly, for the feature pages (interp/sae/feature.ts): eval.tokens [mazes, T]
 * (token ids, −1 padded), eval.row_maze / eval.row_position [n] (where each row is), and each row's
 * sparse code as eval.code_latent / eval.code_value [n, c] (latent −1 where a row has fewer).
 */
function heldOutTensors(seqs: readonly Int32Array[], positions: readonly number[][], z: Float32Array, n: number, shape: SaeShape): NamedTensor[] {
  const T = Math.max(1, ...seqs.map((s) => s.length));
  const tokens = new Float32Array(seqs.length * T).fill(-1);
  seqs.forEach((s, i) => tokens.set(s, i * T));
  const rowMaze = new Float32Array(n);
  const rowPos = new Float32Array(n);
  let r = 0;
  positions.forEach((ps, i) => {
    for (const t of ps) {
      rowMaze[r] = i;
      rowPos[r++] = t;
    }
  });
  const c = Math.min(shape.d_sae, shape.architecture === 'topk' ? shape.k : CODES_PER_ROW);
  const latent = new Float32Array(n * c).fill(-1);
  const value = new Float32Array(n * c);
  const order = Array.from({ length: shape.d_sae }, (_, i) => i);
  for (let row = 0; row < n; row++) {
    const zr = z.subarray(row * shape.d_sae, (row + 1) * shape.d_sae);
    const active = order.filter((i) => zr[i] > 0).sort((a, b) => zr[b] - zr[a] || a - b);
    active.slice(0, c).forEach((i, j) => {
      latent[row * c + j] = i;
      value[row * c + j] = zr[i];
    });
  }
  return [
    tensor('eval.tokens', [seqs.length, T], tokens),
    tensor('eval.row_maze', [n], rowMaze),
    tensor('eval.row_position', [n], rowPos),
    tensor('eval.code_latent', [n, c], latent),
    tensor('eval.code_value', [n, c], value),
  ];
}

/** Logit weights (each decoder row through W_U, no final LayerNorm: the direct path) when the hook writes the residual stream: top and bottom 5 token ids and weights [d_sae, 5]. */
function logitWeights(model: InterpModel, shape: SaeShape, w: SaeWeights, d_in: number): NamedTensor[] {
  const WU = model.weights.get('unembed.W_U');
  const V = model.cfg.d_vocab;
  if (!WU || d_in !== model.cfg.d_model) return [];
  const K = Math.min(5, V);
  const top = { id: new Float32Array(shape.d_sae * K), w: new Float32Array(shape.d_sae * K) };
  const bottom = { id: new Float32Array(shape.d_sae * K), w: new Float32Array(shape.d_sae * K) };
  const logits = new Float64Array(V);
  const ids = Array.from({ length: V }, (_, v) => v);
  for (let i = 0; i < shape.d_sae; i++) {
    logits.fill(0);
    for (let d = 0; d < d_in; d++) {
      const x = w.W_dec[i * d_in + d];
      if (x === 0) continue;
      for (let v = 0; v < V; v++) logits[v] += x * WU[d * V + v];
    }
    ids.sort((a, b) => logits[b] - logits[a] || a - b);
    for (let j = 0; j < K; j++) {
      top.id[i * K + j] = ids[j];
      top.w[i * K + j] = logits[ids[j]];
      bottom.id[i * K + j] = ids[V - 1 - j];
      bottom.w[i * K + j] = logits[ids[V - 1 - j]];
    }
  }
  return [
    tensor('logit_weights.top_id', [shape.d_sae, K], top.id),
    tensor('logit_weights.top', [shape.d_sae, K], top.w),
    tensor('logit_weights.bottom_id', [shape.d_sae, K], bottom.id),
    tensor('logit_weights.bottom', [shape.d_sae, K], bottom.w),
  ];
}

/** The categories of a property on a rows × cols grid, in the order of its auc.<property> tensor: "(0,1)-(0,2)", "(2,3)", "fork". */
export function categoryNames(property: SaeProperty, R: number, C: number): string[] {
  const coord = (c: number): string => `(${Math.floor(c / C)},${c % C})`;
  switch (property) {
    case 'connection':
      return latticeEdges(R, C).map(([a, b]) => `${coord(a)}-${coord(b)}`);
    case 'on_solution':
      return ['on the solution', 'off the solution'];
    case 'degree':
      return ['dead end', 'corridor', 'fork'];
    default:
      return Array.from({ length: R * C }, (_, c) => coord(c));
  }
}

/** AUC of every latent for every category of each property the rows have (scoring.ts). */
function scoreProperties(labels: RowLabels, z: Float32Array, n: number, d_sae: number): { encodes: SaePropertyScores[]; aucTensors: NamedTensor[] } {
  const { rows: R, cols: C } = labels.grid;
  const properties = SAE_PROPERTIES.map((property) => ({ property, labels: labels.by[property], names: categoryNames(property, R, C) }));
  const encodes: SaePropertyScores[] = [];
  const aucTensors: NamedTensor[] = [];
  for (const { property, labels: lab, names } of properties) {
    const K = names.length;
    const multi = property === 'future';
    const counts = multi ? Int32Array.from(labels.future.positives, (p) => p.length) : new Int32Array(K);
    if (!multi) for (const l of lab) if (l >= 0 && l < K) counts[l]++;
    if (counts.every((c) => c === 0)) continue; // no row has this property (e.g. no `;` rows)
    const aucs = multi ? multiLabelAucs(z, d_sae, labels.future.rows, labels.future.positives) : categoryAucs(z, n, d_sae, lab, K);
    const best = bestPerCategory(aucs, K, d_sae)
      .map((b, c) => ({ category: names[c], rows: counts[c], latent: b.latent, auc: num(b.auc) }))
      .filter((b) => b.rows > 0);
    encodes.push({ property, scored: best.length, above_095: best.filter((b) => (b.auc ?? 0) >= 0.95).length, best });
    aucTensors.push(tensor(`auc.${property}`, [K, d_sae], aucs));
  }
  return { encodes, aucTensors };
}

/**
 * Weights trained on x·s as weights on x: pre = (x·s − b)·W + c = (x − b/s)·(s·W) + c and
 * x̂ = (z·W_dec + b)/s, so W_enc·s, W_dec/s, b_dec/s (the decoder rows then have norm 1/s).
 */
export function foldScale(shape: SaeShape, w: SaeWeights, s: number): SaeWeights {
  return {
    W_enc: Float32Array.from(w.W_enc, (v) => v * s),
    b_enc: w.b_enc.slice(),
    W_dec: Float32Array.from(w.W_dec, (v) => v / s),
    b_dec: Float32Array.from(w.b_dec, (v) => v / s),
  };
}

/** Path cross-entropy clean, with rows replaced by their reconstructions x̂ [n, d_in], and with them zeroed. */
async function lossRecovered(
  engine: OnnxEngine,
  seqs: readonly Int32Array[],
  positions: readonly number[][],
  pathStarts: readonly number[],
  xh: Float32Array,
  hook: string,
  d_in: number,
): Promise<{ clean: number; sae: number; zero: number }> {
  const V = engine.cfg.d_vocab;
  const totals = { clean: { sum: 0, n: 0 }, sae: { sum: 0, n: 0 }, zero: { sum: 0, n: 0 } };
  let row = 0;
  const B = 16;
  for (let a = 0; a < seqs.length; a += B) {
    const part = seqs.slice(a, a + B);
    const { tokens, B: b, T } = padBatch(part, SPECIAL.PADDING);
    const starts = pathStarts.slice(a, a + B);
    const spliced: Intervention[] = [];
    const zeroed: Intervention[] = [];
    part.forEach((_, j) => {
      const pos = positions[a + j];
      if (pos.length === 0) return;
      const value = new Float32Array(T * d_in);
      pos.forEach((t, i) => value.set(xh.subarray((row + i) * d_in, (row + i + 1) * d_in), t * d_in));
      row += pos.length;
      spliced.push({ hook, kind: 'replace', rows: [j], positions: pos, value });
      zeroed.push({ hook, kind: 'zero', rows: [j], positions: pos });
    });
    const runs: Array<[keyof typeof totals, Float32Array]> = [
      ['clean', await engine.forward(tokens, b, T)],
      ['sae', (await engine.runWithInterventions(tokens, b, T, spliced, { names: [] })).logits],
      ['zero', (await engine.runWithInterventions(tokens, b, T, zeroed, { names: [] })).logits],
    ];
    for (const [k, logits] of runs) {
      const r = pathCE(logits, part, starts, T, V);
      totals[k].sum += r.sum;
      totals[k].n += r.n;
    }
  }
  const mean = (t: { sum: number; n: number }): number => (t.n > 0 ? t.sum / t.n : NaN);
  return { clean: mean(totals.clean), sae: mean(totals.sae), zero: mean(totals.zero) };
}
