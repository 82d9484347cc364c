/**
 * The persistent job queue: rows in the `jobs` table. State changes are single guarded UPDATEs
 * (`WHERE status = ...`), so the API thread and a worker never overwrite each other's decision:
 *   QUEUED → RUNNING (claim) → COMPLETED (worker, with its output) | FAILED | CANCELLED (runner)
 *   QUEUED → CANCELLED (cancel before start);  RUNNING → QUEUED (recovery after a restart)
 *
 * `attempts` (incremented by each claim) is the claim's token: a process acting on a run it holds
 * passes its attempt, so a run that another process has since recovered and claimed again (a worker
 * that only lost its BullMQ lock, not its life) can no longer report progress, complete, fail or
 * requeue the newer run.
 */
import { and, count, desc, eq, inArray, lt, notInArray, sql } from 'drizzle-orm';
import { first, inserted, type Db, type DbOrTx, type Tx } from '../db/client.js';
import { preparedQuery } from '../db/prepared.js';
import { audit } from '../db/audit.js';
import { auditLog, jobs, MAX_ROW_ID, rowBound, users } from '../db/tables.js';
import type { JobRow } from './rows.js';
import type { JobProgress, JobResult } from '../db/json.js';

export type JobStatus = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export const TERMINAL: ReadonlySet<JobStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export type { JobProgress, JobResult };

/** Who asks for a change (audited, named in messages). */
export interface Actor {
  id: number;
  name: string;
}

/** The kinds of job (each has a handler in server/jobs/handlers). */
export type JobKind = JobRow['kind'];

/** The topic a job's changes are published on (PubSub), for the `jobProgress` subscription. */
export const jobTopic = (id: number): string => `job:${id}`;

/**
 * What adapters ask of the job system (the embedded runner today, a queue of worker processes
 * later): queue a job after its handler validated the parameters, and cancel one.
 */
export interface JobScheduler {
  /** Validates `params` with the kind's handler (UserError; nothing written), then queues the job with its `link`ed rows. */
  enqueue<P = unknown>(kind: string, params: unknown, userId: number | null, link?: EnqueueLink, check?: (normalized: P) => void): Promise<JobRow>;
  /** QUEUED → CANCELLED, RUNNING → stopped; undefined when there is no such job. */
  cancel(id: number, by: Actor): Promise<JobRow | undefined>;
  runningCount(): Promise<number>;
}

/**
 * Rows a job comes with (e.g. the experiment a runExperiment job fills in), written in the job's
 * own insert transaction, so there is never a job without them or them without a job. Returns
 * fields to merge into the job's params (e.g. the new row's id), or nothing.
 */
export type EnqueueLink = (tx: Tx, job: JobRow) => Promise<Record<string, unknown> | undefined>;

export async function enqueue(db: Db, kind: JobKind, params: unknown, createdBy: number | null, link?: EnqueueLink): Promise<JobRow> {
  return db.transaction(async (tx) => {
    let job = await inserted(
      tx
        .insert(jobs)
        .values({ kind, params, createdBy, createdAt: Date.now(), progress: { phase: 'queued' } })
        .returning(),
    );
    const extra = await link?.(tx, job);
    if (extra)
      job = await inserted(
        tx
          .update(jobs)
          .set({ params: { ...(params as object), ...extra } })
          .where(eq(jobs.id, job.id))
          .returning(),
      );
    await audit(tx, createdBy, 'enqueue', 'job', job.id, { kind });
    return job;
  });
}

/** Whether a cancel was requested: the one column a worker polls between steps, not the whole row. */
export async function isCancelRequested(db: Db, id: number): Promise<boolean> {
  const q = preparedQuery(db, 'jobs.cancelRequested', () =>
    db
      .select({ c: jobs.cancelRequested })
      .from(jobs)
      .where(eq(jobs.id, sql.placeholder('id'))),
  );
  return (await first(q.execute({ id })))?.c ?? false;
}

