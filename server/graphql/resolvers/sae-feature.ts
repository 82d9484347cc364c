/**
 * Experiment.saeFeature: one latent of an `sae` experiment, from the tensors the run stored
 * (interp/sae/kind.ts) through interp/sae/feature.ts, with its examples' mazes parsed from the
 * stored token ids and drawn with the latent's activation on their cells.
 */
import { SAE_PROPERTIES, type SaeProperty, saeCategoryNames, type SaeSummary } from '../../interp/index.js';
import { activationsInMaze, cellHeat, featureView, mazeTokens, type SaeStore } from '../../interp/sae/feature.js';
import { mapPositions } from '../../interp/positions.js';
import { parseSequence } from '../../maze/parse.js';
import { renderSvg } from '../../maze/render.js';
import type { ModelConfig } from '../../model/config.js';
import { readResultTensor } from '../../services/experiments.js';
import { latestCheckpoint, readCachedHook, runForward } from '../../services/inference.js';
import { activate, preActivations, type SaeShape, type SaeWeights } from '../../interp/sae/sae.js';
import type { ExperimentRow } from '../../services/rows.js';
import type { SaeForEdits } from '../../interp/sae/decode.js';
import { storedSaeShape } from '../../interp/sae/kind.js';
import { rowId } from '../ids.js';
import type { Ctx } from '../context.js';
import { badInput } from '../errors.js';
import type { ResolversParentTypes } from '../generated/types.js';

type Example = ResolversParentTypes['SaeFeatureExample'];

/** What an example's `svg` draws, kept beside the example object it belongs to. */
const drawings = new WeakMap<Example, { tokens: string[]; heat: Float64Array; title: string; tokenizer: string; grid: { rows: number; cols: number } }>();

async function loadStore(ctx: Ctx, e: ExperimentRow, s: SaeSummary): Promise<SaeStore> {
  const rows = await ctx.loaders.resultsByExperiment.load(e.id);
  const read = async (name: string) => {
    const r = rows.find((x) => x.name === name);
    return r ? readResultTensor(ctx.app.handle.store, r) : undefined;
  };
  const need = async (name: string) => {
    const t = await read(name);
    if (!t) throw badInput(`Experiment:${e.id} has no ${name} tensor (an SAE trained before feature pages existed; rerun it)`);
    return { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) };
  };
  const [W_dec, density, meanActivation, rowMaze, rowPosition, codeLatent, codeValue, tokens] = await Promise.all(
    ['W_dec', 'feature_density', 'feature_mean_activation', 'eval.row_maze', 'eval.row_position', 'eval.code_latent', 'eval.code_value', 'eval.tokens'].map(
      need,
    ),
  );
  const topId = await read('logit_weights.top_id');
  const logits = topId
    ? {
        topId: Float32Array.from(topId.data),
        top: (await need('logit_weights.top')).data,
        bottomId: (await need('logit_weights.bottom_id')).data,
        bottom: (await need('logit_weights.bottom')).data,
        K: topId.shape[1],
      }
    : undefined;
  // Each latent over every held-out row (runs stored before these tensors existed fall back to the codes).
  const exactMax = await read('feature_max');
  let exact: SaeStore['exact'];
  if (exactMax) {
    const [histogram, topRow, topValue] = await Promise.all(['feature_histogram', 'top.row', 'top.value'].map(need));
    exact = {
      max: Float32Array.from(exactMax.data),
      histogram: histogram.data,
      bins: histogram.shape[1],
      topRow: topRow.data,
      topValue: topValue.data,
      top: topRow.shape[1],
    };
  }
  const aucs: SaeStore['aucs'] = [];
  for (const property of SAE_PROPERTIES) {
    const t = await read(`auc.${property}`);
    if (t) aucs.push({ property, names: saeCategoryNames(property, s.grid[0], s.grid[1]), auc: Float32Array.from(t.data) });
  }
  return {
    d_sae: s.d_sae,
    d_in: s.d_in,
    W_dec: W_dec.data,
    density: density.data,
    meanActivation: meanActivation.data,
    rowMaze: rowMaze.data,
    rowPosition: rowPosition.data,
    codeLatent: codeLatent.data,
    codeValue: codeValue.data,
    codesPerRow: codeLatent.shape[1],
    codesComplete: s.architecture === 'topk' && codeLatent.shape[1] >= (s.topk ?? 0),
    tokens: tokens.data,
    T: tokens.shape[1],
    ...(logits ? { logits } : {}),
    ...(exact ? { exact } : {}),
    aucs,
  };
}

