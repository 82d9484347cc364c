/**
 * A residual-stream direction as its page shows it (web /experiments/<id>/directions/<index>): one
 * linear probe that the `probes` kind fitted (probes.ts stores each as a direction w on the raw
 * residual with a bias b, its logit w·resid + b). Pure parts, in the manner of a feature page:
 *
 * - `probeDirection`: what the direction is (class, lens layer, hook, target, cell or edge) and its
 *   test scores, read from the stored summary and tensors.
 * - `directionGeometry`: its cosine with the same probe of every other label column (for a cell
 *   target, drawn on the grid: does "target is (2,3)" point like "target is (2,4)"?) and with its own
 *   column's probe at the other layers (where the representation forms), and its logit weights
 *   w·W_U (ignoring the final LayerNorm, as Neuronpedia's feature logits do).
 * - `DirectionActivity`: over mazes, one forward each, the probe's P(label) at every position, its
 *   mean by token class split by the label's truth, the mazes where it is strongest, and its direct
 *   attribution: resid_pre l is exactly embed + pos_embed + Σ_{l′<l} (Σ_h head results + b_O +
 *   mlp_out), so w·resid splits over those components (the "direct feature attribution" of
 *   Elhage et al. 2021 and Kissane et al. 2024, applied to a probe): which heads write the direction,
 *   and which write it more when the label is true.
 */
import { connectedIdx, type SolvedMaze } from '../maze/lattice.js';
import { type Architecture, architecture, type ModelConfig } from '../model/config.js';
import { finiteOrNull, topK } from './collect.js';
import { InterpError } from './context.js';
import { dlaComponents } from './dla.js';
import { classPositions, columnLabel, directionIndexOf, labelPathFrom, latticeEdges, type ProbeClass, type ProbesSummary, type ProbeTarget } from './probes.js';
import { rocAuc } from './sae/scoring.js';
import { Strongest } from './strongest.js';
import { mapPositions, type SequencePositions, TOKEN_CLASSES, type TokenClass } from './positions.js';

type Tensor = { shape: readonly number[]; data: ArrayLike<number> };

/** What the stored probes give one direction: the tensors probes.ts writes under `directions*`. */
export interface ProbeDirectionStore {
  summary: ProbesSummary;
  /** [direction, d_model] */
  directions: Tensor;
  /** [direction] */
  bias: Tensor;
  balanced: Tensor;
  controlBalanced: Tensor;
  /** [direction] test ROC AUC and the control's; absent in runs stored before probes kept them. */
  auc?: Tensor;
  controlAuc?: Tensor;
}

export interface ProbeDirection {
  index: number;
  class: ProbeClass;
  /** The lens layer's index (l < n_layers: resid_pre l; n_layers: the final resid_post) and label. */
  layer: number;
  layerLabel: string;
  hook: string;
  target: ProbeTarget;
  column: number;
  /** Cell targets: the cell [row, col]; edge: null. */
  cell: [number, number] | null;
  /** Edge target: its two cells; else null. */
  edge: [[number, number], [number, number]] | null;
  /** In words, e.g. "cell (2,3) is the target, at path tokens, from blocks.1.hook_resid_pre". */
  label: string;
  /** [d_model] */
  w: Float64Array;
  bias: number;
  norm: number;
  balancedAccuracy: number | null;
  controlBalancedAccuracy: number | null;
  auc: number | null;
  controlAuc: number | null;
}

/** Lens layer label ("resid_pre 1", "resid_post 3") → its index and TransformerLens hook name. */
export function lensLayer(label: string, nLayers: number): { layer: number; hook: string } {
  const m = /^resid_(pre|post) (\d+)$/.exec(label);
  if (!m) throw new InterpError(`probes: layer label ${JSON.stringify(label)} is not "resid_pre l" or "resid_post l"`);
  const l = Number(m[2]);
  return m[1] === 'pre' ? { layer: l, hook: `blocks.${l}.hook_resid_pre` } : { layer: nLayers, hook: `blocks.${l}.hook_resid_post` };
}

