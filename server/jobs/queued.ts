/**
 * Jobs through BullMQ on Redis (issue 15; with SEARCHLIGHT_REDIS_URL). The API admits a job exactly
 * as the embedded runner does (runner.ts `admitJob`: one validation, the same refusals, the row
 * written QUEUED) and dispatches its id on the kind's queue; `searchlight worker` processes (or
 * the API itself, with SEARCHLIGHT_JOB_WORKERS > 0) take dispatches and run them in worker threads
 * (threads.ts), on any machine that reaches the database, Redis and the artifacts.
 *
 * Crash semantics are the embedded runner's: a worker killed mid-job stops renewing its BullMQ lock,
 * BullMQ puts the dispatch back, and the next worker to take it finds the row still RUNNING and
 * decides by the handler's rule (resume from the last checkpoint, retry after cleanup, or fail),
 * counting attempts in the row. Cancels reach the worker running the job through pub/sub, with a
 * poll of the row's cancel flag as the fallback.
 *
 * The row is the record, the dispatch only a pointer: the API re-dispatches QUEUED rows that Redis
 * does not hold (Redis restarted, or a dispatch failed) and recovers RUNNING rows whose dispatch is
 * gone, at start and every `reconcileMs`.
 */
import type { DbHandle } from '../services/database.js';
import type { JobRow } from '../services/rows.js';
import type { PubSub } from '../services/pubsub.js';
import {
  type Actor,
  anyActive,
  cancelledBy,
  claimJob,
  countActive,
  type EnqueueLink,
  getJob,
  isCancelRequested,
  jobsWithStatus,
  requestCancel,
} from '../services/jobs.js';
import { consumeQueues, type JobQueues, type QueueConsumer, type QueueName, type QueueTiming, QUEUE_NAMES, queueOf } from '../services/queue.js';
import { admitJob, type JobSystem } from './runner.js';
import { UserError, type UserErrorCode } from '../errors.js';
import { checkForward, disposeEngines, type ForwardOutput, runForward } from '../services/inference.js';
import { type ActivityAnswer, type ActivityRequest, computeActivity } from '../services/activity.js';
import { getModel } from '../services/models.js';
import type { ModelRow } from '../services/rows.js';
import { JobThreads } from './threads.js';

/** Pub/sub topic on which a cancel is announced to whichever process runs the job. */
export const CANCEL_TOPIC = 'jobs:cancel';
interface CancelNote {
  id: number;
  by: string;
}

export interface QueueWorkerOptions {
  handle: DbHandle;
  /** With a Redis bus, so progress reaches every API instance and cancels reach this worker. */
  pubsub: PubSub;
  redisUrl: string;
  prefix: string;
  queues?: readonly QueueName[];
  /** Jobs run at once by this process. */
  concurrency: number;
  timing?: QueueTiming;
  graceMs?: number;
  log: (line: string) => void;
}

/** A consumer of the job queues: `searchlight worker`, or the API's own in-process workers. */
export class QueueWorker {
  private consumer?: QueueConsumer;
  private readonly threads: JobThreads;
  private poll?: NodeJS.Timeout;
  private cancels?: AsyncIterableIterator<CancelNote>;
  private stopped = false;

  private constructor(private readonly opts: QueueWorkerOptions) {
    this.threads = new JobThreads({ handle: opts.handle, pubsub: opts.pubsub, graceMs: opts.graceMs, stopReason: 'its worker was shut down', log: opts.log });
  }

  static async start(opts: QueueWorkerOptions): Promise<QueueWorker> {
    const w = new QueueWorker(opts);
    w.listenForCancels();
    w.consumer = await consumeQueues(
      opts.redisUrl,
      opts.prefix,
      opts.queues ?? QUEUE_NAMES,
      opts.concurrency,
      (queue, data) => (queue === 'inference' ? w.answer(data as InferenceRequest) : w.process((data as { jobId: number }).jobId)),
      opts.timing,
      (e) => opts.log(`queue: ${e.message}`),
    );
    return w;
  }

