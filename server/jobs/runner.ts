/**
 * The job runner: takes QUEUED jobs from the SQLite queue and runs each in a worker thread (so the
 * API stays responsive while a model trains), streams progress to subscribers, cancels, and
 * recovers after a crash: a job found RUNNING at start-up (its process died) is resumed, retried
 * or failed with the reason, per its handler — never left RUNNING, never silently dropped.
 *
 * One runner per database: the server process owns the data directory.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DbHandle } from '../services/database.js';
import { type EnvVars, intFromEnv } from '../env.js';
import { UserError } from '../errors.js';
import type { JobRow } from '../services/rows.js';
import type { PubSub } from '../services/pubsub.js';
import { getHandler } from './handlers/index.js';
import {
  type Actor,
  claimNext,
  countQueued,
  type EnqueueLink,
  enqueue,
  getJob,
  type JobScheduler,
  jobTopic,
  jobsWithStatus,
  markEnded,
  requestCancel,
  requeue,
} from '../services/jobs.js';
import type { WorkerData, WorkerMessage } from './worker.js';

/**
 * Workers run TypeScript through tsx. Node 20 does not apply `execArgv: ['--import', 'tsx']` to a
 * worker's own .ts entry (ERR_UNKNOWN_FILE_EXTENSION, checked on 20.20), so the worker starts from
 * a tiny eval'd script that registers tsx's loader and then imports worker.ts.
 */
const TSX_API = pathToFileURL(
  createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs'),
).href; // the ESM build
const WORKER_URL = new URL('./worker.ts', import.meta.url).href;
const BOOTSTRAP = `
import(${JSON.stringify(TSX_API)})
  .then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL)}); })
  .catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', message: 'job worker failed to start: ' + ((e && e.message) || e), userError: false }); });`;

/**
 * Environment of job workers: compute libraries (ONNX Runtime, tfjs) default to one thread per
 * core; a job gets all cores but one (SEARCHLIGHT_JOB_THREADS overrides; SEARCHLIGHT_THREADS, if
 * set, wins), so the API thread keeps a core while a model trains.
 */
function jobEnv(): NodeJS.ProcessEnv {
  const threads = process.env.SEARCHLIGHT_THREADS || process.env.SEARCHLIGHT_JOB_THREADS || String(Math.max(1, os.availableParallelism() - 1));
  return { ...process.env, SEARCHLIGHT_THREADS: threads };
}

export interface RunnerOptions {
  handle: DbHandle;
  pubsub?: PubSub;
  /** Jobs run at once (default SEARCHLIGHT_JOB_WORKERS or 1: this machine class has 2 cores). */
  concurrency?: number;
  /** How long a cancelled or stopping worker may take to stop on its own before it is terminated. */
  graceMs?: number;
  log?: (line: string) => void;
}

interface Running {
  job: JobRow;
  worker: Worker;
  settled: boolean;
  /** Set when the worker is being stopped by a server shutdown rather than a user cancel. */
  stopping: boolean;
  cancelledBy?: string;
  killTimer?: NodeJS.Timeout;
}

/** Jobs one user may have QUEUED at once (SEARCHLIGHT_MAX_QUEUED_PER_USER, default 10). */
export function maxQueuedPerUser(env: EnvVars = process.env): number {
  return intFromEnv('SEARCHLIGHT_MAX_QUEUED_PER_USER', 10, 1, env);
}

