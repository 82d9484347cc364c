/**
 * One model component as its page shows it (web /models/<id>/components/<name>): a head, an MLP
 * layer or one MLP neuron, named as DLA names components (`L1H0`, `L1.mlp`, and `L0N17` for a
 * neuron). Two pure parts, in the manner of Neuronpedia's feature pages:
 *
 * - `componentEvidence`: what the model's stored experiments measured about the component, read
 *   from each kind's summary or aggregate tensor (DLA by class, patching and path-patching means,
 *   adjacency ranks, QK correlations, attention mass by class), each with its rank among its peers
 *   where a rank means something.
 * - `ComponentActivityAccumulator`: how it behaves over a set of mazes, one forward per maze:
 *   a head's attention from path positions summed onto key token classes and cells, an MLP
 *   layer's output norm or a neuron's activation per position; the mazes where it is strongest,
 *   with its per-cell heat to draw on them.
 */
import { finiteOrNull } from './collect.js';
import { InterpError } from './context.js';
import { type PathPatchingSummary, receiverNames } from './path-patching.js';
import { mapPositions, type SequencePositions, TOKEN_CLASSES, type TokenClass } from './positions.js';
import { cellHeat } from './sae/feature.js';
import { Strongest } from './strongest.js';

export type ComponentRef = { kind: 'head'; layer: number; head: number } | { kind: 'mlp'; layer: number } | { kind: 'neuron'; layer: number; neuron: number };

export interface ComponentShape {
  n_layers: number;
  n_heads: number;
  /** null/undefined: attention-only. */
  d_mlp?: number | null;
  attn_only?: boolean;
}

/** `L1H0` | `L1.mlp` (or `MLP1`) | `L0N17` → the component, checked against the model's shape. */
export function parseComponent(name: string, s: ComponentShape): ComponentRef {
  const range = (what: string, v: number, n: number): void => {
    if (v >= n) throw new InterpError(`component ${JSON.stringify(name)}: ${what} ${v} does not exist (the model has ${n})`);
  };
  let m: RegExpExecArray | null;
  const mlpLess = s.attn_only || !s.d_mlp;
  if ((m = /^L(\d+)H(\d+)$/.exec(name))) {
    const ref = { kind: 'head' as const, layer: Number(m[1]), head: Number(m[2]) };
    range('layer', ref.layer, s.n_layers);
    range('head', ref.head, s.n_heads);
    return ref;
  }
  if ((m = /^(?:L(\d+)\.mlp|MLP(\d+))$/.exec(name))) {
    const ref = { kind: 'mlp' as const, layer: Number(m[1] ?? m[2]) };
    if (mlpLess) throw new InterpError(`component ${JSON.stringify(name)}: the model is attention-only (no MLPs)`);
    range('layer', ref.layer, s.n_layers);
    return ref;
  }
  if ((m = /^L(\d+)N(\d+)$/.exec(name))) {
    const ref = { kind: 'neuron' as const, layer: Number(m[1]), neuron: Number(m[2]) };
    if (mlpLess) throw new InterpError(`component ${JSON.stringify(name)}: the model is attention-only (no MLP neurons)`);
    range('layer', ref.layer, s.n_layers);
    range('neuron', ref.neuron, s.d_mlp as number);
    return ref;
  }
  throw new InterpError(
    `component ${JSON.stringify(name)} is not a component name: write L<layer>H<head> (a head), L<layer>.mlp (an MLP) or L<layer>N<neuron> (a neuron)`,
  );
}

export function componentName(c: ComponentRef): string {
  return c.kind === 'head' ? `L${c.layer}H${c.head}` : c.kind === 'mlp' ? `L${c.layer}.mlp` : `L${c.layer}N${c.neuron}`;
}

/** One stored experiment of the model: its kind, summary, and a reader of its result tensors by name. */
export interface StoredExperiment {
  id: number;
  kind: string;
  summary: unknown;
  read(name: string): Promise<{ shape: readonly number[]; data: ArrayLike<number> } | undefined>;
}

export interface ComponentMeasure {
  experimentId: number;
  kind: string;
  /** What was measured, in words (with the experiment's setting where it matters, e.g. its pair kind). */
  measure: string;
  value: number | null;
  /** 1 = the largest |value| among `of` peers (heads, or DLA's components); null where unranked. */
  rank: number | null;
  of: number | null;
}

