/**
 * `createDataset`: generates `count` solved mazes with the maze core and stores them compactly.
 * Writes go in batched transactions (BATCH mazes each, with the job's progress in the same
 * transaction, so progress never claims more than is stored); the dataset turns READY in the same
 * transaction that marks the job COMPLETED. A failed, cancelled or interrupted attempt leaves a
 * BUILDING dataset, which `cleanup` deletes; after a restart the job is retried from the start
 * (generation is deterministic by seed, so the retry produces the same dataset).
 */
import crypto from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { UserError } from '../../errors.js';
import { datasets } from '../../db/schema.js';
import { encodeMaze } from '../../db/mazes.js';
import { type MazeSpec, mazeStream, validateSpec } from '../../maze/generate.js';
import { mazeStats } from '../../maze/analysis.js';
import { MAX_GRID } from '../../maze/lattice.js';
import type { JobHandler } from '../types.js';
import { type EnvVars, intFromEnv } from '../../env.js';

export const MAX_DATASET_COUNT = 1_000_000;
/**
 * Cells (count × grid²) one dataset may hold for a researcher: 1M 5×5 mazes, 24k 32×32. 1M mazes
 * of 64×64 (4.1G cells) took ~0.8 h and 2.8 GB each, and 30 could be queued (issue 16). Admins
 * may build up to MAX_DATASET_CELLS_ADMIN; both settable by environment.
 */
export function datasetCellLimit(role: string, env: EnvVars = process.env): number {
  return role === 'admin'
    ? intFromEnv('SEARCHLIGHT_MAX_DATASET_CELLS_ADMIN', 1_000_000_000, 1, env)
    : intFromEnv('SEARCHLIGHT_MAX_DATASET_CELLS', 25_000_000, 1, env);
}

/** Refuses a dataset over the caller's cell limit, naming both numbers. */
export function checkDatasetSize(grid: number, count: number, role: string): void {
  const cells = grid * grid * count;
  const limit = datasetCellLimit(role);
  if (cells > limit) {
    throw new UserError(`createDataset: ${count.toLocaleString('en-US')} mazes of ${grid}x${grid} are ${cells.toLocaleString('en-US')} cells; a ${role} may build at most ${limit.toLocaleString('en-US')} per dataset (fewer or smaller mazes)`);
  }
}
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
  check(Number.isInteger(r.grid) && (r.grid as number) >= 2 && (r.grid as number) <= MAX_GRID, `grid must be an integer between 2 and ${MAX_GRID} (origin and target need two cells), got ${JSON.stringify(r.grid)}`);
  check(Number.isInteger(r.count) && (r.count as number) >= 1 && (r.count as number) <= MAX_DATASET_COUNT, `count must be an integer between 1 and ${MAX_DATASET_COUNT.toLocaleString('en-US')}, got ${JSON.stringify(r.count)}`);
  check(Number.isInteger(r.seed) && (r.seed as number) >= 0 && (r.seed as number) <= 0xffffffff, `seed must be an integer between 0 and 4294967295, got ${JSON.stringify(r.seed)}`);
  const testFraction = r.testFraction ?? 0.1;
  check(typeof testFraction === 'number' && testFraction >= 0 && testFraction <= 0.5, `testFraction must be a number in [0, 0.5], got ${JSON.stringify(testFraction)}`);
  const params: CreateDatasetParams = { name, generator: r.generator as string, grid: r.grid as number, count: r.count as number, seed: r.seed as number, testFraction: testFraction as number };
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
    const { sqlite, db } = ctx;
    const splits = splitsOf(params.count, params.testFraction);
    const config = { ...specOf(params), cols: params.grid, testFraction: params.testFraction };
    const ds = db.insert(datasets).values({
      name: params.name, generator: params.generator, grid: params.grid, count: params.count, seed: params.seed,
      config, splits, status: 'BUILDING', jobId: ctx.jobId, createdAt: Date.now(),
      createdBy: (sqlite.prepare('SELECT created_by AS u FROM jobs WHERE id = ?').get(ctx.jobId) as { u: number | null } | undefined)?.u ?? null,
    }).returning({ id: datasets.id }).get();
    const insert = sqlite.prepare(`INSERT INTO mazes (dataset_id, idx, split, rows, cols, planes, origin_row, origin_col, target_row, target_col, solution, path_length, stats)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const updateDs = sqlite.prepare('UPDATE datasets SET maze_count = ?, skipped = ? WHERE id = ?');
    const hash = crypto.createHash('sha256');
    const { mazes, stats } = mazeStream(specOf(params), params.count, params.seed);
    let idx = 0;
    let batch: Array<unknown[]> = [];
    const flush = (): void => {
      const rows = batch;
      batch = [];
      sqlite.transaction(() => {
        for (const r of rows) insert.run(r);
        updateDs.run(idx, stats.skipped, ds.id);
      }).immediate();
      ctx.progress({ phase: 'generating', done: idx, total: params.count, skipped: stats.skipped, datasetId: `Dataset:${ds.id}` });
    };
    ctx.progress({ phase: 'generating', done: 0, total: params.count, skipped: 0, datasetId: `Dataset:${ds.id}` });
    for (const m of mazes) {
      const e = encodeMaze(m);
      const { rows: _r, cols: _c, cells: _n, pathLength: _l, ...st } = mazeStats(m);
      // Content hash: a fixed little header per maze, then its stored bytes, in index order.
      hash.update(Uint8Array.of(e.rows, e.cols, e.originRow, e.originCol, e.targetRow, e.targetCol)).update(e.planes).update(e.solution);
      batch.push([ds.id, idx, idx < splits.train[1] ? 'train' : 'test', e.rows, e.cols, e.planes, e.originRow, e.originCol, e.targetRow, e.targetCol, e.solution, e.pathLength, JSON.stringify(st)]);
      idx++;
      if (batch.length >= BATCH) {
        ctx.checkCancelled();
        flush();
        // Let the cancel message from the API thread reach us between batches.
        await new Promise((r) => setImmediate(r));
      }
    }
    ctx.checkCancelled();
    if (batch.length) flush();
    const contentHash = hash.digest('hex');
    const result = { datasetId: `Dataset:${ds.id}`, mazeCount: idx, skipped: stats.skipped, contentHash };
    return ctx.complete(() => {
      db.update(datasets).set({ status: 'READY', mazeCount: idx, skipped: stats.skipped, contentHash }).where(eq(datasets.id, ds.id)).run();
      return result;
    });
  },

  cleanup(db, job) {
    // Mazes go with the dataset (ON DELETE CASCADE). Only an unfinished dataset is removed.
    db.delete(datasets).where(and(eq(datasets.jobId, job.id), eq(datasets.status, 'BUILDING'))).run();
  },
};
