/**
 * Pages of a dataset's mazes in index order, optionally filtered by split and by solution path
 * length, over the whole dataset (up to 1,000,000 mazes), with keyset pagination on `idx`.
 *
 * The split is a range of maze indices: createDataset writes split = idx < splits.train[1] ?
 * 'train' : 'test' (server/jobs/handlers/createDataset.ts), so a split filter is an `idx` range
 * the (dataset_id, idx) index answers directly, never a scan past the other split.
 *
 * A path-length filter cannot be answered by one index in `idx` order, so a page is found in two
 * ways, whichever is cheap:
 *   1. Scan: walk up to SCAN mazes after the cursor in idx order and keep those whose length
 *      matches. When the filter is not rare (most uses: "long mazes", "length 10-20") the page is
 *      found in the first few dozen rows.
 *   2. Seek (when the scan found too few): for each distinct path length in [min, max] present in
 *      the dataset (found one index seek each: a "skip scan" of mazes_dataset_len_idx), take the
 *      first `limit` indices after the cursor from the (dataset_id, path_length, idx) index, then
 *      the smallest `limit` of those. Cost: (distinct lengths in range) × (seek + limit entries),
 *      at most 4096 lengths on a 64×64 grid, independent of how rare the matches are.
 * Measured on 1,000,000 synthetic 10×10 rows (~100 distinct lengths): a page with no match took
 * ~200 ms by scanning the whole dataset and 0.1 ms with seeks; a broad filter 0.1 ms by scanning.
 */