/** Rank of entry `i` of `values` by |value|, descending (NaN last), and how many were finite. */
function rankOf(values: ArrayLike<number>, i: number): { rank: number | null; of: number } {
  let of = 0;
  let above = 0;
  const v = Math.abs(values[i]);
  for (let j = 0; j < values.length; j++) {
    const w = Math.abs(values[j]);
    if (!Number.isFinite(w)) continue;
    of++;
    if (w > v || (w === v && j < i)) above++;
  }
  return { rank: Number.isFinite(v) ? above + 1 : null, of };
}

type Summary = Record<string, unknown>;

/**
 * Every measurement the experiments made about `c`, in the order given (newest experiment first is
 * the caller's order). Experiments without a summary or without the tensors a measure needs (runs
 * stored before those tensors existed) contribute nothing rather than failing the page.
 */
export async function componentEvidence(c: ComponentRef, experiments: readonly StoredExperiment[], s: ComponentShape): Promise<ComponentMeasure[]> {
  const out: ComponentMeasure[] = [];
  const L = s.n_layers;
  const H = s.n_heads;
  for (const e of experiments) {
    const sum = (e.summary ?? null) as Summary | null;
    if (!sum) continue;
    const add = (measure: string, value: number, rank: { rank: number | null; of: number } | null = null): void => {
      out.push({ experimentId: e.id, kind: e.kind, measure, value: finiteOrNull(value), rank: rank?.rank ?? null, of: rank?.of ?? null });
    };
    const hIndex = c.kind === 'head' ? c.layer * H + c.head : -1;
    switch (e.kind) {
      case 'dla': {
        const comps = (sum.components as string[] | undefined) ?? [];
        const name = c.kind === 'neuron' ? '' : componentName(c);
        const j = comps.indexOf(name);
        const t = j >= 0 ? await e.read('by_class') : undefined; // [class, component]
        if (!t) break;
        const classes = (sum.classes as string[] | undefined) ?? [];
        const C = comps.length;
        classes.forEach((cls, k) => {
          if (cls !== 'fork' && cls !== 'corridor') return;
          const row = Array.from({ length: C }, (_, i) => t.data[k * C + i]);
          add(`mean direct logit attribution at ${cls === 'fork' ? 'forks' : 'corridors'}`, row[j], rankOf(row, j));
        });
        break;
      }
      case 'activation-patching':
      case 'attribution-patching': {
        const pair = String(sum.pair ?? '?');
        const method = e.kind === 'activation-patching' ? 'patching' : 'attribution patching';
        const classes = (sum.classes as string[] | undefined) ?? [];
        const nC = classes.length;
        if (c.kind === 'head') {
          const all = await e.read('head_all_pos.mean'); // [layer, head]
          if (all && all.data.length === L * H)
            add(`mean normalised ${method} effect, all positions (${pair} pairs)`, all.data[hIndex], rankOf(all.data, hIndex));
          const byPos = await e.read('head_by_pos.by_class'); // [layer, class, head]
          if (byPos && byPos.data.length === L * nC * H)
            strongestClass(classes, (k) => byPos.data[(c.layer * nC + k) * H + c.head], `${method} effect at`, pair, add);
        } else if (c.kind === 'mlp') {
          const t = await e.read('mlp_out.by_class'); // [layer, class]
          if (t && t.data.length === L * nC) strongestClass(classes, (k) => t.data[c.layer * nC + k], `${method} effect of mlp_out at`, pair, add);
        }
        break;
      }
      case 'path-patching': {
        if (c.kind !== 'head') break;
        const t = await e.read('senders.mean'); // [layer, head]
        if (!t || t.data.length !== L * H) break;
        const { names, layer } = receiverNames(sum.receivers as PathPatchingSummary['receivers'], H);
        const to = layer === null ? 'the logits' : `heads ${names.join(', ')}`;
        add(`mean normalised path-patching effect as a sender to ${to} (${String(sum.pair ?? '?')} pairs)`, t.data[hIndex], rankOf(t.data, hIndex));
        break;
      }
      case 'adjacency-heads': {
        if (c.kind !== 'head') break;
        const rows = (sum.ranked as Array<{ rank: number; layer: number; head: number; lattice: number | null; lift: number | null }> | undefined) ?? [];
        const row = rows.find((r) => r.layer === c.layer && r.head === c.head);
        if (!row) break;
        out.push({
          experimentId: e.id,
          kind: e.kind,
          measure: 'attention on lattice neighbours (rank by mass)',
          value: row.lattice ?? null,
          rank: row.rank,
          of: rows.length,
        });
        if (row.lift !== null && row.lift !== undefined) add('lattice-neighbour attention ÷ chance', row.lift);
        break;
      }
      case 'weights': {
        if (c.kind !== 'head') break;
        const heads = (sum.heads as Array<{ layer: number; head: number; qk_lattice_adjacency_corr: number | null }> | undefined) ?? [];
        const i = heads.findIndex((h) => h.layer === c.layer && h.head === c.head);
        if (i < 0) break;
        const corr = heads.map((h) => h.qk_lattice_adjacency_corr ?? NaN);
        add('QK correlation with lattice adjacency (weights only)', corr[i], rankOf(corr, i));
        break;
      }
      case 'attention': {
        if (c.kind !== 'head') break;
        const layers = (sum.layers as number[] | undefined) ?? [];
        const li = layers.indexOf(c.layer);
        const classes = (sum.classes as string[] | undefined) ?? [];
        const t = li >= 0 ? await e.read('class_mass') : undefined; // [layer (of `layers`), head, class]
        const nC = classes.length;
        if (!t || t.data.length !== layers.length * H * nC) break;
        let best = -1;
        for (let k = 0; k < nC; k++) if (best < 0 || t.data[(li * H + c.head) * nC + k] > t.data[(li * H + c.head) * nC + best]) best = k;
        if (best >= 0)
          add(
            `mean attention from ${String(sum.query ?? 'the query')} onto ${classes[best]} tokens (its largest class)`,
            t.data[(li * H + c.head) * nC + best],
          );
        break;
      }
    }
  }
  return out;
}

