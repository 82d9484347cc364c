/**
 * Datasets and their mazes in storage: pages and counts for the API, deletion, the limits on what
 * one dataset may hold, and the writer a createDataset job streams its mazes through.
 */
import type { Hash } from 'node:crypto';
import { and, count, desc, eq, lt, sql } from 'drizzle-orm';
import { audit } from '../db/audit.js';
import type { Statement } from 'better-sqlite3';
import { first, inserted, type Db, type DbHandle, type DbOrTx, type SqliteHandle } from '../db/client.js';
import type { DatasetConfig, DatasetSplits } from '../db/json.js';
import type { EncodedMaze } from '../db/mazes.js';
import { preparedQuery } from '../db/prepared.js';
import { datasets, jobs, MAX_ROW_ID, mazes, rowBound } from '../db/tables.js';
import { type EnvVars, intFromEnv } from '../env.js';
import { UserError } from '../errors.js';
import type { DatasetRow, MazeRow } from './rows.js';

export { decodeMaze, type EncodedMaze, encodeMaze } from '../db/mazes.js';
export { MAX_PATH_LENGTH, type MazePageQuery, mazeCount, mazePage, splitRange } from '../db/mazePages.js';

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
    throw new UserError(
      `createDataset: ${count.toLocaleString('en-US')} mazes of ${grid}x${grid} are ${cells.toLocaleString('en-US')} cells; a ${role} may build at most ${limit.toLocaleString('en-US')} per dataset (fewer or smaller mazes)`,
    );
  }
}

/** Datasets newest first, up to `limit`, with ids below `before` (keyset pagination). */
export function datasetPage(db: Db, before: number | undefined, limit: number): Promise<DatasetRow[]> {
  const q = preparedQuery(db, 'datasets.page', () =>
    db
      .select()
      .from(datasets)
      .where(lt(datasets.id, sql.placeholder('before')))
      .orderBy(desc(datasets.id))
      .limit(sql.placeholder('limit')),
  );
  return q.execute({ before: rowBound(before ?? MAX_ROW_ID), limit });
}

export async function datasetCount(db: Db): Promise<number> {
  return (await first(preparedQuery(db, 'datasets.count', () => db.select({ n: count() }).from(datasets)).execute()))!.n;
}

export async function getDataset(db: Db, id: number): Promise<DatasetRow | undefined> {
  return await first(db.select().from(datasets).where(eq(datasets.id, id)));
}

/** Deletes a dataset and its mazes (ON DELETE CASCADE), with an audit entry. */
export async function deleteDataset(db: Db, ds: DatasetRow, userId: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(datasets).where(eq(datasets.id, ds.id));
    await audit(tx, userId, 'delete', 'dataset', ds.id, { name: ds.name });
  });
}

/** One maze of a batch: where it goes (index, split), its stored form and its statistics. */
export interface MazeToStore {
  idx: number;
  split: 'train' | 'test';
  encoded: EncodedMaze;
  stats: unknown;
}

/** Rows per INSERT statement on PostgreSQL. */
const MAZE_ROWS = 1000;

export interface NewDataset {
  name: string;
  generator: string;
  grid: number;
  count: number;
  seed: number;
  config: DatasetConfig;
  splits: DatasetSplits;
  jobId: number;
}

/**
 * Writes one dataset's mazes as a job generates them: a BUILDING dataset row first (owned by
 * the job's creator), then batches of mazes, each in one transaction with the dataset's running
 * count, so the row never claims more mazes than are stored.
 */
export class DatasetWriter {
  /** SQLite: raw prepared statements, this being the hot path (1M mazes), ~10× faster than building each insert. */
  private readonly raw?: { insert: Statement; updateCount: Statement; sqlite: SqliteHandle['sqlite'] };

