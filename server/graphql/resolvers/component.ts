/**
 * Model.component: one head, MLP layer or neuron as its page shows it (interp/component.ts):
 * evidence from the model's stored experiments (services/components.ts) and, when asked, its
 * activity over a dataset's test mazes (services/activity.ts, on an inference worker when there are some).
 */
import { componentEvidence, componentName, parseComponent } from '../../interp/component.js';
import type { ModelConfig } from '../../model/config.js';
import { evidenceExperiments } from '../../services/components.js';
import { runActivity } from '../../services/activity.js';
import type { ComponentParent, ModelRow } from '../../services/rows.js';
import type { Ctx } from '../context.js';
import type { Resolvers, ResolversParentTypes } from '../generated/types.js';
import { requireCompute } from '../guard.js';
import { checkActivityArgs, testMazes, withMazes } from './test-mazes.js';

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
  checkActivityArgs(where, args.mazes, examples);
  const { dataset, mazeIds, available } = await testMazes(ctx, where, model, { datasetRef: args.datasetId, mazes: args.mazes });
  // On an inference worker when there are some (jobs/queued.ts), here otherwise.
  const req = { op: 'component' as const, modelId: model.id, name: componentName(ref), mazeIds, examples };
  const a = await runActivity(ctx.app.inference, ctx.app.handle, req);
  return {
    dataset,
    mazes: mazeIds.length,
    splitSize: available,
    positions: a.positions,
    byClassMeasure: a.byClassMeasure,
    byClass: a.byClass,
    examples: await withMazes(ctx, mazeIds, a.examples),
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
