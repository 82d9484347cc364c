/**
 * Datasets in and out as maze-dataset ZANJ archives (the format itself: model/zanj/mazeDataset.ts).
 * Shared by the `importDataset` mutation, the CLI (`searchlight datasets import|export`) and the
 * `/files/datasets/<id>.zanj` download.
 *
 * An import is all or nothing: the archive is read and every maze checked before anything is
 * written, then the dataset row (READY), its mazes and the audit entry go in one transaction.
 */
import crypto from 'node:crypto';
import { asc, and, eq, gt } from 'drizzle-orm';
import { audit } from '../db/audit.js';
import { type Db, type DbHandle, inserted } from '../db/client.js';
import type { DatasetConfig } from '../db/json.js';
import { TEXT_LIMITS } from '../db/schema.js';
import { datasets, mazes as mazesTable } from '../db/tables.js';
import { UserError, isUserError } from '../errors.js';
import { mazeStats } from '../maze/analysis.js';
import type { SolvedMaze } from '../maze/lattice.js';
import { readMazeDatasetZanj, writeMazeDatasetZanj } from '../model/zanj/mazeDataset.js';
import { MAX_ZANJ_UNCOMPRESSED } from '../model/zanj/archive.js';
import { MAX_DATASET_COUNT, datasetCellLimit, decodeMaze, encodeMaze, hashMaze } from './datasets.js';
import type { DatasetRow } from './rows.js';

/** Largest archive accepted (the base64 mutation and the CLI alike). */
export const MAX_DATASET_ARCHIVE_BYTES = 256 * 1024 * 1024;
/** Largest dataset exported in one archive (count × grid² cells): the archive is built in memory. */
export const MAX_EXPORT_CELLS = 100_000_000;
/** Rows per INSERT: 13 parameters each stays under SQLite's and PostgreSQL's limits. */
const INSERT_ROWS = 500;
/** Mazes read per query when exporting. */
const READ_ROWS = 5000;

export interface ImportDatasetInput {
  name: string;
  bytes: Uint8Array;
  /** Share of the mazes held out as the test split (the last ones), [0, 0.5]; default 0.1 as createDataset. */
  testFraction?: number | null;
}

/**
 * Imports a maze-dataset ZANJ archive as a READY dataset owned by `user` (null: the CLI's operator,
 * who may import what an admin may). Problems are UserErrors that start with "importDataset:" and
 * name the maze index and field.
 */
