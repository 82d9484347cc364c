/**
 * The `sae-intervention` experiment kind (issue 19): does the model *use* what an SAE's connection
 * latents encode? Spies et al. 2024 (§5) set connection features to add a connection the maze
 * lacks, or zeroed them to remove one it has, and watched the model's plan change. Here, on each
 * held-out maze, with the SAE's error term kept (intervene.ts):
 *
 *   remove: a connection the model's own path uses, whose latent fires in the prompt: zero that
 *           latent where it fires; does the path now avoid the connection?
 *   add:    a wall beside the model's own path whose connection has a latent: set that latent to
 *           `scale` × its mean activation at every row of the SAE's token classes; does the path
 *           now cross the wall?
 *
 * Each has a control on the same maze and positions: a random other latent (one firing there for
 * remove, any live one for add) edited the same way. A connection's latent is its best latent by
 * ROC AUC on the SAE's held-out rows (auc.connection), when that AUC is at least `minAuc`.
 */
import { Rng } from '../../maze/rng.js';
import { connectedIdx, type SolvedMaze } from '../../maze/lattice.js';
import { generate, type Intervention } from '../../model/engine.js';
import { forEachCached, num, tensor } from '../collect.js';
import { encoder, InterpError, loadMazes, mazeFields, requireUnified } from '../context.js';
import { defineParams, type SchemaParams } from '../params.js';
import { cellOfToken, mapPositions, type TokenClass } from '../positions.js';
import { latticeEdges } from '../probes.js';
import { hookGeometry } from '../../model/hooks.js';
import { defineKind, type StoredSae } from '../types.js';
import { deltaIntervention, type FeatureEdit, featureDeltas } from './intervene.js';
import { activate, preActivations, type SaeShape, type SaeWeights } from './sae.js';
import { bestPerCategory } from './scoring.js';
import { storedSaeShape } from './kind.js';

export const paramsSchema = defineParams({
  ...mazeFields(100, 5000),
  sae: { type: 'int', doc: 'row id of the completed sae experiment (Experiment:<id>) on this model whose latents are edited', min: 1, max: 2 ** 31 - 1 },
  minAuc: { type: 'number', doc: "a connection's best latent is used when its ROC AUC is at least this", min: 0.5, max: 1, default: 0.95 },
  scale: { type: 'number', doc: 'add: the latent is set to scale × its mean activation where it fires', min: 0, max: 100, default: 1 },
});

export type SaeInterventionParams = SchemaParams<typeof paramsSchema>;

/** Outcomes of one kind of edit over the mazes that allowed it. */
export interface SaeInterventionOutcome {
  trials: number;
  /** remove: paths that no longer use the connection; add: paths that cross the wall. */
  changed: number;
  rate: number | null;
  /** The same, with a random other latent edited at the same positions. */
  control_changed: number;
  control_rate: number | null;
  /** Edited paths that are still valid (every step along an open connection, or the added one). */
  valid: number;
  /** Changed paths that are still valid: the model re-planned, rather than broke. */
  changed_valid: number;
}

export interface SaeInterventionSummary {
  kind: 'sae-intervention';
  /** The SAE's experiment row id. */
  sae: number;
  hook: string;
  mazes: number;
  /** Connections with a latent at AUC ≥ minAuc. */
  connection_latents: number;
  min_auc: number;
  /** Mazes whose unedited path was valid and reached the target (the others are left out). */
  solved: number;
  remove: SaeInterventionOutcome;
  add: SaeInterventionOutcome;
}

type Need = 'W_enc' | 'b_enc' | 'W_dec' | 'b_dec' | 'auc.connection' | 'feature_mean_activation';