import { and, asc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import type { Db, DbHandle, PostgresHandle } from './client.js';
import { prepared, preparedQuery } from './prepared.js';
import { inIdList, mazes, rowBound } from './tables.js';

export type MazeRow = typeof mazes.$inferSelect;

/** Rows walked in idx order before switching to per-length seeks. */
export const SCAN = 2048;
/** Largest path length a maze can have: a path visits each of at most 64×64 cells once. */
export const MAX_PATH_LENGTH = 64 * 64 - 1;

export interface MazePageQuery {
  datasetId: number;
  /** Maze indices in [start, end) (a split, or everything). */
  start: number;
  end: number;
  /** Continue after this maze index (-1: from the start). */
  afterIdx: number;
  /** Inclusive path-length bounds; [0, MAX_PATH_LENGTH] means no filter. */
  minLength: number;
  maxLength: number;
  limit: number;
  /** Rows to walk before seeking by length (default SCAN; tests lower it to exercise the seeks). */
  scan?: number;
}

/** The idx range [start, end) of a split of a dataset whose splits column is `splits`. */
export function splitRange(splits: unknown, split: 'train' | 'test' | null): { start: number; end: number } {
  if (split === null) return { start: 0, end: Number.MAX_SAFE_INTEGER };
  const train = (splits as { train?: unknown } | null)?.train;
  const cut = Array.isArray(train) ? train[1] : undefined;
  // Written by createDataset with the dataset row; a dataset without it is corrupt, not empty.
  if (!Number.isInteger(cut)) throw new Error(`dataset splits ${JSON.stringify(splits)} have no train range; cannot select the ${split} split`);
  return split === 'train' ? { start: 0, end: cut as number } : { start: cut as number, end: Number.MAX_SAFE_INTEGER };
}

const filtered = (q: Pick<MazePageQuery, 'minLength' | 'maxLength'>): boolean => q.minLength > 0 || q.maxLength < MAX_PATH_LENGTH;

async function rowsByIds(db: Db, ids: number[]): Promise<MazeRow[]> {
  if (ids.length === 0) return [];
  const q = preparedQuery(db, 'mazePages.byIds', () =>
    db
      .select()
      .from(mazes)
      .where(inArray(mazes.id, inIdList('ids')))
      .orderBy(asc(mazes.idx)),
  );
  return q.execute({ ids: JSON.stringify(ids) });
}

/** Up to `limit` mazes of the query's range after `afterIdx`, in idx order. */
export async function mazePage(handle: DbHandle, q: MazePageQuery): Promise<MazeRow[]> {
  const { db } = handle;
  const after = rowBound(Math.max(q.afterIdx, q.start - 1));
  const end = rowBound(q.end);
  if (!filtered(q)) {
    const page = preparedQuery(db, 'mazePages.plain', () =>
      db
        .select()
        .from(mazes)
        .where(and(eq(mazes.datasetId, sql.placeholder('ds')), gt(mazes.idx, sql.placeholder('after')), lt(mazes.idx, sql.placeholder('end'))))
        .orderBy(asc(mazes.idx))
        .limit(sql.placeholder('limit')),
    );
    return page.execute({ ds: q.datasetId, after, end, limit: q.limit });
  }
  const budget = q.scan ?? SCAN;
  const walked = await scanLengths(handle, q.datasetId, after, end, budget);
  const hits = walked.filter((r) => r.len >= q.minLength && r.len <= q.maxLength).slice(0, q.limit);
  if (hits.length === q.limit || walked.length < budget)
    return await rowsByIds(
      db,
      hits.map((r) => r.id),
    );
  return await rowsByIds(db, await seekByLength(handle, { ds: q.datasetId, lo: q.minLength, hi: q.maxLength, after, end, limit: q.limit }));
}

/** (id, path length) of up to `budget` mazes after `after`, in idx order. */
function scanLengths(handle: DbHandle, ds: number, after: number, end: number, budget: number): Promise<Array<{ id: number; len: number }>> {
  const text = 'SELECT id, path_length AS len FROM mazes WHERE dataset_id = ? AND idx > ? AND idx < ? ORDER BY idx LIMIT ?';
  if (handle.dialect === 'postgres') return pgRows(handle, text, [ds, after, end, budget]);
  const { db } = handle;
  return handle.withConnection(
    (sqlite) => prepared(db, 'mazePages.scan', () => sqlite.prepare(text)).all(ds, after, end, budget) as Array<{ id: number; len: number }>,
  );
}

/**
 * The ids of the first `limit` mazes after `after` whose length is in [lo, hi], by one seek per
 * distinct length (a recursive "skip scan" of mazes_dataset_len_idx; see the module comment).
 */
async function seekByLength(handle: DbHandle, p: { ds: number; lo: number; hi: number; after: number; end: number; limit: number }): Promise<number[]> {
  const text = `
    WITH RECURSIVE lens(len) AS (
      SELECT (SELECT min(path_length) FROM mazes WHERE dataset_id = :ds AND path_length >= :lo)
      UNION ALL
      SELECT (SELECT min(path_length) FROM mazes WHERE dataset_id = :ds AND path_length > lens.len) FROM lens WHERE lens.len < :hi
    )
    SELECT m.id FROM lens, mazes m
    WHERE lens.len <= :hi
      AND m.id IN (SELECT id FROM mazes WHERE dataset_id = :ds AND path_length = lens.len AND idx > :after AND idx < :end ORDER BY idx LIMIT :limit)
    ORDER BY m.idx LIMIT :limit`;
  if (handle.dialect === 'postgres') {
    // The same skip scan; the per-length seeks as a LATERAL join, which PostgreSQL runs once per
    // length (it would evaluate SQLite's `m.id IN (…)` form for every maze row).
    const pgText = `
      WITH RECURSIVE lens(len) AS (
        SELECT (SELECT min(path_length) FROM mazes WHERE dataset_id = $1 AND path_length >= $2)
        UNION ALL
        SELECT (SELECT min(path_length) FROM mazes WHERE dataset_id = $1 AND path_length > lens.len) FROM lens WHERE lens.len < $3
      )
      SELECT s.id FROM lens CROSS JOIN LATERAL (
        SELECT id, idx FROM mazes WHERE dataset_id = $1 AND path_length = lens.len AND idx > $4 AND idx < $5 ORDER BY idx LIMIT $6
      ) s
      WHERE lens.len <= $3
      ORDER BY s.idx LIMIT $6`;
    const { rows } = await handle.pool.query<{ id: number }>(pgText, [p.ds, p.lo, p.hi, p.after, p.end, p.limit]);
    return rows.map((r) => r.id);
  }
  const { db } = handle;
  return handle.withConnection((sqlite) => prepared(db, 'mazePages.seek', () => sqlite.prepare(text).pluck()).all(p) as number[]);
}

/** Rows of a raw statement on PostgreSQL (`?` placeholders numbered in order). */
async function pgRows<T>(handle: PostgresHandle, text: string, params: unknown[]): Promise<T[]> {
  let i = 0;
  const numbered = text.replace(/\?/g, () => `$${++i}`);
  return (await handle.pool.query(numbered, params)).rows as T[];
}

/** How many mazes match the query's range and length bounds (ignoring the cursor). */
export async function mazeCount(handle: DbHandle, q: Omit<MazePageQuery, 'afterIdx' | 'limit'>): Promise<number> {
  const start = rowBound(q.start);
  const end = rowBound(q.end);
  // The length form is covered by the (dataset_id, path_length, idx) index: no table rows are read.
  const [text, params] = filtered(q)
    ? [
        'SELECT count(*) AS n FROM mazes WHERE dataset_id = ? AND path_length BETWEEN ? AND ? AND idx >= ? AND idx < ?',
        [q.datasetId, q.minLength, q.maxLength, start, end],
      ]
    : ['SELECT count(*) AS n FROM mazes WHERE dataset_id = ? AND idx >= ? AND idx < ?', [q.datasetId, start, end]];
  if (handle.dialect === 'postgres') return (await pgRows<{ n: number }>(handle, text, params))[0].n;
  const { db } = handle;
  return handle.withConnection((sqlite) => prepared(db, `mazePages.count:${text}`, () => sqlite.prepare(text).pluck()).get(...params) as number);
}