const TARGET_WORDS: Record<ProbeTarget, (what: string, klass: ProbeClass) => string> = {
  edge: (e) => `edge ${e} is open`,
  solution: (c) => `cell ${c} is on the solution`,
  // Before the path starts the path still to come is the whole solution (probes.ts fits one probe for both there).
  future: (c, k) => `cell ${c} is on the path still to come${k === 'path' ? '' : ' (before the path: on the solution)'}`,
  target: (c) => `cell ${c} is the target`,
};
const CLASS_WORDS: Record<ProbeClass, string> = { sep: '`;` tokens', adjlist_end: '<ADJLIST_END>', path_start: '<PATH_START>', path: 'path tokens' };

/** Direction `index` of a probes run; an index outside the run's directions is refused. */
export function probeDirection(s: ProbeDirectionStore, index: number, nLayers: number): ProbeDirection {
  const { summary } = s;
  const [rows, cols] = summary.grid;
  const idx = directionIndexOf(summary);
  const D = s.directions.shape[1];
  if (s.directions.shape[0] !== idx.count || s.directions.data.length !== idx.count * D)
    throw new InterpError(`probes: stored directions of shape [${s.directions.shape.join(', ')}] do not match the run's ${idx.count} probes`);
  if (!Number.isInteger(index) || index < 0 || index >= idx.count)
    throw new InterpError(`direction ${index} does not exist: this probes run stored ${idx.count} (indices 0 to ${idx.count - 1})`);
  const at = idx.at(index);
  const klass = summary.classes[at.class];
  const target = summary.targets[at.target];
  const layerLabel = summary.layers[at.layer];
  const { layer, hook } = lensLayer(layerLabel, nLayers);
  const cellOf = (c: number): [number, number] => [Math.floor(c / cols), c % cols];
  let cell: [number, number] | null = null;
  let edge: ProbeDirection['edge'] = null;
  if (target === 'edge') {
    const [a, b] = latticeEdges(rows, cols)[at.column];
    edge = [cellOf(a), cellOf(b)];
  } else cell = cellOf(at.column);
  const w = Float64Array.from({ length: D }, (_, i) => s.directions.data[index * D + i]);
  const bias = s.bias.data[index];
  if (!w.every(Number.isFinite) || !Number.isFinite(bias))
    throw new InterpError(`direction ${index}: the probe's weights are not finite (its fit diverged); rerun the probes with a larger lambda`);
  let ss = 0;
  for (const v of w) ss += v * v;
  return {
    index,
    class: klass,
    layer,
    layerLabel,
    hook,
    target,
    column: at.column,
    cell,
    edge,
    label: `${TARGET_WORDS[target](columnLabel(summary.grid, target, at.column), klass)}, at ${CLASS_WORDS[klass]}, from ${hook}`,
    w,
    bias,
    norm: Math.sqrt(ss),
    balancedAccuracy: finiteOrNull(s.balanced.data[index]),
    controlBalancedAccuracy: finiteOrNull(s.controlBalanced.data[index]),
    auc: s.auc ? finiteOrNull(s.auc.data[index]) : null,
    controlAuc: s.controlAuc ? finiteOrNull(s.controlAuc.data[index]) : null,
  };
}

export interface DirectionCosine {
  index: number;
  column: number;
  /** The lens layer label (acrossLayers) or the column's cell/edge in words (siblings). */
  label: string;
  cosine: number | null;
  balancedAccuracy: number | null;
  auc: number | null;
}

export interface DirectionGeometry {
  /** The same class, layer and target at every label column (this one included), in column order. */
  siblings: DirectionCosine[];
  /** The same class, target and column at every lens layer the run probed, in layer order. */
  acrossLayers: DirectionCosine[];
  /** w·W_U: the tokens the direction raises and lowers most, directly. */
  logitsUp: Array<{ token: number; weight: number }>;
  logitsDown: Array<{ token: number; weight: number }>;
}