  get running(): number {
    return this.threads.size;
  }

  private get db() {
    return this.opts.handle.db;
  }

  /** Runs the job row `id` a dispatch points at, if it still wants running. */
  private async process(id: number): Promise<void> {
    if (this.stopped || this.threads.ids().includes(id)) return;
    let row: JobRow | undefined = await getJob(this.db, id);
    // RUNNING here means the worker that held it died (its lock expired): decide as after a crash.
    if (row?.status === 'RUNNING') row = await this.threads.recover(row, 'the worker running this job stopped (killed or lost)');
    if (row?.status !== 'QUEUED') return; // cancelled before it started, finished, or failed for good
    const claimed = await claimJob(this.db, id);
    if (!claimed) return; // another worker claimed it first
    await this.threads.run(claimed);
  }

  /**
   * Serves one inference request (the API checked it already; the checks run again here). A mistake
   * found here (a maze deleted meanwhile, a diverged checkpoint's non-finite values) is answered as
   * such, so the API refuses it typed as it would have, not as a failed job's bare error.
   */
  private async answer(req: InferenceRequest): Promise<InferenceAnswer> {
    try {
      if ('op' in req) return { ok: await computeActivity(this.opts.handle, req) };
      const model = await getModel(this.db, req.modelId);
      if (!model) throw new UserError(`Model:${req.modelId} does not exist (deleted meanwhile)`);
      return { ok: await runForward(this.opts.handle, model, req.tokens, req.hooks, req.topK) };
    } catch (e) {
      if (e instanceof UserError) return { userError: { message: e.message, ...(e.code ? { code: e.code } : {}) } };
      throw e;
    }
  }

  private listenForCancels(): void {
    this.cancels = this.opts.pubsub.subscribe<CancelNote>(CANCEL_TOPIC);
    void (async () => {
      for await (const note of this.cancels!) if (this.threads.ids().includes(note.id)) this.threads.cancel(note.id, note.by);
    })();
    // Fallback when a note is lost (Redis reconnecting): the row's flag, every second.
    this.poll = setInterval(() => {
      void (async () => {
        for (const id of this.threads.ids()) if (await isCancelRequested(this.db, id)) this.threads.cancel(id, (await cancelledBy(this.db, id)) ?? 'a user');
      })().catch((e: unknown) => this.opts.log(`cancel poll: ${(e as Error)?.message ?? e}`));
    }, 1000);
    this.poll.unref();
  }

  /**
   * Stops taking jobs, then stops the running ones (put back in the queue or failed, as after a
   * crash). Their dispatches are abandoned, not completed: BullMQ hands them to another worker once
   * their lock expires, and that worker finds the rows QUEUED again.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    await this.cancels?.return?.();
    const closing = this.consumer?.close(true);
    await this.threads.stopAll();
    await closing;
    await disposeEngines(this.opts.handle.dataDir);
  }
}

/** A runForward request as it travels on the inference queue. */
export interface ForwardRequest {
  modelId: number;
  tokens: string;
  hooks: string[];
  topK: number;
}

/** What the inference queue carries: a runForward request, or a page's activity (services/activity.ts, tagged by `op`). */
export type InferenceRequest = ForwardRequest | ActivityRequest;

/** A worker's answer: the result, or a mistake the user can fix (a UserError, its message and code kept). */
export type InferenceAnswer = { ok: ForwardOutput | ActivityAnswer } | { userError: { message: string; code?: UserErrorCode } };

/** The result of a worker's answer; its UserError thrown again here, typed. */
function unwrap<T>(answer: unknown): T {
  const a = answer as InferenceAnswer;
  if ('userError' in a) throw new UserError(a.userError.message, a.userError.code ? { code: a.userError.code } : {});
  return a.ok as T;
}

/** The least wait an activity request is given per maze it reads (on top of the general bound). */
const ACTIVITY_MS_PER_MAZE = 250;

/**
 * Heavy runForward requests (at least `minHooks` hooks cached) go to inference workers, with a
 * bound on the wait; light ones, and every request while no worker serves the inference queue,
 * run in the API process (services/inference.ts). The request is checked here first, so a mistake
 * is the same typed error wherever it would have run.
 */
export class QueuedInference {
  constructor(
    private readonly dispatch: JobQueues,
    private readonly handle: DbHandle,
    private readonly minHooks: number,
    private readonly timeoutMs: number,
  ) {}

