/**
 * `probes`: linear (logistic) probes on the residual stream — what can be read off it, where.
 *
 * Samples: one position per maze and token class — a random `;` of the adjacency list, the
 * <ADJLIST_END>, the <PATH_START>, and a random path token (not the last: it must have a future).
 * Features: the residual stream there at each lens layer (blocks.l.hook_resid_pre, and the final
 * resid_post). Targets, one probe per label column (logistic.ts: L2, Böhning-bound steps with Nesterov momentum):
 *   edge      every lattice edge of the grid (down edges, then right edges): is it open?
 *   solution  every cell: is it on the solution?
 *   future    every cell: is it on the path AFTER the current token — the research plan's
 *             "precognition" hypothesis (at the non-path classes this equals `solution` and is
 *             not fitted twice; its rows repeat solution's)
 *   target    every cell: is it the target?
 * Train/test split by maze. Control task (Hewitt & Liang 2019, "Designing and interpreting probes
 * with control tasks"): the same probes on labels shuffled across mazes (one permutation of the
 * label rows), which no feature can predict; selectivity = accuracy − control accuracy. Accuracy is
 * per label column on the test mazes, averaged over columns; `balanced` (mean of TPR and TNR, chance
 * 0.5) is reported beside it because most labels are rare (one target among n cells).
 * For the first test maze every probe's prediction per cell is stored too (`detail.*`), so a cell
 * of the selectivity map opens what the probe reads there, drawn on that maze against the truth.
 * Every probe's weights are stored as a direction on the raw residual stream with its bias and its
 * column's test scores, balanced accuracy and ROC AUC beside the control's (`directions*`), so a probe is a residual direction with a page of its own
 * (direction.ts: where it is present, what writes it, what it writes to the logits).
 */
import { connectedIdx } from '../maze/lattice.js';
import { Rng } from '../maze/rng.js';
import { forEachCached, nanMean, num, residLabel, residName, tensor } from './collect.js';
import { encoder, InterpError, loadMazes, mazeFields, requireUnified } from './context.js';
import { fitLogistic, jsBackend, type LogisticModel, ortBackend, predictLogistic, scoreLogistic, type ProbeScores } from './logistic.js';
import { defineParams, residLayersField, type SchemaParams } from './params.js';
import { mapPositions, type SequencePositions } from './positions.js';
import { defineKind, type NamedTensor } from './types.js';
import { rocAuc } from './sae/scoring.js';

export const PROBE_CLASSES = ['sep', 'adjlist_end', 'path_start', 'path'] as const;
export const PROBE_TARGETS = ['edge', 'solution', 'future', 'target'] as const;
export type ProbeClass = (typeof PROBE_CLASSES)[number];
export type ProbeTarget = (typeof PROBE_TARGETS)[number];

/** Test scores of one probe target at one class and layer (means over its label columns). */
export interface ProbeTargetScores {
  accuracy: number | null;
  balanced: number | null;
  majority: number | null;
  /** The control task's accuracy (shuffled labels). */
  control: number | null;
  selectivity: number | null;
  selectivity_balanced: number | null;
  /** Target only: the most probable cell is the target (chance 1/cells), probe and control. */
  top1?: number | null;
  control_top1?: number | null;
}

/** One value per probe target; a target not probed is absent. */
export type PerProbeTarget<T> = Partial<Record<ProbeTarget, T>>;

/** One (class, layer) of the probes' table: the scores of every target probed, under its name. */
export type ProbeTableRow = { class: ProbeClass; layer: string } & PerProbeTarget<ProbeTargetScores>;

/** `probes`' summary (stored as JSON; served as Experiment.result, ProbesSummary). */
export interface ProbesSummary {
  kind: 'probes';
  mazes: number;
  /** Mazes fitted on and tested on. */
  train: number;
  test: number;
  grid: [number, number];
  classes: ProbeClass[];
  targets: ProbeTarget[];
  /** Lens layer labels, e.g. "resid_pre 0". */
  layers: string[];
  /** Label columns (probes) per target. */
  label_columns: PerProbeTarget<number>;
  /** Classes where "future" is "solution" (every class but path). */
  future_equals_solution_at: ProbeClass[];
  table: ProbeTableRow[];
}

