/**
 * Job handler contract. A handler module is light to import: `validate` and `cleanup` run on the
 * API thread; `run` runs in a worker thread and imports heavy modules (model engine) lazily.
 */
import type { Db, DbHandle, Tx } from '../services/database.js';
import type { JobRow } from '../services/rows.js';
import { UserError } from '../errors.js';

import type { JobKind, JobProgress, JobResult } from '../services/jobs.js';

export { type JobProgress, type JobStatus, TERMINAL } from '../services/jobs.js';

export interface JobContext {
  jobId: number;
  /** 1 for the first run, 2 after one restart, ... */
  attempt: number;
  /** The worker's own connection (its `db` is handle.db), for the services the handler calls. */
  handle: DbHandle;
  db: Db;
  dataDir: string;
  /** Aborted when the job is cancelled; handlers check it between units of work. */
  signal: AbortSignal;
  /**
   * Persists progress (jobs.progress + heartbeat) and streams it to subscribers. The write is
   * queued behind the previous ones (in order) and runs when the handler next yields; `complete`
   * waits for them all.
   */
  progress(p: JobProgress): void;
  /**
   * Throws JobCancelled if cancellation was requested. Its host tells the thread (a message): the
   * embedded runner when the cancel is made, a queue worker when it hears of one (Redis, or its
   * poll of the rows it runs: jobs/queued.ts), so this check itself never waits.
   */
  checkCancelled(): void;
  /**
   * Runs `commit` (final writes on `tx`; returns the job's result) and marks the job COMPLETED
   * with that result in ONE transaction, so the output and the completion commit together; throws
   * JobCancelled (rolling everything back) if a cancel raced in. Returns the result.
   */
  complete<T extends JobResult>(commit: (tx: Tx) => Promise<T>): Promise<T>;
}

export interface JobHandler<P = unknown> {
  kind: JobKind;
  /** Checks and normalizes user parameters (throws UserError); runs before the job is queued. */
  validate(params: unknown, db: Db): P | Promise<P>;
  run(ctx: JobContext, params: P): Promise<JobResult>;
  /** Removes partial output of an attempt that did not complete (failure, cancel, crash). */
  cleanup(handle: DbHandle, job: JobRow): Promise<void>;
  /**
   * What to do with a job found RUNNING after a restart: 'resume' keeps its output and runs it again
   * (the handler continues from its last checkpoint), 'retry' cleans up and starts over, 'fail'
   * cleans up and fails it. In every case after `maxAttempts` starts it FAILS with the reason.
   */
  recovery: 'resume' | 'retry' | 'fail';
  maxAttempts: number;
}

export class JobCancelled extends Error {
  override name = 'JobCancelled';
  constructor(message = 'cancelled') {
    super(message);
  }
}

/** A handler that cannot run yet: fails every job with its reason. */
export class JobUnavailable extends UserError {
  override name = 'JobUnavailable';
}