function sae(s: StoredSae | undefined, id: number | undefined): { shape: SaeShape; w: SaeWeights; t: (n: Need) => Float32Array } {
  if (!s)
    throw new InterpError(
      id === undefined
        ? 'params.sae: give the row id of a completed sae experiment on this model (Experiment:<id>); the CLI takes --sae result.json instead'
        : `params.sae: Experiment:${id} was not loaded (run the kind through the API, or pass --sae to the CLI)`,
    );
  const t = (n: Need): Float32Array => {
    const x = s.tensors.get(n);
    if (!x)
      throw new InterpError(
        `params.sae: Experiment:${s.id} has no ${n} tensor${n === 'auc.connection' ? ' (train it with connection rows: classes sep or adj_cell)' : ''}`,
      );
    return x.data;
  };
  const shape: SaeShape = storedSaeShape(s.summary, (name) => s.tensors.get(name)?.data);
  return { shape, w: { W_enc: t('W_enc'), b_enc: t('b_enc'), W_dec: t('W_dec'), b_dec: t('b_dec') }, t };
}

/** The cells a generated continuation walks (coordinate tokens up to <PATH_END>). */
function walked(ids: Int32Array, from: number, vocab: readonly string[], grid: { rows: number; cols: number }): number[] {
  const out: number[] = [];
  for (let i = from; i < ids.length; i++) {
    if (vocab[ids[i]] === '<PATH_END>') break;
    const c = cellOfToken(vocab, ids[i], grid);
    if (c >= 0) out.push(c);
  }
  return out;
}

const key = (a: number, b: number): number => Math.min(a, b) * 4096 + Math.max(a, b);
const crosses = (path: readonly number[], edge: number): boolean => path.some((c, i) => i > 0 && key(path[i - 1], c) === edge);

