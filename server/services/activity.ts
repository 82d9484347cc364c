/**
 * A page's activity over test mazes — a component's (interp/component.ts) or a probe direction's
 * (interp/direction.ts): one forward per maze, reduced as each comes. Computed where it is asked:
 * in the API, or on an inference worker when there are some (jobs/queued.ts QueuedInference), so
 * the request names everything by id and the answer is plain JSON (examples name their maze by its
 * place in `mazeIds`).
 */
import { ComponentActivityAccumulator, componentName, parseComponent } from '../interp/component.js';
import { DirectionActivity, directionHooks, probeDirection } from '../interp/direction.js';
import { activityHook } from '../interp/component.js';
import { UserError } from '../errors.js';
import type { DbHandle } from '../db/client.js';
import { Rng } from '../maze/rng.js';
import { getTokenizer, tokensToIds } from '../maze/tokenize/index.js';
import type { ModelConfig } from '../model/config.js';
import { decodeMaze } from './datasets.js';
import { probeDirectionStore } from './directions.js';
import { getExperiment } from './experiments.js';
import { checkpointWeights, forEachSequenceForward, latestCheckpoint, type RemoteForward } from './inference.js';
import { mazesById } from './lookup.js';
import { getCheckpoint, getModel } from './models.js';
import type { CheckpointRow, ExperimentRow, MazeRow, ModelRow } from './rows.js';

export type ActivityRequest =
  | { op: 'component'; modelId: number; name: string; mazeIds: number[]; examples: number }
  | { op: 'direction'; experimentId: number; index: number; mazeIds: number[]; examples: number };

export interface ComponentActivityAnswer {
  positions: number;
  byClassMeasure: string;
  byClass: Array<{ class: string; value: number; n: number }>;
  examples: Array<{
    /** Index into the request's mazeIds. */
    maze: number;
    position: number;
    token: string;
    value: number;
    cell: [number, number] | null;
    heat: number[];
    tokens: string[];
    values: number[];
  }>;
}

export interface DirectionActivityAnswer {
  positions: number;
  byClass: Array<{ class: string; meanTrue: number | null; nTrue: number; meanFalse: number | null; nFalse: number }>;
  writers: Array<{ component: string; meanTrue: number | null; meanFalse: number | null }>;
  nTrue: number;
  nFalse: number;
  maxSumError: number;
  auc: number | null;
  examples: Array<{ maze: number; position: number; token: string; value: number; label: boolean; tokens: string[]; values: number[] }>;
}

export type ActivityAnswer<R extends ActivityRequest = ActivityRequest> = R extends { op: 'component' } ? ComponentActivityAnswer : DirectionActivityAnswer;

/**
 * A maze teacher-forced (prompt and solution) in the model's vocabulary, tokenized as the maze page
 * shows it (edge order seeded by the row id), so the API and a worker read the same sequence.
 */
export function teacherForced(model: ModelRow, r: MazeRow, where: string): { tokens: string[]; ids: Int32Array } {
  const cfg = model.config as ModelConfig;
  const tokens = getTokenizer(cfg.tokenizer).tokenize(decodeMaze(r), new Rng(r.id));
  try {
    return { tokens, ids: tokensToIds(tokens, model.vocab as string[]) };
  } catch (e) {
    throw new UserError(`${where}: Maze:${r.id} (${r.rows}x${r.cols}) does not fit Model:${model.id}'s vocabulary: ${(e as Error).message}`);
  }
}

/** The rows of `ids`, in that order; a missing one (deleted meanwhile) is refused by id. */
async function mazesInOrder(handle: DbHandle, ids: readonly number[]): Promise<MazeRow[]> {
  const rows = new Map((await mazesById(handle.db, ids)).map((r) => [r.id, r]));
  return ids.map((id) => {
    const r = rows.get(id);
    if (!r) throw new UserError(`Maze:${id} does not exist (deleted meanwhile)`);
    return r;
  });
}

