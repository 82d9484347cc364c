/** Models, checkpoints, curves and evaluations; training/evaluation jobs; import; inference. */
import { allHookNames } from '../../model/onnx/hooks.js';
import { UserError } from '../../errors.js';
import { decodeMaze } from '../../services/datasets.js';
import { mazeFromSpec } from '../../maze/edit.js';
import { architecture, type ModelConfig, parameterCount } from '../../model/config.js';
import type { Ctx } from '../context.js';
import { conflict, notFound } from '../errors.js';
import type { Resolvers } from '../generated/types.js';
import { base64Bytes } from '../base64.js';
import { requireCompute, requireOwnerOrAdmin, requireUser } from '../guard.js';
import { rowId, toId } from '../ids.js';
import { generatePath, runForward } from '../../services/inference.js';
import { loadSaeForEdits } from './sae-feature.js';
import { component } from './component.js';
import {
  MAX_MODEL_BYTES,
  deleteModel,
  evaluationParams,
  evaluationSummary,
  evaluationsOf,
  importModelBytes,
  modelCount,
  modelPage,
  trainingCurve,
} from '../../services/models.js';
import { connection, pageArgs } from '../pagination.js';

/** Interventions one generatePath takes (each is compiled per decoding step). */
const MAX_INTERVENTIONS = 64;

async function loadModel(ctx: Ctx, id: string) {
  const modelId = rowId(id, 'Model');
  const m = await ctx.loaders.model.load(modelId);
  if (!m) throw notFound(`Model:${modelId}`);
  return m;
}

