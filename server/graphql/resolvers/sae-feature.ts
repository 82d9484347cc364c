/**
 * Experiment.saeFeature: one latent of an `sae` experiment, from the tensors the run stored
 * (interp/sae/kind.ts) through interp/sae/feature.ts, with its examples' mazes parsed from the
 * stored token ids and drawn with the latent's activation on their cells.
 */
import { saeCategoryNames, type SaeSummary } from '../../interp/index.js';
import { activationsInMaze, cellHeat, featureView, mazeTokens, type SaeStore } from '../../interp/sae/feature.js';
import { mapPositions } from '../../interp/positions.js';
import { parseSequence } from '../../maze/parse.js';
import { renderSvg } from '../../maze/render.js';
import type { ModelConfig } from '../../model/config.js';
import { readResultTensor } from '../../services/experiments.js';
import type { ExperimentRow } from '../../services/rows.js';
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
  const aucs: SaeStore['aucs'] = [];
  for (const property of ['connection', 'cell'] as const) {
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
    tokens: tokens.data,
    T: tokens.shape[1],
    ...(logits ? { logits } : {}),
    aucs,
  };
}

export async function saeFeature(ctx: Ctx, e: ExperimentRow, latent: number, examples: number): Promise<ResolversParentTypes['SaeFeature'] | null> {
  if (e.kind !== 'sae' || e.summary === null) return null;
  const s = e.summary as SaeSummary;
  if (!Number.isInteger(latent) || latent < 0 || latent >= s.d_sae) throw badInput(`saeFeature: latent must be an integer in [0, ${s.d_sae}), got ${latent}`);
  if (!Number.isInteger(examples) || examples < 0 || examples > 64) throw badInput(`saeFeature: examples must be an integer in [0, 64], got ${examples}`);
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
      drawings.set(example, {
        tokens,
        heat: cellHeat(mapPositions(ids, vocab, grid), acts),
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