/** The summary of a finished sae experiment; null for another kind or a run without a result. */
function saeSummary(e: ExperimentRow): SaeSummary | null {
  return e.kind === 'sae' && e.summary !== null ? (e.summary as SaeSummary) : null;
}

export async function saeFeature(ctx: Ctx, e: ExperimentRow, latent: number, examples: number): Promise<ResolversParentTypes['SaeFeature'] | null> {
  const s = saeSummary(e);
  if (!s) return null;
  if (!Number.isInteger(latent) || latent < 0 || latent >= s.d_sae) throw badInput(`saeFeature: latent must be an integer in [0, ${s.d_sae}), got ${latent}`);
  if (!Number.isInteger(examples) || examples < 0 || examples > 16)
    throw badInput(`saeFeature: examples must be an integer in [0, 16] (the run keeps each latent's 16 largest rows), got ${examples}`);
  const model = await ctx.loaders.model.load(e.modelId);
  if (!model) return null;
  const vocab = model.vocab as string[];
  const cfg = model.config as ModelConfig;
  const store = await loadStore(ctx, e, s);
  const v = featureView(store, latent, { examples });
  const grid = { rows: s.grid[0], cols: s.grid[1] };
  const name = (id: number): string => vocab[id] ?? `#${id}`;
  return {
    latent,
    density: v.density,
    meanActivation: v.meanActivation,
    maxActivation: v.maxActivation,
    histogram: v.histogram,
    examples: v.examples.map((x) => {
      const ids = mazeTokens(store, x.maze);
      const acts = activationsInMaze(store, latent, x.maze, ids.length);
      const tokens = Array.from(ids, name);
      const example: Example = {
        maze: x.maze,
        position: x.position,
        activation: x.activation,
        token: tokens[x.position] ?? '?',
        tokens,
        activations: Array.from(acts, (a) => (Number.isNaN(a) ? null : a)),
      };
      let heat: Float64Array;
      try {
        heat = cellHeat(mapPositions(ids, vocab, grid), acts);
      } catch {
        heat = new Float64Array(grid.rows * grid.cols); // a maze of another grid (mixed dataset): drawn without the latent
      }
      drawings.set(example, {
        tokens,
        heat,
        title: `latent ${latent} on held-out maze ${x.maze}`,
        tokenizer: cfg.tokenizer,
        grid,
      });
      return example;
    }),
    logitsUp: v.logitsUp.map((t) => ({ token: name(t.token), weight: t.weight })),
    logitsDown: v.logitsDown.map((t) => ({ token: name(t.token), weight: t.weight })),
    neighbours: v.neighbours,
    encodes: v.encodes,
  };
}

/** SaeFeatureExample.svg: the maze with the latent's activation as the cells' heat (null when the sequence does not parse). */
export function exampleSvg(x: Example, cellSize: number): string | null {
  const d = drawings.get(x);
  if (!d) return null;
  if (!Number.isInteger(cellSize) || cellSize < 4 || cellSize > 200) throw badInput(`svg: cellSize must be an integer in [4, 200], got ${cellSize}`);
  try {
    const parsed = parseSequence(d.tokens, { tokenizer: d.tokenizer, partial: true, grid: d.grid });
    const max = d.heat.reduce((a, b) => Math.max(a, b), 0);
    return renderSvg(parsed.maze, {
      origin: parsed.origin,
      target: parsed.target,
      path: parsed.path,
      cellSize,
      heat: d.heat,
      heatRange: [0, max > 0 ? max : 1],
      title: d.title,
    });
  } catch {
    return null;
  }
}