/**
 * Who asked to cancel a job, by name, from the audit entry requestCancel wrote: a worker that learns
 * of the cancel from the row (its poll) rather than from the note names the same person.
 */
export async function cancelledBy(db: Db, id: number): Promise<string | undefined> {
  const row = await first(
    db
      .select({ name: users.name })
      .from(auditLog)
      .innerJoin(users, eq(users.id, auditLog.userId))
      .where(and(eq(auditLog.entity, 'job'), eq(auditLog.entityId, String(id)), eq(auditLog.action, 'cancel')))
      .orderBy(desc(auditLog.id))
      .limit(1),
  );
  return row?.name;
}

/** Jobs a user has waiting (the per-user queue limit). */
export async function countQueued(db: Db, userId: number): Promise<number> {
  return (
    (
      await first(
        db
          .select({ n: count() })
          .from(jobs)
          .where(and(eq(jobs.createdBy, userId), eq(jobs.status, 'QUEUED'))),
      )
    )?.n ?? 0
  );
}

/** Jobs a user has waiting or running (their dispatch priority: each user's first job goes before anyone's second). */
export async function countActive(db: Db, userId: number): Promise<number> {
  return (
    (
      await first(
        db
          .select({ n: count() })
          .from(jobs)
          .where(and(eq(jobs.createdBy, userId), inArray(jobs.status, ['QUEUED', 'RUNNING']))),
      )
    )?.n ?? 0
  );
}

export async function getJob(db: Db, id: number): Promise<JobRow | undefined> {
  return await first(db.select().from(jobs).where(eq(jobs.id, id)));
}

/** Atomically takes the oldest QUEUED job (oldest first: FIFO), or undefined. */
export async function claimNext(db: Db, exclude: number[] = []): Promise<JobRow | undefined> {
  const now = Date.now();
  const next = await first(
    db
      .select({ id: jobs.id })
      .from(jobs)
      .where(exclude.length ? and(eq(jobs.status, 'QUEUED'), notInArray(jobs.id, exclude)) : eq(jobs.status, 'QUEUED'))
      .orderBy(jobs.id)
      .limit(1),
  );
  if (!next) return undefined;
  return await first(
    db
      .update(jobs)
      .set({ status: 'RUNNING', attempts: sql`${jobs.attempts} + 1`, startedAt: now, heartbeatAt: now, error: null })
      .where(and(eq(jobs.id, next.id), eq(jobs.status, 'QUEUED')))
      .returning(),
  );
}

/** QUEUED → RUNNING for one job (a queue worker's claim); undefined when it is not QUEUED (cancelled, or another worker has it). */
export async function claimJob(db: Db, id: number): Promise<JobRow | undefined> {
  const now = Date.now();
  return await first(
    db
      .update(jobs)
      .set({ status: 'RUNNING', attempts: sql`${jobs.attempts} + 1`, startedAt: now, heartbeatAt: now, error: null })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'QUEUED')))
      .returning(),
  );
}

/** Whether any job is QUEUED or RUNNING (waiting for a quiet system). */
export async function anyActive(db: Db): Promise<boolean> {
  return (
    (await first(
      db
        .select({ id: jobs.id })
        .from(jobs)
        .where(inArray(jobs.status, ['QUEUED', 'RUNNING']))
        .limit(1),
    )) !== undefined
  );
}

/** The row's condition for a change by the holder of `attempt` (any attempt when undefined). */
const held = (id: number, attempt: number | undefined) => and(eq(jobs.id, id), attempt === undefined ? undefined : eq(jobs.attempts, attempt));

export async function setProgress(db: Db, id: number, progress: JobProgress, attempt?: number): Promise<void> {
  await db
    .update(jobs)
    .set({ progress, heartbeatAt: Date.now() })
    .where(and(held(id, attempt), eq(jobs.status, 'RUNNING')));
}