export const modelResolvers: Resolvers<Ctx> = {
  Query: {
    async models(_p, args, ctx) {
      requireUser(ctx);
      const { first, afterKey } = pageArgs('model', args);
      const rows = await modelPage(ctx.db, afterKey, first + 1);
      return connection(
        'model',
        rows,
        first,
        (r) => r.id,
        afterKey !== undefined,
        () => modelCount(ctx.db),
      );
    },
    async model(_p, { id }, ctx) {
      requireUser(ctx);
      return (await ctx.loaders.model.load(rowId(id, 'Model'))) ?? null;
    },
  },
  Mutation: {
    trainModel(_p, { input }, ctx) {
      const user = requireCompute(ctx, 'trainModel');
      return ctx.app.runner.enqueue('trainModel', input, user.id);
    },
    evaluateModel(_p, { input }, ctx) {
      const user = requireCompute(ctx, 'evaluateModel');
      return ctx.app.runner.enqueue('evaluateModel', input, user.id);
    },
    async importModel(_p, { name, base64, processing }, ctx) {
      const user = requireCompute(ctx, 'importModel');
      const bytes = base64Bytes(
        base64,
        MAX_MODEL_BYTES,
        'importModel: base64',
        `importModel: file exceeds ${MAX_MODEL_BYTES} bytes; POST it to /upload/model instead`,
      );
      return await importModelBytes(ctx.app.handle, name, bytes, user.id, 'import', {
        fold_ln: processing?.fold_ln ?? false,
        center_writing_weights: processing?.center_writing_weights ?? false,
        center_unembed: processing?.center_unembed ?? false,
        fold_value_biases: processing?.fold_value_biases ?? false,
      });
    },
    async runForward(_p, { modelId, tokens, hooks, topK }, ctx) {
      requireCompute(ctx, 'runForward');
      const model = await loadModel(ctx, modelId);
      // With inference workers, heavy requests run there (jobs/queued.ts QueuedInference).
      const out = ctx.app.inference
        ? await ctx.app.inference.runForward(model, tokens, hooks ?? [], topK ?? 5)
        : await runForward(ctx.app.handle, model, tokens, hooks ?? [], topK ?? 5);
      return { ...out, cacheUrl: out.cacheId ? `/files/caches/${out.cacheId}.safetensors` : null };
    },
    async generatePath(_p, { modelId, mazeId, maze, interventions, featureEdits }, ctx) {
      requireCompute(ctx, 'generatePath');
      if ((mazeId == null) === (maze == null)) throw new UserError('generatePath: give exactly one of mazeId (a stored maze) or maze (a maze by value)');
      const model = await loadModel(ctx, modelId);
      if ((interventions?.length ?? 0) > MAX_INTERVENTIONS)
        throw new UserError(`generatePath: ${interventions!.length} interventions; at most ${MAX_INTERVENTIONS} per run`);
      const ivs = interventions ?? [];
      let edits: Parameters<typeof generatePath>[5];
      if (featureEdits) {
        if (featureEdits.edits.length > MAX_INTERVENTIONS)
          throw new UserError(`generatePath: ${featureEdits.edits.length} feature edits; at most ${MAX_INTERVENTIONS} per run`);
        const sae = await loadSaeForEdits(ctx, featureEdits.sae, model, 'generatePath: featureEdits');
        for (const [i, e] of featureEdits.edits.entries()) {
          if (!Number.isInteger(e.latent) || e.latent < 0 || e.latent >= sae.shape.d_sae)
            throw new UserError(`generatePath: featureEdits.edits[${i}].latent must be an integer in [0, ${sae.shape.d_sae}), got ${e.latent}`);
          if (e.mode !== 'zero' && (e.value == null || !Number.isFinite(e.value)))
            throw new UserError(`generatePath: featureEdits.edits[${i}]: ${e.mode} needs a value`);
          for (const p of e.positions ?? [])
            if (!Number.isInteger(p) || p < 0 || p >= model.config.n_ctx)
              throw new UserError(`generatePath: featureEdits.edits[${i}].positions: ${p} is outside [0, ${model.config.n_ctx})`);
        }
        edits = { sae, edits: featureEdits.edits.map((e) => ({ latent: e.latent, mode: e.mode, value: e.value ?? undefined, positions: e.positions })) };
      }
      // Seed 0 for the adjacency order, as tokenizeMaze's default, so both show the same prompt.
      if (maze) return await generatePath(ctx.app.handle, model, mazeFromSpec(maze), 0, ivs, edits);
      const mazeRow = await ctx.loaders.maze.load(rowId(mazeId!, 'Maze'));
      if (!mazeRow) throw notFound(`Maze ${mazeId}`);
      return await generatePath(ctx.app.handle, model, decodeMaze(mazeRow), mazeRow.id, ivs, edits);
    },
    async deleteModel(_p, { id }, ctx) {
      const model = await loadModel(ctx, id);
      const user = requireOwnerOrAdmin(ctx, model.createdBy, 'deleteModel');
      if (model.status === 'TRAINING')
        throw conflict(
          `Model:${model.id} is still training; cancel its job (${(model.lineage as { jobId?: number }).jobId ? `Job:${(model.lineage as { jobId: number }).jobId}` : 'see jobs'}) first`,
          { status: model.status },
        );
      await deleteModel(ctx.app.handle, model, user.id);
      return true;
    },
  },
  Model: {
    id: (m) => toId('Model', m.id),
    config: (m) => configOut(m.config),
    vocab: (m) => m.vocab,
    lineage: (m) => m.lineage,
    parameterCount: (m) => parameterCount(m.config),
    hookNames: (m) => allHookNames(m.config),
    createdBy: async (m, _a, ctx) => (m.createdBy ? ((await ctx.loaders.user.load(m.createdBy)) ?? null) : null),
    checkpoints: (m, _a, ctx) => ctx.loaders.checkpointsByModel.load(m.id),
    latestCheckpoint: async (m, _a, ctx) => (await ctx.loaders.checkpointsByModel.load(m.id)).at(-1) ?? null,
    trainingCurve: (m, { name }, ctx) => trainingCurve(ctx.db, m.id, name),
    evals: (m, _a, ctx) => evaluationsOf(ctx.db, m.id),
    component: (m, { name }) => component(m, name),
  },
  ModelLineage: {
    jobId: (l) => (l.jobId != null ? toId('Job', l.jobId) : null),
    resumes: (l) => (l.resumes ?? []).map((r) => ({ ...r, at: Date.parse(r.at) })),
    ignoredTensors: (l) => l.ignoredTensors ?? [],
    processing: (l) => l.processing ?? [],
    metadataKeys: (l) => l.metadataKeys ?? [],
  },
  GeneratedMazes: {
    grids: (g) => g.sampling?.grids ?? null,
    balance: (g) => (g.sampling?.balance === 'lookahead' ? 'LOOKAHEAD' : null),
    curriculum: (g) =>
      g.sampling?.curriculum ? { by: g.sampling.curriculum.by === 'grid' ? 'GRID' : 'LOOKAHEAD', fraction: g.sampling.curriculum.fraction } : null,
    queries: (g) => g.queries ?? null,
  },
  Checkpoint: {
    id: (c) => toId('Checkpoint', c.id),
    downloadUrl: (c) => `/files/checkpoints/${c.id}.safetensors`,
  },
  EvaluationParams: {
    checkpointId: (p) => (p.checkpointId != null ? toId('Checkpoint', p.checkpointId) : null),
  },
  Evaluation: {
    id: (e) => toId('Evaluation', e.id),
    params: (e) => evaluationParams(e),
    summary: (e) => evaluationSummary(e),
    job: async (e, _a, ctx) => (e.jobId ? ((await ctx.loaders.job.load(e.jobId)) ?? null) : null),
  },
};

/** The config with TL's architecture defaults filled in (a stored config leaves defaults out). */
function configOut(cfg: ModelConfig) {
  const a = architecture(cfg);
  const rotary = a.positional === 'rotary';
  return {
    ...cfg,
    positional_embedding_type: a.positional,
    rotary_dim: rotary ? a.rotary_dim : null,
    rotary_base: rotary ? a.rotary_base : null,
    rotary_adjacent_pairs: rotary ? a.rotary_adjacent_pairs : null,
    normalization_type: a.normalization,
    attn_only: a.attn_only,
    parallel_attn_mlp: a.parallel_attn_mlp,
    d_vocab_out: a.d_vocab_out,
  };
}
