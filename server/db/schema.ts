/**
 * The database schema (drizzle sqlite-core). drizzle-kit reads this file to generate the SQL in
 * `migrations/` (`npx drizzle-kit generate`; never hand-edit the output).
 *
 * Conventions:
 * - Times are integers: milliseconds since the Unix epoch (UTC).
 * - JSON columns hold small structured metadata only; tensors and weights live as files in the
 *   data directory (see server/db/files.ts) and rows hold their relative path, size and sha256.
 * - Mazes are stored compactly: the two connection planes bit-packed into one blob, the solution as
 *   little-endian u16 flat cell indices. Token sequences are derived on read, never stored.
 * - This file imports nothing relative, so drizzle-kit can load it on its own.
 */
import { sql } from 'drizzle-orm';
import { type AnySQLiteColumn, blob, check, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { MazeStats } from '../maze/analysis.js';
import type { ComponentTarget, DatasetConfig, DatasetSplits, JobProgress, JobResult, ModelConfig, ModelLineage } from './json.js';

/**
 * Longest value, in characters, of every column a user writes: enforced by the database itself
 * (CHECK constraints below), so a service that forgets its own check still cannot store a 10 MB
 * name (issue 16). Services check the same limits first, with a message naming the input;
 * `textLimitOf` turns a constraint failure that still gets here into one.
 */
export const TEXT_LIMITS = {
  'users.name': 64,
  'api_tokens.name': 100,
  'datasets.name': 200,
  'models.name': 200,
  'jobs.params': 512 * 1024,
  'experiments.params': 256 * 1024,
  'annotations.target': 4096,
  'annotations.target_key': 4096,
  'annotations.body': 100_000,
  'annotations.tags': 4096,
  'annotations.evidence': 256 * 1024,
  'comments.body': 100_000,
  'circuits.name': 200,
  'circuits.graph': 256 * 1024,
  'audit_log.detail': 64 * 1024,
} as const;
export type LimitedColumn = keyof typeof TEXT_LIMITS;

/** The CHECK constraint "<table>_<column>_length" bounding a column by TEXT_LIMITS. */
const lengthCheck = (key: LimitedColumn, column: AnySQLiteColumn) =>
  check(`${key.replace('.', '_')}_length`, sql`length(${column}) <= ${sql.raw(String(TEXT_LIMITS[key]))}`);

/** The limited column behind a failed "<table>_<column>_length" constraint named in a database error message. */
export function textLimitOf(message: string): { column: LimitedColumn; limit: number } | undefined {
  // SQLite: "CHECK constraint failed: users_name_length"; PostgreSQL: "… violates check constraint \"users_name_length\"".
  const m = /(?:CHECK constraint failed: |violates check constraint ")(\w+)_length\b/.exec(message);
  if (!m) return undefined;
  const column = (Object.keys(TEXT_LIMITS) as LimitedColumn[]).find((k) => k.replace('.', '_') === m[1]);
  return column ? { column, limit: TEXT_LIMITS[column] } : undefined;
}

const now = sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`;
const createdAt = () => integer('created_at').notNull().default(now);

/** Key-value settings of the workspace (e.g. whether the demo workspace was seeded). */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value', { mode: 'json' }).notNull(),
});

export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull().unique(),
    /** 'admin' | 'researcher' | 'viewer' (server/auth/roles.ts). */
    role: text('role', { enum: ['admin', 'researcher', 'viewer'] }).notNull(),
    /** argon2id PHC string; null for script-only accounts that log in with API tokens. */
    passwordHash: text('password_hash'),
    disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [lengthCheck('users.name', t.name)],
);

/** API tokens for scripts. Only sha256(token) is stored; the token itself is shown once. */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** hex sha256 of the full token. */
    tokenHash: text('token_hash').notNull().unique(),
    /** First characters of the token, so a user can tell tokens apart in a list. */
    prefix: text('prefix').notNull(),
    createdAt: createdAt(),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
    /** Refused from this time on (ms); null: until revoked. */
    expiresAt: integer('expires_at'),
  },
  (t) => [index('api_tokens_user').on(t.userId), lengthCheck('api_tokens.name', t.name)],
);

/** Browser sessions (httpOnly cookie). The id column is sha256 of the cookie value. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

export const datasets = sqliteTable(
  'datasets',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    generator: text('generator').notNull(),
    grid: integer('grid').notNull(),
    /** Number of mazes asked for; `mazeCount` is how many are stored (generation may skip some). */
    count: integer('count').notNull(),
    seed: integer('seed').notNull(),
    /** Full generation config (generator options, endpoint options, p, forkless, ...). */
    config: text('config', { mode: 'json' }).$type<DatasetConfig>().notNull(),
    /** 'BUILDING' while its job runs, then 'READY'; a failed build deletes the dataset. */
    status: text('status', { enum: ['BUILDING', 'READY'] })
      .notNull()
      .default('BUILDING'),
    mazeCount: integer('maze_count').notNull().default(0),
    /** Mazes the generator skipped (no valid endpoints), reported, not hidden. */
    skipped: integer('skipped').notNull().default(0),
    /** hex sha256 over every stored maze's bytes in index order (see handlers/createDataset.ts). */
    contentHash: text('content_hash'),
    /** {"train": [start, end), "test": [start, end)} maze-index ranges. */
    splits: text('splits', { mode: 'json' }).$type<DatasetSplits>().notNull(),
    jobId: integer('job_id'),
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [lengthCheck('datasets.name', t.name)],
);

export const mazes = sqliteTable(
  'mazes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    datasetId: integer('dataset_id')
      .notNull()
      .references(() => datasets.id, { onDelete: 'cascade' }),
    /** Position in the dataset, 0-based; (dataset_id, idx) is unique. */
    idx: integer('idx').notNull(),
    split: text('split', { enum: ['train', 'test'] }).notNull(),
    rows: integer('rows').notNull(),
    cols: integer('cols').notNull(),
    /** Bit-packed planes: rows*cols bits of "down" then rows*cols bits of "right", LSB first. */
    planes: blob('planes', { mode: 'buffer' }).notNull(),
    originRow: integer('origin_row').notNull(),
    originCol: integer('origin_col').notNull(),
    targetRow: integer('target_row').notNull(),
    targetCol: integer('target_col').notNull(),
    /** Solution as little-endian u16 flat cell indices (row*cols + col), origin first. */
    solution: blob('solution', { mode: 'buffer' }).notNull(),
    pathLength: integer('path_length').notNull(),
    /** Derived statistics (forks, dead ends, ...) for filters and the explorer. */
    stats: text('stats', { mode: 'json' }).$type<Omit<MazeStats, 'rows' | 'cols' | 'cells' | 'pathLength'>>().notNull(),
  },
  (t) => [
    uniqueIndex('mazes_dataset_idx').on(t.datasetId, t.idx),
    // Path-length filters in idx order (server/db/mazePages.ts): one seek per distinct length, then
    // entries already in idx order; `idx` in the key also makes filtered counts index-only.
    index('mazes_dataset_len_idx').on(t.datasetId, t.pathLength, t.idx),
  ],
);

export const models = sqliteTable(
  'models',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    /** TransformerLens-named config (server/model/config.ts). */
    config: text('config', { mode: 'json' }).$type<ModelConfig>().notNull(),
    /** Token strings; index = token id. */
    vocab: text('vocab', { mode: 'json' }).$type<string[]>().notNull(),
    /** Where it came from: {source: 'train'|'import'|'demo', datasetId?, parentModelId?, jobId?, preset?, seed?}. */
    lineage: text('lineage', { mode: 'json' }).$type<ModelLineage>().notNull(),
    status: text('status', { enum: ['TRAINING', 'READY', 'FAILED'] })
      .notNull()
      .default('READY'),
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [lengthCheck('models.name', t.name)],
);

export const checkpoints = sqliteTable(
  'checkpoints',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    modelId: integer('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    step: integer('step').notNull(),
    /** Path relative to the data directory (safetensors). */
    path: text('path').notNull(),
    sha256: text('sha256').notNull(),
    bytes: integer('bytes').notNull(),
    /** Optional optimizer-state file, for resuming training exactly. */
    statePath: text('state_path'),
    metrics: text('metrics', { mode: 'json' }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('checkpoints_model_step').on(t.modelId, t.step)],
);

/** Long format: one row per (model, step, metric name), e.g. train/loss, eval/exact_path. */
export const trainingCurves = sqliteTable(
  'training_curves',
  {
    modelId: integer('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    step: integer('step').notNull(),
    name: text('name').notNull(),
    value: real('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.name, t.step] })],
);

export const jobs = sqliteTable(
  'jobs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind', { enum: ['createDataset', 'trainModel', 'evaluateModel', 'experiment'] }).notNull(),
    status: text('status', { enum: ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] })
      .notNull()
      .default('QUEUED'),
    params: text('params', { mode: 'json' }).notNull(),
    /** Last reported progress, e.g. {done, total, phase, message}. */
    progress: text('progress', { mode: 'json' }).$type<JobProgress>(),
    result: text('result', { mode: 'json' }).$type<JobResult>(),
    error: text('error'),
    /** Times the job was started (a restart after a crash counts as a new attempt). */
    attempts: integer('attempts').notNull().default(0),
    cancelRequested: integer('cancel_requested', { mode: 'boolean' }).notNull().default(false),
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    heartbeatAt: integer('heartbeat_at'),
  },
  (t) => [index('jobs_status').on(t.status, t.id), lengthCheck('jobs.params', t.params)],
);

/** Activation caches, content-addressed: key = sha256(checkpoint sha256, input tokens, hooks). */
export const activationCaches = sqliteTable('activation_caches', {
  key: text('key').primaryKey(),
  checkpointId: integer('checkpoint_id')
    .notNull()
    .references(() => checkpoints.id, { onDelete: 'cascade' }),
  input: text('input', { mode: 'json' }).notNull(),
  hooks: text('hooks', { mode: 'json' }).notNull(),
  path: text('path').notNull(),
  sha256: text('sha256').notNull(),
  bytes: integer('bytes').notNull(),
  createdAt: createdAt(),
  lastUsedAt: integer('last_used_at'),
});

/** Interpretability experiments (and evaluations, kind 'evaluate'). */
export const experiments = sqliteTable(
  'experiments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind').notNull(),
    modelId: integer('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    /** The kind's parameters as run (defaults filled in for the model), so a rerun reproduces it. */
    params: text('params', { mode: 'json' }).notNull(),
    /** Seeds everything random in the run (maze generation, edge order, splits, controls). */
    seed: integer('seed').notNull().default(0),
    /**
     * The mazes came from this dataset's slice (null: generated from the params with `seed`). No
     * foreign key, on purpose: SQLite's ALTER TABLE ADD cannot carry ON DELETE SET NULL, and a plain
     * reference would block deleting the dataset; readers treat a missing dataset as gone.
     */
    datasetId: integer('dataset_id'),
    /** The weights it ran on (the model's latest checkpoint when it was queued); no foreign key, as above. */
    checkpointId: integer('checkpoint_id'),
    jobId: integer('job_id').references(() => jobs.id, { onDelete: 'set null' }),
    summary: text('summary', { mode: 'json' }),
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [index('experiments_model').on(t.modelId, t.kind), index('experiments_job').on(t.jobId), lengthCheck('experiments.params', t.params)],
);

/** Named result tensors of an experiment, one file each. */
export const results = sqliteTable(
  'results',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    experimentId: integer('experiment_id')
      .notNull()
      .references(() => experiments.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    dtype: text('dtype').notNull(),
    shape: text('shape', { mode: 'json' }).$type<number[]>().notNull(),
    path: text('path').notNull(),
    sha256: text('sha256').notNull(),
    bytes: integer('bytes').notNull(),
  },
  (t) => [uniqueIndex('results_experiment_name').on(t.experimentId, t.name)],
);

export const annotations = sqliteTable(
  'annotations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    modelId: integer('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    /** The component annotated, e.g. {"kind":"head","layer":2,"head":1}. */
    target: text('target', { mode: 'json' }).$type<ComponentTarget>().notNull(),
    /** Canonical string of the target ("head:2.1") for lookups. */
    targetKey: text('target_key').notNull(),
    body: text('body').notNull(),
    status: text('status', { enum: ['HYPOTHESIS', 'SUPPORTED', 'REFUTED'] })
      .notNull()
      .default('HYPOTHESIS'),
    tags: text('tags', { mode: 'json' }).$type<string[]>().notNull(),
    evidence: text('evidence', { mode: 'json' }).notNull(),
    authorId: integer('author_id').references(() => users.id, { onDelete: 'set null' }),
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [
    index('annotations_model').on(t.modelId, t.targetKey),
    lengthCheck('annotations.target', t.target),
    lengthCheck('annotations.target_key', t.targetKey),
    lengthCheck('annotations.body', t.body),
    lengthCheck('annotations.tags', t.tags),
    lengthCheck('annotations.evidence', t.evidence),
  ],
);

export const comments = sqliteTable(
  'comments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    annotationId: integer('annotation_id')
      .notNull()
      .references(() => annotations.id, { onDelete: 'cascade' }),
    authorId: integer('author_id').references(() => users.id, { onDelete: 'set null' }),
    body: text('body').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('comments_annotation').on(t.annotationId), lengthCheck('comments.body', t.body)],
);

export const votes = sqliteTable(
  'votes',
  {
    annotationId: integer('annotation_id')
      .notNull()
      .references(() => annotations.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** -1 or +1. */
    value: integer('value').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.annotationId, t.userId] })],
);

/**
 * Further components a finding is about, besides its `target` (a head and the MLP it feeds, a
 * pair of features): one row each, so annotations(target:) finds the finding by any of them.
 */
export const annotationTargets = sqliteTable(
  'annotation_targets',
  {
    annotationId: integer('annotation_id')
      .notNull()
      .references(() => annotations.id, { onDelete: 'cascade' }),
    /** Canonical string of the target ("head:2.1"), as annotations.target_key. */
    targetKey: text('target_key').notNull(),
    target: text('target', { mode: 'json' }).$type<ComponentTarget>().notNull(),
    /** Its place in the list as given (0 first). */
    position: integer('position').notNull(),
  },
  (t) => [primaryKey({ columns: [t.annotationId, t.targetKey] }), index('annotation_targets_key').on(t.targetKey)],
);

/** Circuits: a model's components and labelled edges; `version` guards concurrent edits. */
export const circuits = sqliteTable(
  'circuits',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    modelId: integer('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    graph: text('graph', { mode: 'json' }).notNull(),
    version: integer('version').notNull().default(1),
    updatedBy: integer('updated_by').references(() => users.id, { onDelete: 'set null' }),
    /** Who created it: only they or an admin may change it (null: an admin only). */
    ownerId: integer('owner_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [lengthCheck('circuits.name', t.name), lengthCheck('circuits.graph', t.graph)],
);

/** Researchers a circuit's owner lets edit it too (besides the owner and admins). */
export const circuitEditors = sqliteTable(
  'circuit_editors',
  {
    circuitId: integer('circuit_id')
      .notNull()
      .references(() => circuits.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.circuitId, t.userId] })],
);

/** Who changed what: one row per mutation that wrote something. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull().default(now),
    userId: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
    action: text('action').notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id'),
    detail: text('detail', { mode: 'json' }),
  },
  (t) => [index('audit_log_entity').on(t.entity, t.entityId), lengthCheck('audit_log.detail', t.detail)],
);
