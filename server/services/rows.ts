/**
 * The server-side values behind GraphQL object types (graphql-codegen's "mappers"): resolvers of
 * these types receive database rows, and fields that return them may return rows.
 * schema/codegen.ts names these exports in server/graphql/generated/types.ts.
 */
import type * as t from '../db/schema.js';
import type { ComponentRef } from '../interp/component.js';
import type { ProbeDirection, ProbeDirectionStore } from '../interp/direction.js';

export type UserRow = typeof t.users.$inferSelect;
export type ApiTokenRow = typeof t.apiTokens.$inferSelect;
export type DatasetRow = typeof t.datasets.$inferSelect;
export type MazeRow = typeof t.mazes.$inferSelect;
export type ModelRow = typeof t.models.$inferSelect;
export type CheckpointRow = typeof t.checkpoints.$inferSelect;
export type ExperimentRow = typeof t.experiments.$inferSelect;
export type ResultRow = typeof t.results.$inferSelect;
export type JobRow = typeof t.jobs.$inferSelect;
export type AnnotationRow = typeof t.annotations.$inferSelect;
export type CommentRow = typeof t.comments.$inferSelect;
export type AnnotationTargetRow = typeof t.annotationTargets.$inferSelect;
export type CircuitRow = typeof t.circuits.$inferSelect;

/** Model.component's value: the model and which of its components (interp/component.ts), resolved field by field. */
export interface ComponentParent {
  model: ModelRow;
  ref: ComponentRef;
}

/** Experiment.probeDirection's value: the probes run, its model, its stored directions and the one asked for. */
export interface ProbeDirectionParent {
  experiment: ExperimentRow;
  model: ModelRow;
  store: ProbeDirectionStore;
  direction: ProbeDirection;
}

/** Query.parseMazeTokens' value: the parsed sequence, drawn on request. */
export type { ParsedSequence as ParsedMazeParent } from '../maze/parse.js';
export type { ComponentTarget, EvaluationParams, EvaluationSummary, GeneratedMazesSpec, ModelLineage } from '../db/json.js';
