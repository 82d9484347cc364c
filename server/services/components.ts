/**
 * What a component page (interp/component.ts) reads from storage: the model's finished
 * experiments of the kinds that measure components, each with a reader of its result tensors, and
 * the test-split mazes its activity is measured on.
 */
import { and, asc, count, desc, eq, inArray, isNotNull } from 'drizzle-orm';
import { first, type Db, type DbHandle } from '../db/client.js';
import { experiments, mazes as mazesTable } from '../db/tables.js';
import type { StoredExperiment } from '../interp/component.js';
import { readResultTensor, resultsOf } from './experiments.js';
import type { ExperimentRow, ResultRow } from './rows.js';

/** The kinds componentEvidence reads. */
export const EVIDENCE_KINDS = ['dla', 'activation-patching', 'attribution-patching', 'path-patching', 'adjacency-heads', 'weights', 'attention'] as const;

/** Every finished experiment of the model of those kinds, newest first, each able to read its tensors. */
export async function evidenceExperiments(handle: Pick<DbHandle, 'db' | 'store'>, modelId: number): Promise<Array<StoredExperiment & { row: ExperimentRow }>> {
  const rows = await handle.db
    .select()
    .from(experiments)
    .where(and(eq(experiments.modelId, modelId), inArray(experiments.kind, [...EVIDENCE_KINDS]), isNotNull(experiments.summary)))
    .orderBy(desc(experiments.id));
  return rows.map((row) => storedExperiment(handle, row));
}

/**
 * One experiment row with a reader of its result tensors by name (undefined for a name it lacks):
 * its result rows are listed once, on the first read.
 */
export function storedExperiment(handle: Pick<DbHandle, 'db' | 'store'>, row: ExperimentRow): StoredExperiment & { row: ExperimentRow } {
  let rows: Promise<ResultRow[]> | undefined;
  return {
    row,
    id: row.id,
    kind: row.kind,
    summary: row.summary,
    read: async (name: string) => {
      rows ??= resultsOf(handle.db, row.id);
      const r = (await rows).find((x) => x.name === name);
      return r ? await readResultTensor(handle.store, r) : undefined;
    },
  };
}

const testSplit = (datasetId: number) => and(eq(mazesTable.datasetId, datasetId), eq(mazesTable.split, 'test'));

/** How many mazes a dataset's test split holds. */
export async function testSplitCount(db: Db, datasetId: number): Promise<number> {
  return (await first(db.select({ n: count() }).from(mazesTable).where(testSplit(datasetId))))!.n;
}

/**
 * The ids of `limit` test-split mazes of a dataset from the `offset`-th (index order): a page's
 * activity window, whose mazes are read where the activity is computed (services/activity.ts).
 */
export async function testSplitWindow(db: Db, datasetId: number, limit: number, offset = 0): Promise<number[]> {
  const rows = await db.select({ id: mazesTable.id }).from(mazesTable).where(testSplit(datasetId)).orderBy(asc(mazesTable.idx)).limit(limit).offset(offset);
  return rows.map((r) => r.id);
}
