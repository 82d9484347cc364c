/**
 * Experiments: runExperiment (validated on this thread, queued with its experiment row), the
 * stored results, and the kinds with their params. `evaluate` rows share the table but are
 * Evaluations (Model.evals), never Experiments.
 */
import { createInterpModel, getKind, InterpError, type InterpModel, kindNames, resolveParams } from '../../interp/index.js';
import { modelInfo } from '../../interp/context.js';
import { dyn } from '../../interp/params.js';
import { type ImportedSae, parseSaeLens } from '../../interp/sae/format.js';
import { hookGeometry } from '../../model/hooks.js';
import { experimentCount, experimentPage, insertExperiment, type NewExperiment, readResultTensor, storeSaeImport } from '../../services/experiments.js';
import { getCheckpoint } from '../../services/models.js';
import { parseSequence } from '../../maze/parse.js';
import { renderSvg } from '../../maze/render.js';
import type { ModelConfig } from '../../model/config.js';
import type { Ctx } from '../context.js';
import { badInput, notFound } from '../errors.js';
import type { Resolvers } from '../generated/types.js';
import { requireCompute, requireUser } from '../guard.js';
import { rowId, toId } from '../ids.js';
import type { ExperimentRow, JobRow } from '../../services/rows.js';
import { connection, pageArgs } from '../pagination.js';
import { experimentResult, resultTypename } from './experiment-result.js';
import { exampleSvg, saeActivations, saeFeature, saeFeaturesFor } from './sae-feature.js';
import { probeDirectionOf } from './direction.js';
import { base64Bytes } from '../base64.js';
import { enumValueName, isEnumField, paramsFromGraphQL, paramsInputField, paramsToGraphQL, paramsTypeName } from '../experiment-params.js';
import type { ResolversParentTypes } from '../generated/types.js';

type ParamsParent = ResolversParentTypes['ExperimentParams'];

/** A kind as ExperimentKind lists it: its params' fields in the API's spelling, and this model's defaults. */
function kindListing(kind: string, model?: InterpModel) {
  const k = getKind(kind);
  const info = model ? modelInfo(model) : undefined; // resolves bounds that depend on the model
  return {
    kind: k.kind,
    describe: k.describe,
    paramsType: paramsTypeName(kind),
    inputField: paramsInputField(kind),
    params: Object.entries(k.fields).map(([name, f]) => ({
      name,
      type: f.type,
      doc: f.doc,
      enum: isEnumField(f) ? (f.enum ?? null) : null,
      choices: f.choices ? (isEnumField(f) ? f.choices.map(enumValueName) : [...f.choices]) : null,
      defaultDoc: typeof f.default === 'function' ? (f.defaultDoc ?? 'model-dependent') : null,
      hasDefault: f.default !== undefined,
      min: ('min' in f ? dyn(f.min, info) : undefined) ?? null,
      max: ('max' in f ? dyn(f.max, info) : undefined) ?? null,
    })),
    // Every default filled in: the params `{}` would run with on this model.
    defaults: model ? (paramsToGraphQL(kind, resolveParams(kind, model, {})) as ParamsParent) : null,
  };
}

/** Largest SAELens weights file importSae takes (base64 in a GraphQL request). */
const MAX_SAE_IMPORT_BYTES = 32 * 1024 * 1024; // its base64 fits the request body limit (app/http.ts)

export async function loadExperiment(ctx: Ctx, id: number): Promise<ExperimentRow | undefined> {
  return ctx.loaders.experiment.load(id);
}

async function jobOf(ctx: Ctx, e: ExperimentRow): Promise<JobRow | null> {
  return e.jobId ? ((await ctx.loaders.job.load(e.jobId)) ?? null) : null;
}

/** Token strings of the first maze the per-maze results describe, or null. */
async function firstMazeTokens(ctx: Ctx, e: ExperimentRow, vocab: readonly string[]): Promise<string[] | null> {
  const s = (e.summary ?? {}) as Record<string, unknown>;
  if (Array.isArray(s.tokens) && s.tokens.every((t) => typeof t === 'string')) return s.tokens as string[];
  const rows = await ctx.loaders.resultsByExperiment.load(e.id);
  const r = rows.find((x) => x.name === 'tokens' || x.name === 'maze0.tokens' || x.name === 'pairs.clean');
  if (!r) return null;
  const t = await readResultTensor(ctx.app.handle.store, r);
  const T = r.name === 'pairs.clean' ? t.shape[1] : t.shape[0]; // [pair, pos] padded with -1, or [T]
  const out: string[] = [];
  for (let i = 0; i < T && t.data[i] >= 0; i++) out.push(vocab[t.data[i]] ?? '?');
  return out;
}

