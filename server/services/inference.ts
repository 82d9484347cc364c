/**
 * On-demand inference for the API: `runForward` (next-token prediction, top-k, and a
 * content-addressed activation cache) and `generatePath` (greedy decoding of a stored maze's
 * prompt, scored with the maze metrics). Runs on the model engine's ONNX Runtime sessions, whose
 * `run` computes on ORT's own threads, so the API thread stays free meanwhile.
 */
import crypto from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import { type EnvVars, intFromEnv } from '../env.js';
import { UserError } from '../errors.js';
import { first, type DbHandle } from '../db/client.js';
import { activationCaches, checkpoints } from '../db/tables.js';
import type { SolvedMaze } from '../maze/lattice.js';
import { generateMazes } from '../maze/generate.js';
import type { InterventionSpec } from '../model/onnx/intervene.js';
import type { PositionedEdit, SaeForEdits } from '../interp/sae/decode.js';
import { type PathMetrics, pathMetrics } from '../maze/metrics.js';
import { readPredictedPath, toTokens } from '../maze/parse.js';
import { Rng } from '../maze/rng.js';
import { getTokenizer, tokensToIds } from '../maze/tokenize/index.js';
import { checkSequenceLength, type ModelConfig, type Weights } from '../model/config.js';
import type { OnnxEngine } from '../model/onnx/engine.js';
import { checkHookNames } from '../model/onnx/hooks.js';
import { decodeSafetensors, encodeSafetensors } from '../model/safetensors.js';
import { loadModel } from '../model/weights.js';
import type { CheckpointRow, ModelRow } from './rows.js';
import type { ActivityAnswer, ActivityRequest } from './activity.js';
import { PromiseLru } from './cache.js';

interface Loaded {
  engine: OnnxEngine;
  cfg: ModelConfig;
  vocab: string[];
  weights: Weights;
}

/** Compiled engines by "<dataDir>:<checkpoint id>", the last 3 used kept (an evicted one's sessions released). */
const engines = new PromiseLru<string, Loaded>(3, (l) => void l.engine.dispose());

function engineFor(handle: DbHandle, ckpt: CheckpointRow, vocab: string[]): Promise<Loaded> {
  return engines.get(`${handle.dataDir}:${ckpt.id}`, async () => {
    // Loaded on first use, so the API starts without initializing ONNX Runtime.
    const { OnnxEngine } = await import('../model/onnx/engine.js');
    const m = await loadModel(await handle.store.localPath(ckpt.path, ckpt.sha256));
    return { engine: await OnnxEngine.create(m.cfg, m.weights), cfg: m.cfg, vocab: m.vocab ?? vocab, weights: m.weights };
  });
}

/** Releases the engines of one data directory (server shutdown). */
export async function disposeEngines(dataDir: string): Promise<void> {
  const all: Array<Promise<Loaded>> = [];
  for (const k of [...engines.keys()]) if (k.startsWith(`${dataDir}:`)) all.push(engines.delete(k)!);
  await Promise.all(
    all.map((p) =>
      p.then(
        (l) => l.engine.dispose(),
        () => undefined,
      ),
    ),
  );
}

export async function latestCheckpoint(handle: DbHandle, modelId: number): Promise<CheckpointRow> {
  const c = await first(handle.db.select().from(checkpoints).where(eq(checkpoints.modelId, modelId)).orderBy(desc(checkpoints.step)).limit(1));
  if (!c) throw new UserError(`Model:${modelId} has no checkpoint yet`);
  return c;
}

export interface TopToken {
  token: string;
  id: number;
  logit: number;
  prob: number;
}

/** Top-k of one logits row [d_vocab], with softmax probabilities. */
export function topK(row: Float32Array, vocab: readonly string[], k: number): TopToken[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let z = 0;
  for (let i = 0; i < row.length; i++) z += Math.exp(row[i] - max);
  const ids = Array.from(row.keys())
    .sort((a, b) => row[b] - row[a] || a - b)
    .slice(0, k);
  return ids.map((id) => ({ token: vocab[id], id, logit: row[id], prob: Math.exp(row[id] - max) / z }));
}