/** Adds the class with the largest |value| (of the finite ones) as one measure. */
function strongestClass(classes: readonly string[], value: (k: number) => number, what: string, pair: string, add: (m: string, v: number) => void): void {
  let best = -1;
  for (let k = 0; k < classes.length; k++) {
    const v = value(k);
    if (Number.isFinite(v) && (best < 0 || Math.abs(v) > Math.abs(value(best)))) best = k;
  }
  if (best >= 0) add(`largest mean normalised ${what} ${classes[best]} positions (${pair} pairs)`, value(best));
}

/** The hook a component's activity is read from (TransformerLens names). */
export function activityHook(c: ComponentRef): string {
  return c.kind === 'head' ? `blocks.${c.layer}.attn.hook_pattern` : c.kind === 'mlp' ? `blocks.${c.layer}.hook_mlp_out` : `blocks.${c.layer}.mlp.hook_post`;
}

/** One maze's forward: its token ids and the activity hook's tensor (batch 1). */
export interface MazeRun {
  ids: ArrayLike<number>;
  rows: number;
  cols: number;
  /** head: pattern [1, n_heads, T, T]; mlp: hook_mlp_out [1, T, d_model]; neuron: hook_post [1, T, d_mlp]. */
  hook: { shape: readonly number[]; data: ArrayLike<number> };
}

export interface ActivityExample {
  /** Index into the runs given. */
  maze: number;
  /** The strongest position: a head's query (a path token), an MLP's or neuron's position. */
  position: number;
  /** Attention mass on one cell (head), output norm (mlp) or activation (neuron) there. */
  value: number;
  /** head: the cell it attends most from that query, [row, col]; else null. */
  cell: [number, number] | null;
  /** [rows·cols] what is drawn on the maze: the query's attention per cell (head), else the value per cell (cellHeat). */
  heat: Float64Array;
  /** [T] per position: the query's attention on each key (head), else the value at each position. */
  values: Float64Array;
}

export interface ComponentActivity {
  /** Positions read over all mazes: path queries for a head, every position otherwise. */
  positions: number;
  /** What `byClass` holds, in words. */
  byClassMeasure: string;
  /** Per token class (TOKEN_CLASSES order; classes with no position are left out). */
  byClass: Array<{ class: TokenClass; value: number; n: number }>;
  /** The `count` mazes where the component is strongest, strongest first. */
  examples: ActivityExample[];
}

/**
 * How `c` behaves over mazes (as `vocab` ids, each on its grid), one maze at a time so a page reads
 * hundreds without holding their activations: see the module comment. A head's `byClass` is the
 * mean attention from path positions onto each key class (summing to 1 over classes); an MLP's or
 * neuron's is the mean value at positions of each class.
 */