  private constructor(
    private readonly handle: DbHandle,
    readonly id: number,
  ) {
    if (handle.dialect === 'sqlite')
      this.raw = {
        sqlite: handle.sqlite,
        insert:
          handle.sqlite.prepare(`INSERT INTO mazes (dataset_id, idx, split, rows, cols, planes, origin_row, origin_col, target_row, target_col, solution, path_length, stats)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
        updateCount: handle.sqlite.prepare('UPDATE datasets SET maze_count = ?, skipped = ? WHERE id = ?'),
      };
  }

  /** Writes the BUILDING dataset row and returns the writer of its mazes. */
  static async open(handle: DbHandle, d: NewDataset): Promise<DatasetWriter> {
    const { db } = handle;
    const creator = (await first(db.select({ u: jobs.createdBy }).from(jobs).where(eq(jobs.id, d.jobId))))?.u ?? null;
    const { id } = await inserted(
      db
        .insert(datasets)
        .values({
          name: d.name,
          generator: d.generator,
          grid: d.grid,
          count: d.count,
          seed: d.seed,
          config: d.config,
          splits: d.splits,
          status: 'BUILDING',
          jobId: d.jobId,
          createdAt: Date.now(),
          createdBy: creator,
        })
        .returning({ id: datasets.id }),
    );
    return new DatasetWriter(handle, id);
  }

  /**
   * Stores encoded mazes (with their index, split and stats) and the dataset's running count, in
   * one transaction. On SQLite synchronously on the raw connection: it runs in the job's own
   * thread, where nothing else uses that connection meanwhile.
   */
  async writeBatch(batch: ReadonlyArray<MazeToStore>, stored: number, skipped: number): Promise<void> {
    const raw = this.raw;
    if (raw) {
      raw.sqlite
        .transaction(() => {
          for (const b of batch) {
            const e = b.encoded;
            raw.insert.run(
              this.id,
              b.idx,
              b.split,
              e.rows,
              e.cols,
              e.planes,
              e.originRow,
              e.originCol,
              e.targetRow,
              e.targetCol,
              e.solution,
              e.pathLength,
              JSON.stringify(b.stats),
            );
          }
          raw.updateCount.run(stored, skipped, this.id);
        })
        .immediate();
      return;
    }
    await this.handle.db.transaction(async (tx) => {
      // Multi-row inserts of MAZE_ROWS (13 parameters each: under PostgreSQL's 65,535 per statement).
      for (let i = 0; i < batch.length; i += MAZE_ROWS) {
        const rows = batch.slice(i, i + MAZE_ROWS).map((b) => ({
          datasetId: this.id,
          idx: b.idx,
          split: b.split,
          rows: b.encoded.rows,
          cols: b.encoded.cols,
          planes: b.encoded.planes,
          originRow: b.encoded.originRow,
          originCol: b.encoded.originCol,
          targetRow: b.encoded.targetRow,
          targetCol: b.encoded.targetCol,
          solution: b.encoded.solution,
          pathLength: b.encoded.pathLength,
          stats: b.stats as MazeRow['stats'],
        }));
        await tx.insert(mazes).values(rows);
      }
      await tx.update(datasets).set({ mazeCount: stored, skipped }).where(eq(datasets.id, this.id));
    });
  }

  /** READY, with its final count and content hash (call inside the job's completing transaction). */
  async finish(tx: DbOrTx, mazeCount: number, skipped: number, contentHash: string): Promise<void> {
    await tx.update(datasets).set({ status: 'READY', mazeCount, skipped, contentHash }).where(eq(datasets.id, this.id));
  }
}

/**
 * Adds one stored maze to a dataset's content hash (`datasets.content_hash`): a fixed little header,
 * then its stored bytes; mazes go in index order.
 */
export function hashMaze(hash: Hash, e: EncodedMaze): void {
  hash
    .update(Uint8Array.of(e.rows, e.cols, e.originRow, e.originCol, e.targetRow, e.targetCol))
    .update(e.planes)
    .update(e.solution);
}

/** Removes the unfinished (BUILDING) dataset of a job that did not complete; mazes cascade. */
export async function deleteUnfinishedDataset(db: Db, jobId: number): Promise<void> {
  await db.delete(datasets).where(and(eq(datasets.jobId, jobId), eq(datasets.status, 'BUILDING')));
}

/** A dataset that exists and is READY, or a UserError naming `field`. */
export async function readyDataset(db: Db, id: number, field: string): Promise<DatasetRow> {
  const ds = await getDataset(db, id);
  if (!ds) throw new UserError(`${field}: Dataset:${id} does not exist`);
  if (ds.status !== 'READY') throw new UserError(`${field}: Dataset:${id} is still being built; wait for its job to complete`);
  return ds;
}
