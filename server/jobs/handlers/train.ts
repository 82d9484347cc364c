/**
 * `trainModel`: trains a preset with the model engine's trainer (server/model/train), in the job's
 * worker thread, either on a stored dataset's training split or on freshly generated mazes — the
 * latter with the CLI's sampling options (mixed grids, lookahead balance, curriculum; sampling.ts).
 *
 * Data: the trainer regenerates maze k from (spec, seed, k) exactly as createDataset stored it
 * (both draw maze k from mazeRng(seed, k)), so `mazes` = the train split's size trains on exactly
 * the stored training mazes, never on the test split.
 *
 * Files: the trainer checkpoints to a working file under training/job-<id>/ (weights + optimizer
 * state, for exact resume); each checkpoint is also copied, atomically, to
 * checkpoints/model-<id>/step-<n>.safetensors with a `checkpoints` row. After a crash or restart the
 * job resumes from the working file; if that pair is torn (the crash hit a save), it starts over.
 */
import { UserError } from '../../errors.js';
import type { DatasetRow } from '../../services/rows.js';
import type { Db, DbHandle } from '../../services/database.js';
import type { JobRow } from '../../services/rows.js';
import {
  cleanupTraining,
  longestMaze,
  markModelReady,
  recordResume,
  recordResumedCheckpoint,
  removeTrainingWork,
  restoreTrainingWork,
  saveTrainingWork,
  storeCheckpoint,
  trainingModel,
  trainingWorkExists,
  trainingWorkFile,
  writeCurvePoints,
} from '../../services/training.js';
import { getTokenizer } from '../../maze/tokenize/index.js';
import { type ModelConfig, PRESETS, type PresetName } from '../../model/config.js';
import { checkSampling, type CurriculumBy, type SamplingSpec } from '../../model/train/sampling.js';
import { MAX_QUERIES } from '../../model/train/data.js';
import { generatorNames } from '../../maze/generators/index.js';
import { generateMazes, validateSpec } from '../../maze/generate.js';
import { isUserError } from '../../errors.js';
import { type JobHandler, JobCancelled } from '../types.js';
import { datasetSpec, idNum, int, readyDataset } from './common.js';

/** Freshly generated training mazes: the maze spec's generator and grid, and how they are sampled. */
export interface GeneratedMazes {
  generator: string;
  grid: number;
  sampling?: SamplingSpec;
  /** Queries packed per maze (packing.ts), above 1 only. */
  queries?: number;
}

export interface TrainParams {
  name: string;
  preset: PresetName;
  /** A stored dataset's training split, or null with `generated`. */
  datasetId: number | null;
  generated?: GeneratedMazes;
  steps: number;
  seed: number;
  batchSize: number;
  lr: number;
  checkpointEvery: number;
  evalEvery: number;
  evalCount: number;
  engine: 'onnx' | 'tfjs';
}

const TOKENIZER = 'aotp-ut';

/** The longest stored sequence of a dataset, so a context too short is refused before training. */
async function longestSequence(db: Db, datasetId: number): Promise<number> {
  const m = await longestMaze(db, datasetId);
  return m ? getTokenizer(TOKENIZER).seqLength(m) : 0;
}

