/**
 * `createDataset`: generates `count` solved mazes with the maze core and stores them compactly.
 * Writes go in batched transactions (BATCH mazes each, with the job's progress in the same
 * transaction, so progress never claims more than is stored); the dataset turns READY in the same
 * transaction that marks the job COMPLETED. A failed, cancelled or interrupted attempt leaves a
 * BUILDING dataset, which `cleanup` deletes; after a restart the job is retried from the start
 * (generation is deterministic by seed, so the retry produces the same dataset).
 */
import crypto from 'node:crypto';
import { UserError } from '../../errors.js';
import { DatasetWriter, MAX_DATASET_COUNT, type MazeToStore, deleteUnfinishedDataset, encodeMaze, hashMaze } from '../../services/datasets.js';
import { type MazeSpec, mazeStream, validateSpec } from '../../maze/generate.js';
import { mazeStats } from '../../maze/analysis.js';
import { MAX_GRID } from '../../maze/lattice.js';
import type { JobHandler } from '../types.js';

const BATCH = 1000;

export interface CreateDatasetParams {
  name: string;
  generator: string;
  grid: number;
  count: number;
  seed: number;
  p?: number;
  forkless?: boolean;
  testFraction: number;
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new UserError(`createDataset: ${msg}`);
}

export function validateCreateDataset(raw: unknown): CreateDatasetParams {
  check(typeof raw === 'object' && raw !== null, 'input must be an object');
  const r = raw as Record<string, unknown>;
  const name = typeof r.name === 'string' ? r.name.trim() : '';
  check(name.length >= 1 && name.length <= 200, `name must be 1-200 characters, got ${JSON.stringify(r.name)}`);
  check(typeof r.generator === 'string', `generator must be a string, got ${JSON.stringify(r.generator)}`);
  check(
    Number.isInteger(r.grid) && (r.grid as number) >= 2 && (r.grid as number) <= MAX_GRID,
    `grid must be an integer between 2 and ${MAX_GRID} (origin and target need two cells), got ${JSON.stringify(r.grid)}`,
  );
  check(
    Number.isInteger(r.count) && (r.count as number) >= 1 && (r.count as number) <= MAX_DATASET_COUNT,
    `count must be an integer between 1 and ${MAX_DATASET_COUNT.toLocaleString('en-US')}, got ${JSON.stringify(r.count)}`,
  );
  check(
    Number.isInteger(r.seed) && (r.seed as number) >= 0 && (r.seed as number) <= 0xffffffff,
    `seed must be an integer between 0 and 4294967295, got ${JSON.stringify(r.seed)}`,
  );
  const testFraction = r.testFraction ?? 0.1;
  check(
    typeof testFraction === 'number' && testFraction >= 0 && testFraction <= 0.5,
    `testFraction must be a number in [0, 0.5], got ${JSON.stringify(testFraction)}`,
  );
  const params: CreateDatasetParams = {
    name,
    generator: r.generator as string,
    grid: r.grid as number,
    count: r.count as number,
    seed: r.seed as number,
    testFraction: testFraction as number,
  };
  if (r.p !== undefined && r.p !== null) params.p = r.p as number;
  if (r.forkless !== undefined && r.forkless !== null) params.forkless = r.forkless as boolean;
  validateSpec(specOf(params)); // the maze core names unknown generators and options it does not take
  return params;
}

export function specOf(p: CreateDatasetParams): MazeSpec {
  const spec: MazeSpec = { generator: p.generator, rows: p.grid };
  if (p.p !== undefined) spec.p = p.p;
  if (p.forkless !== undefined) spec.forkless = p.forkless;
  return spec;
}

/** Maze-index ranges of the splits: the last round(count·testFraction) mazes are the test split. */
export function splitsOf(count: number, testFraction: number): { train: [number, number]; test: [number, number] } {
  const nTest = Math.round(count * testFraction);
  return { train: [0, count - nTest], test: [count - nTest, count] };
}

export const createDataset: JobHandler<CreateDatasetParams> = {
  kind: 'createDataset',
  recovery: 'retry',
  maxAttempts: 2,
  validate: (raw) => validateCreateDataset(raw),

  async run(ctx, params) {
    const splits = splitsOf(params.count, params.testFraction);
    const config = { ...specOf(params), cols: params.grid, testFraction: params.testFraction };
    const ds = await DatasetWriter.open(ctx.handle, {
      name: params.name,
      generator: params.generator,
      grid: params.grid,
      count: params.count,
      seed: params.seed,
      config,
      splits,
      jobId: ctx.jobId,
    });
    const hash = crypto.createHash('sha256');
    const { mazes, stats } = mazeStream(specOf(params), params.count, params.seed);
    let idx = 0;
    let batch: MazeToStore[] = [];
    const flush = async (): Promise<void> => {
      await ds.writeBatch(batch, idx, stats.skipped);
      batch = [];
      ctx.progress({ phase: 'generating', done: idx, total: params.count, skipped: stats.skipped, datasetId: `Dataset:${ds.id}` });
    };
    ctx.progress({ phase: 'generating', done: 0, total: params.count, skipped: 0, datasetId: `Dataset:${ds.id}` });
    for (const m of mazes) {
      const e = encodeMaze(m);
      const { rows: _r, cols: _c, cells: _n, pathLength: _l, ...st } = mazeStats(m);
      hashMaze(hash, e);
      batch.push({ idx, split: idx < splits.train[1] ? 'train' : 'test', encoded: e, stats: st });
      idx++;
      if (batch.length >= BATCH) {
        ctx.checkCancelled();
        await flush();
        // Let the cancel message from the API thread reach us between batches.
        await new Promise((r) => setImmediate(r));
      }
    }
    ctx.checkCancelled();
    if (batch.length) await flush();
    const contentHash = hash.digest('hex');
    const result = { datasetId: `Dataset:${ds.id}`, mazeCount: idx, skipped: stats.skipped, contentHash };
    return ctx.complete(async (tx) => {
      await ds.finish(tx, idx, stats.skipped, contentHash);
      return result;
    });
  },

  async cleanup(handle, job) {
    // Mazes go with the dataset (ON DELETE CASCADE). Only an unfinished dataset is removed.
    await deleteUnfinishedDataset(handle.db, job.id);
  },
};
