/**
 * Job threads: runs claimed jobs, each in its own worker thread (so the process that hosts them
 * stays responsive while a model trains), streams their progress, stops them on cancel, and
 * records how each one ended. Where the jobs come from is the host's business: the embedded runner
 * claims them from the database (runner.ts), a queue worker takes them from BullMQ (queued.ts).
 *
 * `recover` decides the fate of a job whose run was interrupted (its process died or was stopped):
 * resumed, retried or failed with the reason, per its handler — never left RUNNING, never silently
 * dropped. The same rule serves a restart of the embedded server and a worker killed mid-job.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DbHandle } from '../services/database.js';
import type { JobRow } from '../services/rows.js';
import type { PubSub } from '../services/pubsub.js';
import { getHandler } from './handlers/index.js';
import { getJob, jobTopic, markEnded, requeue } from '../services/jobs.js';
import { checkQuota } from '../services/quota.js';
import { isUserError } from '../errors.js';
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

export interface ThreadsOptions {
  handle: DbHandle;
  pubsub?: PubSub;
  /** How long a cancelled or stopping worker may take to stop on its own before it is terminated. */
  graceMs?: number;
  /** Recorded on a job stopped by `stopAll` (e.g. "the server was shut down"). */
  stopReason: string;
  log: (line: string) => void;
}

interface Running {
  job: JobRow;
  worker: Worker;
  settled: boolean;
  /** Set when the worker is being stopped by a shutdown rather than a user cancel. */
  stopping: boolean;
  cancelledBy?: string;
  killTimer?: NodeJS.Timeout;
  /** Resolves once the thread has exited and its end is recorded. */
  exited: Promise<void>;
  /** The recording of its end (settle), once it has begun. */
  recording?: Promise<void>;
}

export class JobThreads {
  private readonly running = new Map<number, Running>();
  /** Jobs handed to `run` whose thread is not started yet (the quota check): they count as running. */
  private readonly starting = new Set<number>();
  private readonly graceMs: number;

  constructor(private readonly opts: ThreadsOptions) {
    this.graceMs = opts.graceMs ?? 5000;
  }

  private get db() {
    return this.opts.handle.db;
  }

  get size(): number {
    return this.running.size + this.starting.size;
  }

  ids(): number[] {
    return [...this.running.keys(), ...this.starting];
  }

  /** Publishes the job's current row to `jobProgress` subscribers (in the background; a failed read is logged). */
  publish(id: number): void {
    if (!this.opts.pubsub) return;
    getJob(this.db, id).then(
      (job) => job && this.opts.pubsub?.publish(jobTopic(id), job),
      (e: unknown) => this.opts.log(`job ${id}: could not publish its state: ${(e as Error)?.message ?? e}`),
    );
  }