/** The generated-mazes options of a trainModel input (GraphQL enums arrive as their names). */
function generatedOf(r: Record<string, unknown>, nCtx: number): GeneratedMazes {
  const generator = r.generator ?? 'dfs';
  if (typeof generator !== 'string' || !generatorNames().includes(generator)) {
    throw new UserError(`trainModel: generator must be one of ${generatorNames().join(', ')}; got ${JSON.stringify(generator)}`);
  }
  const sampling: SamplingSpec = {};
  if (r.grids !== undefined && r.grids !== null) {
    if (!Array.isArray(r.grids) || r.grids.length > 16) throw new UserError(`trainModel: grids must list 1-16 grid sides, got ${JSON.stringify(r.grids)}`);
    sampling.grids = r.grids.map((g, i) => int(g, `trainModel: grids[${i}]`, 2, 32));
  }
  if (r.balance !== undefined && r.balance !== null) {
    if (r.balance !== 'LOOKAHEAD') throw new UserError(`trainModel: balance must be LOOKAHEAD, got ${JSON.stringify(r.balance)}`);
    sampling.balance = 'lookahead';
  }
  if (r.curriculum !== undefined && r.curriculum !== null) {
    const c = r.curriculum as Record<string, unknown>;
    if (c.by !== 'GRID' && c.by !== 'LOOKAHEAD') throw new UserError(`trainModel: curriculum.by must be GRID or LOOKAHEAD, got ${JSON.stringify(c.by)}`);
    if (typeof c.fraction !== 'number' || !(c.fraction > 0 && c.fraction <= 1))
      throw new UserError(`trainModel: curriculum.fraction must be in (0, 1], got ${JSON.stringify(c.fraction)}`);
    sampling.curriculum = { by: c.by.toLowerCase() as CurriculumBy, fraction: c.fraction };
  }
  const grid = int(r.grid, 'trainModel: grid', 2, 32, sampling.grids?.at(-1) ?? 5);
  try {
    checkSampling(sampling, grid);
    validateSpec({ generator, rows: grid });
  } catch (e) {
    if (isUserError(e)) throw new UserError(`trainModel: ${e.message}`);
    throw e;
  }
  // As for a dataset, a context too short is refused now, judged on a probe of the largest grid's mazes.
  const tok = getTokenizer(TOKENIZER);
  let longest = 0;
  for (const m of generateMazes({ generator, rows: grid }, 200, 'context-probe')) longest = Math.max(longest, tok.seqLength(m));
  if (longest - 1 > nCtx)
    throw new UserError(
      `trainModel: ${grid}x${grid} ${generator} mazes tokenize to up to ${longest} tokens, but the preset's n_ctx is ${nCtx}; use a smaller grid`,
    );
  const queries = int(r.queries, 'trainModel: queries', 1, MAX_QUERIES, 1);
  if (queries > 1 && (r.engine ?? 'onnx') !== 'onnx') throw new UserError('trainModel: queries above 1 train on the onnx engine only');
  return { generator, grid, ...(Object.keys(sampling).length > 0 ? { sampling } : {}), ...(queries > 1 ? { queries } : {}) };
}

/**
 * Training draws a dataset's mazes by regenerating them from its spec and seed; an imported
 * dataset's mazes were never generated here, so that would train on different mazes.
 */
function refuseImported(ds: DatasetRow): void {
  if (ds.config.imported)
    throw new UserError(
      `trainModel: datasetId: Dataset:${ds.id} was imported from a maze-dataset archive; training regenerates a dataset's mazes from its generator and seed, which would not give the imported mazes. Train on generated mazes (generator, grid) instead`,
    );
}

