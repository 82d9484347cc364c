/**
 * What a trainModel job keeps in storage: the model row it trains (found again by job id on
 * resume), its curve points, its checkpoints (copied into the data directory, then recorded), and
 * its working directory under training/job-<id>/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { and, desc, eq, sql } from 'drizzle-orm';
import { first, inserted, type Db, type DbHandle, type DbOrTx } from '../db/client.js';
import { resolveDataPath } from '../db/files.js';
import { decodeMaze } from '../db/mazes.js';
import { checkpoints, jobs, jsonNumber, mazes, models, trainingCurves } from '../db/tables.js';
import type { SolvedMaze } from '../maze/lattice.js';
import type { ModelConfig } from '../model/config.js';
import type { ModelLineage } from '../db/json.js';
import { fileStep, modelObjects, removeObjects } from './models.js';
import { readSafetensorsMetadata } from '../model/safetensors.js';
import type { StoredObject } from '../db/store.js';
import type { ModelRow } from './rows.js';

/** The stored maze with the most tokens (edges × 4 + path) of a dataset, so a context too short is refused before training. */
export async function longestMaze(db: Db, datasetId: number): Promise<SolvedMaze | undefined> {
  const row = await first(
    db
      .select()
      .from(mazes)
      .where(eq(mazes.datasetId, datasetId))
      .orderBy(desc(sql`${jsonNumber(mazes.stats, 'edges')} * 4 + ${mazes.pathLength}`))
      .limit(1),
  );
  return row ? decodeMaze(row) : undefined;
}

/** The model a trainModel job created (its lineage names the job), if it got that far. */
export async function modelOfJob(db: Db, jobId: number): Promise<ModelRow | undefined> {
  return await first(
    db
      .select()
      .from(models)
      .where(sql`${jsonNumber(models.lineage, 'jobId')} = ${jobId}`),
  );
}

/** The TRAINING model of a job: the one an earlier attempt created, or a new one owned by the job's creator. */
export async function trainingModel(
  db: Db,
  jobId: number,
  m: { name: string; config: ModelConfig; vocab: string[]; lineage: Omit<ModelLineage, 'source' | 'jobId'> },
): Promise<ModelRow> {
  const existing = await modelOfJob(db, jobId);
  if (existing) return existing;
  const job = await first(db.select({ createdBy: jobs.createdBy }).from(jobs).where(eq(jobs.id, jobId)));
  return await inserted(
    db
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
      .returning(),
  );
}

/** Appends a resumption (attempt, last stored step, time) to the model's lineage. */
export async function recordResume(db: Db, model: ModelRow, attempt: number): Promise<void> {
  const last = await first(
    db.select({ step: checkpoints.step }).from(checkpoints).where(eq(checkpoints.modelId, model.id)).orderBy(desc(checkpoints.step)).limit(1),
  );
  const lineage = model.lineage;
  const resumes = [...(lineage.resumes ?? []), { attempt, fromStep: last?.step ?? null, at: new Date().toISOString() }];
  await db
    .update(models)
    .set({ lineage: { ...lineage, resumes } })
    .where(eq(models.id, model.id));
}

const CURVE_ROWS = 1000;

/** Stores training-curve points (step, name, value), replacing any at the same step; non-finite values are skipped. */
export async function writeCurvePoints(db: DbOrTx, modelId: number, points: ReadonlyArray<readonly [number, string, number]>): Promise<void> {
  const rows = points.filter(([, , value]) => Number.isFinite(value)).map(([step, name, value]) => ({ modelId, step, name, value }));
  // Statements of at most CURVE_ROWS rows (4 parameters each: far under SQLite's 32,766 and PostgreSQL's 65,535).
  for (let i = 0; i < rows.length; i += CURVE_ROWS)
    await db
      .insert(trainingCurves)
      .values(rows.slice(i, i + CURVE_ROWS))
      .onConflictDoUpdate({ target: [trainingCurves.modelId, trainingCurves.name, trainingCurves.step], set: { value: sql`excluded.value` } });
}

/** Copies a trainer checkpoint into the artifact store (whole or nothing), then records it: a crash never leaves a row without its object. */
export async function storeCheckpoint(handle: DbHandle, modelId: number, step: number, file: string): Promise<StoredObject> {
  const stored = await handle.store.putFile(`checkpoints/model-${modelId}/step-${step}.safetensors`, file);
  await handle.db
    .insert(checkpoints)
    .values({ modelId, step, path: stored.path, sha256: stored.sha256, bytes: stored.bytes, createdAt: Date.now() })
    .onConflictDoUpdate({ target: [checkpoints.modelId, checkpoints.step], set: { path: stored.path, sha256: stored.sha256, bytes: stored.bytes } });
  return stored;
}

/**
 * On resume, records the checkpoint the attempt continues from when no row names it: the trainer's
 * own file (`file`) holds the weights of the step it resumes from, and storeCheckpoint stores the
 * object and then its row, so a worker killed between the two left that step unrecorded (its object
 * orphaned, or swept at start-up). Storing it again (streamed, the same path) mends both. Returns
 * the step recorded, or null when there was nothing to record.
 */