export interface ForwardOutput {
  nextToken: string;
  topK: TopToken[];
  cacheId: string | null;
}

/** Content address of an activation cache: the weights' sha256, the token ids and the hook set. */
export function cacheKey(ckptSha: string, ids: ArrayLike<number>, hooks: readonly string[]): string {
  return crypto
    .createHash('sha256')
    .update(`${ckptSha}\n${Array.from(ids).join(',')}\n${[...hooks].sort().join(',')}`)
    .digest('hex');
}

/**
 * Every check runForward makes before it computes (UserErrors naming what is wrong), so a request
 * sent to an inference worker is refused here, typed, exactly as a local one would be.
 */
export function checkForward(model: ModelRow, text: string, hooks: readonly string[], k: number): { tokens: readonly string[]; ids: Int32Array } {
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new UserError(`runForward: topK must be an integer between 1 and 100, got ${k}`);
  const cfg = model.config as ModelConfig;
  const tokens = toTokens(text);
  if (tokens.length === 0) throw new UserError('runForward: tokens is empty; give a space-separated token sequence');
  checkSequenceLength(cfg, tokens.length, 'runForward'); // code SEQUENCE_TOO_LONG
  const ids = tokensToIds(tokens, model.vocab as string[]); // names the first unknown token and its index
  checkHookNames(cfg, hooks, 'runForward'); // code UNKNOWN_HOOK, before any engine is loaded
  return { tokens, ids };
}

/** Something that answers runForward and pages' activity elsewhere (inference workers on the queue, jobs/queued.ts). */
export interface RemoteForward {
  runForward(model: ModelRow, tokens: string, hooks: readonly string[], topK: number): Promise<ForwardOutput>;
  activity<R extends ActivityRequest>(req: R): Promise<ActivityAnswer<R>>;
}

/** Engines this process holds (tests check where inference ran). */
export function engineCount(): number {
  return engines.size;
}

export async function runForward(handle: DbHandle, model: ModelRow, text: string, hooks: readonly string[], k: number): Promise<ForwardOutput> {
  const { tokens, ids } = checkForward(model, text, hooks, k);
  const vocab = model.vocab as string[];
  const cfg = model.config as ModelConfig;
  const T = ids.length;
  const V = cfg.d_vocab;
  const ckpt = await latestCheckpoint(handle, model.id);
  const answer = (logits: Float32Array, cacheId: string | null): ForwardOutput => {
    const top = topK(logits.subarray((T - 1) * V, T * V), vocab, k);
    return { nextToken: top[0].token, topK: top, cacheId };
  };
  if (hooks.length === 0) {
    const { engine } = await engineFor(handle, ckpt, vocab);
    return answer(await engine.forward(ids, 1, T), null);
  }
  const key = cacheKey(ckpt.sha256, ids, hooks);
  const hit = await first(handle.db.select().from(activationCaches).where(eq(activationCaches.key, key)));
  // Read, not hashed: a hit is the fast path (a cache is ~15 MB), and safetensors' own header checks
  // refuse a truncated file; a missing one is recomputed below.
  const cached = hit ? await handle.store.read(hit.path) : undefined;
  if (cached) {
    // A repeated request is served from the stored cache, not recomputed.
    const { tensors } = decodeSafetensors(cached, { select: (n) => n === 'logits' });
    await handle.db.update(activationCaches).set({ lastUsedAt: Date.now() }).where(eq(activationCaches.key, key));
    return answer(tensors.get('logits')!.data, key);
  }
  const { engine } = await engineFor(handle, ckpt, vocab);
  const run = await engine.runWithCache(ids, 1, T, { names: hooks });
  // logits [1, T, d_vocab]; each hook keeps the engine's shape (batch first).
  const tensors = [{ name: 'logits', shape: [1, T, V], data: run.logits }, ...[...run.cache].map(([name, a]) => ({ name, shape: a.shape, data: a.data }))];
  const bytes = encodeSafetensors(tensors, { checkpoint_sha256: ckpt.sha256, tokens: JSON.stringify(tokens) });
  const stored = await handle.store.put(`caches/${key}.safetensors`, bytes);
  // A row left by a cache whose object went missing is replaced by this one.
  if (hit) await handle.db.delete(activationCaches).where(eq(activationCaches.key, key));
  await handle.db
    .insert(activationCaches)
    .values({
      key,
      checkpointId: ckpt.id,
      input: tokens,
      hooks: [...hooks].sort(),
      path: stored.path,
      sha256: stored.sha256,
      bytes: stored.bytes,
      createdAt: Date.now(),
      lastUsedAt: Date.now(),
    })
    .onConflictDoNothing();
  await evictCaches(handle, cacheBudgetFromEnv(), key);
  return answer(run.logits, key);
}

