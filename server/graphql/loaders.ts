/**
 * DataLoaders, created per request, so a page of N mazes asking for their dataset (or N jobs for
 * their creator) costs one query per type instead of N (the batch reads are services/lookup.ts).
 */
import DataLoader from 'dataloader';
import type { Db } from '../services/database.js';
import * as lookup from '../services/lookup.js';
import type { AnnotationTargetRow, CheckpointRow, CommentRow, ResultRow, UserRow } from '../services/rows.js';

function byId<T extends { id: number }>(fetch: (ids: readonly number[]) => Promise<T[]>): DataLoader<number, T | undefined> {
  return new DataLoader<number, T | undefined>(async (ids) => {
    const rows = await fetch(ids);
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id));
  });
}

function groupBy<T, K extends keyof T>(key: K, fetch: (ids: readonly number[]) => Promise<T[]>): DataLoader<number, T[]> {
  return new DataLoader<number, T[]>(async (ids) => {
    const groups = new Map<number, T[]>();
    for (const r of await fetch(ids)) {
      const k = r[key] as unknown as number;
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
    }
    return ids.map((id) => groups.get(id) ?? []);
  });
}

export function createLoaders(db: Db) {
  return {
    user: byId((ids) => lookup.usersById(db, ids)),
    dataset: byId((ids) => lookup.datasetsById(db, ids)),
    maze: byId((ids) => lookup.mazesById(db, ids)),
    model: byId((ids) => lookup.modelsById(db, ids)),
    job: byId((ids) => lookup.jobsById(db, ids)),
    annotation: byId((ids) => lookup.annotationsById(db, ids)),
    /** Experiments only (an `evaluate` row is not an Experiment). */
    experiment: byId((ids) => lookup.experimentsById(db, ids)),
    checkpointsByModel: groupBy<CheckpointRow, 'modelId'>('modelId', (ids) => lookup.checkpointsOfModels(db, ids)),
    commentsByAnnotation: groupBy<CommentRow, 'annotationId'>('annotationId', (ids) => lookup.commentsOfAnnotations(db, ids)),
    alsoAboutByAnnotation: groupBy<AnnotationTargetRow, 'annotationId'>('annotationId', (ids) => lookup.alsoAboutOfAnnotations(db, ids)),
    resultsByExperiment: groupBy<ResultRow, 'experimentId'>('experimentId', (ids) => lookup.resultsOfExperiments(db, ids)),
    /** A circuit's editors (users), by name: one query for a page of circuits. */
    editorsByCircuit: new DataLoader<number, UserRow[]>(async (ids) => {
      const rows = await lookup.editorsOfCircuits(db, ids);
      return ids.map((id) => rows.filter((r) => r.circuitId === id).map((r) => r.user));
    }),
    voteScore: new DataLoader<number, number>(async (ids) => {
      const scores = await lookup.voteScores(db, ids);
      return ids.map((id) => scores.get(id) ?? 0);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