export const saeIntervention = defineKind<SaeInterventionParams, SaeInterventionSummary>({
  kind: 'sae-intervention',
  describe:
    "Edits an SAE's connection latents inside the model with the SAE's error kept (Spies et al. 2024): zeroing a used connection's latent (does the path avoid it?) and setting a wall's connection latent (does the path cross it?), each against a random-latent control.",
  paramsSchema,
  async run(ctx, p, progress) {
    requireUnified(ctx.model, 'sae-intervention');
    const { model } = ctx;
    const { shape, w, t } = sae(ctx.sae, p.sae);
    const s = ctx.sae as StoredSae;
    // The SAE must read this model's hook at its width, with tensors of its shapes (a --sae result of
    // another model would otherwise read past its arrays or give numbers for the wrong activations).
    let width: number;
    try {
      width = hookGeometry(model.cfg, s.summary.hook).feature;
    } catch (e) {
      throw new InterpError(`params.sae: ${(e as Error).message}`);
    }
    if (width !== shape.d_in) throw new InterpError(`params.sae: the SAE reads ${shape.d_in} features but ${s.summary.hook} of this model has ${width}`);
    for (const [name, n] of [
      ['W_enc', shape.d_in * shape.d_sae],
      ['W_dec', shape.d_in * shape.d_sae],
      ['b_enc', shape.d_sae],
      ['b_dec', shape.d_in],
    ] as const)
      if (w[name].length !== n)
        throw new InterpError(`params.sae: its ${name} has ${w[name].length} values, d_in ${shape.d_in} and d_sae ${shape.d_sae} need ${n}`);
    const [R, C] = s.summary.grid;
    const mazes = loadMazes(ctx, p).filter((m) => m.rows === R && m.cols === C);
    if (mazes.length === 0) throw new InterpError(`params.sae: the SAE's connections are those of ${R}x${C} mazes; give mazes of that grid (params.grid ${R})`);
    const aucs = t('auc.connection');
    const meanAct = t('feature_mean_activation');
    const edges = latticeEdges(R, C);
    // Each connection's latent, when its AUC is high enough.
    const latentOf = new Map<number, number>();
    bestPerCategory(aucs, edges.length, shape.d_sae).forEach(({ latent, auc }, e) => {
      if (latent >= 0 && auc >= p.minAuc) latentOf.set(key(...edges[e]), latent);
    });
    if (latentOf.size === 0) throw new InterpError(`params.minAuc: no connection of Experiment:${s.id} has a latent with AUC ≥ ${p.minAuc}`);

    const engine = await model.engine();
    const enc = encoder(model);
    const rng = new Rng(`sae-intervention/${ctx.seed}`);
    const grid = { rows: R, cols: C };
    const classes = new Set<string>(s.summary.classes);
    const pathEnd = model.vocab.indexOf('<PATH_END>');
    const prompts = mazes.map((m, i) => enc.encodePrompt(m, rng, `maze ${i}`, R * C + 2));
    const rows = prompts.map((ids, i) => {
      const sp = mapPositions(ids, model.vocab, mazes[i]);
      return sp.classes.flatMap((c: TokenClass, pos) => (classes.has(c) ? [pos] : []));
    });
    // Activations at the SAE's rows of every prompt.
    const x: Float32Array[] = [];
    await forEachCached(engine, prompts, [s.summary.hook], (row) => {
      const act = row.get(s.summary.hook);
      const out = new Float32Array(rows[row.index].length * shape.d_in);
      rows[row.index].forEach((pos, j) => out.set(act.subarray(pos * shape.d_in, (pos + 1) * shape.d_in), j * shape.d_in));
      x[row.index] = out;
    });
    progress(0.2, 'clean paths');
    const gen = async (edits: ReadonlyArray<readonly Intervention[] | undefined>): Promise<number[][]> => {
      const out: number[][] = [];
      // Prompts of one grid's spanning trees share a length; group by length all the same.
      const byLen = new Map<number, number[]>();
      prompts.forEach((q, i) => byLen.set(q.length, [...(byLen.get(q.length) ?? []), i]));
      for (const idx of byLen.values()) {
        const done = await generate(
          engine,
          idx.map((i) => prompts[i]),
          { stopToken: pathEnd, maxNewTokens: R * C + 2, interventions: idx.map((i) => edits[i]) },
        );
        idx.forEach((i, j) => {
          out[i] = walked(done[j], prompts[i].length, model.vocab, grid);
        });
      }
      return out;
    };
    const clean = await gen([]);
    const solution = (m: SolvedMaze): number[] => m.path.map(([r, c]) => r * C + c);
    const open = mazes.map((m) => new Set(edgesOf(m)));
    const solved = mazes.map((m, i) => validPath(clean[i], open[i], solution(m)));

    // ---- plan the trials ---------------------------------------------------------------------
    type Trial = { maze: number; edge: number; edit: FeatureEdit; control: FeatureEdit; positions: number[] };
    const removes: Trial[] = [];
    const adds: Trial[] = [];
    const live = [...Array(shape.d_sae).keys()].filter((f) => meanAct[f] > 0);
    mazes.forEach((m, i) => {
      if (!solved[i]) return;
      const n = rows[i].length;
      const z = activate(shape, preActivations(shape, w, x[i], n), n); // [n, d_sae]
      // remove: a used connection whose latent fires somewhere in this prompt.
      const used = clean[i]
        .slice(1)
        .map((c, j) => key(clean[i][j], c))
        .filter((e) => latentOf.has(e));
      for (const e of rng.shuffle([...used])) {
        const f = latentOf.get(e) as number;
        const at = rows[i].filter((_, j) => z[j * shape.d_sae + f] > 0);
        if (at.length === 0) continue;
        const others = new Set<number>();
        rows[i].forEach((pos, j) => {
          if (at.includes(pos)) for (let g = 0; g < shape.d_sae; g++) if (g !== f && z[j * shape.d_sae + g] > 0) others.add(g);
        });
        if (others.size === 0) continue;
        const pool = [...others];
        removes.push({ maze: i, edge: e, edit: { latent: f, mode: 'zero' }, control: { latent: pool[rng.int(pool.length)], mode: 'zero' }, positions: at });
        break;
      }
      // add: a wall beside the path whose connection has a latent.
      const onPath = new Set(clean[i]);
      const walls = edges
        .map(([a, b]) => key(a, b))
        .filter((e) => !open[i].has(e) && latentOf.has(e) && (onPath.has(Math.floor(e / 4096)) || onPath.has(e % 4096)));
      if (walls.length > 0 && live.length > 1) {
        const e = walls[rng.int(walls.length)];
        const f = latentOf.get(e) as number;
        let g = f;
        while (g === f) g = live[rng.int(live.length)];
        adds.push({
          maze: i,
          edge: e,
          edit: { latent: f, mode: 'set', value: p.scale * meanAct[f] },
          control: { latent: g, mode: 'set', value: p.scale * meanAct[g] },
          positions: rows[i],
        });
      }
    });

    // ---- run them ------------------------------------------------------------------------------
    const runTrials = async (trials: Trial[], which: 'edit' | 'control'): Promise<number[][]> => {
      const edits: Array<Intervention[] | undefined> = prompts.map(() => undefined);
      for (const tr of trials) {
        const i = tr.maze;
        const sel = tr.positions.map((pos) => rows[i].indexOf(pos));
        const xr = new Float32Array(sel.length * shape.d_in);
        sel.forEach((j, k) => xr.set(x[i].subarray(j * shape.d_in, (j + 1) * shape.d_in), k * shape.d_in));
        const delta = featureDeltas(shape, w, xr, sel.length, [tr[which]]);
        edits[i] = [deltaIntervention(s.summary.hook, tr.positions, delta, shape.d_in, prompts[i].length)];
      }
      return gen(edits);
    };
    const outcome = async (trials: Trial[], changed: (path: number[], tr: Trial) => boolean, from: number): Promise<SaeInterventionOutcome> => {
      if (trials.length === 0) return { trials: 0, changed: 0, rate: null, control_changed: 0, control_rate: null, valid: 0, changed_valid: 0 };
      const edited = await runTrials(trials, 'edit');
      progress(from + 0.2, 'controls');
      const control = await runTrials(trials, 'control');
      let a = 0;
      let b = 0;
      let valid = 0;
      let changedValid = 0;
      for (const tr of trials) {
        const moved = changed(edited[tr.maze], tr);
        if (moved) a++;
        if (changed(control[tr.maze], tr)) b++;
        const allowed = new Set(open[tr.maze]);
        allowed.add(tr.edge);
        const ok = validPath(edited[tr.maze], allowed, solution(mazes[tr.maze]));
        if (ok) valid++;
        if (ok && moved) changedValid++;
      }
      return {
        trials: trials.length,
        changed: a,
        rate: num(a / trials.length),
        control_changed: b,
        control_rate: num(b / trials.length),
        valid,
        changed_valid: changedValid,
      };
    };
    progress(0.3, `remove: ${removes.length} mazes`);
    const remove = await outcome(removes, (path, tr) => !crosses(path, tr.edge), 0.3);
    progress(0.65, `add: ${adds.length} mazes`);
    const add = await outcome(adds, (path, tr) => crosses(path, tr.edge), 0.65);
    progress(1, `remove ${remove.rate} (control ${remove.control_rate}); add ${add.rate} (control ${add.control_rate})`);
    return {
      summary: {
        kind: 'sae-intervention',
        sae: s.id,
        hook: s.summary.hook,
        mazes: mazes.length,
        connection_latents: latentOf.size,
        min_auc: p.minAuc,
        solved: solved.filter(Boolean).length,
        remove,
        add,
      },
      tensors: [
        tensor(
          'remove.trials',
          [removes.length, 3],
          removes.flatMap((tr) => [tr.maze, tr.edit.latent, tr.control.latent]),
        ),
        tensor(
          'add.trials',
          [adds.length, 3],
          adds.flatMap((tr) => [tr.maze, tr.edit.latent, tr.control.latent]),
        ),
      ],
    };
  },
});

/** The maze's open connections as keys. */
function edgesOf(m: SolvedMaze): number[] {
  return latticeEdges(m.rows, m.cols)
    .filter(([a, b]) => connectedIdx(m, a, b))
    .map(([a, b]) => key(a, b));
}

/** A walk from the solution's first cell to its last along allowed connections. */
function validPath(path: readonly number[], allowed: ReadonlySet<number>, solution: readonly number[]): boolean {
  if (path.length === 0 || path[0] !== solution[0] || path[path.length - 1] !== solution[solution.length - 1]) return false;
  for (let i = 1; i < path.length; i++) if (!allowed.has(key(path[i - 1], path[i]))) return false;
  return true;
}