/**
 * Hooks of each sequence's forward on one checkpoint (the model's latest unless given), computed
 * and not stored, handed to `visit` one sequence at a time and then dropped: a page reads a few
 * hundred mazes once (runForward's content-addressed cache is for sequences someone asks for
 * again), and holding every maze's hooks would cost memory in proportion. One sequence per run,
 * since mazes differ in length.
 */
export async function forEachSequenceForward(
  handle: DbHandle,
  model: ModelRow,
  seqs: readonly Int32Array[],
  hooks: readonly string[],
  where: string,
  visit: (i: number, hooks: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>) => void,
  checkpoint?: CheckpointRow,
): Promise<void> {
  const cfg = model.config as ModelConfig;
  checkHookNames(cfg, hooks, where);
  for (const ids of seqs) checkSequenceLength(cfg, ids.length, where);
  const { engine } = await engineFor(handle, checkpoint ?? (await latestCheckpoint(handle, model.id)), model.vocab as string[]);
  for (const [i, ids] of seqs.entries()) {
    const run = await engine.runWithCache(ids, 1, ids.length, { names: [...hooks] });
    const got = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    for (const h of hooks) {
      const a = run.cache.get(h);
      if (!a) throw new Error(`${where}: the engine returned no ${h}`);
      got.set(h, { shape: a.shape, data: a.data });
    }
    visit(i, got);
  }
}

/** A checkpoint's weights (TransformerLens names), from the same cache as its engine. */
export async function checkpointWeights(handle: DbHandle, model: ModelRow, checkpoint: CheckpointRow): Promise<Weights> {
  return (await engineFor(handle, checkpoint, model.vocab as string[])).weights;
}

/** One hook of a stored activation cache (what runForward's cacheId names): its shape and data. */
export async function readCachedHook(handle: DbHandle, cacheId: string, hook: string): Promise<{ shape: number[]; data: Float32Array }> {
  const row = await findCache(handle, cacheId);
  const bytes = row ? await handle.store.read(row.path) : undefined;
  if (!row || !bytes) throw new UserError(`activation cache ${cacheId} is gone (evicted); run the request again`);
  const t = decodeSafetensors(bytes, { select: (n) => n === hook }).tensors.get(hook);
  if (!t) throw new UserError(`activation cache ${cacheId} holds no ${hook}`);
  return { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) };
}

/** Bytes of activation caches kept on disk (SEARCHLIGHT_CACHE_MAX_BYTES, default 2 GiB). */
export function cacheBudgetFromEnv(env: EnvVars = process.env): number {
  return intFromEnv('SEARCHLIGHT_CACHE_MAX_BYTES', 2 * 1024 ** 3, 0, env);
}

/**
 * Least recently used caches go until the rest fit `maxBytes` (each runForward with hooks stored
 * ~15 MB and none was ever removed). `keep` (the cache just made) always stays. The row goes
 * first, then the file: no row ever points at a missing file; a file left by a crash in between
 * is an orphan the start-up sweep removes.
 */
export async function evictCaches(handle: DbHandle, maxBytes: number, keep: string): Promise<void> {
  // The common case (under budget) is one aggregate; rows are read, oldest use first, only to evict.
  let total = (await first(handle.db.select({ n: sql<number>`coalesce(sum(${activationCaches.bytes}), 0)`.mapWith(Number) }).from(activationCaches)))?.n ?? 0;
  if (total <= maxBytes) return;
  const rows = await handle.db
    .select({ key: activationCaches.key, path: activationCaches.path, bytes: activationCaches.bytes })
    .from(activationCaches)
    .orderBy(sql`coalesce(${activationCaches.lastUsedAt}, ${activationCaches.createdAt})`);
  for (const r of rows) {
    if (total <= maxBytes) break;
    if (r.key === keep) continue;
    await handle.db.delete(activationCaches).where(eq(activationCaches.key, r.key));
    await handle.store.remove(r.path);
    total -= r.bytes;
  }
}