export const trainModel: JobHandler<TrainParams> = {
  kind: 'trainModel',
  recovery: 'resume',
  maxAttempts: 3,

  async validate(raw, db) {
    const r = raw as Record<string, unknown>;
    const name = typeof r.name === 'string' ? r.name.trim() : '';
    if (!name || name.length > 200) throw new UserError(`trainModel: name must be 1-200 characters, got ${JSON.stringify(r.name)}`);
    if (typeof r.preset !== 'string' || !Object.hasOwn(PRESETS, r.preset))
      throw new UserError(`trainModel: preset must be one of ${Object.keys(PRESETS).join(', ')}; got ${JSON.stringify(r.preset)}`);
    const preset = r.preset as PresetName;
    const generatedOnly = (['generator', 'grid', 'grids', 'balance', 'curriculum', 'queries'] as const).filter((k) => r[k] !== undefined && r[k] !== null);
    const datasetId = r.datasetId === undefined || r.datasetId === null ? null : idNum(r.datasetId, 'Dataset', 'trainModel: datasetId');
    if (datasetId !== null && generatedOnly.length > 0) {
      throw new UserError(`trainModel: ${generatedOnly.join(', ')} apply to generated mazes; leave out datasetId to use them (a dataset's mazes are fixed)`);
    }
    if (datasetId !== null) refuseImported(await readyDataset(db, datasetId, 'trainModel: datasetId'));
    const generated = datasetId === null ? generatedOf(r, PRESETS[preset].n_ctx) : undefined;
    const lr = r.lr ?? 1e-3;
    if (typeof lr !== 'number' || !(lr > 0 && lr < 1)) throw new UserError(`trainModel: lr must be a number in (0, 1), got ${JSON.stringify(lr)}`);
    const steps = int(r.steps, 'trainModel: steps', 1, 10_000_000);
    const engine = r.engine ?? 'onnx';
    if (engine !== 'onnx' && engine !== 'tfjs') throw new UserError(`trainModel: engine must be onnx or tfjs, got ${JSON.stringify(engine)}`);
    // The model sees whole sequences up to <PATH_END>; the last token is only a target.
    const longest = datasetId === null ? 0 : await longestSequence(db, datasetId);
    if (longest - 1 > PRESETS[preset].n_ctx) {
      throw new UserError(
        `trainModel: Dataset:${datasetId}'s longest maze tokenizes to ${longest} tokens, but preset ${preset} has n_ctx ${PRESETS[preset].n_ctx}; use a smaller grid`,
      );
    }
    return {
      name,
      preset,
      datasetId,
      ...(generated ? { generated } : {}),
      steps,
      lr,
      engine,
      seed: int(r.seed, 'trainModel: seed', 0, 0xffffffff),
      batchSize: int(r.batchSize, 'trainModel: batchSize', 1, 4096, 32),
      checkpointEvery: int(r.checkpointEvery, 'trainModel: checkpointEvery', 1, 10_000_000, Math.max(1, Math.min(steps, 500))),
      evalEvery: Math.max(1, Math.ceil(steps / 10)),
      evalCount: 100,
    };
  },

  async run(ctx, p) {
    const { train } = await import('../../model/train/trainer.js');
    const { DEFAULT_ADAMW } = await import('../../model/train/adamw.js');
    const { optimizerPath } = await import('../../model/train/checkpoint.js');
    const { TrainError } = await import('../../model/train/engine.js');
    const { db } = ctx;
    const tok = getTokenizer(TOKENIZER);
    const batch = p.batchSize;
    // Either the dataset's stored training mazes (maze k regenerated from its spec and seed), or
    // fresh mazes from the job's seed: every one new (mazes = steps × batch), sampled as asked.
    const ds = p.datasetId !== null ? await readyDataset(db, p.datasetId, 'trainModel: datasetId') : null;
    if (ds) refuseImported(ds);
    const gen = p.generated ?? { generator: 'dfs', grid: 5 };
    const grid = ds ? ds.grid : gen.grid;
    const cfg: ModelConfig = { ...PRESETS[p.preset], d_vocab: tok.vocabSize(grid), tokenizer: TOKENIZER };
    const trainCount = ds ? (ds.splits as { train: [number, number] }).train[1] || ds.count : p.steps * batch;
    const run = {
      model: cfg,
      maze: ds ? datasetSpec(ds) : { generator: gen.generator, rows: grid, cols: grid },
      seed: ds ? ds.seed : p.seed,
      mazes: trainCount,
      batch,
      steps: p.steps,
      lr: p.lr,
      warmup: Math.min(100, Math.floor(p.steps / 10)),
      minLrRatio: 0.1,
      adamw: DEFAULT_ADAMW,
      clip: 1,
      loss: 'path' as const,
      engine: p.engine,
      ...(gen.sampling && !ds ? { sampling: gen.sampling } : {}),
      ...(gen.queries && !ds ? { queries: gen.queries } : {}),
    };
    const source = ds ? { datasetId: `Dataset:${ds.id}`, seed: ds.seed } : { generated: gen, seed: p.seed };
    const model = await trainingModel(db, ctx.jobId, {
      name: p.name,
      config: cfg,
      vocab: [...tok.vocab(grid)],
      lineage: { ...source, preset: p.preset, trainMazes: trainCount, steps: p.steps, batch: p.batchSize, lr: p.lr, engine: p.engine },
    });
    const modelId = `Model:${model.id}`;
    const out = trainingWorkFile(ctx.dataDir, ctx.jobId);
    // A resumable state saved by an earlier attempt, possibly on another machine (a shared store).
    await restoreTrainingWork(ctx.handle, ctx.jobId, out, optimizerPath(out));
    let resume = trainingWorkExists(out, optimizerPath(out));

    let pending: Array<[number, string, number]> = [];
    let lastFlush = 0;
    let latest: Record<string, unknown> = {};
    // Curve writes, in order; awaited before each checkpoint and at the end, where a failed one fails the job.
    let writing: Promise<void> = Promise.resolve();
    const flush = (progress: Record<string, unknown>): Promise<void> => {
      const points = pending;
      pending = [];
      writing = writing.then(() => writeCurvePoints(db, model.id, points));
      writing.catch(() => undefined); // handled where it is awaited
      ctx.progress({ phase: 'training', modelId, ...progress });
      lastFlush = Date.now();
      return writing;
    };
    const options = {
      run,
      out,
      evalEvery: p.evalEvery,
      evalCount: p.evalCount,
      checkpointEvery: p.checkpointEvery,
      signal: ctx.signal,
      onProgress: (e: { step: number; steps: number; loss: number; lr: number; tokensPerSec: number; etaSec: number }) => {
        pending.push([e.step, 'train/loss', e.loss], [e.step, 'train/lr', e.lr]);
        latest = { done: e.step, total: e.steps, loss: e.loss, lr: e.lr, tokensPerSec: Math.round(e.tokensPerSec), etaSec: Math.round(e.etaSec) };
        if (Date.now() - lastFlush > 500 || e.step === e.steps) void flush(latest);
      },
      onEval: (e: {
        step: number;
        loss: number;
        model: { exact_path_rate: number | null; valid_rollout_rate: number | null };
        baseline: { exact_path_rate: number | null };
      }) => {
        pending.push(
          [e.step, 'eval/loss', e.loss],
          [e.step, 'eval/exact_path_rate', e.model.exact_path_rate ?? NaN],
          [e.step, 'eval/valid_rollout_rate', e.model.valid_rollout_rate ?? NaN],
          [e.step, 'baseline/exact_path_rate', e.baseline.exact_path_rate ?? NaN],
        );
      },
      // The curve points up to a checkpoint are stored before it is written: a resume starts after
      // that step and never recomputes them (the crash test once lost step 20 this way).
      beforeCheckpoint: () => flush(latest),
      onCheckpoint: async (c: { step: number; path: string }) => {
        const stored = await storeCheckpoint(ctx.handle, model.id, c.step, c.path);
        await saveTrainingWork(ctx.handle, ctx.jobId, out, optimizerPath(out), c.step, stored);
      },
    };
    if (resume) {
      // The step resumed from is recorded first if the killed attempt stored it without its row, so
      // the lineage names it and the model keeps it.
      await recordResumedCheckpoint(ctx.handle, model.id, out);
      // Record the resumption in the model's lineage: attempt and the last checkpoint it continues from.
      await recordResume(db, model, ctx.attempt);
    }
    ctx.progress({ phase: resume ? 'resuming' : 'starting', modelId, done: 0, total: p.steps });
    let result;
    try {
      result = await train({ ...options, resume });
    } catch (e) {
      // A torn checkpoint pair (the process died while saving) cannot be resumed: start over.
      if (!resume || !(e instanceof TrainError) || (e.code !== 'CHECKPOINT_TORN' && e.code !== 'CHECKPOINT_MISSING')) throw e;
      resume = false;
      ctx.progress({ phase: 'restarting', modelId, message: `could not resume (${e.message}); training from the start` });
      result = await train({ ...options, resume });
    }
    await flush({ done: result.step, total: p.steps, loss: result.loss, tokensPerSec: Math.round(result.tokensPerSec) });
    if (result.stopped) throw new JobCancelled('training stopped before its last step');
    const summary = { modelId, step: result.step, loss: result.loss, tokensPerSec: Math.round(result.tokensPerSec), lastEval: result.evals.at(-1) ?? null };
    await ctx.complete(async (tx) => {
      await markModelReady(tx, model.id);
      return summary;
    });
    await removeTrainingWork(ctx.handle, ctx.jobId);
    return summary;
  },

  async cleanup(handle: DbHandle, job: JobRow) {
    await cleanupTraining(handle, job.id);
  },
};