/** See the module comment; `W_U` [d_model, d_vocab]. */
export function directionGeometry(s: ProbeDirectionStore, d: ProbeDirection, W_U: Tensor, k = 8): DirectionGeometry {
  const { summary } = s;
  const idx = directionIndexOf(summary);
  const at = idx.at(d.index);
  const D = d.w.length;
  const cos = (j: number): number | null => {
    let dot = 0,
      ss = 0;
    for (let i = 0; i < D; i++) {
      const v = s.directions.data[j * D + i];
      dot += v * d.w[i];
      ss += v * v;
    }
    return ss > 0 && d.norm > 0 ? finiteOrNull(dot / Math.sqrt(ss) / d.norm) : null;
  };
  const aucOf = (j: number): number | null => (s.auc ? finiteOrNull(s.auc.data[j]) : null);
  const siblings = Array.from({ length: summary.label_columns[d.target] ?? 0 }, (_, c) => {
    const j = idx.of(at.class, at.layer, at.target) + c;
    return {
      index: j,
      column: c,
      label: columnLabel(summary.grid, d.target, c),
      cosine: cos(j),
      balancedAccuracy: finiteOrNull(s.balanced.data[j]),
      auc: aucOf(j),
    };
  });
  const acrossLayers = summary.layers.map((label, l) => {
    const j = idx.of(at.class, l, at.target) + at.column;
    return { index: j, column: at.column, label, cosine: cos(j), balancedAccuracy: finiteOrNull(s.balanced.data[j]), auc: aucOf(j) };
  });
  const [Dw, V] = W_U.shape;
  if (Dw !== D) throw new InterpError(`unembed.W_U of shape [${W_U.shape.join(', ')}] does not fit a direction of d_model ${D}`);
  const logits = new Float64Array(V);
  for (let i = 0; i < D; i++) {
    const wi = d.w[i];
    for (let v = 0; v < V; v++) logits[v] += wi * W_U.data[i * V + v];
  }
  const pick = (ids: number[]) => ids.map((v) => ({ token: v, weight: logits[v] }));
  return {
    siblings,
    acrossLayers,
    logitsUp: pick(topK(logits, k)),
    logitsDown: pick(
      topK(
        logits.map((x) => -x),
        k,
      ),
    ),
  };
}

// ---- activity over mazes -------------------------------------------------------------------------

/** Components whose outputs sum to the residual at lens layer `layer`: dla.ts's, up to that layer and without the unembedding's bias. */
export function writerComponents(layer: number, H: number, arch: Pick<Architecture, 'positional' | 'attn_only' | 'normalization'>): string[] {
  return dlaComponents(layer, H, arch).slice(0, -1);
}

/** The hooks one forward must return for `directionActivity`: the direction's residual and its writers' outputs. */
export function directionHooks(d: ProbeDirection, cfg: ModelConfig): string[] {
  const arch = architecture(cfg);
  const out = [d.hook, 'hook_embed'];
  if (arch.positional === 'standard') out.push('hook_pos_embed');
  for (let l = 0; l < d.layer; l++) out.push(`blocks.${l}.attn.hook_result`, ...(arch.attn_only ? [] : [`blocks.${l}.hook_mlp_out`]));
  return out;
}

/** One maze's forward: its ids, the maze, and the hooks `directionHooks` named (batch 1). */
export interface DirectionRun {
  ids: ArrayLike<number>;
  maze: SolvedMaze;
  hooks: ReadonlyMap<string, Tensor>;
}

export interface DirectionExample {
  /** Index into the runs given. */
  maze: number;
  /** The position of the probe's class where P(label) is largest, and that P. */
  position: number;
  value: number;
  /** Whether the label is true there. */
  label: boolean;
  /** [T] P(label) = σ(w·resid + b) at every position. */
  values: Float64Array;
}