export class JobRunner implements JobScheduler {
  private readonly running = new Map<number, Running>();
  private readonly concurrency: number;
  private readonly graceMs: number;
  private readonly log: (line: string) => void;
  private started = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: RunnerOptions) {
    this.concurrency = opts.concurrency ?? Math.max(1, Number(process.env.SEARCHLIGHT_JOB_WORKERS) || 1);
    this.graceMs = opts.graceMs ?? 5000;
    this.log = opts.log ?? ((l) => process.stderr.write(`[jobs] ${l}\n`));
  }

  private get db() {
    return this.opts.handle.db;
  }

  /** Recovers jobs interrupted by the previous process, then starts taking jobs. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const job of jobsWithStatus(this.db, 'RUNNING')) {
      this.recover(job, 'the server stopped (crash or restart) while this job was running');
    }
    this.tick();
  }

  /**
   * Validates parameters with the kind's handler (UserError on bad input; nothing written), then
   * queues; `check` applies a caller's own rule to the validated params (one validation, not two);
   * `link` writes rows that belong with the job in the same transaction (queue.ts).
   */
  enqueue<P = unknown>(kind: string, params: unknown, userId: number | null, link?: EnqueueLink, check?: (normalized: P) => void): JobRow {
    const handler = getHandler(kind);
    if (!handler) throw new UserError(`unknown job kind "${kind}"`);
    const normalized = handler.validate(params, this.db);
    check?.(normalized as P); // a caller's own rule on the validated params (e.g. size limits by role)
    if (userId !== null) {
      // A per-user cap on queued work: one user cannot fill the queue ahead of everyone else.
      const cap = maxQueuedPerUser();
      const queued = countQueued(this.db, userId);
      if (queued >= cap) throw new UserError(`you already have ${queued} jobs queued (the limit is ${cap}); wait for them to start or cancel some`);
    }
    const job = enqueue(this.db, handler.kind, normalized, userId, link);
    this.publish(job.id);
    this.tick();
    return job;
  }

  /** Cancels a queued job at once, or asks a running one to stop (its partial output is removed). */
  cancel(id: number, by: Actor): JobRow | undefined {
    const job = requestCancel(this.db, id, by);
    const r = this.running.get(id);
    if (job?.status === 'RUNNING' && r && !r.settled) {
      r.cancelledBy = by.name;
      r.worker.postMessage({ type: 'cancel' });
      r.killTimer ??= setTimeout(() => void this.kill(r, 'cancelled'), this.graceMs);
    }
    this.publish(id);
    return getJob(this.db, id);
  }

  /** Publishes the job's current row to `jobProgress` subscribers. */
  publish(id: number): void {
    const job = getJob(this.db, id);
    if (job) this.opts.pubsub?.publish(jobTopic(id), job);
  }

  runningCount(): number {
    return this.running.size;
  }

  /** Resolves when no job is running or queued (tests, seeding). */
  async idle(): Promise<void> {
    if (this.running.size === 0 && jobsWithStatus(this.db, 'QUEUED').length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Graceful shutdown: running jobs are asked to stop (then terminated after the grace period) and
   * put back in the queue (or failed) exactly as after a crash, with the reason recorded.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.running.values()];
    await Promise.all(
      all.map(
        (r) =>
          new Promise<void>((resolve) => {
            if (r.settled) return resolve();
            r.stopping = true;
            r.worker.once('exit', () => resolve());
            r.worker.postMessage({ type: 'stop' });
            r.killTimer ??= setTimeout(() => void r.worker.terminate(), this.graceMs);
          }),
      ),
    );
  }

  private tick(): void {
    if (!this.started || this.stopped) return;
    while (this.running.size < this.concurrency) {
      const job = claimNext(this.db, [...this.running.keys()]);
      if (!job) break;
      this.spawn(job);
    }
    if (this.running.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private spawn(job: JobRow): void {
    const data: WorkerData = { jobId: job.id, kind: job.kind, params: job.params, attempt: job.attempts, dataDir: this.opts.handle.dataDir };
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: data, env: jobEnv() });
    const r: Running = { job, worker, settled: false, stopping: false };
    this.running.set(job.id, r);
    this.publish(job.id);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') this.publish(job.id);
      else this.settle(r, m);
    });
    worker.on('error', (e) => this.settle(r, { type: 'error', message: `job worker crashed: ${e.message}`, userError: false }));
    worker.on('exit', (code) => {
      if (!r.settled)
        this.settle(
          r,
          r.stopping || r.cancelledBy ? { type: 'cancelled' } : { type: 'error', message: `job worker exited unexpectedly (code ${code})`, userError: false },
        );
      this.running.delete(job.id);
      if (r.killTimer) clearTimeout(r.killTimer);
      this.tick();
    });
  }

  private async kill(r: Running, as: 'cancelled'): Promise<void> {
    if (r.settled) return;
    this.log(`job ${r.job.id} did not stop within ${this.graceMs} ms; terminating its worker`);
    await r.worker.terminate();
    this.settle(r, { type: as });
  }

  private settle(r: Running, m: Exclude<WorkerMessage, { type: 'progress' }>): void {
    if (r.settled) return;
    r.settled = true;
    const job = getJob(this.db, r.job.id) ?? r.job;
    const handler = getHandler(job.kind);
    try {
      if (m.type === 'done') {
        // The worker committed the output and COMPLETED together.
      } else if (r.stopping) {
        this.recover(job, 'the server was shut down while this job was running');
      } else if (m.type === 'cancelled') {
        handler?.cleanup(this.db, job, this.opts.handle.dataDir);
        markEnded(this.db, job.id, 'CANCELLED', `cancelled by ${r.cancelledBy ?? 'a user'} while running; partial output was removed`);
      } else {
        handler?.cleanup(this.db, job, this.opts.handle.dataDir);
        markEnded(this.db, job.id, 'FAILED', m.userError ? m.message : `internal error: ${m.message}`);
      }
    } catch (e) {
      this.log(`job ${job.id}: could not record its end: ${(e as Error).stack ?? e}`);
    }
    this.publish(job.id);
  }

  /** Decides the fate of a job whose run was interrupted (see JobHandler.recovery). */
  private recover(job: JobRow, reason: string): void {
    const handler = getHandler(job.kind);
    const attempt = `attempt ${job.attempts}${handler ? ` of ${handler.maxAttempts}` : ''}`;
    if (!handler) {
      markEnded(this.db, job.id, 'FAILED', `${reason}; its kind "${job.kind}" is unknown to this server version`);
    } else if (job.cancelRequested) {
      handler.cleanup(this.db, job, this.opts.handle.dataDir);
      markEnded(this.db, job.id, 'CANCELLED', `cancelled; ${reason} (${attempt}) and partial output was removed`);
    } else if (handler.recovery !== 'fail' && job.attempts < handler.maxAttempts) {
      if (handler.recovery === 'retry') handler.cleanup(this.db, job, this.opts.handle.dataDir);
      requeue(
        this.db,
        job.id,
        `${reason} (${attempt}); ${handler.recovery === 'resume' ? 'it will resume from its last checkpoint' : 'it will be retried from the start'}`,
        handler.recovery === 'resume',
      );
    } else {
      handler.cleanup(this.db, job, this.opts.handle.dataDir);
      markEnded(
        this.db,
        job.id,
        'FAILED',
        `${reason} (${attempt}); ${handler.recovery === 'fail' ? 'this kind of job cannot be resumed' : 'no attempts left'}, partial output was removed`,
      );
    }
    this.log(`job ${job.id} (${job.kind}) interrupted: now ${getJob(this.db, job.id)?.status}`);
    this.publish(job.id);
  }
}