export const paramsSchema = defineParams({
  ...mazeFields(300),
  classes: { type: 'string[]', doc: 'token classes probed', choices: PROBE_CLASSES, enum: 'TokenClass', default: [...PROBE_CLASSES] },
  targets: { type: 'string[]', doc: 'what the probes predict', choices: PROBE_TARGETS, enum: 'ProbeTarget', default: [...PROBE_TARGETS] },
  layers: residLayersField('lens layers'),
  testFraction: { type: 'number', doc: 'fraction of mazes held out for testing', min: 0.05, max: 0.9, default: 0.2 },
  lambda: { type: 'number', doc: 'L2 strength on standardised features', min: 0, max: 100, default: 0.01 },
  iters: { type: 'int', doc: 'optimiser steps per fit (logistic.ts: Böhning bound + Nesterov)', min: 1, max: 10000, default: 100 },
  control: { type: 'bool', doc: 'also fit the shuffled-label control task', default: true },
  backend: {
    type: 'string',
    doc: "where the fits' matrix products run: ONNX Runtime or plain TypeScript",
    choices: ['ort', 'js'],
    enum: 'ProbeBackend',
    default: 'ort',
  },
});

/** The params as run: declared once, by the fields above. */
export type ProbesParams = SchemaParams<typeof paramsSchema>;

/** Lattice edges of a rows × cols grid as flat-cell pairs: all "down" edges, then all "right" edges. */
export function latticeEdges(rows: number, cols: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let c = 0; c < (rows - 1) * cols; c++) out.push([c, c + cols]);
  for (let c = 0; c < rows * cols; c++) if (c % cols < cols - 1) out.push([c, c + 1]);
  return out;
}

