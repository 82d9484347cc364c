/**
 * Experiments and evaluations in storage: the experiment row a runExperiment job is queued with,
 * its result tensors (files first, rows after), the evaluation an evaluateModel job stores, and
 * the lists the API pages through. `evaluate` rows share the table but are a model's Evaluations.
 */
import { and, asc, count, desc, eq, lt, ne } from 'drizzle-orm';
import { audit } from '../db/audit.js';
import { first, inserted, type Db, type DbHandle, type DbOrTx, type Tx } from '../db/client.js';
import { decodeMaze } from '../db/mazes.js';
import { experiments, mazes as mazesTable, results, rowBound } from '../db/tables.js';
import type { SolvedMaze } from '../maze/lattice.js';
import { decodeNpy, encodeNpy } from '../model/npy.js';
import type { ArtifactStore, StoredObject } from '../db/store.js';
import type { ExperimentRow, ResultRow } from './rows.js';
import type { SaeSummary, StoredSae } from '../interp/index.js';
import { type ImportedSae, parseSaeLens } from '../interp/sae/format.js';
import { SAE_PARAMS, saeParamShape } from '../interp/sae/sae.js';
import { decodeSafetensors, encodeSafetensors } from '../model/safetensors.js';
import crypto from 'node:crypto';
import { UserError } from '../errors.js';

export interface ExperimentFilter {
  modelId?: number;
  kind?: string;
}

function filterOf(f: ExperimentFilter) {
  return and(
    ne(experiments.kind, 'evaluate'),
    f.modelId !== undefined ? eq(experiments.modelId, f.modelId) : undefined,
    f.kind ? eq(experiments.kind, f.kind) : undefined,
  );
}

/** Experiments newest first, up to `limit`, with ids below `before`. */
export async function experimentPage(db: Db, f: ExperimentFilter, before: number | undefined, limit: number): Promise<ExperimentRow[]> {
  return await db
    .select()
    .from(experiments)
    .where(and(filterOf(f), before !== undefined ? lt(experiments.id, rowBound(before)) : undefined))
    .orderBy(desc(experiments.id))
    .limit(limit);
}

export async function experimentCount(db: Db, f: ExperimentFilter): Promise<number> {
  return (await first(db.select({ n: count() }).from(experiments).where(filterOf(f))))!.n;
}

export interface NewExperiment {
  kind: string;
  modelId: number;
  checkpointId: number;
  params: Record<string, unknown>;
  seed: number;
  datasetId?: number;
}

/** The experiment row of a runExperiment job, written in the job's own insert transaction. */
export async function insertExperiment(tx: Tx, e: NewExperiment, jobId: number, userId: number): Promise<number> {
  const row = await inserted(
    tx
      .insert(experiments)
      .values({
        kind: e.kind,
        modelId: e.modelId,
        params: e.params,
        seed: e.seed,
        datasetId: e.datasetId ?? null,
        checkpointId: e.checkpointId,
        jobId,
        createdBy: userId,
        createdAt: Date.now(),
      })
      .returning({ id: experiments.id }),
  );
  await audit(tx, userId, 'run', 'experiment', row.id, { kind: e.kind, modelId: e.modelId, jobId });
  return row.id;
}

export async function experimentOfJob(db: Db, jobId: number): Promise<ExperimentRow | undefined> {
  return await first(db.select().from(experiments).where(eq(experiments.jobId, jobId)));
}

/** Up to `limit` mazes of a dataset's split, in index order. */
export async function splitMazes(db: Db, datasetId: number, split: 'train' | 'test', limit: number): Promise<SolvedMaze[]> {
  const rows = await db
    .select()
    .from(mazesTable)
    .where(and(eq(mazesTable.datasetId, datasetId), eq(mazesTable.split, split)))
    .orderBy(asc(mazesTable.idx))
    .limit(limit);
  return rows.map((row) => decodeMaze(row));
}

/** The directory of an experiment's result files, relative to the data directory. */
export const resultsDir = (experimentId: number): string => `results/experiment-${experimentId}`;

/** A file name for tensor `i` (names may hold characters a file system or URL would mangle). */
function tensorFile(experimentId: number, i: number, name: string): string {
  return `${resultsDir(experimentId)}/${String(i).padStart(3, '0')}-${name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}.npy`;
}

export interface StoredTensor {
  name: string;
  shape: number[];
  file: StoredObject;
}

