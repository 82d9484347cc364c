/**
 * Model.component: one head, MLP layer or neuron as its page shows it (interp/component.ts):
 * evidence from the model's stored experiments (services/components.ts) and, when asked, its
 * activity over a dataset's test mazes from one uncached forward per maze.
 */
import { activityHook, componentActivity, componentEvidence, componentName, parseComponent } from '../../interp/component.js';
import { getTokenizer, tokensToIds } from '../../maze/tokenize/index.js';
import { Rng } from '../../maze/rng.js';
import type { ModelConfig } from '../../model/config.js';
import { evidenceExperiments, testSplitMazes } from '../../services/components.js';
import { decodeMaze } from '../../services/datasets.js';
import { hookOfSequences } from '../../services/inference.js';
import type { ComponentParent, ModelRow } from '../../services/rows.js';
import type { Ctx } from '../context.js';
import { badInput, notFound } from '../errors.js';
import type { Resolvers, ResolversParentTypes } from '../generated/types.js';
import { requireCompute } from '../guard.js';
import { rowId } from '../ids.js';

/** How many test mazes `activity` reads without `mazes`, and the most it reads when asked. */
const DEFAULT_MAZES = 48;
const MAX_MAZES = 500;

export function component(model: ModelRow, name: string): ComponentParent {
  const cfg = model.config as ModelConfig;
  return { model, ref: parseComponent(name, { n_layers: cfg.n_layers, n_heads: cfg.n_heads, d_mlp: cfg.d_mlp, attn_only: cfg.attn_only }) };
}

async function activity(
  ctx: Ctx,
  { model, ref }: ComponentParent,
  args: { datasetId?: string | null; mazes?: number | null; examples?: number | null },
): Promise<ResolversParentTypes['ComponentActivity']> {
  const where = `component ${componentName(ref)}: activity`;
  requireCompute(ctx, where);
  const examples = args.examples ?? 6;
  if (!Number.isInteger(examples) || examples < 0 || examples > 24) throw badInput(`${where}: examples must be an integer in [0, 24], got ${examples}`);
  if (args.mazes != null && (!Number.isInteger(args.mazes) || args.mazes < 1 || args.mazes > MAX_MAZES))
    throw badInput(`${where}: mazes must be an integer in [1, ${MAX_MAZES}], got ${args.mazes}`);
  const trainedOn = model.lineage.datasetId;
  const datasetRef = args.datasetId ?? trainedOn;
  if (!datasetRef) throw badInput(`${where}: Model:${model.id} was not trained on a stored dataset; name one with datasetId`);
  const dataset = await ctx.loaders.dataset.load(rowId(datasetRef, 'Dataset'));
  if (!dataset) throw notFound(`Dataset ${datasetRef}`);
  const { rows, available } = await testSplitMazes(ctx.db, dataset.id, args.mazes ?? DEFAULT_MAZES);
  if (available === 0) throw badInput(`${where}: Dataset:${dataset.id} has no test-split mazes`);
  if (args.mazes != null && args.mazes > available)
    throw badInput(`${where}: Dataset:${dataset.id}'s test split holds ${available} mazes, fewer than the ${args.mazes} asked for`);
  const cfg = model.config as ModelConfig;
  const vocab = model.vocab as string[];
  const tok = getTokenizer(cfg.tokenizer);
  // Teacher-forced: the whole sequence with its solution, tokenized as the maze page shows it (seeded by the row id).
  const seqs = rows.map((r) => {
    const tokens = tok.tokenize(decodeMaze(r), new Rng(r.id));
    try {
      return { tokens, ids: tokensToIds(tokens, vocab) };
    } catch (e) {
      throw badInput(
        `${where}: Maze:${r.id} of Dataset:${dataset.id} (${r.rows}x${r.cols}) does not fit Model:${model.id}'s vocabulary: ${(e as Error).message}`,
      );
    }
  });
  const hook = activityHook(ref);
  const acts = await hookOfSequences(
    ctx.app.handle,
    model,
    seqs.map((s) => s.ids),
    hook,
    where,
  );
  const a = componentActivity(
    ref,
    seqs.map((s, i) => ({ ids: s.ids, rows: rows[i].rows, cols: rows[i].cols, hook: acts[i] })),
    vocab,
    examples,
  );
  return {
    dataset,
    mazes: rows.length,
    splitSize: available,
    positions: a.positions,
    byClassMeasure: a.byClassMeasure,
    byClass: a.byClass.map((c) => ({ class: c.class, value: c.value, n: c.n })),
    examples: a.examples.map((x) => ({
      maze: rows[x.maze],
      position: x.position,
      token: seqs[x.maze].tokens[x.position] ?? '?',
      value: x.value,
      cell: x.cell,
      heat: Array.from(x.heat),
      tokens: [...seqs[x.maze].tokens],
      values: Array.from(x.values),
    })),
  };
}

export const componentResolvers: Resolvers<Ctx> = {
  ModelComponent: {
    name: (c) => componentName(c.ref),
    kind: (c) => c.ref.kind,
    layer: (c) => c.ref.layer,
    head: (c) => (c.ref.kind === 'head' ? c.ref.head : null),
    neuron: (c) => (c.ref.kind === 'neuron' ? c.ref.neuron : null),
    evidence: async (c, _a, ctx) => {
      const cfg = c.model.config as ModelConfig;
      const stored = await evidenceExperiments(ctx.app.handle, c.model.id);
      const rows = new Map(stored.map((s) => [s.id, s.row]));
      const measures = await componentEvidence(c.ref, stored, { n_layers: cfg.n_layers, n_heads: cfg.n_heads, d_mlp: cfg.d_mlp, attn_only: cfg.attn_only });
      return measures.map((m) => ({ ...m, experiment: rows.get(m.experimentId)! }));
    },
    activity: (c, args, ctx) => activity(ctx, c, args),
  },
};