export const probes = defineKind<ProbesParams, ProbesSummary>({
  kind: 'probes',
  describe:
    'Logistic probes per layer at `;`, <ADJLIST_END>, <PATH_START> and the current path token for: edge open, cell on the solution, cell on the future path, cell is the target; train/test split by maze, shuffled-label control task, accuracy and selectivity by layer.',
  paramsSchema,
  async run(ctx, p, progress) {
    requireUnified(ctx.model, 'probes');
    const { cfg, vocab } = ctx.model;
    const D = cfg.d_model;
    const mazes = loadMazes(ctx, p);
    const M = mazes.length;
    if (M < 10) throw new InterpError(`params.count: probes need at least 10 mazes, got ${M}`);
    const { rows, cols } = mazes[0];
    if (mazes.some((m) => m.rows !== rows || m.cols !== cols))
      throw new InterpError('probes need mazes of one grid size (label columns are cells and edges of that grid)');
    const n = rows * cols;
    const edges = latticeEdges(rows, cols);
    const rng = new Rng(`probes/${ctx.seed}`);
    const enc = encoder(ctx.model);
    const seqs = mazes.map((m, i) => enc.encode(m, rng, `maze ${i}`));
    const classes = [...new Set(p.classes)],
      targets = [...new Set(p.targets)],
      layers = [...new Set(p.layers)].sort((a, b) => a - b);

    // Sample positions and labels.
    const pos = classes.map(() => new Int32Array(M)); // [class][maze] position probed
    const sps = mazes.map((m, i) => mapPositions(seqs[i], vocab, m));
    mazes.forEach((_, i) => {
      const pathIdx = rng.int(sps[i].path.length - 1); // the sampled path token (not the last: it must have a future)
      classes.forEach((c, ci) => {
        const at = classPositions(c, sps[i]);
        pos[ci][i] = c === 'sep' ? at[rng.int(at.length)] : c === 'path' ? at[pathIdx] : at[0];
      });
    });
    const width: Record<ProbeTarget, number> = { edge: edges.length, solution: n, future: n, target: n };
    const labels = (target: ProbeTarget, ci: number): Uint8Array => {
      const Y = new Uint8Array(M * width[target]);
      mazes.forEach((m, i) => {
        const o = i * width[target];
        if (target === 'edge') edges.forEach(([a, b], k) => (Y[o + k] = connectedIdx(m, a, b) ? 1 : 0));
        else if (target === 'target') Y[o + m.target[0] * cols + m.target[1]] = 1;
        else for (let j = labelPathFrom(target, sps[i], pos[ci][i]); j < m.path.length; j++) Y[o + m.path[j][0] * cols + m.path[j][1]] = 1;
      });
      return Y;
    };

    // Features [class][layer] → [maze, D].
    const engine = await ctx.model.engine();
    const names = layers.map((l) => residName(cfg, l));
    const X = classes.map(() => layers.map(() => new Float32Array(M * D)));
    await forEachCached(
      engine,
      seqs,
      names,
      (row) => {
        layers.forEach((_, li) => {
          const r = row.get(names[li]); // [T, D]
          classes.forEach((_, ci) => X[ci][li].set(r.subarray(pos[ci][row.index] * D, (pos[ci][row.index] + 1) * D), row.index * D));
        });
      },
      { progress, from: 0, to: 0.2, batch: 8 },
    );

    // Split by maze; one label permutation for the control task.
    const order = rng.shuffle(Array.from({ length: M }, (_, i) => i));
    const nTest = Math.max(1, Math.round(M * p.testFraction));
    const test = order.slice(0, nTest),
      train = order.slice(nTest);
    if (train.length < 2) throw new InterpError('params.testFraction leaves fewer than 2 training mazes');
    const perm = rng.shuffle(Array.from({ length: M }, (_, i) => i));
    const take = <A extends Float32Array | Uint8Array>(src: A, idx: number[], w: number, map?: number[]): A => {
      const out = new (src.constructor as new (n: number) => A)(idx.length * w);
      idx.forEach((i, r) => out.set(src.subarray((map ? map[i] : i) * w, ((map ? map[i] : i) + 1) * w), r * w));
      return out;
    };

    const nC = classes.length,
      nL = layers.length,
      nT = targets.length;
    const grids = ['accuracy', 'balanced', 'majority', 'control_accuracy', 'control_balanced', 'top1', 'control_top1'].map(() =>
      new Float32Array(nC * nL * nT).fill(NaN),
    );
    const [acc, bal, maj, cacc, cbal, top1, ctop1] = grids;
    // The first test maze, probe by probe: P(label) per cell for the cell targets, and the truth.
    const detailCells = new Float32Array(nC * nL * nT * n).fill(NaN); // [class, layer, target, cell]
    const detailTruth = new Float32Array(nC * nT * n).fill(NaN); // [class, target, cell]
    // Every probe's direction in the raw residual stream (directions.ts reads them: a direction's page).
    const dirs = probeDirectionIndex(
      nC,
      nL,
      targets.map((t) => width[t]),
    );
    const dirW = new Float32Array(dirs.count * D); // [direction, d_model]
    const dirBias = new Float32Array(dirs.count); // [direction]
    const dirBal = new Float32Array(dirs.count).fill(NaN); // [direction] test balanced accuracy
    const dirCtrl = new Float32Array(dirs.count).fill(NaN); // [direction] the control task's
    // ROC AUC per column on the test mazes: threshold-free, so a rare label (one target cell of 25)
    // scores by how the probe ranks its mazes, where balanced accuracy at 0.5 often reads 0.5.
    const dirAuc = new Float32Array(dirs.count).fill(NaN); // [direction]
    const dirCtrlAuc = new Float32Array(dirs.count).fill(NaN); // [direction] on shuffled labels
    const fits = classes.length * layers.length * (p.control ? 2 : 1);
    let done = 0;
    const backend = p.backend === 'ort' ? await ortBackend() : jsBackend;
    try {
      for (const [ci, klass] of classes.entries()) {
        // Label columns of every target fitted at this class (future aliases solution off the path).
        const fitted = targets.filter((t) => !(t === 'future' && klass !== 'path' && targets.includes('solution')));
        const Ys = fitted.map((t) => labels(t, ci));
        const K = fitted.reduce((s, t) => s + width[t], 0);
        const Y = new Uint8Array(M * K);
        for (let i = 0; i < M; i++) {
          let o = i * K;
          fitted.forEach((t, j) => {
            Y.set(Ys[j].subarray(i * width[t], (i + 1) * width[t]), o);
            o += width[t];
          });
        }
        const offsetOf = (t: ProbeTarget): number => {
          let o = 0;
          for (const f of fitted) {
            if (f === t) break;
            o += width[f];
          }
          return o;
        };
        const group = (s: ProbeScores, key: 'accuracy' | 'balanced' | 'majority', t: ProbeTarget): number =>
          nanMean(s[key].subarray(offsetOf(t), offsetOf(t) + width[t]));
        for (let li = 0; li < layers.length; li++) {
          const Xtr = take(X[ci][li], train, D),
            Xte = take(X[ci][li], test, D);
          for (const control of p.control ? [false, true] : [false]) {
            const Ytr = take(Y, train, K, control ? perm : undefined),
              Yte = take(Y, test, K, control ? perm : undefined);
            const model = await fitLogistic(Xtr, Ytr, train.length, D, K, { lambda: p.lambda, iters: p.iters }, backend);
            const pred = predictLogistic(model, Xte, test.length); // [test, K]
            const s = scoreLogistic(model, Xte, Yte, test.length, Ytr, train.length, pred);
            const column = (a: ArrayLike<number>, k: number): Float64Array => Float64Array.from({ length: test.length }, (_, i) => a[i * K + k]);
            targets.forEach((t, ti) => {
              const o = offsetOf(fitted.includes(t) ? t : 'solution');
              for (let k = 0; k < width[t]; k++) {
                const at = dirs.of(ci, li, ti) + k;
                (control ? dirCtrl : dirBal)[at] = s.balanced[o + k];
                (control ? dirCtrlAuc : dirAuc)[at] = rocAuc(column(pred, o + k), column(Yte, o + k));
                if (!control) rawDirection(model, o + k, dirW.subarray(at * D, (at + 1) * D), dirBias, at);
              }
            });
            // "Which cell is the target" as one 25-way choice: the probe with the highest probability, right
            // or not (chance 1/cells). Per-cell balanced accuracy at threshold 0.5 undersells rare positives.
            const topTarget = fitted.includes('target') ? top1Accuracy(pred, Yte, test.length, K, offsetOf('target'), width.target) : NaN;
            targets.forEach((t, ti) => {
              const src = fitted.includes(t) ? t : 'solution';
              const at = (ci * nL + li) * nT + ti;
              if (!control && t !== 'edge') {
                // The first test maze (row 0): P(label) per cell, and (the same at every layer) the truth.
                const o = offsetOf(src);
                detailCells.set(pred.subarray(o, o + n), at * n);
                if (li === 0) detailTruth.set(Yte.subarray(o, o + n), (ci * nT + ti) * n);
              }
              if (t === 'target') (control ? ctop1 : top1)[at] = topTarget;
              if (control) {
                cacc[at] = group(s, 'accuracy', src);
                cbal[at] = group(s, 'balanced', src);
              } else {
                acc[at] = group(s, 'accuracy', src);
                bal[at] = group(s, 'balanced', src);
                maj[at] = group(s, 'majority', src);
              }
            });
            progress(0.2 + (0.8 * ++done) / fits, `fitted ${klass} layer ${layers[li]}${control ? ' (control)' : ''}`);
          }
        }
      }
    } finally {
      await backend.dispose();
    }
    const sel = acc.map((a, i) => a - cacc[i]),
      selBal = bal.map((b, i) => b - cbal[i]);
    const shape = [nC, nL, nT];
    const tensors: NamedTensor[] = [
      tensor('accuracy', shape, acc), // [class, layer, target] test accuracy, mean over label columns
      tensor('balanced_accuracy', shape, bal), // [class, layer, target]
      tensor('majority_accuracy', shape, maj), // [class, layer, target] always-majority baseline
      tensor('control_accuracy', shape, cacc), // [class, layer, target] shuffled labels
      tensor('control_balanced_accuracy', shape, cbal),
      tensor('selectivity', shape, sel), // accuracy − control accuracy
      tensor('selectivity_balanced', shape, selBal),
      tensor('top1_accuracy', shape, top1), // [class, layer, target] target only: the most probable cell is the target (chance 1/cells)
      tensor('control_top1_accuracy', shape, ctop1),
      tensor('detail.tokens', [seqs[test[0]].length], seqs[test[0]]), // [pos] token ids of the first test maze
      tensor(
        'detail.position',
        [nC],
        classes.map((_, ci) => pos[ci][test[0]]),
      ), // [class] the position probed in it
      tensor('detail.cells', [nC, nL, nT, n], detailCells), // [class, layer, target, cell] P(label); NaN for edge
      tensor('detail.truth', [nC, nT, n], detailTruth), // [class, target, cell] 0/1; NaN for edge
      tensor('directions', [dirs.count, D], dirW), // [direction, d_model] each probe's weights on the raw residual
      tensor('directions.bias', [dirs.count], dirBias), // [direction] logit = directions · resid + bias
      tensor('directions.balanced', [dirs.count], dirBal), // [direction] test balanced accuracy of its column
      tensor('directions.control_balanced', [dirs.count], dirCtrl), // [direction] the same on shuffled labels
      tensor('directions.auc', [dirs.count], dirAuc), // [direction] test ROC AUC of its column
      tensor('directions.control_auc', [dirs.count], dirCtrlAuc), // [direction] the same on shuffled labels
    ];
    const table = classes.flatMap((klass, ci) =>
      layers.map(
        (l, li): ProbeTableRow => ({
          class: klass,
          layer: residLabel(cfg, l),
          ...Object.fromEntries(
            targets.map((t, ti): [ProbeTarget, ProbeTargetScores] => {
              const at = (ci * nL + li) * nT + ti;
              return [
                t,
                {
                  accuracy: num(acc[at]),
                  balanced: num(bal[at]),
                  majority: num(maj[at]),
                  control: num(cacc[at]),
                  selectivity: num(sel[at]),
                  selectivity_balanced: num(selBal[at]),
                  ...(t === 'target' ? { top1: num(top1[at]), control_top1: num(ctop1[at]) } : {}),
                },
              ];
            }),
          ),
        }),
      ),
    );
    return {
      summary: {
        kind: 'probes',
        mazes: M,
        train: train.length,
        test: test.length,
        grid: [rows, cols],
        classes,
        targets,
        layers: layers.map((l) => residLabel(cfg, l)),
        label_columns: Object.fromEntries(targets.map((t) => [t, width[t]])),
        future_equals_solution_at: classes.filter((c) => c !== 'path'),
        table,
      } satisfies ProbesSummary,
      tensors,
    };
  },
});