  async runForward(model: ModelRow, tokens: string, hooks: readonly string[], topK: number): Promise<ForwardOutput> {
    // Light requests, and all while no worker serves the queue, run here (runForward checks them).
    if (hooks.length < this.minHooks || (await this.dispatch.workers('inference')) === 0) return await runForward(this.handle, model, tokens, hooks, topK);
    checkForward(model, tokens, hooks, topK); // refused here, typed, before it is sent
    const req: ForwardRequest = { modelId: model.id, tokens, hooks: [...hooks], topK };
    const r = await this.dispatch.request(req, this.timeoutMs);
    if (!r)
      throw new UserError(
        `runForward: no inference worker answered within ${this.timeoutMs / 1000} s (they are busy); try again, or ask for fewer hooks (under ${this.minHooks} run on the API)`,
      );
    return unwrap<ForwardOutput>(r.answer);
  }

  /**
   * A page's activity (a component's or a probe direction's: tens to hundreds of forwards) goes to
   * an inference worker whenever one serves the queue, with the same bound on the wait; with none,
   * it runs here. The resolver has checked the request (window, vocabulary) before it is sent.
   */
  async activity<R extends ActivityRequest>(req: R): Promise<ActivityAnswer<R>> {
    if ((await this.dispatch.workers('inference')) === 0) return await computeActivity(this.handle, req);
    // The wait grows with the mazes asked for (a forward each), so a long page is not called busy.
    const timeoutMs = Math.max(this.timeoutMs, ACTIVITY_MS_PER_MAZE * req.mazeIds.length);
    const r = await this.dispatch.request(req, timeoutMs, 'activity');
    if (!r) throw new UserError(`activity: no inference worker answered within ${timeoutMs / 1000} s (they are busy); try again, or ask for fewer mazes`);
    return unwrap<ActivityAnswer<R>>(r.answer);
  }
}

export interface QueuedJobsOptions extends Omit<QueueWorkerOptions, 'concurrency'> {
  /** runForward requests caching at least this many hooks go to inference workers (default 8). */
  remoteMinHooks?: number;
  /** How long such a request waits for a worker's answer (default 60 s). */
  remoteTimeoutMs?: number;
  queues?: readonly QueueName[];
  dispatch: JobQueues;
  /** Workers in this process (0: the API runs none; `searchlight worker` processes do the work). */
  concurrency: number;
  /** How often QUEUED and RUNNING rows are checked against their dispatches (default 15 s). */
  reconcileMs?: number;
}

/** The API's job system on BullMQ (the JobScheduler adapters see). */
export class QueuedJobs implements JobSystem {
  private worker?: QueueWorker;
  private readonly threads: JobThreads;
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;
  readonly inference: QueuedInference;

  constructor(private readonly opts: QueuedJobsOptions) {
    this.inference = new QueuedInference(opts.dispatch, opts.handle, opts.remoteMinHooks ?? 8, opts.remoteTimeoutMs ?? 60_000);
    // Used here only to record recoveries and publish rows; jobs run in `worker`.
    this.threads = new JobThreads({ handle: opts.handle, pubsub: opts.pubsub, stopReason: 'the server was shut down', log: opts.log });
  }

  private get db() {
    return this.opts.handle.db;
  }

  async start(): Promise<void> {
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.opts.reconcileMs ?? 15_000);
    this.timer.unref();
    if (this.opts.concurrency > 0) this.worker = await QueueWorker.start(this.opts);
  }