export const experimentResolvers: Resolvers<Ctx> = {
  Query: {
    async experiment(_p, { id }, ctx) {
      requireUser(ctx);
      return (await loadExperiment(ctx, rowId(id, 'Experiment'))) ?? null;
    },
    async experiments(_p, args, ctx) {
      requireUser(ctx);
      const { first, afterKey } = pageArgs('experiment', args);
      const filter = { modelId: args.modelId ? rowId(args.modelId, 'Model') : undefined, kind: args.kind ?? undefined };
      const rows = await experimentPage(ctx.db, filter, afterKey, first + 1);
      for (const r of rows) ctx.loaders.experiment.prime(r.id, r);
      return connection(
        'experiment',
        rows,
        first,
        (r) => r.id,
        afterKey !== undefined,
        () => experimentCount(ctx.db, filter),
      );
    },
    async experimentKinds(_p, { modelId }, ctx) {
      requireUser(ctx);
      let info: InterpModel | undefined;
      if (modelId) {
        const m = await ctx.loaders.model.load(rowId(modelId, 'Model'));
        if (!m) throw notFound(`Model ${modelId}`);
        info = createInterpModel({ cfg: m.config as ModelConfig, weights: new Map(), vocab: m.vocab as string[] });
      }
      return kindNames().map((k) => kindListing(k, info));
    },
  },
  Mutation: {
    async runExperiment(_p, { modelId, params, datasetId, seed }, ctx) {
      const user = requireCompute(ctx, 'runExperiment');
      const { kind, raw: given } = paramsFromGraphQL({ ...params }, 'runExperiment: params');
      const raw = { kind, modelId, params: given, datasetId: datasetId ?? undefined, seed: seed ?? 0 };
      // The experiment row is written in the job's own insert transaction, from the validated params.
      return ctx.app.runner.enqueue('experiment', raw, user.id, async (tx, job) => ({
        experimentId: await insertExperiment(tx, job.params as NewExperiment, job.id, user.id),
      }));
    },
    async importSae(_p, { input }, ctx) {
      const user = requireCompute(ctx, 'importSae');
      const modelId = rowId(input.modelId, 'Model');
      const model = await ctx.loaders.model.load(modelId);
      if (!model) throw notFound(`Model:${modelId}`);
      const weights = base64Bytes(input.weights, MAX_SAE_IMPORT_BYTES, 'importSae: weights');
      let sae: ImportedSae;
      try {
        sae = parseSaeLens(input.cfg, new Uint8Array(weights));
      } catch (e) {
        if (e instanceof InterpError) throw badInput(`importSae: ${e.message}`);
        throw e;
      }
      const cfg = model.config as ModelConfig;
      let feature: number;
      try {
        const geo = hookGeometry(cfg, sae.hook);
        feature = geo.layout === 'btf' ? geo.feature : -1;
      } catch (e) {
        throw badInput(`importSae: cfg.json hook_name: ${(e as Error).message}`);
      }
      if (feature !== sae.shape.d_in)
        throw badInput(
          feature < 0
            ? `importSae: cfg.json hook_name ${sae.hook} has a head axis or is a pattern; an SAE here reads one vector per position`
            : `importSae: cfg.json d_in is ${sae.shape.d_in}, but ${sae.hook} of Model:${modelId} has ${feature} features`,
        );
      const ref = await storeSaeImport(ctx.app.handle.store, input.cfg, sae);
      const params = {
        hook: sae.hook,
        architecture: sae.shape.architecture,
        ...(sae.shape.architecture === 'topk' ? { k: sae.shape.k } : {}),
        ...(input.classes ? { classes: input.classes } : {}),
        ...(input.count != null ? { count: input.count } : {}),
      };
      const raw = { kind: 'sae', modelId: input.modelId, params, datasetId: input.datasetId ?? undefined, seed: 0, importObject: ref };
      return ctx.app.runner.enqueue('experiment', raw, user.id, async (tx, job) => ({
        experimentId: await insertExperiment(tx, job.params as NewExperiment, job.id, user.id),
      }));
    },
  },
  Experiment: {
    id: (e) => toId('Experiment', e.id),
    params: (e) => paramsToGraphQL(e.kind, (e.params ?? {}) as Record<string, unknown>) as ParamsParent,
    async status(e, _a, ctx) {
      const job = await jobOf(ctx, e);
      return job ? job.status : e.summary ? 'COMPLETED' : 'FAILED';
    },
    error: async (e, _a, ctx) => (await jobOf(ctx, e))?.error ?? null,
    // The summary typed by the experiment's kind (experiment-result.ts holds the contract).
    result: (e) => experimentResult(e.kind, e.summary),
    tensors: (e, _a, ctx) => ctx.loaders.resultsByExperiment.load(e.id),
    // The summary commits with the result rows and COMPLETED (handlers/experiment.ts).
    downloadUrl: (e) => (e.summary !== null ? `/files/experiments/${e.id}.safetensors` : null),
    job: (e, _a, ctx) => jobOf(ctx, e),
    async model(e, _a, ctx) {
      const m = await ctx.loaders.model.load(e.modelId);
      if (!m) throw notFound(`Model:${e.modelId}`);
      return m;
    },
    checkpoint: async (e, _a, ctx) => (e.checkpointId ? ((await getCheckpoint(ctx.db, e.checkpointId)) ?? null) : null),
    dataset: async (e, _a, ctx) => (e.datasetId ? ((await ctx.loaders.dataset.load(e.datasetId)) ?? null) : null),
    async mazeSvg(e, { cellSize }, ctx) {
      if (e.summary === null) return null;
      const size = cellSize ?? 36;
      if (!Number.isInteger(size) || size < 4 || size > 200) throw badInput(`mazeSvg: cellSize must be an integer in [4, 200], got ${size}`);
      const m = await ctx.loaders.model.load(e.modelId);
      if (!m) return null;
      const tokens = await firstMazeTokens(ctx, e, m.vocab as string[]);
      if (!tokens) return null;
      const grid = (e.summary as { grid?: unknown }).grid;
      let parsed;
      try {
        // partial: patching pairs are prompts cut at the decision position.
        parsed = parseSequence(tokens, {
          tokenizer: (m.config as ModelConfig).tokenizer,
          partial: true,
          ...(Array.isArray(grid) && grid.length === 2 ? { grid: { rows: Number(grid[0]), cols: Number(grid[1]) } } : {}),
        });
      } catch {
        return null; // not a maze sequence this kind stores (nothing to draw)
      }
      return renderSvg(parsed.maze, { origin: parsed.origin, target: parsed.target, path: parsed.path, cellSize: size, title: `Experiment:${e.id} maze 0` });
    },
    saeFeature: (e, { latent, examples }, ctx) => saeFeature(ctx, e, latent, examples ?? 8),
    probeDirection: (e, { index }, ctx) => probeDirectionOf(ctx, e, index),
    saeFeaturesFor: (e, { property, category, first }, ctx) => saeFeaturesFor(ctx, e, property, category, first ?? 10),
    saeActivations: (e, { tokens, top }, ctx) => {
      requireCompute(ctx, 'saeActivations');
      return saeActivations(ctx, e, tokens, top ?? 5);
    },
    createdBy: async (e, _a, ctx) => (e.createdBy ? ((await ctx.loaders.user.load(e.createdBy)) ?? null) : null),
  },
  SaeFeatureExample: {
    svg: (x, { cellSize }) => exampleSvg(x, cellSize ?? 28),
  },
  // Every member has the kind it came from: the union member is the one of that kind.
  ExperimentSummary: {
    __resolveType: (s) => resultTypename(s.kind),
  },
  ResultTensor: {
    shape: (r) => r.shape as number[],
    downloadUrl: (r) => `/files/experiments/${r.experimentId}/${encodeURIComponent(r.name)}.npy`,
  },
};
