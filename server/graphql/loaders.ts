/**
 * DataLoaders, created per request, so a page of N mazes asking for their dataset (or N jobs for
 * their creator) costs one query per type instead of N.
 */
import DataLoader from 'dataloader';
import { eq, inArray, sql } from 'drizzle-orm';
import type { AnySQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db } from '../db/client.js';
import { inJsonArray, prepared } from '../db/prepared.js';
import { annotations, checkpoints, circuitEditors, comments, datasets, jobs, mazes, models, users, votes } from '../db/schema.js';
import type { AnnotationRow, CheckpointRow, CommentRow, DatasetRow, JobRow, MazeRow, ModelRow, UserRow } from './mappers.js';

/** Rows of `table` whose id is in `ids`, through one prepared statement per table. */
function rowsById<T>(db: Db, name: string, table: SQLiteTable & { id: AnySQLiteColumn }, ids: number[]): T[] {
  const q = prepared(db, `byId:${name}`, () => db.select().from(table).where(inArray(table.id, inJsonArray('ids'))).prepare());
  return q.all({ ids: JSON.stringify(ids) }) as T[];
}

function byId<T extends { id: number }>(fetch: (ids: number[]) => T[]): DataLoader<number, T | undefined> {
  return new DataLoader<number, T | undefined>(async (ids) => {
    const rows = fetch([...ids]);
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id));
  });
}

function groupBy<T, K extends keyof T>(key: K, fetch: (ids: number[]) => T[]): DataLoader<number, T[]> {
  return new DataLoader<number, T[]>(async (ids) => {
    const groups = new Map<number, T[]>();
    for (const r of fetch([...ids])) {
      const k = r[key] as unknown as number;
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
    }
    return ids.map((id) => groups.get(id) ?? []);
  });
}

export function createLoaders(db: Db) {
  return {
    user: byId<UserRow>((ids) => rowsById(db, 'users', users, ids)),
    dataset: byId<DatasetRow>((ids) => rowsById(db, 'datasets', datasets, ids)),
    maze: byId<MazeRow>((ids) => rowsById(db, 'mazes', mazes, ids)),
    model: byId<ModelRow>((ids) => rowsById(db, 'models', models, ids)),
    job: byId<JobRow>((ids) => rowsById(db, 'jobs', jobs, ids)),
    annotation: byId<AnnotationRow>((ids) => rowsById(db, 'annotations', annotations, ids)),
    checkpointsByModel: groupBy<CheckpointRow, 'modelId'>('modelId', (ids) => db.select().from(checkpoints).where(inArray(checkpoints.modelId, ids)).orderBy(checkpoints.step).all()),
    commentsByAnnotation: groupBy<CommentRow, 'annotationId'>('annotationId', (ids) => db.select().from(comments).where(inArray(comments.annotationId, ids)).orderBy(comments.id).all()),
    /** A circuit's editors (users), by name: one query for a page of circuits. */
    editorsByCircuit: new DataLoader<number, UserRow[]>(async (ids) => {
      const rows = db.select({ circuitId: circuitEditors.circuitId, user: users }).from(circuitEditors).innerJoin(users, eq(users.id, circuitEditors.userId))
        .where(inArray(circuitEditors.circuitId, [...ids])).orderBy(users.name).all();
      return ids.map((id) => rows.filter((r) => r.circuitId === id).map((r) => r.user));
    }),
    voteScore: new DataLoader<number, number>(async (ids) => {
      const rows = db.select({ id: votes.annotationId, s: sql<number>`sum(${votes.value})` }).from(votes).where(inArray(votes.annotationId, [...ids])).groupBy(votes.annotationId).all();
      const m = new Map(rows.map((r) => [r.id, r.s]));
      return ids.map((id) => m.get(id) ?? 0);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
