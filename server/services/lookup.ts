/**
 * Batch reads by id, for the API's per-request DataLoaders (graphql/loaders.ts): each takes every
 * id a request asked for in one tick and answers with one query, so a page of N mazes asking for
 * their dataset (or N jobs for their creator) costs one query per type instead of N.
 */
import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { AnySQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db } from '../db/client.js';
import { preparedQuery } from '../db/prepared.js';
import {
  annotations,
  annotationTargets,
  checkpoints,
  circuitEditors,
  comments,
  datasets,
  experiments,
  inIdList,
  jobs,
  mazes,
  models,
  results,
  users,
  votes,
} from '../db/tables.js';
import type {
  AnnotationRow,
  AnnotationTargetRow,
  CheckpointRow,
  CommentRow,
  DatasetRow,
  ExperimentRow,
  JobRow,
  MazeRow,
  ModelRow,
  ResultRow,
  UserRow,
} from './rows.js';

/** Rows of `table` whose id is in `ids`, through one prepared statement per table. */
async function rowsById<T>(db: Db, name: string, table: SQLiteTable & { id: AnySQLiteColumn }, ids: readonly number[]): Promise<T[]> {
  const q = preparedQuery(db, `byId:${name}`, () =>
    db
      .select()
      .from(table)
      .where(inArray(table.id, inIdList('ids'))),
  );
  return (await q.execute({ ids: JSON.stringify(ids) })) as T[];
}

export const usersById = (db: Db, ids: readonly number[]): Promise<UserRow[]> => rowsById(db, 'users', users, ids);
export const datasetsById = (db: Db, ids: readonly number[]): Promise<DatasetRow[]> => rowsById(db, 'datasets', datasets, ids);
export const mazesById = (db: Db, ids: readonly number[]): Promise<MazeRow[]> => rowsById(db, 'mazes', mazes, ids);
export const modelsById = (db: Db, ids: readonly number[]): Promise<ModelRow[]> => rowsById(db, 'models', models, ids);
export const jobsById = (db: Db, ids: readonly number[]): Promise<JobRow[]> => rowsById(db, 'jobs', jobs, ids);
export const annotationsById = (db: Db, ids: readonly number[]): Promise<AnnotationRow[]> => rowsById(db, 'annotations', annotations, ids);

/** Experiments (never `evaluate` rows, which are a model's Evaluations) by id. */
export async function experimentsById(db: Db, ids: readonly number[]): Promise<ExperimentRow[]> {
  return await db
    .select()
    .from(experiments)
    .where(and(inArray(experiments.id, [...ids]), ne(experiments.kind, 'evaluate')));
}

/** Checkpoints of these models, by step. */
export async function checkpointsOfModels(db: Db, modelIds: readonly number[]): Promise<CheckpointRow[]> {
  return await db
    .select()
    .from(checkpoints)
    .where(inArray(checkpoints.modelId, [...modelIds]))
    .orderBy(checkpoints.step);
}

/** Comments on these annotations, oldest first. */
export async function commentsOfAnnotations(db: Db, annotationIds: readonly number[]): Promise<CommentRow[]> {
  return await db
    .select()
    .from(comments)
    .where(inArray(comments.annotationId, [...annotationIds]))
    .orderBy(comments.id);
}

/** The further targets of these annotations, in each one's given order. */
export async function alsoAboutOfAnnotations(db: Db, annotationIds: readonly number[]): Promise<AnnotationTargetRow[]> {
  return await db
    .select()
    .from(annotationTargets)
    .where(inArray(annotationTargets.annotationId, [...annotationIds]))
    .orderBy(asc(annotationTargets.annotationId), asc(annotationTargets.position));
}

/** Result tensors of these experiments, in the order they were stored. */
export async function resultsOfExperiments(db: Db, experimentIds: readonly number[]): Promise<ResultRow[]> {
  return await db
    .select()
    .from(results)
    .where(inArray(results.experimentId, [...experimentIds]))
    .orderBy(asc(results.id));
}

/** The editors (users, by name) of these circuits. */
export async function editorsOfCircuits(db: Db, circuitIds: readonly number[]): Promise<Array<{ circuitId: number; user: UserRow }>> {
  return await db
    .select({ circuitId: circuitEditors.circuitId, user: users })
    .from(circuitEditors)
    .innerJoin(users, eq(users.id, circuitEditors.userId))
    .where(inArray(circuitEditors.circuitId, [...circuitIds]))
    .orderBy(users.name);
}

/** The sum of votes on each of these annotations (absent: no votes). */
export async function voteScores(db: Db, annotationIds: readonly number[]): Promise<Map<number, number>> {
  const rows = await db
    .select({ id: votes.annotationId, s: sql<number>`sum(${votes.value})`.mapWith(Number) })
    .from(votes)
    .where(inArray(votes.annotationId, [...annotationIds]))
    .groupBy(votes.annotationId);
  return new Map(rows.map((r) => [r.id, r.s]));
}
