/**
 * Batch reads by id, for the API's per-request DataLoaders (graphql/loaders.ts): each takes every
 * id a request asked for in one tick and answers with one query, so a page of N mazes asking for
 * their dataset (or N jobs for their creator) costs one query per type instead of N.
 */
import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { AnySQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db } from '../db/client.js';
import { inJsonArray, prepared } from '../db/prepared.js';
import { annotations, checkpoints, circuitEditors, comments, datasets, experiments, jobs, mazes, models, results, users, votes } from '../db/schema.js';
import type { AnnotationRow, CheckpointRow, CommentRow, DatasetRow, ExperimentRow, JobRow, MazeRow, ModelRow, ResultRow, UserRow } from './rows.js';

/** Rows of `table` whose id is in `ids`, through one prepared statement per table. */
function rowsById<T>(db: Db, name: string, table: SQLiteTable & { id: AnySQLiteColumn }, ids: readonly number[]): T[] {
  const q = prepared(db, `byId:${name}`, () =>
    db
      .select()
      .from(table)
      .where(inArray(table.id, inJsonArray('ids')))
      .prepare(),
  );
  return q.all({ ids: JSON.stringify(ids) }) as T[];
}

export const usersById = (db: Db, ids: readonly number[]): UserRow[] => rowsById(db, 'users', users, ids);
export const datasetsById = (db: Db, ids: readonly number[]): DatasetRow[] => rowsById(db, 'datasets', datasets, ids);
export const mazesById = (db: Db, ids: readonly number[]): MazeRow[] => rowsById(db, 'mazes', mazes, ids);
export const modelsById = (db: Db, ids: readonly number[]): ModelRow[] => rowsById(db, 'models', models, ids);
export const jobsById = (db: Db, ids: readonly number[]): JobRow[] => rowsById(db, 'jobs', jobs, ids);
export const annotationsById = (db: Db, ids: readonly number[]): AnnotationRow[] => rowsById(db, 'annotations', annotations, ids);

/** Experiments (never `evaluate` rows, which are a model's Evaluations) by id. */
export function experimentsById(db: Db, ids: readonly number[]): ExperimentRow[] {
  return db
    .select()
    .from(experiments)
    .where(and(inArray(experiments.id, [...ids]), ne(experiments.kind, 'evaluate')))
    .all();
}

/** Checkpoints of these models, by step. */
export function checkpointsOfModels(db: Db, modelIds: readonly number[]): CheckpointRow[] {
  return db
    .select()
    .from(checkpoints)
    .where(inArray(checkpoints.modelId, [...modelIds]))
    .orderBy(checkpoints.step)
    .all();
}

/** Comments on these annotations, oldest first. */
export function commentsOfAnnotations(db: Db, annotationIds: readonly number[]): CommentRow[] {
  return db
    .select()
    .from(comments)
    .where(inArray(comments.annotationId, [...annotationIds]))
    .orderBy(comments.id)
    .all();
}

/** Result tensors of these experiments, in the order they were stored. */
export function resultsOfExperiments(db: Db, experimentIds: readonly number[]): ResultRow[] {
  return db
    .select()
    .from(results)
    .where(inArray(results.experimentId, [...experimentIds]))
    .orderBy(asc(results.id))
    .all();
}

/** The editors (users, by name) of these circuits. */
export function editorsOfCircuits(db: Db, circuitIds: readonly number[]): Array<{ circuitId: number; user: UserRow }> {
  return db
    .select({ circuitId: circuitEditors.circuitId, user: users })
    .from(circuitEditors)
    .innerJoin(users, eq(users.id, circuitEditors.userId))
    .where(inArray(circuitEditors.circuitId, [...circuitIds]))
    .orderBy(users.name)
    .all();
}

/** The sum of votes on each of these annotations (absent: no votes). */
export function voteScores(db: Db, annotationIds: readonly number[]): Map<number, number> {
  const rows = db
    .select({ id: votes.annotationId, s: sql<number>`sum(${votes.value})` })
    .from(votes)
    .where(inArray(votes.annotationId, [...annotationIds]))
    .groupBy(votes.annotationId)
    .all();
  return new Map(rows.map((r) => [r.id, r.s]));
}