export interface DirectionClassValue {
  class: TokenClass;
  /** Mean P(label) where the label is true / false at positions of this class, and how many. */
  meanTrue: number | null;
  nTrue: number;
  meanFalse: number | null;
  nFalse: number;
}

export interface DirectionWriter {
  component: string;
  /** Mean w·(its output) at the probe's class positions where the label is true / false. */
  meanTrue: number | null;
  meanFalse: number | null;
}

export interface DirectionActivityResult {
  positions: number;
  byClass: DirectionClassValue[];
  /** At the probe's own positions; components in writerComponents order. */
  writers: DirectionWriter[];
  /** Positions of the probe's class read, with the label true / false. */
  nTrue: number;
  nFalse: number;
  /** Largest |Σ writers − w·resid| seen (the decomposition is exact up to float error). */
  maxSumError: number;
  /** ROC AUC of P(label) at the probe's class positions, label true against false; null when either is absent. */
  auc: number | null;
  examples: DirectionExample[];
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The label of the direction's column at position t of a maze (probes.ts labelPathFrom: which cells count as to come). */
function labelAt(d: ProbeDirection, maze: SolvedMaze, sp: SequencePositions, t: number): boolean {
  switch (d.target) {
    case 'target':
      return maze.target[0] === d.cell![0] && maze.target[1] === d.cell![1];
    case 'solution':
    case 'future': {
      const [r, c] = d.cell!;
      for (let j = labelPathFrom(d.target, sp, t); j < maze.path.length; j++) if (maze.path[j][0] === r && maze.path[j][1] === c) return true;
      return false;
    }
    case 'edge': {
      const [[r1, c1], [r2, c2]] = d.edge!;
      return connectedIdx(maze, r1 * maze.cols + c1, r2 * maze.cols + c2);
    }
  }
}

/**
 * Accumulates a direction's activity one maze at a time, so a page reads hundreds of mazes without
 * holding their activations (see the module comment for what it measures).
 */
export class DirectionActivity {
  private readonly comps: string[];
  private readonly hasPos: boolean;
  private readonly attnOnly: boolean;
  private readonly sums: Float64Array; // [class, true/false]
  private readonly counts: Float64Array;
  private readonly wSums: Float64Array; // [component, true/false]
  private nTrue = 0;
  private nFalse = 0;
  private positions = 0;
  private maxSumError = 0;
  private readonly best: Strongest<DirectionExample>;
  /** P(label) and the label at every position of the probe's class read (for the window's AUC). */
  private readonly scores: number[] = [];
  private readonly labels: number[] = [];
  private runs = 0;

  constructor(
    private readonly d: ProbeDirection,
    private readonly cfg: ModelConfig,
    private readonly vocab: readonly string[],
    /** blocks.l.attn.b_O [d_model] for l < d.layer */
    private readonly bO: readonly ArrayLike<number>[],
    /** How many of the strongest mazes to keep (the rest are dropped as they come). */
    keep: number,
  ) {
    this.best = new Strongest(keep);
    const arch = architecture(cfg);
    this.hasPos = arch.positional === 'standard';
    this.attnOnly = arch.attn_only;
    this.comps = writerComponents(d.layer, cfg.n_heads, arch);
    this.sums = new Float64Array(TOKEN_CLASSES.length * 2);
    this.counts = new Float64Array(TOKEN_CLASSES.length * 2);
    this.wSums = new Float64Array(this.comps.length * 2);
  }