export async function recordResumedCheckpoint(handle: DbHandle, modelId: number, file: string): Promise<number | null> {
  const step = fileStep(await readSafetensorsMetadata(file));
  if (step <= 0) return null;
  const has = await first(
    handle.db
      .select({ id: checkpoints.id })
      .from(checkpoints)
      .where(and(eq(checkpoints.modelId, modelId), eq(checkpoints.step, step))),
  );
  if (has) return null;
  await storeCheckpoint(handle, modelId, step, file);
  return step;
}

export async function markModelReady(db: DbOrTx, modelId: number): Promise<void> {
  await db.update(models).set({ status: 'READY' }).where(eq(models.id, modelId));
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

const workDir = (jobId: number): string => `training/job-${jobId}`;

/** What a shared store holds of a job's resumable state: the last complete pair, by step. */
interface WorkManifest {
  step: number;
  files: Array<{ name: string; path: string; sha256: string }>;
}

/**
 * Shares a job's resumable state through the store after each checkpoint, so a worker on another
 * machine can resume the job: the trainer's output is the checkpoint just stored (`weights`, the
 * object storeCheckpoint returned: not sent twice), its optimizer state goes under the step, then a
 * manifest naming the pair (with sha256s) replaces the previous one, then the previous state goes.
 * A worker killed at any point leaves the last complete pair named, never a mix of two steps or a
 * half-sent file. With the local store the working files already are the stored objects (the same
 * paths under the data directory).
 */
export async function saveTrainingWork(handle: DbHandle, jobId: number, file: string, statePath: string, step: number, weights: StoredObject): Promise<void> {
  if (handle.store.kind === 'local') return;
  const before = await readManifest(handle, jobId);
  const state = await handle.store.putFile(`${workDir(jobId)}/step-${step}/${path.basename(statePath)}`, statePath);
  const files = [
    { name: path.basename(statePath), path: state.path, sha256: state.sha256 },
    { name: path.basename(file), path: weights.path, sha256: weights.sha256 },
  ];
  await handle.store.put(`${workDir(jobId)}/manifest.json`, new TextEncoder().encode(JSON.stringify({ step, files } satisfies WorkManifest)));
  if (before && before.step !== step) await handle.store.remove(`${workDir(jobId)}/step-${before.step}`);
}

async function readManifest(handle: DbHandle, jobId: number): Promise<WorkManifest | undefined> {
  const bytes = await handle.store.read(`${workDir(jobId)}/manifest.json`);
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as WorkManifest;
  } catch {
    return undefined; // unreadable: as if none (the job starts over)
  }
}

/**
 * Brings a job's resumable state from the store to this machine when it is not here (see
 * saveTrainingWork): the pair the manifest names, each checked against its sha256. None, or one
 * that does not check out, leaves nothing here, and the job starts from the beginning.
 */
export async function restoreTrainingWork(handle: DbHandle, jobId: number, file: string, statePath: string): Promise<void> {
  if (handle.store.kind === 'local' || trainingWorkExists(file, statePath)) return;
  const manifest = await readManifest(handle, jobId);
  if (!manifest) return;
  const got: Array<{ local: string; bytes: Buffer }> = [];
  for (const local of [statePath, file]) {
    const entry = manifest.files.find((f) => f.name === path.basename(local));
    const read = entry ? await handle.store.readVerified(entry.path, entry.sha256) : { error: 'missing' as const };
    if ('error' in read) {
      process.stderr.write(`[training] job ${jobId}: its stored state of step ${manifest.step} is ${read.error} (${local}); training starts over\n`);
      return;
    }
    got.push({ local, bytes: read.bytes });
  }
  for (const { local, bytes } of got) {
    const tmp = `${local}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, local);
  }
}

/** Removes a job's working files here and, with a shared store, its stored resumable state. */
export async function removeTrainingWork(handle: Pick<DbHandle, 'dataDir' | 'store'>, jobId: number): Promise<void> {
  fs.rmSync(resolveDataPath(handle.dataDir, workDir(jobId)), { recursive: true, force: true });
  if (handle.store.kind !== 'local') await handle.store.remove(workDir(jobId));
}

/**
 * After a trainModel attempt that did not complete: a model with checkpoints is kept (usable,
 * marked FAILED: training did not finish); one without is removed; the working directory goes.
 */
export async function cleanupTraining(handle: Pick<DbHandle, 'db' | 'dataDir' | 'store'>, jobId: number): Promise<void> {
  const { db } = handle;
  const model = await modelOfJob(db, jobId);
  if (model) {
    const has = await first(
      db
        .select({ id: checkpoints.id })
        .from(checkpoints)
        .where(and(eq(checkpoints.modelId, model.id)))
        .limit(1),
    );
    if (has) await db.update(models).set({ status: 'FAILED' }).where(eq(models.id, model.id));
    else {
      // No checkpoint row, but perhaps objects of checkpoints whose rows did not commit, and caches.
      const objects = await modelObjects(db, model.id);
      await db.delete(models).where(eq(models.id, model.id));
      await removeObjects(handle.store, [...objects, `checkpoints/model-${model.id}`]);
    }
  }
  await removeTrainingWork(handle, jobId);
}
