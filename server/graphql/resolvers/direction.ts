/**
 * Experiment.probeDirection: one probe of a `probes` run as a residual-stream direction
 * (interp/direction.ts), read from the tensors the run stored (services/directions.ts), with its
 * activity computed over a window of test mazes on the checkpoint the probes ran on.
 */
import { directionGeometry, type DirectionGeometry, probeDirection } from '../../interp/direction.js';
import type { ProbesSummary } from '../../interp/probes.js';
import type { ModelConfig } from '../../model/config.js';
import { probesCheckpoint, runActivity } from '../../services/activity.js';
import { probeDirectionStore } from '../../services/directions.js';
import { readCheckpointTensor } from '../../services/models.js';
import type { ExperimentRow, ProbeDirectionParent } from '../../services/rows.js';
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import type { Resolvers, ResolversParentTypes } from '../generated/types.js';
import { requireCompute } from '../guard.js';
import { checkActivityArgs, testMazes, withMazes } from './test-mazes.js';

/** Mazes a default window leaves past the probes' own before it starts after them. */
const MIN_HELD_OUT = 8;

export async function probeDirectionOf(ctx: Ctx, e: ExperimentRow, index: number): Promise<ProbeDirectionParent | null> {
  if (e.kind !== 'probes' || e.summary === null) return null;
  const store = await probeDirectionStore(ctx.app.handle, e);
  if (!store) return null;
  const model = await ctx.loaders.model.load(e.modelId);
  if (!model) throw notFound(`Model:${e.modelId}`);
  const cfg = model.config as ModelConfig;
  return { experiment: e, model, store, direction: probeDirection(store, index, cfg.n_layers) };
}

const geometries = new WeakMap<ProbeDirectionParent, Promise<DirectionGeometry>>();

function geometry(ctx: Ctx, p: ProbeDirectionParent): Promise<DirectionGeometry> {
  let g = geometries.get(p);
  if (!g) {
    g = (async () => {
      // Read from the file: no engine is built in the API for a matrix (forwards may run on workers).
      const W_U = await readCheckpointTensor(ctx.app.handle.store, await probesCheckpoint(ctx.app.handle, p.experiment), 'unembed.W_U'); // [d_model, d_vocab]
      return directionGeometry(p.store, p.direction, W_U);
    })();
    geometries.set(p, g);
  }
  return g;
}

async function activity(
  ctx: Ctx,
  p: ProbeDirectionParent,
  args: { datasetId?: string | null; mazes?: number | null; offset?: number | null; examples?: number | null },
): Promise<ResolversParentTypes['ProbeDirectionActivity']> {
  const { experiment: e, model, direction: d } = p;
  const where = `probe direction ${d.index} of Experiment:${e.id}: activity`;
  requireCompute(ctx, where);
  const examples = args.examples ?? 6;
  checkActivityArgs(where, args.mazes, examples);
  const summary = e.summary as ProbesSummary;
  const datasetRef = args.datasetId ?? (e.datasetId ? `Dataset:${e.datasetId}` : null);
  // The probes read the first `mazes` test-split mazes of their dataset (interp/context.ts loadMazes).
  const probed = (datasetId: number, available: number): number => (datasetId === e.datasetId ? Math.min(summary.mazes, available) : 0);
  const { dataset, mazeIds, available, offset } = await testMazes(ctx, where, model, {
    datasetRef,
    mazes: args.mazes,
    grid: { side: summary.grid[0], why: `the probes read cells of` },
    // By default past the probes' own mazes, when enough are left there.
    offset: (available, ds) => {
      if (args.offset != null) return args.offset;
      const used = probed(ds.id, available);
      return available - used >= Math.max(MIN_HELD_OUT, args.mazes ?? 0) ? used : 0;
    },
  });
  // On an inference worker when there are some (jobs/queued.ts), here otherwise.
  const req = { op: 'direction' as const, experimentId: e.id, index: d.index, mazeIds, examples };
  const a = await runActivity(ctx.app.inference, ctx.app.handle, req);
  const used = probed(dataset.id, available);
  return {
    dataset,
    mazes: mazeIds.length,
    offset,
    splitSize: available,
    overlap: Math.max(0, Math.min(offset + mazeIds.length, used) - offset),
    positions: a.positions,
    byClass: a.byClass,
    nTrue: a.nTrue,
    nFalse: a.nFalse,
    writers: a.writers,
    maxSumError: a.maxSumError,
    auc: a.auc,
    examples: await withMazes(ctx, mazeIds, a.examples),
  };
}

export const directionResolvers: Resolvers<Ctx> = {
  ProbeDirection: {
    experiment: (p) => p.experiment,
    index: (p) => p.direction.index,
    class: (p) => p.direction.class,
    layer: (p) => p.direction.layerLabel,
    hook: (p) => p.direction.hook,
    target: (p) => p.direction.target,
    column: (p) => p.direction.column,
    cell: (p) => p.direction.cell,
    edge: (p) => p.direction.edge,
    label: (p) => p.direction.label,
    norm: (p) => p.direction.norm,
    bias: (p) => p.direction.bias,
    balancedAccuracy: (p) => p.direction.balancedAccuracy,
    controlBalancedAccuracy: (p) => p.direction.controlBalancedAccuracy,
    auc: (p) => p.direction.auc,
    controlAuc: (p) => p.direction.controlAuc,
    siblings: async (p, _a, ctx) => (await geometry(ctx, p)).siblings,
    acrossLayers: async (p, _a, ctx) => (await geometry(ctx, p)).acrossLayers,
    logitsUp: async (p, _a, ctx) =>
      (await geometry(ctx, p)).logitsUp.map((t) => ({ token: (p.model.vocab as string[])[t.token] ?? `id ${t.token}`, weight: t.weight })),
    logitsDown: async (p, _a, ctx) =>
      (await geometry(ctx, p)).logitsDown.map((t) => ({ token: (p.model.vocab as string[])[t.token] ?? `id ${t.token}`, weight: t.weight })),
    activity: (p, args, ctx) => activity(ctx, p, args),
  },
};