/**
 * Where each probe's direction is stored: directions are numbered class-major, then layer, then
 * target (the summary's orders), then label column, so `of(class, layer, target) + column` is a
 * direction's index. "future" off the path repeats "solution"'s probes (one fit, two names).
 */
export function probeDirectionIndex(classes: number, layers: number, widths: readonly number[]) {
  const perLayer = widths.reduce((a, b) => a + b, 0);
  const starts = widths.map((_, t) => widths.slice(0, t).reduce((a, b) => a + b, 0));
  return {
    count: classes * layers * perLayer,
    of: (c: number, l: number, t: number): number => (c * layers + l) * perLayer + starts[t],
    /** The inverse of `of(…) + column`. */
    at(i: number): { class: number; layer: number; target: number; column: number } {
      const c = Math.floor(i / (layers * perLayer));
      const l = Math.floor(i / perLayer) % layers;
      let r = i % perLayer;
      let t = 0;
      while (r >= widths[t]) r -= widths[t++];
      return { class: c, layer: l, target: t, column: r };
    },
  };
}

/** The positions of a maze a probe class reads (probes sample one per maze; a direction's page reads all); a path token must have a future, so the last is left out. */
export function classPositions(k: ProbeClass, sp: SequencePositions): number[] {
  return k === 'sep' ? sp.seps : k === 'adjlist_end' ? [sp.adjlistEnd] : k === 'path_start' ? [sp.pathStart] : sp.path.slice(0, -1);
}

