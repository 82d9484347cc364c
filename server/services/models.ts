/**
 * Importing models: a safetensors file with TransformerLens state_dict names (and, ideally,
 * `__metadata__.config` and `.vocab`), or a maze-transformer ZANJ archive (model/zanj/), becomes a
 * Model with one Checkpoint. Shared by the
 * `importModel` mutation (base64) and the raw `POST /upload/model` route.
 */
import { checkQuota } from './quota.js';
import crypto from 'node:crypto';
import { UserError, isUserError } from '../errors.js';
import { audit } from '../db/audit.js';
import { first, inserted, type Db, type DbHandle, type DbOrTx } from '../db/client.js';
import type { ArtifactStore } from '../db/store.js';
import { and, asc, count, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { preparedQuery } from '../db/prepared.js';
import { activationCaches, checkpoints, experiments, MAX_ROW_ID, models, results, rowBound, trainingCurves } from '../db/tables.js';
import { TEXT_LIMITS } from '../db/schema.js';
import { vocabForSize } from '../maze/tokenize/index.js';
import { TRAIN_META_KEY } from '../model/train/checkpoint.js';
import { type LoadedModel, decodeModel, encodeModel } from '../model/weights.js';
import { processWeights, type WeightProcessing } from '../model/process.js';
import { checkGenerative } from '../model/config.js';
import { decodeSafetensors } from '../model/safetensors.js';
import { perOwner } from './cache.js';
import { isZip } from '../model/zanj/archive.js';
import { mazeTransformerToModelFile } from '../model/zanj/mazeTransformer.js';
import type { EvaluationParams, EvaluationSummary } from '../db/json.js';
import type { CheckpointRow, ExperimentRow, ModelRow } from './rows.js';

/** Largest model file accepted (base64 mutation and raw upload alike). */
export const MAX_MODEL_BYTES = 256 * 1024 * 1024;

function decode(bytes: Uint8Array): LoadedModel {
  try {
    return decodeModel(bytes);
  } catch (e) {
    // The model engine's file errors are plain Errors; here they are the user's input.
    throw new UserError(`importModel: not a valid model file: ${(e as Error).message}`);
  }
}

/** A maze-transformer ZanjHookedTransformer archive as our model file; its problems name the archive's field. */
function fromZanj(bytes: Uint8Array): Uint8Array {
  try {
    return mazeTransformerToModelFile(bytes);
  } catch (e) {
    if (isUserError(e)) throw new UserError(`importModel: maze-transformer archive: ${e.message}`);
    throw e;
  }
}

/** The state_dict entries a ZANJ archive held beyond the model (recorded by the conversion). */
function zanjIgnored(metadata: Record<string, string>): string[] {
  try {
    const v: unknown = JSON.parse(metadata.zanj_ignored_tensors ?? '[]');
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The training step a model file was saved at: `__metadata__.step`, or the step our trainer records
 * in its own metadata (TRAIN_META_KEY: {"step": …, "run_id": …}); 0 when neither says.
 */
export function fileStep(metadata: Record<string, string>): number {
  if (Number.isSafeInteger(Number(metadata.step)) && metadata.step !== undefined) return Number(metadata.step);
  try {
    const s = (JSON.parse(metadata[TRAIN_META_KEY] ?? '{}') as { step?: unknown }).step;
    return Number.isSafeInteger(s) && (s as number) >= 0 ? (s as number) : 0;
  } catch {
    return 0;
  }
}

export async function importModelBytes(
  handle: DbHandle,
  name: string,
  bytes: Uint8Array,
  userId: number | null,
  source: 'import' | 'demo' = 'import',
  processing: WeightProcessing = {},
): Promise<ModelRow> {
  const clean = name.trim();
  if (!clean || clean.length > TEXT_LIMITS['models.name'])
    throw new UserError(`importModel: name must be 1-${TEXT_LIMITS['models.name']} characters, got ${JSON.stringify(name)}`);
  if (bytes.length > MAX_MODEL_BYTES) throw new UserError(`importModel: file is ${bytes.length} bytes; the limit is ${MAX_MODEL_BYTES}`);
  // A zip is a maze-transformer ZANJ archive: converted to our model file first, then imported
  // (and stored) exactly as a safetensors upload would be.
  let file = isZip(bytes) ? fromZanj(bytes) : bytes;
  if (userId !== null) await checkQuota(handle.db, userId, 'importModel', file.length);
  let loaded = decode(file);
  checkGenerative(loaded.cfg, 'importModel'); // a ConfigError: the user's file
  // A file without a vocabulary: the tokenizer's, where its size names it unambiguously (a MazeError otherwise).
  const vocab = loaded.vocab ?? vocabForSize(loaded.cfg.tokenizer, loaded.cfg.d_vocab, 'importModel');
  const step = fileStep(loaded.metadata);
  // TransformerLens' weight processing, when asked for: the stored file is the processed model
  // (what every later forward, cache and experiment reads), its steps recorded in the lineage.
  let processed: string[] | undefined;
  if (Object.values(processing).some(Boolean)) {
    const p = processWeights(loaded.cfg, loaded.weights, processing);
    const { config: _c, vocab: _v, ...meta } = loaded.metadata;
    file = encodeModel(p.cfg, p.weights, vocab, meta);
    loaded = { ...loaded, cfg: p.cfg, weights: p.weights };
    processed = p.log;
  }
  // The object first (whole or nothing), then the rows: a crash never leaves a row without its object.
  const stored = await handle.store.put(`checkpoints/${crypto.randomUUID()}.safetensors`, file);
  try {
    return await handle.db.transaction(async (tx) => {
      const lineage = {
        source,
        ignoredTensors: [...loaded.unknownTensors, ...zanjIgnored(loaded.metadata)],
        metadataKeys: Object.keys(loaded.metadata).filter((k) => k !== 'config' && k !== 'vocab'),
        ...(processed ? { processing: processed } : {}),
      };
      const model = await inserted(
        tx.insert(models).values({ name: clean, config: loaded.cfg, vocab, lineage, status: 'READY', createdBy: userId, createdAt: Date.now() }).returning(),
      );
      await tx.insert(checkpoints).values({ modelId: model.id, step, path: stored.path, sha256: stored.sha256, bytes: stored.bytes, createdAt: Date.now() });
      await audit(tx, userId, 'import', 'model', model.id, { name: clean, sha256: stored.sha256 });
      return model;
    });
  } catch (e) {
    await handle.store.remove(stored.path);
    throw e;
  }
}

/** Models newest first, up to `limit`, with ids below `before` (keyset pagination). */
export function modelPage(db: Db, before: number | undefined, limit: number): Promise<ModelRow[]> {
  const q = preparedQuery(db, 'models.page', () =>
    db
      .select()
      .from(models)
      .where(lt(models.id, sql.placeholder('before')))
      .orderBy(desc(models.id))
      .limit(sql.placeholder('limit')),
  );
  return q.execute({ before: rowBound(before ?? MAX_ROW_ID), limit });
}

export async function modelCount(db: Db): Promise<number> {
  return (await first(preparedQuery(db, 'models.count', () => db.select({ n: count() }).from(models)).execute()))!.n;
}

/** Deletes a model (its checkpoints, experiments and findings cascade); its files become unreferenced and the start-up sweep removes them. */
export async function deleteModel(handle: Pick<DbHandle, 'db' | 'store'>, model: ModelRow, userId: number | null): Promise<void> {
  const objects = await handle.db.transaction(async (tx) => {
    const paths = await modelObjects(tx, model.id);
    await tx.delete(models).where(eq(models.id, model.id));
    await audit(tx, userId, 'delete', 'model', model.id, { name: model.name });
    return paths;
  });
  await removeObjects(handle.store, objects);
}

/**
 * The stored objects a model's rows name (its checkpoints and their optimizer state, its
 * experiments' result tensors, its activation caches): removed after the rows that name them go
 * with the model (ON DELETE CASCADE), so no row ever names a missing object.
 */
export async function modelObjects(db: DbOrTx, modelId: number): Promise<string[]> {
  const ckpts = await db
    .select({ id: checkpoints.id, path: checkpoints.path, state: checkpoints.statePath })
    .from(checkpoints)
    .where(eq(checkpoints.modelId, modelId));
  const ids = ckpts.map((c) => c.id);
  const caches = ids.length ? await db.select({ path: activationCaches.path }).from(activationCaches).where(inArray(activationCaches.checkpointId, ids)) : [];
  const tensors = await db
    .select({ path: results.path })
    .from(results)
    .innerJoin(experiments, eq(experiments.id, results.experimentId))
    .where(eq(experiments.modelId, modelId));
  return [...ckpts.flatMap((c) => (c.state ? [c.path, c.state] : [c.path])), ...caches.map((c) => c.path), ...tensors.map((t) => t.path)];
}

/**
 * Removes objects whose rows are already gone. One that cannot be removed now (the store briefly
 * unreachable) names nothing any more: the start-up sweep removes it, so this is reported, not thrown.
 */
export async function removeObjects(store: ArtifactStore, paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    try {
      await store.remove(p);
    } catch (e) {
      process.stderr.write(`[store] ${p} is no longer referenced but could not be removed now (the start-up sweep will): ${(e as Error).message}\n`);
    }
  }
}

export async function trainingCurve(db: Db, modelId: number, name?: string | null): Promise<Array<{ step: number; name: string; value: number }>> {
  return await db
    .select({ step: trainingCurves.step, name: trainingCurves.name, value: trainingCurves.value })
    .from(trainingCurves)
    .where(and(eq(trainingCurves.modelId, modelId), name ? eq(trainingCurves.name, name) : undefined))
    .orderBy(asc(trainingCurves.name), asc(trainingCurves.step));
}

/** What an evaluation ran on (an `evaluate` row's params, written only by insertEvaluation). */
export function evaluationParams(e: ExperimentRow): EvaluationParams {
  return e.params as EvaluationParams;
}

/** An evaluation's metrics; null until its job completes (written only by insertEvaluation). */
export function evaluationSummary(e: ExperimentRow): EvaluationSummary | null {
  return e.summary as EvaluationSummary | null;
}

/** A model's evaluations (experiment rows of kind `evaluate`), newest first. */
export async function evaluationsOf(db: Db, modelId: number): Promise<ExperimentRow[]> {
  return await db
    .select()
    .from(experiments)
    .where(and(eq(experiments.modelId, modelId), eq(experiments.kind, 'evaluate')))
    .orderBy(desc(experiments.id));
}

export async function getCheckpoint(db: Db, id: number): Promise<CheckpointRow | undefined> {
  return await first(db.select().from(checkpoints).where(eq(checkpoints.id, id)));
}

/** The last few tensors read by readCheckpointTensor, per artifact store (a checkpoint's file never changes). */
const tensorsOf = perOwner<ArtifactStore, string, { shape: number[]; data: Float32Array }>(4);

/**
 * One of a checkpoint's weights (its TransformerLens name) read from its file, without building an
 * inference engine or converting the other tensors: for a page that reads a matrix (W_U) in the API
 * while forwards run on inference workers. The last few are kept.
 */
export function readCheckpointTensor(store: ArtifactStore, ckpt: CheckpointRow, name: string): Promise<{ shape: number[]; data: Float32Array }> {
  return tensorsOf(store).get(`${ckpt.sha256}:${name}`, async () => {
    const got = await store.readVerified(ckpt.path, ckpt.sha256);
    if ('error' in got) throw new Error(`Checkpoint:${ckpt.id} (${ckpt.path}) is ${got.error}`);
    const t = decodeSafetensors(got.bytes, { select: (n) => n === name }).tensors.get(name);
    if (!t) throw new Error(`Checkpoint:${ckpt.id} has no ${name}`);
    return { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) };
  });
}

/** A model's newest checkpoint, if it has one. */
export async function findLatestCheckpoint(db: Db, modelId: number): Promise<CheckpointRow | undefined> {
  return await first(db.select().from(checkpoints).where(eq(checkpoints.modelId, modelId)).orderBy(desc(checkpoints.step)).limit(1));
}

export async function getModel(db: Db, id: number): Promise<ModelRow | undefined> {
  return await first(db.select().from(models).where(eq(models.id, id)));
}