  async enqueue<P = unknown>(kind: string, params: unknown, userId: number | null, link?: EnqueueLink, check?: (normalized: P) => void): Promise<JobRow> {
    const job = await admitJob(this.opts.handle, kind, params, userId, link, check);
    this.threads.publish(job.id);
    // Each user's n-th waiting or running job gets priority n: a user with ten jobs queued does not
    // hold back another's first. The row is already committed; a failed dispatch is retried by reconcile.
    const priority = userId === null ? 1 : await countActive(this.db, userId);
    this.opts.dispatch.add(job.kind, job.id, priority).catch((e: Error) => this.opts.log(`job ${job.id}: dispatch failed (${e.message}); retried shortly`));
    return job;
  }

  async cancel(id: number, by: Actor): Promise<JobRow | undefined> {
    const before = await getJob(this.db, id);
    const job = await requestCancel(this.db, id, by);
    if (before?.status === 'QUEUED' && job?.status === 'CANCELLED') void this.opts.dispatch.remove(job.kind, id);
    if (job?.status === 'RUNNING') this.opts.pubsub.publish(CANCEL_TOPIC, { id, by: by.name } satisfies CancelNote);
    this.threads.publish(id);
    return await getJob(this.db, id);
  }

  /** Jobs RUNNING anywhere (every worker's), as the database records them. */
  async runningCount(): Promise<number> {
    return (await jobsWithStatus(this.db, 'RUNNING')).length;
  }

  async idle(): Promise<void> {
    while (await anyActive(this.db)) await new Promise((r) => setTimeout(r, 100));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.reconciling;
    await this.worker?.stop();
    await this.opts.dispatch.close();
  }

  /** Re-dispatches QUEUED rows Redis does not hold, and recovers RUNNING rows whose dispatch is gone. */
  reconcile(): Promise<void> {
    // Stored before it runs and cleared after it settles (a pass with nothing to await would otherwise
    // finish, and clear the field, before the assignment: the periodic pass would then never run again).
    this.reconciling ??= (async () => {
      try {
        for (const job of await jobsWithStatus(this.db, 'QUEUED')) {
          const s = await this.opts.dispatch.state(job.kind, job.id);
          if (s === 'missing' || s === 'completed' || s === 'failed') {
            await this.opts.dispatch.remove(job.kind, job.id);
            await this.opts.dispatch.add(job.kind, job.id, 1);
          }
        }
        const lockMs = this.opts.timing?.lockMs ?? 30_000;
        for (const job of await jobsWithStatus(this.db, 'RUNNING')) {
          const s = await this.opts.dispatch.state(job.kind, job.id);
          let reason = 'its dispatch was lost (Redis restarted, or BullMQ gave it up)';
          if (s !== 'missing' && s !== 'completed' && s !== 'failed') {
            // BullMQ's stalled check runs in workers: while none serves this queue, a dead worker's
            // job stays "active" for ever. A row silent for two lock periods with no worker to
            // hold it is recovered here instead (a live worker, even a silent one, is registered).
            const silentMs = Date.now() - (job.heartbeatAt ?? job.startedAt ?? 0);
            if (s !== 'active' || silentMs < 2 * lockMs || (await this.opts.dispatch.workers(queueOf(job.kind))) > 0) continue;
            reason = `its worker stopped (no progress for ${Math.round(silentMs / 1000)} s) and no worker serves its queue`;
          }
          const now = await getJob(this.db, job.id);
          if (now?.status !== 'RUNNING' || now.attempts !== job.attempts) continue; // it ended or moved on meanwhile
          const after = await this.threads.recover(now, reason);
          if (after?.status === 'QUEUED') {
            await this.opts.dispatch.remove(job.kind, job.id);
            await this.opts.dispatch.add(job.kind, job.id, 1);
          }
        }
      } catch (e) {
        this.opts.log(`reconcile: ${(e as Error).message}`);
      }
    })().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }
}