/**
 * From which index of the solution path a solution or future label at position t counts its cells:
 * `solution` always the whole path; `future` at a path token the cells after it, up to <PATH_START>
 * the whole solution (the path still to come), after the path (<PATH_END>) none (Infinity).
 */
export function labelPathFrom(target: 'solution' | 'future', sp: SequencePositions, t: number): number {
  if (target === 'solution') return 0;
  const j = sp.path.indexOf(t);
  return j >= 0 ? j + 1 : t <= sp.pathStart ? 0 : Number.POSITIVE_INFINITY;
}

/** The numbering of a stored run's probes (probeDirectionIndex over its summary's classes, layers and target widths). */
export function directionIndexOf(s: Pick<ProbesSummary, 'classes' | 'layers' | 'targets' | 'label_columns'>) {
  return probeDirectionIndex(
    s.classes.length,
    s.layers.length,
    s.targets.map((t) => s.label_columns[t] ?? 0),
  );
}

/** A label column in words: a cell "(r,c)", or an edge "(r,c)-(r,c)" (latticeEdges' order). */
export function columnLabel(grid: readonly number[], target: ProbeTarget, column: number): string {
  const cols = grid[1];
  const at = (c: number): string => `(${Math.floor(c / cols)},${c % cols})`;
  if (target !== 'edge') return at(column);
  const [a, b] = latticeEdges(grid[0], cols)[column];
  return `${at(a)}-${at(b)}`;
}