/** Writes result tensors as .npy objects (each whole or nothing); their rows are recorded by `recordResults` once the job completes. */
export async function writeResultFiles(
  store: ArtifactStore,
  experimentId: number,
  tensors: ReadonlyArray<{ name: string; shape: number[]; data: Float32Array }>,
): Promise<StoredTensor[]> {
  const out: StoredTensor[] = [];
  for (const [i, t] of tensors.entries())
    out.push({ name: t.name, shape: t.shape, file: await store.put(tensorFile(experimentId, i, t.name), encodeNpy(t.data, t.shape)) });
  return out;
}

/** The result rows and the summary (call inside the job's completing transaction). */
export async function recordResults(db: DbOrTx, experimentId: number, stored: readonly StoredTensor[], summary: unknown, params: unknown): Promise<void> {
  for (const s of stored) {
    await db
      .insert(results)
      .values({ experimentId, name: s.name, dtype: 'float32', shape: s.shape, path: s.file.path, sha256: s.file.sha256, bytes: s.file.bytes });
  }
  await db.update(experiments).set({ summary, params }).where(eq(experiments.id, experimentId));
}

/** Removes what a failed attempt of a job's experiment produced; the row stays (its status is its job's). */
export async function clearExperimentOutput({ db, store }: Pick<DbHandle, 'db' | 'store'>, jobId: number): Promise<void> {
  const exp = await first(db.select({ id: experiments.id }).from(experiments).where(eq(experiments.jobId, jobId)));
  if (!exp) return;
  await db.delete(results).where(eq(results.experimentId, exp.id));
  await db.update(experiments).set({ summary: null }).where(eq(experiments.id, exp.id));
  await store.remove(resultsDir(exp.id));
}

/** An evaluation (an `evaluate` row) of a model's checkpoint; returns its id. */
export async function insertEvaluation(db: DbOrTx, e: { modelId: number; params: Record<string, unknown>; jobId: number; summary: unknown }): Promise<number> {
  return (
    await inserted(
      db
        .insert(experiments)
        .values({ kind: 'evaluate', modelId: e.modelId, params: e.params, jobId: e.jobId, summary: e.summary, createdAt: Date.now() })
        .returning({ id: experiments.id }),
    )
  ).id;
}

/** One stored result tensor, decoded (shape and values from the file's own header); checked against its row's sha256. */
export async function readResultTensor(store: ArtifactStore, r: ResultRow): Promise<ReturnType<typeof decodeNpy>> {
  const got = await store.readVerified(r.path, r.sha256);
  if ('error' in got) throw new Error(`result tensor ${r.name} of Experiment:${r.experimentId} (${r.path}) is ${got.error}`);
  return decodeNpy(got.bytes);
}

/** An experiment (not an evaluation) by id. */
export async function getExperiment(db: Db, id: number): Promise<ExperimentRow | undefined> {
  return await first(
    db
      .select()
      .from(experiments)
      .where(and(eq(experiments.id, id), ne(experiments.kind, 'evaluate'))),
  );
}

/** An experiment's result tensors in the order they were stored. */
export async function resultsOf(db: Db, experimentId: number): Promise<ResultRow[]> {
  return await db.select().from(results).where(eq(results.experimentId, experimentId)).orderBy(asc(results.id));
}

export async function getResult(db: Db, id: number): Promise<ResultRow | undefined> {
  return await first(db.select().from(results).where(eq(results.id, id)));
}

export interface ImportedExperiment {
  kind: string;
  modelId: number;
  checkpointId: number;
  params: Record<string, unknown>;
  seed: number;
  summary: unknown;
  /** In the order the kind produced them. */
  tensors: ReadonlyArray<{ name: string; shape: number[]; data: Float32Array }>;
}

/**
 * A COMPLETED experiment from a result computed elsewhere (`searchlight exp run --out`): the row
 * first without a summary, then the files, then the result rows and the summary in one
 * transaction. A crash in between leaves a row without a summary (shown FAILED) and files the
 * start-up sweep removes, never a summary without its tensors.
 */
export async function importExperiment(handle: Pick<DbHandle, 'db' | 'store'>, e: ImportedExperiment, userId: number | null): Promise<number> {
  const id = (
    await inserted(
      handle.db
        .insert(experiments)
        .values({ kind: e.kind, modelId: e.modelId, params: e.params, seed: e.seed, checkpointId: e.checkpointId, createdBy: userId, createdAt: Date.now() })
        .returning({ id: experiments.id }),
    )
  ).id;
  const stored = await writeResultFiles(handle.store, id, e.tensors);
  await handle.db.transaction(async (tx) => {
    await recordResults(tx, id, stored, e.summary, e.params);
    await audit(tx, userId, 'import', 'experiment', id, { kind: e.kind, modelId: e.modelId });
  });
  return id;
}

