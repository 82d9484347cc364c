/**
 * What a trainModel job keeps in storage: the model row it trains (found again by job id on
 * resume), its curve points, its checkpoints (copied into the data directory, then recorded), and
 * its working directory under training/job-<id>/.
 */
import fs from 'node:fs';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db, DbHandle } from '../db/client.js';
import { resolveDataPath, writeFileAtomic } from '../db/files.js';
import { decodeMaze } from '../db/mazes.js';
import { checkpoints, jobs, mazes, models } from '../db/schema.js';
import type { SolvedMaze } from '../maze/lattice.js';
import type { ModelConfig } from '../model/config.js';
import type { ModelLineage } from '../db/json.js';
import type { ModelRow } from './rows.js';

/** The stored maze with the most tokens (edges × 4 + path) of a dataset, so a context too short is refused before training. */
export function longestMaze(db: Db, datasetId: number): SolvedMaze | undefined {
  const row = db
    .select()
    .from(mazes)
    .where(eq(mazes.datasetId, datasetId))
    .orderBy(desc(sql`json_extract(${mazes.stats}, '$.edges') * 4 + ${mazes.pathLength}`))
    .limit(1)
    .get();
  return row ? decodeMaze(row) : undefined;
}

/** The model a trainModel job created (its lineage names the job), if it got that far. */
export function modelOfJob(db: Db, jobId: number): ModelRow | undefined {
  return db.select().from(models).where(sql`json_extract(${models.lineage}, '$.jobId') = ${jobId}`).get();
}

/** The TRAINING model of a job: the one an earlier attempt created, or a new one owned by the job's creator. */
export function trainingModel(
  db: Db,
  jobId: number,
  m: { name: string; config: ModelConfig; vocab: string[]; lineage: Omit<ModelLineage, 'source' | 'jobId'> },
): ModelRow {
  const existing = modelOfJob(db, jobId);
  if (existing) return existing;
  const job = db.select({ createdBy: jobs.createdBy }).from(jobs).where(eq(jobs.id, jobId)).get();
  return db
    .insert(models)
    .values({
      name: m.name,
      config: m.config,
      vocab: m.vocab,
      status: 'TRAINING',
      createdBy: job?.createdBy ?? null,
      createdAt: Date.now(),
      lineage: { source: 'train', jobId, ...m.lineage },
    })
    .returning()
    .get();
}

/** Appends a resumption (attempt, last stored step, time) to the model's lineage. */
export function recordResume(db: Db, model: ModelRow, attempt: number): void {
  const last = db.select({ step: checkpoints.step }).from(checkpoints).where(eq(checkpoints.modelId, model.id)).orderBy(desc(checkpoints.step)).limit(1).get();
  const lineage = model.lineage;
  const resumes = [...(lineage.resumes ?? []), { attempt, fromStep: last?.step ?? null, at: new Date().toISOString() }];
  db.update(models)
    .set({ lineage: { ...lineage, resumes } })
    .where(eq(models.id, model.id))
    .run();
}

/** Stores training-curve points (step, name, value) in one transaction; non-finite values are skipped. */
export function writeCurvePoints(handle: DbHandle, modelId: number, points: ReadonlyArray<readonly [number, string, number]>): void {
  const curve = handle.sqlite.prepare(
    'INSERT INTO training_curves (model_id, step, name, value) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
  );
  handle.sqlite
    .transaction(() => {
      for (const [step, name, value] of points) if (Number.isFinite(value)) curve.run(modelId, step, name, value);
    })
    .immediate();
}

/** Copies a trainer checkpoint into the data directory (temp name, fsync, rename), then records it: a crash never leaves a row without its file. */
export function storeCheckpoint(handle: DbHandle, modelId: number, step: number, file: string): void {
  const stored = writeFileAtomic(handle.dataDir, `checkpoints/model-${modelId}/step-${step}.safetensors`, fs.readFileSync(file));
  handle.db
    .insert(checkpoints)
    .values({ modelId, step, path: stored.path, sha256: stored.sha256, bytes: stored.bytes, createdAt: Date.now() })
    .onConflictDoUpdate({ target: [checkpoints.modelId, checkpoints.step], set: { path: stored.path, sha256: stored.sha256, bytes: stored.bytes } })
    .run();
}

export function markModelReady(db: Db, modelId: number): void {
  db.update(models).set({ status: 'READY' }).where(eq(models.id, modelId)).run();
}

/** The trainer's own output file (weights + optimizer state beside it) for a job: an absolute path, its directory created. */
export function trainingWorkFile(dataDir: string, jobId: number): string {
  const out = resolveDataPath(dataDir, `training/job-${jobId}/train.safetensors`);
  fs.mkdirSync(out.slice(0, out.lastIndexOf('/')), { recursive: true });
  return out;
}

/** Whether a job's trainer output and its optimizer state (beside it) both exist: an earlier attempt to resume. */
export function trainingWorkExists(file: string, statePath: string): boolean {
  return fs.existsSync(file) && fs.existsSync(statePath);
}

export function removeTrainingWork(dataDir: string, jobId: number): void {
  fs.rmSync(resolveDataPath(dataDir, `training/job-${jobId}`), { recursive: true, force: true });
}

/**
 * After a trainModel attempt that did not complete: a model with checkpoints is kept (usable,
 * marked FAILED: training did not finish); one without is removed; the working directory goes.
 */
export function cleanupTraining(db: Db, jobId: number, dataDir: string): void {
  const model = modelOfJob(db, jobId);
  if (model) {
    const has = db
      .select({ id: checkpoints.id })
      .from(checkpoints)
      .where(and(eq(checkpoints.modelId, model.id)))
      .limit(1)
      .get();
    if (has) db.update(models).set({ status: 'FAILED' }).where(eq(models.id, model.id)).run();
    else db.delete(models).where(eq(models.id, model.id)).run();
  }
  removeTrainingWork(dataDir, jobId);
}