/**
 * Output k of a probe fitted on standardised features as a direction on the raw residual:
 * σ(Σ_d (x_d − μ_d)/σ_d·W_dk + b_k) = σ(w·x + b) with w_d = W_dk/σ_d, b = b_k − Σ_d μ_d·w_d.
 */
function rawDirection(model: LogisticModel, k: number, w: Float32Array, bias: Float32Array, at: number): void {
  const { D, K, W, mean, std } = model;
  let b = W[D * K + k];
  for (let d = 0; d < D; d++) {
    w[d] = W[d * K + k] / std[d];
    b -= mean[d] * w[d];
  }
  bias[at] = b;
}

/** Rows [M] whose most probable column in [o, o + w) of P [M, K] is a 1 in Y [M, K]; rows without a 1 there are skipped. */
export function top1Accuracy(P: ArrayLike<number>, Y: ArrayLike<number>, M: number, K: number, o: number, w: number): number {
  let right = 0,
    rows = 0;
  for (let i = 0; i < M; i++) {
    let best = o,
      any = false;
    for (let k = o; k < o + w; k++) {
      if (P[i * K + k] > P[i * K + best]) best = k;
      if (Y[i * K + k] === 1) any = true;
    }
    if (!any) continue;
    rows++;
    if (Y[i * K + best] === 1) right++;
  }
  return rows ? right / rows : NaN;
}