/** RUNNING → COMPLETED, unless a cancel was requested; returns whether it completed. */
export async function markCompleted(db: DbOrTx, id: number, result: JobResult | null, progress?: JobProgress, attempt?: number): Promise<boolean> {
  const done = await db
    .update(jobs)
    .set({ status: 'COMPLETED', result: result ?? null, finishedAt: Date.now(), heartbeatAt: Date.now(), ...(progress ? { progress } : {}) })
    .where(and(held(id, attempt), eq(jobs.status, 'RUNNING'), eq(jobs.cancelRequested, false)))
    .returning({ id: jobs.id });
  return done.length === 1;
}

/** Ends a non-terminal job as FAILED or CANCELLED with its reason. */
export async function markEnded(db: Db, id: number, status: 'FAILED' | 'CANCELLED', error: string, attempt?: number): Promise<JobRow | undefined> {
  return await first(
    db
      .update(jobs)
      .set({ status, error, finishedAt: Date.now() })
      .where(and(held(id, attempt), inArray(jobs.status, ['QUEUED', 'RUNNING'])))
      .returning(),
  );
}

/** Puts a RUNNING job back in the queue (after a restart), with a note in its progress. */
export async function requeue(db: Db, id: number, message: string, keepProgress: boolean, attempt?: number): Promise<void> {
  const job = await getJob(db, id);
  const progress = keepProgress && job?.progress ? { ...(job.progress as object), phase: 'queued', message } : { phase: 'queued', message };
  await db
    .update(jobs)
    .set({ status: 'QUEUED', progress })
    .where(and(held(id, attempt), eq(jobs.status, 'RUNNING')));
}

/** QUEUED → CANCELLED now; RUNNING → cancel_requested (the runner stops the worker). */
export async function requestCancel(db: Db, id: number, by: Actor): Promise<JobRow | undefined> {
  return db.transaction(async (tx) => {
    const job = await first(tx.select().from(jobs).where(eq(jobs.id, id)));
    if (!job) return undefined;
    await audit(tx, by.id, 'cancel', 'job', id, { status: job.status });
    if (job.status === 'QUEUED') {
      return await first(
        tx
          .update(jobs)
          .set({ status: 'CANCELLED', error: `cancelled by ${by.name} before it started`, finishedAt: Date.now() })
          .where(eq(jobs.id, id))
          .returning(),
      );
    }
    if (job.status === 'RUNNING') return await first(tx.update(jobs).set({ cancelRequested: true }).where(eq(jobs.id, id)).returning());
    return job;
  });
}

export async function jobsWithStatus(db: Db, status: JobStatus): Promise<JobRow[]> {
  return await db.select().from(jobs).where(eq(jobs.status, status)).orderBy(jobs.id);
}

// The casts type the parameters for PostgreSQL, which cannot infer a type from `$1 IS NULL` alone.
const statusIs = sql`(CAST(${sql.placeholder('status')} AS text) IS NULL OR ${jobs.status} = ${sql.placeholder('status')})`;
const kindIs = sql`(CAST(${sql.placeholder('kind')} AS text) IS NULL OR ${jobs.kind} = ${sql.placeholder('kind')})`;

export function listJobs(db: Db, opts: { limit: number; beforeId?: number; status?: JobStatus; kind?: string }): Promise<JobRow[]> {
  const q = preparedQuery(db, 'jobs.page', () =>
    db
      .select()
      .from(jobs)
      .where(sql`${lt(jobs.id, sql.placeholder('before'))} AND ${statusIs} AND ${kindIs}`)
      .orderBy(desc(jobs.id))
      .limit(sql.placeholder('limit')),
  );
  return q.execute({ before: rowBound(opts.beforeId ?? MAX_ROW_ID), status: opts.status ?? null, kind: opts.kind ?? null, limit: opts.limit });
}

export async function countJobs(db: Db, opts: { status?: JobStatus; kind?: string }): Promise<number> {
  const q = preparedQuery(db, 'jobs.count', () => db.select({ n: count() }).from(jobs).where(sql`${statusIs} AND ${kindIs}`));
  return (await first(q.execute({ status: opts.status ?? null, kind: opts.kind ?? null })))?.n ?? 0;
}