export async function componentActivityOf(handle: DbHandle, req: Extract<ActivityRequest, { op: 'component' }>): Promise<ComponentActivityAnswer> {
  const model = await getModel(handle.db, req.modelId);
  if (!model) throw new UserError(`Model:${req.modelId} does not exist`);
  const cfg = model.config as ModelConfig;
  const ref = parseComponent(req.name, { n_layers: cfg.n_layers, n_heads: cfg.n_heads, d_mlp: cfg.d_mlp, attn_only: cfg.attn_only });
  const where = `component ${componentName(ref)}: activity`;
  const rows = await mazesInOrder(handle, req.mazeIds);
  const seqs = rows.map((r) => teacherForced(model, r, where));
  const hook = activityHook(ref);
  const acc = new ComponentActivityAccumulator(ref, model.vocab as string[], req.examples);
  await forEachSequenceForward(
    handle,
    model,
    seqs.map((s) => s.ids),
    [hook],
    where,
    (i, hooks) => acc.add({ ids: seqs[i].ids, rows: rows[i].rows, cols: rows[i].cols, hook: hooks.get(hook)! }),
  );
  const a = acc.result();
  return {
    positions: a.positions,
    byClassMeasure: a.byClassMeasure,
    byClass: a.byClass.map((c) => ({ class: c.class, value: c.value, n: c.n })),
    examples: a.examples.map((x) => ({
      maze: x.maze,
      position: x.position,
      token: seqs[x.maze].tokens[x.position] ?? '?',
      value: x.value,
      cell: x.cell,
      heat: Array.from(x.heat),
      tokens: [...seqs[x.maze].tokens],
      values: Array.from(x.values),
    })),
  };
}

/**
 * The checkpoint a probes run ran on: its probes read that checkpoint's residuals, so another's would
 * give wrong numbers without an error. A run that recorded none (before runs recorded it) reads the
 * model's latest.
 */
export async function probesCheckpoint(handle: DbHandle, e: ExperimentRow): Promise<CheckpointRow> {
  if (e.checkpointId === null) return await latestCheckpoint(handle, e.modelId);
  const c = await getCheckpoint(handle.db, e.checkpointId);
  if (!c) throw new UserError(`Experiment:${e.id} probed Checkpoint:${e.checkpointId}, which is gone; rerun the probes on a current checkpoint`);
  return c;
}

export async function directionActivityOf(handle: DbHandle, req: Extract<ActivityRequest, { op: 'direction' }>): Promise<DirectionActivityAnswer> {
  const e = await getExperiment(handle.db, req.experimentId);
  const store = e && e.kind === 'probes' && e.summary !== null ? await probeDirectionStore(handle, e) : null;
  if (!e || !store) throw new UserError(`Experiment:${req.experimentId} is not a completed probes run with stored directions`);
  const model = await getModel(handle.db, e.modelId);
  if (!model) throw new UserError(`Model:${e.modelId} does not exist`);
  const cfg = model.config as ModelConfig;
  const d = probeDirection(store, req.index, cfg.n_layers);
  const where = `probe direction ${d.index} of Experiment:${e.id}: activity`;
  const rows = await mazesInOrder(handle, req.mazeIds);
  const seqs = rows.map((r) => teacherForced(model, r, where));
  const checkpoint = await probesCheckpoint(handle, e);
  const weights = await checkpointWeights(handle, model, checkpoint);
  const bO = Array.from({ length: d.layer }, (_, l) => weights.get(`blocks.${l}.attn.b_O`) ?? new Float32Array(cfg.d_model)); // [d_model] each
  const acc = new DirectionActivity(d, cfg, model.vocab as string[], bO, req.examples);
  await forEachSequenceForward(
    handle,
    model,
    seqs.map((s) => s.ids),
    directionHooks(d, cfg),
    where,
    (i, hooks) => acc.add({ ids: seqs[i].ids, maze: decodeMaze(rows[i]), hooks }),
    checkpoint,
  );
  const a = acc.result();
  return {
    positions: a.positions,
    byClass: a.byClass,
    writers: a.writers,
    nTrue: a.nTrue,
    nFalse: a.nFalse,
    maxSumError: a.maxSumError,
    auc: a.auc,
    examples: a.examples.map((x) => ({
      maze: x.maze,
      position: x.position,
      token: seqs[x.maze].tokens[x.position] ?? '?',
      value: x.value,
      label: x.label,
      tokens: [...seqs[x.maze].tokens],
      values: Array.from(x.values),
    })),
  };
}

/** A request on inference workers when there are some (`remote`: jobs/queued.ts QueuedInference), here otherwise. */
export async function runActivity<R extends ActivityRequest>(remote: RemoteForward | undefined, handle: DbHandle, req: R): Promise<ActivityAnswer<R>> {
  return remote ? await remote.activity(req) : await computeActivity(handle, req);
}

/** Computes a request here (the API without inference workers, or a worker answering one). */
export async function computeActivity<R extends ActivityRequest>(handle: DbHandle, req: R): Promise<ActivityAnswer<R>> {
  return (req.op === 'component' ? await componentActivityOf(handle, req) : await directionActivityOf(handle, req)) as ActivityAnswer<R>;
}