export async function importDatasetArchive(handle: DbHandle, input: ImportDatasetInput, user: { id: number; role: string } | null): Promise<DatasetRow> {
  const name = input.name.trim();
  if (!name || name.length > TEXT_LIMITS['datasets.name'])
    throw new UserError(`importDataset: name must be 1-${TEXT_LIMITS['datasets.name']} characters, got ${JSON.stringify(input.name)}`);
  const testFraction = input.testFraction ?? 0.1;
  if (typeof testFraction !== 'number' || !(testFraction >= 0 && testFraction <= 0.5))
    throw new UserError(`importDataset: testFraction must be a number in [0, 0.5], got ${JSON.stringify(input.testFraction)}`);
  if (input.bytes.length > MAX_DATASET_ARCHIVE_BYTES)
    throw new UserError(`importDataset: the archive is ${input.bytes.length} bytes; the limit is ${MAX_DATASET_ARCHIVE_BYTES}`);
  let read: ReturnType<typeof readMazeDatasetZanj>;
  const role = user?.role ?? 'admin';
  const limit = datasetCellLimit(role);
  // The maze count and cells are refused as soon as the archive says them, before its mazes are checked.
  const checkCount = (count: number, grid: number): void => {
    if (count > MAX_DATASET_COUNT) throw new UserError(`the archive holds ${count} mazes; a dataset may hold at most ${MAX_DATASET_COUNT}`);
    const cells = count * grid * grid;
    if (cells > limit)
      throw new UserError(
        `${count.toLocaleString('en-US')} mazes of ${grid}x${grid} are ${cells.toLocaleString('en-US')} cells; a ${role} may store at most ${limit.toLocaleString('en-US')} per dataset`,
      );
  };
  try {
    // Arrays unpack to Float64 (8 bytes a value) before the maze count is known, so what the entries
    // may unpack to follows the caller's cell limit: a maze stores about 4 bytes a cell (connection
    // list 2 bools, solution and padding), so 8 a cell leaves room, and 16 MiB covers the JSON.
    read = readMazeDatasetZanj(input.bytes, Math.min(MAX_ZANJ_UNCOMPRESSED, 16 * 1024 * 1024 + 8 * limit), checkCount);
  } catch (e) {
    if (isUserError(e)) throw new UserError(`importDataset: ${e.message}`);
    throw e;
  }
  const { info, mazes } = read;
  const count = mazes.length;

  const nTest = Math.round(count * testFraction);
  const splits = { train: [0, count - nTest] as [number, number], test: [count - nTest, count] as [number, number] };
  const hash = crypto.createHash('sha256');
  const rows = mazes.map((m, idx) => {
    const encoded = encodeMaze(m);
    hashMaze(hash, encoded);
    const { rows: _r, cols: _c, cells: _n, pathLength: _l, ...stats } = mazeStats(m);
    return { idx, split: idx < splits.train[1] ? ('train' as const) : ('test' as const), encoded, stats };
  });
  const config: DatasetConfig = {
    generator: info.generator,
    rows: info.grid,
    cols: info.grid,
    testFraction,
    imported: {
      format: 'maze-dataset',
      layout: info.format,
      name: info.name,
      fname: info.fname,
      mazeCtor: info.mazeCtor,
      mazeCtorKwargs: info.mazeCtorKwargs,
      endpointKwargs: info.endpointKwargs,
      seed: info.seed,
    },
  };
  if (info.p !== undefined) config.p = info.p;
  if (info.forkless) config.forkless = true;
  const seed = info.seed !== null && info.seed >= 0 && info.seed <= 0xffffffff ? info.seed : 0;
  const contentHash = hash.digest('hex');
  return await handle.db.transaction(async (tx) => {
    const ds = await inserted(
      tx
        .insert(datasets)
        .values({
          name,
          generator: info.generator,
          grid: info.grid,
          count,
          seed,
          config,
          splits,
          status: 'READY',
          mazeCount: count,
          skipped: 0,
          contentHash,
          jobId: null,
          createdBy: user?.id ?? null,
          createdAt: Date.now(),
        })
        .returning(),
    );
    for (let i = 0; i < rows.length; i += INSERT_ROWS) {
      await tx.insert(mazesTable).values(
        rows.slice(i, i + INSERT_ROWS).map((r) => ({
          datasetId: ds.id,
          idx: r.idx,
          split: r.split,
          rows: r.encoded.rows,
          cols: r.encoded.cols,
          planes: r.encoded.planes,
          originRow: r.encoded.originRow,
          originCol: r.encoded.originCol,
          targetRow: r.encoded.targetRow,
          targetCol: r.encoded.targetCol,
          solution: r.encoded.solution,
          pathLength: r.encoded.pathLength,
          stats: r.stats,
        })),
      );
    }
    await audit(tx, user?.id ?? null, 'import', 'dataset', ds.id, { name, format: info.format, fname: info.fname, mazes: count, contentHash });
    return ds;
  });
}

/** Every maze of a dataset in index order. */
async function allMazes(db: Db, datasetId: number): Promise<SolvedMaze[]> {
  const out: SolvedMaze[] = [];
  for (let after = -1; ; ) {
    const page = await db
      .select()
      .from(mazesTable)
      .where(and(eq(mazesTable.datasetId, datasetId), gt(mazesTable.idx, after)))
      .orderBy(asc(mazesTable.idx))
      .limit(READ_ROWS);
    for (const r of page) out.push(decodeMaze(r));
    if (page.length < READ_ROWS) return out;
    after = page[page.length - 1].idx;
  }
}

/** A READY dataset as a maze-dataset "MazeDataset:minimal" ZANJ archive; `where` prefixes errors. */
export async function datasetArchive(db: Db, ds: DatasetRow, where = 'exportDataset'): Promise<Uint8Array> {
  if (ds.status !== 'READY') throw new UserError(`${where}: Dataset:${ds.id} is still being built; wait for its job to complete`);
  const cells = ds.mazeCount * ds.grid * ds.grid;
  if (cells > MAX_EXPORT_CELLS)
    throw new UserError(
      `${where}: Dataset:${ds.id} has ${cells.toLocaleString('en-US')} cells; an archive holds at most ${MAX_EXPORT_CELLS.toLocaleString('en-US')} (built in memory)`,
    );
  const mazes = await allMazes(db, ds.id);
  if (mazes.length === 0) throw new UserError(`${where}: Dataset:${ds.id} has no mazes`);
  const c = ds.config;
  return writeMazeDatasetZanj(
    {
      name: ds.name,
      grid: ds.grid,
      seed: ds.seed,
      generator: ds.generator,
      ...(typeof c.p === 'number' ? { p: c.p } : {}),
      ...(c.forkless === true ? { forkless: true } : {}),
    },
    mazes,
  );
}

/** The file name a dataset's archive downloads as. */
export const archiveFileName = (ds: DatasetRow): string => `${ds.name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100) || 'dataset'}-${ds.id}.zanj`;
