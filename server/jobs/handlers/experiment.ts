/**
 * `experiment`: one interpretability experiment (server/interp, issue 6) on a model's checkpoint.
 *
 * The API thread validates everything a user can get wrong (kind, model, params against the kind's
 * schema with the model's defaults, dataset) before anything is written; the experiment row is
 * created with the job, in the job's insert transaction (runExperiment in
 * server/graphql/resolvers/experiment.ts). The worker loads the checkpoint chosen at queue time,
 * runs the kind with progress (cancellation is checked at every progress report), writes each
 * result tensor as a .npy file (temporary name, fsync, rename: server/db/files.ts), and only then
 * commits the `results` rows, the summary and COMPLETED in one transaction. A failed, cancelled or
 * interrupted attempt keeps the experiment row (its status is its job's) but loses every result
 * row and file; after a restart the job is retried once from the start (runs are deterministic by
 * seed, so the retry computes the same result).
 */
import { UserError } from '../../errors.js';
import type { Db } from '../../services/database.js';
import {
  checkedSae,
  clearExperimentOutput,
  experimentOfJob,
  loadSaeImport,
  loadStoredSae,
  recordResults,
  type SaeImportRef,
  splitMazes,
  writeResultFiles,
} from '../../services/experiments.js';
import { findLatestCheckpoint, getCheckpoint } from '../../services/models.js';
import { createInterpModel, getKind, kindNames, resolveParams } from '../../interp/index.js';
import { getTokenizer } from '../../maze/tokenize/index.js';
import type { ModelConfig } from '../../model/config.js';
import { JobCancelled, type JobHandler } from '../types.js';
import { existingModel, idNum, int, readyDataset } from './common.js';

export interface ExperimentJobParams {
  kind: string;
  modelId: number;
  /** The model's latest checkpoint when the job was queued: the weights the run uses. */
  checkpointId: number;
  /** The kind's params as run: validated, defaults filled in for this model. */
  params: Record<string, unknown>;
  seed: number;
  /** Mazes from this dataset (its test split, or its train split when the test split is empty). */
  datasetId?: number;
  split?: 'train' | 'test';
  /** Added when the job is queued (the experiment row written with it). */
  experimentId?: number;
  /** An `sae` run measuring an imported SAE (importSae) instead of training one: where its file waits. */
  importObject?: SaeImportRef;
}

const where = 'runExperiment';
/** Progress reports persist (a row update) at most this often. */
const PROGRESS_MS = 250;

/** Checks a runExperiment request; messages name the field. Writes nothing. */
export async function validateExperiment(raw: unknown, db: Db): Promise<ExperimentJobParams> {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  if (typeof r.kind !== 'string' || !kindNames().includes(r.kind)) {
    throw new UserError(`${where}: kind must be one of ${kindNames().join(', ')}; got ${JSON.stringify(r.kind)}`);
  }
  const kind = r.kind;
  const modelId = idNum(r.modelId, 'Model', `${where}: modelId`);
  const model = await existingModel(db, modelId, `${where}: modelId`);
  const ckpt = await findLatestCheckpoint(db, modelId);
  if (!ckpt) throw new UserError(`${where}: modelId: Model:${modelId} has no checkpoint yet`);
  const seed = int(r.seed, `${where}: seed`, 0, 0xffffffff, 0);
  const cfg = model.config as ModelConfig;
  const vocab = model.vocab as string[];
  // Only config and vocabulary matter for params (defaults, bounds); no engine is created here.
  const info = createInterpModel({ cfg, weights: new Map(), vocab });
  const given = (r.params ?? {}) as Record<string, unknown>;
  const params = resolveParams(kind, info, given);
  const out: ExperimentJobParams = { kind, modelId, checkpointId: ckpt.id, params, seed };
  // Only importSae sets this (runExperiment's typed input cannot): the stored file of an imported SAE.
  const io = r.importObject as Partial<SaeImportRef> | undefined;
  if (io !== undefined) {
    if (kind !== 'sae' || typeof io?.path !== 'string' || typeof io.sha256 !== 'string')
      throw new UserError(`${where}: importObject is only for sae runs, with path and sha256`);
    out.importObject = { path: io.path, sha256: io.sha256 };
  }
  // A kind that edits an SAE's latents names the SAE's experiment; it must be a finished one of this model.
  if (typeof params.sae === 'number') await checkedSae(db, params.sae, modelId, `${where}: params.sae`, ckpt.id);
  if (r.datasetId !== undefined && r.datasetId !== null) {
    const field = `${where}: datasetId`;
    if (!('count' in getKind(kind).fields)) throw new UserError(`${field}: kind ${kind} does not run on a set of mazes, so it takes no dataset`);
    const datasetId = idNum(r.datasetId, 'Dataset', field);
    const ds = await readyDataset(db, datasetId, field);
    const coords = getTokenizer(cfg.tokenizer).vocab(ds.grid);
    const known = new Set(vocab);
    const missing = coords.find((t) => !known.has(t));
    if (missing) throw new UserError(`${field}: Dataset:${datasetId} has ${ds.grid}x${ds.grid} mazes, but the model's vocabulary lacks ${missing}`);
    // The dataset decides generator and grid; params that say otherwise are a contradiction, not a default.
    for (const [k, v] of [
      ['generator', ds.generator],
      ['grid', ds.grid],
    ] as const) {
      if (!(k in getKind(kind).fields)) continue;
      if (given[k] !== undefined && given[k] !== v)
        throw new UserError(
          `${where}: params.${k} is ${JSON.stringify(given[k])} but Dataset:${datasetId}'s mazes are ${k} ${JSON.stringify(v)}; leave it out to use the dataset's`,
        );
      params[k] = v;
    }
    const splits = ds.splits as { train: [number, number]; test: [number, number] };
    out.datasetId = datasetId;
    out.split = splits.test[1] > splits.test[0] ? 'test' : 'train';
    // Never a silent cap: a count the split cannot give is refused; a default larger than the split
    // becomes the split's size, and the stored params say so.
    const [from, to] = splits[out.split];
    const available = to - from;
    if (typeof given.count === 'number' && given.count > available)
      throw new UserError(
        `${where}: params.count is ${given.count} but Dataset:${datasetId}'s ${out.split} split has ${available} mazes; ask for at most ${available}, or leave count out to use them all`,
      );
    if (typeof params.count === 'number' && params.count > available) params.count = available;
  }
  return out;
}