export class ComponentActivityAccumulator {
  private readonly sums = new Float64Array(TOKEN_CLASSES.length);
  private readonly counts = new Float64Array(TOKEN_CLASSES.length);
  private readonly seen = new Uint8Array(TOKEN_CLASSES.length); // head: key classes that occur (a class attended 0 is still a row)
  private positions = 0;
  private runs = 0;
  /** The `count` strongest mazes so far, strongest first. */
  private readonly best: Strongest<ActivityExample>;

  constructor(
    private readonly c: ComponentRef,
    private readonly vocab: readonly string[],
    count: number,
  ) {
    this.best = new Strongest(count);
  }

  add(run: MazeRun): void {
    const { c, sums, counts, seen } = this;
    const m = this.runs++;
    const sp = mapPositions(run.ids, this.vocab, run);
    const T = sp.length;
    const classIndex = sp.classes.map((k) => TOKEN_CLASSES.indexOf(k));
    let top: ActivityExample | null = null;
    if (c.kind === 'head') {
      const [, H, Tq, Tk] = run.hook.shape;
      if (run.hook.shape.length !== 4 || Tq !== T || Tk !== T || c.head >= H)
        throw new InterpError(`maze ${m}: pattern of shape [${run.hook.shape.join(', ')}] does not fit ${T} tokens`);
      for (const q of sp.path) {
        const row = (c.head * T + q) * T;
        const heat = new Float64Array(sp.rows * sp.cols);
        for (let k = 0; k <= q; k++) {
          const a = run.hook.data[row + k];
          sums[classIndex[k]] += a;
          seen[classIndex[k]] = 1;
          if (sp.cell[k] >= 0) heat[sp.cell[k]] += a;
        }
        this.positions++;
        let cell = 0;
        for (let i = 1; i < heat.length; i++) if (heat[i] > heat[cell]) cell = i;
        if (!top || heat[cell] > top.value) {
          const values = Float64Array.from({ length: T }, (_, k) => (k <= q ? run.hook.data[row + k] : 0));
          top = { maze: m, position: q, value: heat[cell], cell: [Math.floor(cell / sp.cols), cell % sp.cols], heat, values };
        }
      }
    } else {
      const [, Tt, D] = run.hook.shape;
      if (run.hook.shape.length !== 3 || Tt !== T)
        throw new InterpError(`maze ${m}: activation of shape [${run.hook.shape.join(', ')}] does not fit ${T} tokens`);
      const values = new Float64Array(T);
      for (let t = 0; t < T; t++) {
        let v: number;
        if (c.kind === 'neuron') v = run.hook.data[t * D + c.neuron];
        else {
          let ss = 0;
          for (let d = 0; d < D; d++) ss += run.hook.data[t * D + d] ** 2;
          v = Math.sqrt(ss);
        }
        values[t] = v;
        sums[classIndex[t]] += v;
        counts[classIndex[t]]++;
        this.positions++;
      }
      let p = 0;
      for (let t = 1; t < T; t++) if (values[t] > values[p]) p = t;
      top = { maze: m, position: p, value: values[p], cell: null, heat: heatOf(sp, values), values };
    }
    if (top) this.best.offer(top);
  }

  result(): ComponentActivity {
    const { c, sums, counts, seen, positions } = this;
    const byClass: ComponentActivity['byClass'] = [];
    TOKEN_CLASSES.forEach((k, i) => {
      // A head's mass on a class is averaged over every query (the classes' values sum to 1).
      if (c.kind === 'head' ? seen[i] && positions > 0 : counts[i] > 0)
        byClass.push({ class: k, value: sums[i] / (c.kind === 'head' ? positions : counts[i]), n: c.kind === 'head' ? positions : counts[i] });
    });
    return {
      positions,
      byClassMeasure:
        c.kind === 'head'
          ? 'mean attention from path positions onto tokens of each class'
          : c.kind === 'mlp'
            ? 'mean ‖mlp_out‖ at positions of each class'
            : 'mean activation (hook_post) at positions of each class',
      byClass,
      examples: this.best.items(),
    };
  }
}

/** cellHeat takes positive values only; a neuron can be most active below zero, so draw |value|. */
function heatOf(sp: SequencePositions, values: Float64Array): Float64Array {
  return cellHeat(
    sp,
    values.map((v) => Math.abs(v)),
  );
}
