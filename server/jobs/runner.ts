/**
 * The embedded job runner (the default: no service needed): takes QUEUED jobs from the database
 * queue and runs each in a worker thread of this process (threads.ts), and recovers after a crash:
 * a job found RUNNING at start-up (its process died) is resumed, retried or failed with the reason,
 * per its handler.
 *
 * One runner per database: the server process owns the data directory. With Redis configured the
 * server uses the BullMQ queues instead (queued.ts).
 */
import type { DbHandle } from '../services/database.js';
import { type EnvVars, intFromEnv } from '../env.js';
import { UserError } from '../errors.js';
import type { JobRow } from '../services/rows.js';
import type { PubSub } from '../services/pubsub.js';
import { getHandler } from './handlers/index.js';
import { type Actor, claimNext, countQueued, type EnqueueLink, enqueue, getJob, type JobScheduler, jobsWithStatus, requestCancel } from '../services/jobs.js';
import { JobThreads } from './threads.js';
import { checkQuota } from '../services/quota.js';
import type { RemoteForward } from '../services/inference.js';

export interface RunnerOptions {
  handle: DbHandle;
  pubsub?: PubSub;
  /** Jobs run at once (default SEARCHLIGHT_JOB_WORKERS or 1: this machine class has 2 cores). */
  concurrency?: number;
  /** How long a cancelled or stopping worker may take to stop on its own before it is terminated. */
  graceMs?: number;
  log?: (line: string) => void;
}

/** Jobs one user may have QUEUED at once (SEARCHLIGHT_MAX_QUEUED_PER_USER, default 10). */
export function maxQueuedPerUser(env: EnvVars = process.env): number {
  return intFromEnv('SEARCHLIGHT_MAX_QUEUED_PER_USER', 10, 1, env);
}

/** What the server's job system offers beyond scheduling: start-up, shutdown, and waiting (tests, seeding). */
export interface JobSystem extends JobScheduler {
  start(): Promise<void> | void;
  stop(): Promise<void>;
  /** Resolves when no job is running or queued. */
  idle(): Promise<void>;
  /** Where heavy inference runs when it does not run in this process (the queued system's workers). */
  readonly inference?: RemoteForward;
}

/**
 * Validates parameters with the kind's handler (UserError on bad input; nothing written), applies
 * the caller's own rule and the per-user cap on queued work, then writes the job row (QUEUED).
 * Shared by the embedded runner and the BullMQ scheduler: one validation, the same refusals.
 */
export async function admitJob<P>(
  handle: DbHandle,
  kind: string,
  params: unknown,
  userId: number | null,
  link?: EnqueueLink,
  check?: (normalized: P) => void,
): Promise<JobRow> {
  const handler = getHandler(kind);
  if (!handler) throw new UserError(`unknown job kind "${kind}"`);
  const normalized = await handler.validate(params, handle.db);
  check?.(normalized as P); // a caller's own rule on the validated params (e.g. size limits by role)
  // Work that stores checkpoints or results is refused once the user's stored bytes pass the quota.
  if (userId !== null && handler.kind !== 'createDataset') await checkQuota(handle.db, userId, kind);
  if (userId !== null) {
    // A per-user cap on queued work: one user cannot fill the queue ahead of everyone else.
    const cap = maxQueuedPerUser();
    const queued = await countQueued(handle.db, userId);
    if (queued >= cap) throw new UserError(`you already have ${queued} jobs queued (the limit is ${cap}); wait for them to start or cancel some`);
  }
  return await enqueue(handle.db, handler.kind, normalized, userId, link);
}

export class JobRunner implements JobSystem {
  private readonly threads: JobThreads;
  private readonly concurrency: number;
  private started = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  /** A claim pass is running; `again` asks it for one more (claims are awaited, passes must not overlap). */
  private ticking = false;
  private again = false;

  constructor(private readonly opts: RunnerOptions) {
    this.concurrency = opts.concurrency ?? Math.max(1, Number(process.env.SEARCHLIGHT_JOB_WORKERS) || 1);
    this.threads = new JobThreads({
      handle: opts.handle,
      pubsub: opts.pubsub,
      graceMs: opts.graceMs,
      stopReason: 'the server was shut down',
      log: (l) => this.log(l),
    });
  }

  private get db() {
    return this.opts.handle.db;
  }

  private log(line: string): void {
    (this.opts.log ?? ((l) => process.stderr.write(`[jobs] ${l}\n`)))(line);
  }

  /** Recovers jobs interrupted by the previous process, then starts taking jobs. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const job of await jobsWithStatus(this.db, 'RUNNING')) {
      await this.threads.recover(job, 'the server stopped (crash or restart) while this job was running');
    }
    this.tick();
  }

  async enqueue<P = unknown>(kind: string, params: unknown, userId: number | null, link?: EnqueueLink, check?: (normalized: P) => void): Promise<JobRow> {
    const job = await admitJob(this.opts.handle, kind, params, userId, link, check);
    this.threads.publish(job.id);
    this.tick();
    return job;
  }

  /** Cancels a queued job at once, or asks a running one to stop (its partial output is removed). */
  async cancel(id: number, by: Actor): Promise<JobRow | undefined> {
    const job = await requestCancel(this.db, id, by);
    if (job?.status === 'RUNNING') this.threads.cancel(id, by.name);
    this.threads.publish(id);
    return await getJob(this.db, id);
  }

  async runningCount(): Promise<number> {
    return this.threads.size;
  }

  async idle(): Promise<void> {
    if (this.threads.size === 0 && (await jobsWithStatus(this.db, 'QUEUED')).length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.threads.stopAll();
  }

  /** Claims queued jobs while there is room; a call during a pass makes it run once more. */
  private tick(): void {
    if (!this.started || this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    this.claimPass()
      .catch((e: unknown) => this.log(`claiming jobs failed: ${(e as Error)?.stack ?? e}`))
      .finally(() => {
        this.ticking = false;
        if (this.again) {
          this.again = false;
          this.tick();
        }
      });
  }

  private async claimPass(): Promise<void> {
    while (this.threads.size < this.concurrency && !this.stopped) {
      const job = await claimNext(this.db, this.threads.ids());
      if (!job) break;
      void this.threads.run(job).then(
        () => this.tick(),
        (e: unknown) => this.log(`job ${job.id} could not start: ${(e as Error)?.stack ?? e}`),
      );
    }
    if (this.threads.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