export const experimentJob: JobHandler<ExperimentJobParams> = {
  kind: 'experiment',
  recovery: 'retry',
  maxAttempts: 2,
  validate: validateExperiment,

  async run(ctx, p) {
    const { db } = ctx;
    const exp = await experimentOfJob(db, ctx.jobId);
    if (!exp) throw new UserError(`${where}: the experiment of Job:${ctx.jobId} no longer exists (was its model deleted?)`);
    const ckpt = await getCheckpoint(db, p.checkpointId);
    if (!ckpt) throw new UserError(`${where}: Checkpoint:${p.checkpointId} (the weights this experiment was queued on) was deleted`);
    const model = await existingModel(db, p.modelId, `${where}: modelId`);
    const experimentId = `Experiment:${exp.id}`;
    let last = 0;
    const report = (pct: number, message: string): void => {
      ctx.progress({ phase: 'running', done: pct, total: 100, message, experimentId, kind: p.kind });
      last = Date.now();
    };
    report(0, 'loading the checkpoint');

    let mazes;
    if (p.datasetId !== undefined) {
      const count = typeof p.params.count === 'number' ? p.params.count : 1000;
      const rows = await splitMazes(db, p.datasetId, p.split ?? 'test', count);
      if (rows.length === 0) throw new UserError(`${where}: Dataset:${p.datasetId} has no ${p.split} mazes (was it deleted?)`);
      mazes = { mazes: rows };
    }
    const { loadModel } = await import('../../model/weights.js');
    const { runExperiment } = await import('../../interp/index.js');
    const loaded = await loadModel(await ctx.handle.store.localPath(ckpt.path, ckpt.sha256));
    const im = createInterpModel({ cfg: loaded.cfg, weights: loaded.weights, vocab: model.vocab as string[] });
    let out;
    try {
      // The kind calls this between units of work: throwing here (JobCancelled) is how it stops.
      const sae =
        typeof p.params.sae === 'number' ? await loadStoredSae(ctx.handle, p.params.sae, p.modelId, `${where}: params.sae`, p.checkpointId) : undefined;
      const saeInit = p.importObject ? await loadSaeImport(ctx.handle.store, p.importObject) : undefined;
      const inputs = { ...(mazes ? { mazes } : {}), ...(sae ? { sae } : {}), ...(saeInit ? { saeInit } : {}) };
      out = await runExperiment(p.kind, { model: im, seed: p.seed, ...inputs }, p.params, (f, msg) => {
        if (ctx.signal.aborted) throw new JobCancelled();
        if (Date.now() - last < PROGRESS_MS && f < 1) return;
        ctx.checkCancelled();
        report(Math.round(f * 100), msg);
      });
    } finally {
      await im.dispose();
    }
    ctx.checkCancelled();

    // Files first (atomic, durable), rows after, so no row ever names a missing or partial file.
    const stored = await writeResultFiles(ctx.handle.store, exp.id, out.tensors);
    return ctx.complete(async (tx) => {
      await recordResults(tx, exp.id, stored, out.summary, out.params);
      return { experimentId, kind: p.kind, tensors: stored.length };
    });
  },

  async cleanup(handle, job) {
    // The experiment row stays (its status is its job's: FAILED or CANCELLED, with the reason);
    // what the attempt produced goes.
    await clearExperimentOutput(handle, job.id);
  },
};