  add(run: DirectionRun): void {
    const { d, cfg } = this;
    const m = this.runs++;
    const D = cfg.d_model;
    const H = cfg.n_heads;
    const sp = mapPositions(run.ids, this.vocab, run.maze);
    const T = sp.length;
    const get = (name: string, per: number): ArrayLike<number> => {
      const t = run.hooks.get(name);
      if (!t || t.data.length !== T * per) throw new InterpError(`maze ${m}: ${name} is missing or does not fit ${T} tokens`);
      return t.data;
    };
    const resid = get(d.hook, D); // [T, d_model]
    const dot = (x: ArrayLike<number>, o: number): number => {
      let s = 0;
      for (let i = 0; i < D; i++) s += x[o + i] * d.w[i];
      return s;
    };
    const values = new Float64Array(T);
    const labels = new Uint8Array(T); // [T] the label at each position, read again at the probe's class
    for (let t = 0; t < T; t++) {
      const z = dot(resid, t * D) + d.bias;
      if (!Number.isFinite(z)) throw new InterpError(`maze ${m}: ${d.hook} holds non-finite values at position ${t} (a diverged checkpoint?)`);
      values[t] = sigmoid(z);
      const k = TOKEN_CLASSES.indexOf(sp.classes[t]);
      labels[t] = labelAt(d, run.maze, sp, t) ? 1 : 0;
      const y = labels[t] ? 0 : 1; // slot 0: label true
      this.sums[k * 2 + y] += values[t];
      this.counts[k * 2 + y]++;
      this.positions++;
    }
    // Direct attribution at the probe's own positions.
    const embed = get('hook_embed', D);
    const pos = this.hasPos ? get('hook_pos_embed', D) : null;
    const results = Array.from({ length: d.layer }, (_, l) => get(`blocks.${l}.attn.hook_result`, H * D)); // [T, H, d_model]
    const mlps = Array.from({ length: d.layer }, (_, l) => (this.attnOnly ? null : get(`blocks.${l}.hook_mlp_out`, D))); // [T, d_model]
    const bOdots = this.bO.map((b) => dot(b, 0));
    let top: DirectionExample | null = null;
    for (const t of classPositions(d.class, sp)) {
      const y = labels[t] === 1;
      const o = y ? 0 : 1;
      let c = 0;
      let total = 0;
      const put = (v: number): void => {
        this.wSums[c++ * 2 + o] += v;
        total += v;
      };
      put(dot(embed, t * D));
      if (pos) put(dot(pos, t * D));
      for (let l = 0; l < d.layer; l++) {
        for (let h = 0; h < H; h++) put(dot(results[l], (t * H + h) * D));
        put(bOdots[l]);
        const mlp = mlps[l];
        if (mlp) put(dot(mlp, t * D));
      }
      this.maxSumError = Math.max(this.maxSumError, Math.abs(total - dot(resid, t * D)));
      if (y) this.nTrue++;
      else this.nFalse++;
      this.scores.push(values[t]);
      this.labels.push(y ? 1 : 0);
      if (!top || values[t] > top.value) top = { maze: m, position: t, value: values[t], label: y, values };
    }
    if (top) this.best.offer(top);
  }

  result(): DirectionActivityResult {
    const mean = (s: number, n: number): number | null => (n > 0 ? s / n : null);
    const byClass: DirectionClassValue[] = [];
    TOKEN_CLASSES.forEach((k, i) => {
      const [nT, nF] = [this.counts[i * 2], this.counts[i * 2 + 1]];
      if (nT + nF > 0) byClass.push({ class: k, meanTrue: mean(this.sums[i * 2], nT), nTrue: nT, meanFalse: mean(this.sums[i * 2 + 1], nF), nFalse: nF });
    });
    const writers = this.comps.map((component, c) => ({
      component,
      meanTrue: mean(this.wSums[c * 2], this.nTrue),
      meanFalse: mean(this.wSums[c * 2 + 1], this.nFalse),
    }));
    return {
      positions: this.positions,
      byClass,
      writers,
      nTrue: this.nTrue,
      nFalse: this.nFalse,
      maxSumError: this.maxSumError,
      auc: finiteOrNull(rocAuc(this.scores, this.labels)),
      examples: this.best.items(),
    };
  }
}