  /**
   * Runs a job already marked RUNNING (claimed) in a new worker thread; the promise resolves once
   * the thread has exited and the job's end (completed, failed, cancelled, or put back) is recorded.
   */
  async run(job: JobRow): Promise<void> {
    // The quota was checked when the job was admitted; jobs admitted together may have passed it
    // since (the one before stored its checkpoints). Checked again now, before any work.
    if (job.createdBy !== null && job.kind !== 'createDataset') {
      this.starting.add(job.id);
      try {
        await checkQuota(this.db, job.createdBy, `${job.kind} (Job:${job.id}, when it was to start)`);
      } catch (e) {
        if (!isUserError(e)) throw e;
        await markEnded(this.db, job.id, 'FAILED', e.message, job.attempts);
        this.publish(job.id);
        return;
      } finally {
        this.starting.delete(job.id);
      }
    }
    const h = this.opts.handle;
    const data: WorkerData = {
      jobId: job.id,
      kind: job.kind,
      params: job.params,
      attempt: job.attempts,
      dataDir: h.dataDir,
      databaseUrl: h.dialect === 'postgres' ? h.url : undefined,
    };
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: data, env: jobEnv() });
    let exited!: () => void;
    const r: Running = { job, worker, settled: false, stopping: false, exited: new Promise<void>((resolve) => (exited = resolve)) };
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
      if (r.killTimer) clearTimeout(r.killTimer);
      // Exited once its end is recorded (settle never rejects: it logs what it could not record).
      void r.recording?.finally(() => {
        this.running.delete(job.id);
        exited();
      });
    });
    return r.exited;
  }

  /** Asks a running job's thread to stop (a user's cancel, already recorded); terminated after the grace period. */
  cancel(id: number, by: string): void {
    const r = this.running.get(id);
    if (!r || r.settled || r.cancelledBy) return;
    r.cancelledBy = by;
    r.worker.postMessage({ type: 'cancel' });
    r.killTimer ??= setTimeout(() => void this.kill(r), this.graceMs);
  }

  /**
   * Shutdown: running jobs are asked to stop (then terminated after the grace period) and put back
   * in the queue (or failed) exactly as after a crash, with the reason recorded.
   */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.running.values()].map((r) => {
        if (!r.settled) {
          r.stopping = true;
          r.worker.postMessage({ type: 'stop' });
          r.killTimer ??= setTimeout(() => void r.worker.terminate(), this.graceMs);
        }
        return r.exited;
      }),
    );
  }

  private async kill(r: Running): Promise<void> {
    if (r.settled) return;
    this.opts.log(`job ${r.job.id} did not stop within ${this.graceMs} ms; terminating its worker`);
    await r.worker.terminate();
    this.settle(r, { type: 'cancelled' });
  }

  private settle(r: Running, m: Exclude<WorkerMessage, { type: 'progress' }>): void {
    if (r.settled) return;
    r.settled = true;
    r.recording = this.record(r, m);
  }

  private async record(r: Running, m: Exclude<WorkerMessage, { type: 'progress' }>): Promise<void> {
    // The row as it stands, acted on only while it is still this thread's run (r.job.attempts).
    const now = await getJob(this.db, r.job.id).catch((e: unknown) => {
      this.opts.log(`job ${r.job.id}: could not read its row to record its end: ${(e as Error)?.message ?? e}`);
      return null;
    });
    if (now === null) return;
    if (now && now.attempts !== r.job.attempts) {
      // Another process recovered and claimed the job after this one lost its hold (e.g. its queue
      // lock lapsed): the newer run owns the row and its files; this one leaves both alone.
      this.opts.log(`job ${r.job.id}: attempt ${r.job.attempts} ended after attempt ${now.attempts} took over; left to it`);
      return;
    }
    const job = now ?? r.job;
    const handler = getHandler(job.kind);
    try {
      if (m.type === 'done') {
        // The worker committed the output and COMPLETED together.
      } else if (r.stopping) {
        await this.recover(job, `${this.opts.stopReason} while this job was running`);
      } else if (m.type === 'cancelled') {
        await handler?.cleanup(this.opts.handle, job);
        await markEnded(this.db, job.id, 'CANCELLED', `cancelled by ${r.cancelledBy ?? 'a user'} while running; partial output was removed`, job.attempts);
      } else {
        await handler?.cleanup(this.opts.handle, job);
        await markEnded(this.db, job.id, 'FAILED', m.userError ? m.message : `internal error: ${m.message}`, job.attempts);
      }
    } catch (e) {
      this.opts.log(`job ${job.id}: could not record its end: ${(e as Error).stack ?? e}`);
    }
    this.publish(job.id);
  }

  /**
   * Decides the fate of a job whose run was interrupted (see JobHandler.recovery): put back in the
   * queue (resume from its checkpoint, or retry from the start after a cleanup) or ended. Returns
   * the row as it now stands.
   */
  async recover(job: JobRow, reason: string): Promise<JobRow | undefined> {
    const handler = getHandler(job.kind);
    const attempt = `attempt ${job.attempts}${handler ? ` of ${handler.maxAttempts}` : ''}`;
    if (!handler) {
      await markEnded(this.db, job.id, 'FAILED', `${reason}; its kind "${job.kind}" is unknown to this server version`, job.attempts);
    } else if (job.cancelRequested) {
      await handler.cleanup(this.opts.handle, job);
      await markEnded(this.db, job.id, 'CANCELLED', `cancelled; ${reason} (${attempt}) and partial output was removed`, job.attempts);
    } else if (handler.recovery !== 'fail' && job.attempts < handler.maxAttempts) {
      if (handler.recovery === 'retry') await handler.cleanup(this.opts.handle, job);
      await requeue(
        this.db,
        job.id,
        `${reason} (${attempt}); ${handler.recovery === 'resume' ? 'it will resume from its last checkpoint' : 'it will be retried from the start'}`,
        handler.recovery === 'resume',
        job.attempts,
      );
    } else {
      await handler.cleanup(this.opts.handle, job);
      await markEnded(
        this.db,
        job.id,
        'FAILED',
        `${reason} (${attempt}); ${handler.recovery === 'fail' ? 'this kind of job cannot be resumed' : 'no attempts left'}, partial output was removed`,
        job.attempts,
      );
    }
    const now = await getJob(this.db, job.id);
    this.opts.log(`job ${job.id} (${job.kind}) interrupted: now ${now?.status}`);
    this.publish(job.id);
    return now;
  }
}
