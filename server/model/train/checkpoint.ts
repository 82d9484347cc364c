/**
 * Training checkpoints: two safetensors files, so the weights file stays a plain model any tool
 * (and TransformerLens' load_state_dict) reads, and resuming needs nothing else:
 *
 *   W.safetensors        the model (weights.ts format); __metadata__["searchlight.train"] holds
 *                        {run_id, step} so a stale pairing with the state file is detected.
 *   W.optim.safetensors  Adam's moments as tensors "m.<TL name>" and "v.<TL name>" (float32), and
 *                        __metadata__: format, run_id, step (updates taken), data_position (mazes
 *                        consumed; the next maze index is data_position mod the set size), rng
 *                        (the batch-tokenizer stream's state: the next batch number), run (the
 *                        RunSpec JSON that defines the run) and history (recent losses).
 *
 * Both are written atomically (temporary file + rename), the state file first: a crash between
 * the two leaves a state file one checkpoint ahead of the weights, which `loadCheckpoint` reports
 * instead of resuming from a mismatched pair.
 */
import { existsSync } from 'node:fs';
import { paramShapes, type ModelConfig, type Weights } from '../config.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../safetensors.js';
import { loadModel, saveModel } from '../weights.js';
import type { OptimizerState } from './adamw.js';
import { TrainError } from './engine.js';

export const STATE_FORMAT = 'searchlight-train-state/1';
export const TRAIN_META_KEY = 'searchlight.train';

/** `W.safetensors` → `W.optim.safetensors` (any other name gets `.optim.safetensors` appended). */
export function optimizerPath(weightsPath: string): string {
  return weightsPath.endsWith('.safetensors') ? weightsPath.slice(0, -'.safetensors'.length) + '.optim.safetensors' : weightsPath + '.optim.safetensors';
}

export interface CheckpointData<R> {
  cfg: ModelConfig;
  vocab: string[];
  weights: Weights;
  optimizer: OptimizerState;
  /** Mazes consumed so far. */
  dataPosition: number;
  /** Next batch number of the tokenizer's Rng stream (see data.ts batchRng). */
  nextBatch: number;
  runId: string;
  run: R;
  history: Array<{ step: number; loss: number }>;
}

export async function saveCheckpoint<R>(path: string, c: CheckpointData<R>): Promise<void> {
  const tensors: Array<{ name: string; shape: number[]; data: Float32Array }> = [];
  for (const [name, shape] of paramShapes(c.cfg)) {
    tensors.push({ name: `m.${name}`, shape, data: c.optimizer.m.get(name)! });
    tensors.push({ name: `v.${name}`, shape, data: c.optimizer.v.get(name)! });
  }
  await writeSafetensorsFile(optimizerPath(path), tensors, {
    format: STATE_FORMAT,
    run_id: c.runId,
    step: String(c.optimizer.step),
    data_position: String(c.dataPosition),
    rng: JSON.stringify({ kind: 'batch-counter', next_batch: c.nextBatch }),
    run: JSON.stringify(c.run),
    history: JSON.stringify(c.history),
  });
  await saveModel(path, c.cfg, c.weights, c.vocab, { [TRAIN_META_KEY]: JSON.stringify({ run_id: c.runId, step: c.optimizer.step }) });
}

function int(meta: Record<string, string>, key: string, file: string): number {
  const v = Number(meta[key]);
  if (meta[key] === undefined || !Number.isSafeInteger(v) || v < 0)
    throw new TrainError(`${file}: __metadata__.${key} must be a non-negative integer, got ${JSON.stringify(meta[key])}`);
  return v;
}

function json<T>(meta: Record<string, string>, key: string, file: string): T {
  try {
    return JSON.parse(meta[key] ?? '') as T;
  } catch {
    throw new TrainError(`${file}: __metadata__.${key} is missing or not valid JSON`);
  }
}

/** Loads a checkpoint written by saveCheckpoint; every inconsistency is an error naming the file. */
export async function loadCheckpoint<R>(path: string): Promise<CheckpointData<R>> {
  const statePath = optimizerPath(path);
  if (!existsSync(path)) throw new TrainError(`cannot resume: ${path} does not exist`, { code: 'CHECKPOINT_MISSING' });
  if (!existsSync(statePath))
    throw new TrainError(`cannot resume: ${statePath} (the optimizer state beside ${path}) does not exist`, { code: 'CHECKPOINT_MISSING' });
  const model = await loadModel(path);
  if (!model.vocab) throw new TrainError(`${path}: the model file has no vocab`);
  const { tensors, metadata } = await readSafetensorsFile(statePath);
  if (metadata.format !== STATE_FORMAT)
    throw new TrainError(`${statePath}: not a training state file (format ${JSON.stringify(metadata.format)}, expected ${STATE_FORMAT})`);
  const step = int(metadata, 'step', statePath);
  const wmeta = json<{ run_id?: string; step?: number }>(model.metadata, TRAIN_META_KEY, path);
  if (wmeta.run_id !== metadata.run_id || wmeta.step !== step) {
    throw new TrainError(
      `${path} (run ${wmeta.run_id}, step ${wmeta.step}) and ${statePath} (run ${metadata.run_id}, step ${step}) are not from the same checkpoint; the last save was interrupted`,
      { code: 'CHECKPOINT_TORN' },
    );
  }
  const m: Weights = new Map();
  const v: Weights = new Map();
  for (const [name, shape] of paramShapes(model.cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (const [prefix, into] of [
      ['m', m],
      ['v', v],
    ] as const) {
      const t = tensors.get(`${prefix}.${name}`);
      if (!t || t.data.length !== n) throw new TrainError(`${statePath}: tensor "${prefix}.${name}" is missing or does not have ${n} values`);
      into.set(name, t.data);
    }
  }
  const rng = json<{ kind?: string; next_batch?: number }>(metadata, 'rng', statePath);
  if (rng.kind !== 'batch-counter' || !Number.isSafeInteger(rng.next_batch))
    throw new TrainError(`${statePath}: __metadata__.rng is not a batch-counter state`);
  return {
    cfg: model.cfg,
    vocab: model.vocab,
    weights: model.weights,
    optimizer: { step, m, v },
    dataPosition: int(metadata, 'data_position', statePath),
    nextBatch: rng.next_batch!,
    runId: metadata.run_id,
    run: json<R>(metadata, 'run', statePath),
    history: json(metadata, 'history', statePath),
  };
}