export interface GenerateOutput {
  tokens: string;
  path: Array<[number, number] | null>;
  metrics: PathMetrics;
}

/** Mazes whose activations mean-ablation averages: this many DFS mazes of the maze's size, fixed seed. */
const MEAN_REFERENCE_MAZES = 32;

/**
 * Greedy, unconstrained decoding of the maze's prompt (up to <PATH_START>) until <PATH_END> or
 * every cell once. With `interventions` (zero / mean / replace / add on any
 * hook, at chosen positions, heads and features) every step recomputes the sequence with them
 * applied (model/onnx/intervene.ts), so they act at generated positions too.
 */
export async function generatePath(
  handle: DbHandle,
  model: ModelRow,
  maze: SolvedMaze,
  mazeRowId: number,
  interventions: readonly InterventionSpec[] = [],
  featureEdits?: { sae: SaeForEdits; edits: readonly PositionedEdit[] },
): Promise<GenerateOutput> {
  const cfg = model.config as ModelConfig;
  const vocab = model.vocab as string[];
  const tok = getTokenizer(cfg.tokenizer);
  const prompt = tok.prompt(maze, new Rng(mazeRowId));
  const ids = Array.from(tokensToIds(prompt, vocab));
  if (ids.length >= cfg.n_ctx) throw new UserError(`generatePath: the maze's prompt has ${ids.length} tokens; the model's context is ${cfg.n_ctx}`);
  const { engine } = await engineFor(handle, await latestCheckpoint(handle, model.id), vocab);
  const { generate } = await import('../model/onnx/generate.js');
  const endId = vocab.indexOf('<PATH_END>');
  if (endId < 0) throw new UserError(`generatePath: Model:${model.id}'s vocabulary has no <PATH_END> token`);
  // Longest useful continuation: every cell once, then <PATH_END>.
  const maxNewTokens = maze.rows * maze.cols + 1;
  let seq: Int32Array;
  if (interventions.length === 0 && !featureEdits?.edits.length) [seq] = await generate(engine, [Int32Array.from(ids)], { stopToken: endId, maxNewTokens });
  else {
    const { decodeRecomputing, resolveInterventions } = await import('../model/onnx/intervene.js');
    const reference = (): Int32Array[] => {
      const rng = new Rng('generatePath/mean');
      return [...generateMazes({ generator: 'dfs', rows: maze.rows, cols: maze.cols }, MEAN_REFERENCE_MAZES, 7)].map((m) =>
        tokensToIds(tok.tokenize(m, rng), vocab),
      );
    };
    const ivs = await resolveInterventions(engine, interventions, reference, 'generatePath');
    if (featureEdits?.edits.length) {
      const { decodeWithFeatureEdits } = await import('../interp/sae/decode.js');
      seq = await decodeWithFeatureEdits(engine, Int32Array.from(ids), ivs, featureEdits.sae, featureEdits.edits, { stopToken: endId, maxNewTokens });
    } else seq = await decodeRecomputing(engine, Int32Array.from(ids), ivs, { stopToken: endId, maxNewTokens });
  }
  const generated = Array.from(seq.subarray(ids.length), (id) => vocab[id]);
  const predicted = readPredictedPath(generated, tok, { grid: { rows: maze.rows, cols: maze.cols } });
  return {
    tokens: [...prompt, ...generated].join(' '),
    path: predicted.path.map((c) => (c ? [c[0], c[1]] : null)),
    metrics: pathMetrics(maze, predicted.path, { ended: predicted.ended }),
  };
}

/** Which activation cache file serves `/files/caches/<key>`; undefined when unknown. */
export async function findCache(handle: DbHandle, key: string) {
  return await first(
    handle.db
      .select()
      .from(activationCaches)
      .where(and(eq(activationCaches.key, key))),
  );
}
