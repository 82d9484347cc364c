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
import type { Db, DbHandle } from './client.js';
import { inJsonArray, prepared } from './prepared.js';
import { mazes } from './schema.js';

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
  const q = prepared(db, 'mazePages.byIds', () =>
    db
      .select()
      .from(mazes)
      .where(inArray(mazes.id, inJsonArray('ids')))
      .orderBy(asc(mazes.idx))
      .prepare(),
  );
  return q.all({ ids: JSON.stringify(ids) });
}

/** Up to `limit` mazes of the query's range after `afterIdx`, in idx order. */
export async function mazePage({ db, withConnection }: Pick<DbHandle, 'db' | 'withConnection'>, q: MazePageQuery): Promise<MazeRow[]> {
  const after = Math.max(q.afterIdx, q.start - 1);
  if (!filtered(q)) {
    const page = prepared(db, 'mazePages.plain', () =>
      db
        .select()
        .from(mazes)
        .where(and(eq(mazes.datasetId, sql.placeholder('ds')), gt(mazes.idx, sql.placeholder('after')), lt(mazes.idx, sql.placeholder('end'))))
        .orderBy(asc(mazes.idx))
        .limit(sql.placeholder('limit'))
        .prepare(),
    );
    return page.all({ ds: q.datasetId, after, end: q.end, limit: q.limit });
  }
  const budget = q.scan ?? SCAN;
  const walked = await withConnection(
    (sqlite) =>
      prepared(db, 'mazePages.scan', () =>
        sqlite.prepare('SELECT id, path_length AS len FROM mazes WHERE dataset_id = ? AND idx > ? AND idx < ? ORDER BY idx LIMIT ?'),
      ).all(q.datasetId, after, q.end, budget) as Array<{ id: number; len: number }>,
  );
  const hits = walked.filter((r) => r.len >= q.minLength && r.len <= q.maxLength).slice(0, q.limit);
  if (hits.length === q.limit || walked.length < budget)
    return await rowsByIds(
      db,
      hits.map((r) => r.id),
    );
  const ids = await withConnection((sqlite) =>
    prepared(db, 'mazePages.seek', () =>
      sqlite
        .prepare(`
    WITH RECURSIVE lens(len) AS (
      SELECT (SELECT min(path_length) FROM mazes WHERE dataset_id = :ds AND path_length >= :lo)
      UNION ALL
      SELECT (SELECT min(path_length) FROM mazes WHERE dataset_id = :ds AND path_length > lens.len) FROM lens WHERE lens.len < :hi
    )
    SELECT m.id FROM lens, mazes m
    WHERE lens.len <= :hi
      AND m.id IN (SELECT id FROM mazes WHERE dataset_id = :ds AND path_length = lens.len AND idx > :after AND idx < :end ORDER BY idx LIMIT :limit)
    ORDER BY m.idx LIMIT :limit`)
        .pluck(),
    ).all({ ds: q.datasetId, lo: q.minLength, hi: q.maxLength, after, end: q.end, limit: q.limit }),
  );
  return await rowsByIds(db, ids as number[]);
}

/** How many mazes match the query's range and length bounds (ignoring the cursor). */
export function mazeCount({ db, withConnection }: Pick<DbHandle, 'db' | 'withConnection'>, q: Omit<MazePageQuery, 'afterIdx' | 'limit'>): Promise<number> {
  return withConnection((sqlite) => {
    if (!filtered(q)) {
      const c = prepared(db, 'mazePages.countPlain', () => sqlite.prepare('SELECT count(*) FROM mazes WHERE dataset_id = ? AND idx >= ? AND idx < ?').pluck());
      return c.get(q.datasetId, q.start, q.end) as number;
    }
    // Covered by the (dataset_id, path_length, idx) index: no table rows are read.
    const c = prepared(db, 'mazePages.count', () =>
      sqlite.prepare('SELECT count(*) FROM mazes WHERE dataset_id = ? AND path_length BETWEEN ? AND ? AND idx >= ? AND idx < ?').pluck(),
    );
    return c.get(q.datasetId, q.minLength, q.maxLength, q.start, q.end) as number;
  });
}