/** "(1,3)-(1,2)", "(2,3)" or "Fork" → the category as saeCategoryNames spells it, or null when it is not one of the grid's. */
function canonicalCategory(property: SaeProperty, text: string, R: number, C: number): string | null {
  if (property === 'on_solution' || property === 'degree') {
    const t = text.trim().toLowerCase();
    return saeCategoryNames(property, R, C).find((n) => n === t) ?? null;
  }
  const cells = [...text.matchAll(/\((\d+)\s*,\s*(\d+)\)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  const flat = cells.map(([r, c]) => (r < R && c < C ? r * C + c : -1));
  const coord = (f: number): string => `(${Math.floor(f / C)},${f % C})`;
  if (property !== 'connection') return cells.length === 1 && flat[0] >= 0 ? coord(flat[0]) : null;
  if (cells.length !== 2 || flat.some((f) => f < 0)) return null;
  const [a, b] = [Math.min(...flat), Math.max(...flat)];
  return `${coord(a)}-${coord(b)}`;
}

export async function saeFeaturesFor(
  ctx: Ctx,
  e: ExperimentRow,
  property: string,
  category: string,
  first: number,
): Promise<Array<ResolversParentTypes['SaeLatentScore']>> {
  const s = saeSummary(e);
  if (!s) return [];
  if (!(SAE_PROPERTIES as readonly string[]).includes(property))
    throw badInput(`saeFeaturesFor: property must be one of ${SAE_PROPERTIES.join(', ')}; got ${JSON.stringify(property)}`);
  const prop = property as SaeProperty;
  if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput(`saeFeaturesFor: first must be an integer in [1, 100], got ${first}`);
  const [R, C] = s.grid;
  const names = saeCategoryNames(prop, R, C);
  const canon = canonicalCategory(prop, category, R, C);
  const c = canon === null ? -1 : names.indexOf(canon);
  if (c < 0)
    throw badInput(
      `saeFeaturesFor: ${JSON.stringify(category)} is not a ${property} of the ${R}x${C} grid; write it like ${JSON.stringify(names[0])}${property === 'connection' ? ' (two adjacent cells)' : ''}`,
    );
  const rows = await ctx.loaders.resultsByExperiment.load(e.id);
  const read = async (name: string) => {
    const r = rows.find((x) => x.name === name);
    return r ? (await readResultTensor(ctx.app.handle.store, r)).data : undefined;
  };
  const auc = await read(`auc.${property}`);
  const density = await read('feature_density');
  if (!auc || !density) return []; // the SAE's rows had no such property (e.g. connections without ; or cell rows)
  const out: Array<ResolversParentTypes['SaeLatentScore']> = [];
  for (let f = 0; f < s.d_sae; f++) {
    const a = auc[c * s.d_sae + f];
    if (Number.isFinite(a)) out.push({ latent: f, auc: a, density: density[f] });
  }
  return out.sort((x, y) => y.auc - x.auc || x.latent - y.latent).slice(0, first);
}

/**
 * The SAE an `sae` experiment stored, read from its results once: its shape (a jumprelu one with its
 * threshold) and the four weight tensors. `where` prefixes the error for a missing tensor.
 */
async function readSae(ctx: Ctx, e: ExperimentRow, s: SaeSummary, where: string): Promise<{ shape: SaeShape; weights: SaeWeights }> {
  const rows = await ctx.loaders.resultsByExperiment.load(e.id);
  const read = async (name: string): Promise<Float32Array | undefined> => {
    const r = rows.find((x) => x.name === name);
    if (!r) return undefined;
    const t = (await readResultTensor(ctx.app.handle.store, r)).data;
    return t instanceof Float32Array ? t : Float32Array.from(t);
  };
  const w: Partial<SaeWeights> = {};
  for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
    const t = await read(name);
    if (!t) throw badInput(`${where}: Experiment:${e.id} lacks its ${name} tensor`);
    w[name] = t;
  }
  const threshold = s.architecture === 'jumprelu' ? await read('threshold') : undefined;
  return { shape: storedSaeShape(s, () => threshold), weights: w as SaeWeights };
}

/**
 * The SAE of `sae` experiment `id` for editing `model`'s features: the experiment must be an `sae`
 * run of this model on its latest checkpoint (what generatePath runs); errors say which.
 */
export async function loadSaeForEdits(ctx: Ctx, id: string, model: { id: number }, where: string): Promise<SaeForEdits> {
  const e = await ctx.loaders.experiment.load(rowId(id, 'Experiment'));
  if (!e) throw badInput(`${where}: Experiment ${id} not found`);
  if (!saeSummary(e))
    throw badInput(
      `${where}: Experiment:${e.id} is a ${e.kind} run${e.summary === null ? ' without a result' : ''}; feature edits need a finished sae experiment`,
    );
  if (e.modelId !== model.id) throw badInput(`${where}: Experiment:${e.id}'s SAE was trained on Model:${e.modelId}, not Model:${model.id}`);
  const latest = await latestCheckpoint(ctx.app.handle, model.id);
  if (e.checkpointId !== null && latest.id !== e.checkpointId)
    throw badInput(`${where}: Experiment:${e.id} trained its SAE on Checkpoint:${e.checkpointId}, but the model's latest is Checkpoint:${latest.id}`);
  const s = e.summary as SaeSummary;
  return { hook: s.hook, ...(await readSae(ctx, e, s, where)) };
}

/** Experiment.saeActivations: the model run on `tokens` with a cache of the SAE's hook, encoded by the SAE. */
export async function saeActivations(ctx: Ctx, e: ExperimentRow, tokens: string, top: number): Promise<Array<ResolversParentTypes['SaePositionLatents']>> {
  const s = saeSummary(e);
  if (!s) return [];
  if (!Number.isInteger(top) || top < 1 || top > 64) throw badInput(`saeActivations: top must be an integer in [1, 64], got ${top}`);
  const model = await ctx.loaders.model.load(e.modelId);
  if (!model) return [];
  // As runForward: on an inference worker when there are some, here otherwise; the cache lands in the store.
  // runForward runs the model's latest weights: the SAE must have been trained on them.
  const latest = await latestCheckpoint(ctx.app.handle, model.id);
  if (e.checkpointId !== null && latest.id !== e.checkpointId)
    throw badInput(
      `saeActivations: Experiment:${e.id} trained its SAE on Checkpoint:${e.checkpointId}, but the model's latest is Checkpoint:${latest.id}; train an SAE on the current weights`,
    );
  const out = ctx.app.inference ? await ctx.app.inference.runForward(model, tokens, [s.hook], 1) : await runForward(ctx.app.handle, model, tokens, [s.hook], 1);
  if (!out.cacheId) return [];
  const act = await readCachedHook(ctx.app.handle, out.cacheId, s.hook); // [1, T, d_in]
  const T = act.shape[1];
  const { shape, weights } = await readSae(ctx, e, s, 'saeActivations');
  const z = activate(shape, preActivations(shape, weights, act.data, T), T); // [T, d_sae]
  const words = tokens.trim().split(/\s+/);
  return Array.from({ length: T }, (_, t) => {
    const row = z.subarray(t * s.d_sae, (t + 1) * s.d_sae);
    const latents: Array<{ latent: number; activation: number }> = [];
    for (let f = 0; f < s.d_sae; f++) if (row[f] > 0) latents.push({ latent: f, activation: row[f] });
    latents.sort((a, b) => b.activation - a.activation || a.latent - b.latent);
    return { position: t, token: words[t] ?? '?', latents: latents.slice(0, top) };
  });
}