/**
 * An `sae` experiment's result as kinds that edit its latents read it (interp StoredSae): checks
 * that it exists, is an SAE, has completed, and ran on `modelId`; messages name `where`.
 */
export async function loadStoredSae(handle: DbHandle, id: number, modelId: number, where: string, checkpointId?: number): Promise<StoredSae> {
  const e = await checkedSae(handle.db, id, modelId, where, checkpointId);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const r of await resultsOf(handle.db, e.id)) {
    const t = await readResultTensor(handle.store, r);
    tensors.set(r.name, { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) });
  }
  return { id: e.id, summary: e.summary as SaeSummary, tensors };
}

/**
 * The row of a completed experiment of `kind` on `modelId`, or a UserError (prefixed by `where`)
 * saying what it is instead; `did` words the model check ("trained its SAE on", "probed").
 */
export async function checkedRun(db: Db, id: number, modelId: number, where: string, kind: 'sae' | 'probes', did: string): Promise<ExperimentRow> {
  const e = await getExperiment(db, id);
  if (!e || e.kind === 'evaluate') throw new UserError(`${where}: Experiment:${id} does not exist`);
  // "an sae" as it is read aloud (S-A-E), "a probes".
  if (e.kind !== kind) throw new UserError(`${where}: Experiment:${id} is a ${e.kind} experiment, not ${kind === 'sae' ? 'an' : 'a'} ${kind} one`);
  if (e.summary === null) throw new UserError(`${where}: Experiment:${id} has not completed`);
  if (e.modelId !== modelId) throw new UserError(`${where}: Experiment:${id} ${did} Model:${e.modelId}, not Model:${modelId}`);
  return e;
}

/**
 * The row of a completed `sae` experiment on `modelId` (and, when given, trained on `checkpointId`:
 * an SAE read on another checkpoint's activations would give wrong numbers without an error), or a
 * UserError saying what it is instead.
 */
export async function checkedSae(db: Db, id: number, modelId: number, where: string, checkpointId?: number): Promise<ExperimentRow> {
  const e = await checkedRun(db, id, modelId, where, 'sae', 'trained its SAE on');
  if (checkpointId !== undefined && e.checkpointId !== null && e.checkpointId !== checkpointId)
    throw new UserError(
      `${where}: Experiment:${id} trained its SAE on Checkpoint:${e.checkpointId}, but Model:${modelId}'s latest is Checkpoint:${checkpointId}; train an SAE on the current weights`,
    );
  return e;
}

/** Where an imported SAE waits for its evaluation job (ExperimentJobParams.importObject). */
export interface SaeImportRef {
  path: string;
  sha256: string;
}

/** Stores an SAELens SAE (its cfg.json in the file's metadata) until its evaluation job reads it. */
export async function storeSaeImport(store: ArtifactStore, cfgText: string, sae: ImportedSae): Promise<SaeImportRef> {
  const tensors: Array<{ name: string; shape: number[]; data: Float32Array }> = SAE_PARAMS.map((name) => ({
    name,
    shape: saeParamShape(sae.shape, name),
    data: sae.weights[name],
  }));
  if (sae.shape.threshold) tensors.push({ name: 'threshold', shape: [sae.shape.d_sae], data: sae.shape.threshold });
  // The weights are stored as parsed (b_dec already folded into b_enc where the file had
  // apply_b_dec_to_input false), so the stored cfg says they take b_dec first: read back, they parse the same.
  const cfg = { ...(JSON.parse(cfgText) as Record<string, unknown>), apply_b_dec_to_input: true };
  const bytes = encodeSafetensors(tensors, { cfg_json: JSON.stringify(cfg) });
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  const o = await store.put(`uploads/sae-${sha}.safetensors`, bytes);
  return { path: o.path, sha256: o.sha256 };
}

/** The SAE an import job measures, read back and checked (sha256, then SAELens' layout again). */
export async function loadSaeImport(store: ArtifactStore, ref: SaeImportRef): Promise<ImportedSae> {
  const r = await store.readVerified(ref.path, ref.sha256);
  if ('error' in r) throw new UserError(`the imported SAE's file is ${r.error} in the artifact store (${store.describe()}); import it again`);
  const { metadata } = decodeSafetensors(new Uint8Array(r.bytes));
  return parseSaeLens(metadata.cfg_json ?? '', new Uint8Array(r.bytes));
}
