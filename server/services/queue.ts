/**
 * BullMQ job queues on Redis (issue 15): the dispatch of jobs to worker processes on any machine.
 * Only this module imports bullmq. The `jobs` table stays the record of every job (status,
 * progress, result, who asked); a BullMQ job carries only the row's id, so a lost Redis loses no
 * work: the API re-dispatches every QUEUED row it finds (`add` is idempotent by job id).
 *
 * Why BullMQ rather than our own: it brings atomic claims, locks renewed while a job runs,
 * stalled-job detection (a killed worker's job goes back to the queue for another worker),
 * priorities and blocking fetches — the parts a home-made queue gets wrong.
 *
 * One queue per kind of work, so a worker chooses what it serves (`searchlight worker --queues`).
 * `inference` is not a job queue: it carries heavy on-demand requests (run-with-cache of many
 * hooks) whose answer the API waits for, with a bound (`request`).
 */
import { DelayedError, Queue, QueueEvents, Worker } from 'bullmq';
import { type EnvVars, intFromEnv, redactedUrl } from '../env.js';
import { UserError } from '../errors.js';
import type { JobKind } from './jobs.js';

export const QUEUE_NAMES = ['dataset', 'train', 'evaluate', 'experiment', 'inference'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export type JobQueueName = Exclude<QueueName, 'inference'>;

const QUEUE_OF: Record<JobKind, JobQueueName> = {
  createDataset: 'dataset',
  trainModel: 'train',
  evaluateModel: 'evaluate',
  experiment: 'experiment',
};

export function queueOf(kind: JobKind): JobQueueName {
  return QUEUE_OF[kind];
}

/** Parses `--queues a,b` (UserError naming the unknown one); empty or absent: every queue. */
export function parseQueueNames(list: string | undefined): QueueName[] {
  if (!list?.trim()) return [...QUEUE_NAMES];
  const names = list.split(',').map((s) => s.trim());
  for (const n of names) if (!(QUEUE_NAMES as readonly string[]).includes(n)) throw new UserError(`unknown queue "${n}"; queues are ${QUEUE_NAMES.join(', ')}`);
  return [...new Set(names)] as QueueName[];
}

/** BullMQ's id for the job row `id` (BullMQ refuses integer custom ids). */
const bullId = (id: number): string => `job-${id}`;

/** The states BullMQ reports; 'missing' when it holds no such job (never added, removed, or Redis lost it). */
export type DispatchState = 'waiting' | 'active' | 'prioritized' | 'delayed' | 'completed' | 'failed' | 'missing' | 'other';

export interface QueueTiming {
  /** How long a worker's hold on a job lasts without renewal (BullMQ lockDuration, default 30 s). */
  lockMs?: number;
  /** How often workers look for jobs whose worker died (BullMQ stalledInterval, default lockMs / 2). */
  stalledCheckMs?: number;
}

/**
 * SEARCHLIGHT_QUEUE_LOCK_MS: how long a dead worker's job waits before another worker takes it over
 * (default 30 s; tests shorten it). Live workers renew their locks at half that period.
 */
export function queueTimingFromEnv(env: EnvVars = process.env): QueueTiming {
  return { lockMs: intFromEnv('SEARCHLIGHT_QUEUE_LOCK_MS', 30_000, 1000, env) };
}

/** The producer side: adds and removes dispatches (the API). */
export class JobQueues {
  private readonly queues = new Map<QueueName, Queue>();

  private constructor(
    private readonly url: string,
    private readonly prefix: string,
  ) {}

  /** Connects (an error naming the Redis address when it cannot). */
  static async open(url: string, prefix: string): Promise<JobQueues> {
    const q = new JobQueues(url, prefix);
    try {
      await q.queue('dataset').waitUntilReady();
    } catch (e) {
      await q.close();
      throw new Error(`cannot reach Redis at ${redactedUrl(url)} for the job queues: ${(e as Error).message}`);
    }
    return q;
  }

  private queue(name: QueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: { url: this.url, maxRetriesPerRequest: 2 }, prefix: this.prefix });
      // Connection errors surface as failed calls; without a listener they would be printed as unhandled.
      q.on('error', () => undefined);
      this.queues.set(name, q);
    }
    return q;
  }

  /**
   * Dispatches job row `id` (a no-op when BullMQ already holds it). `priority` ≥ 1, lower first
   * (BullMQ's convention); finished dispatches are removed at once: the row is the record.
   */
  async add(kind: JobKind, id: number, priority: number): Promise<void> {
    await this.queue(queueOf(kind)).add(
      kind,
      { jobId: id },
      { jobId: bullId(id), priority: Math.min(2 ** 21, Math.max(1, Math.round(priority))), removeOnComplete: true, removeOnFail: true },
    );
  }

  async state(kind: JobKind, id: number): Promise<DispatchState> {
    const s = await this.queue(queueOf(kind)).getJobState(bullId(id));
    if (s === 'unknown') return 'missing';
    return (['waiting', 'active', 'prioritized', 'delayed', 'completed', 'failed'] as const).includes(s as never) ? (s as DispatchState) : 'other';
  }

  /** Removes a dispatch that no worker holds (a cancel before start); false when it could not (e.g. active). */
  async remove(kind: JobKind, id: number): Promise<boolean> {
    try {
      return (await this.queue(queueOf(kind)).remove(bullId(id))) === 1;
    } catch {
      return false; // locked by a worker: the worker's claim fails instead
    }
  }

  private events?: Promise<QueueEvents>;

  /** Workers serving a queue now (0: nothing taken from it would run). */
  async workers(queue: QueueName): Promise<number> {
    return (await this.queue(queue).getWorkers()).length;
  }

  /**
   * Sends a request on the inference queue and waits at most `timeoutMs` for a worker's answer (the
   * processor's return value). Undefined when it timed out (the request is withdrawn if no worker
   * took it yet); a worker's failure rejects with its message.
   */
  async request(data: unknown, timeoutMs: number, name = 'runForward'): Promise<{ answer: unknown } | undefined> {
    this.events ??= (async () => {
      const e = new QueueEvents('inference', { connection: { url: this.url, maxRetriesPerRequest: 2 }, prefix: this.prefix });
      e.on('error', () => undefined);
      await e.waitUntilReady();
      return e;
    })();
    const events = await this.events;
    const job = await this.queue('inference').add(name, data, { removeOnComplete: { age: 300 }, removeOnFail: { age: 300 } });
    try {
      return { answer: await job.waitUntilFinished(events, timeoutMs) };
    } catch (e) {
      const state = await job.getState().catch(() => 'unknown');
      if (state === 'failed') throw e;
      if (state === 'waiting' || state === 'prioritized') await job.remove().catch(() => undefined);
      return undefined;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    if (this.events) await (await this.events).close().catch(() => undefined);
  }
}

/** The consumer side: a BullMQ worker per queue served, each calling `process` with the row id. */
export interface QueueConsumer {
  /** `force`: abandon the dispatches in hand (their locks expire and BullMQ hands them on) instead of waiting for them. */
  close(force?: boolean): Promise<void>;
}

export async function consumeQueues(
  url: string,
  prefix: string,
  names: readonly QueueName[],
  concurrency: number,
  process: (queue: QueueName, data: unknown) => Promise<unknown>,
  timing: QueueTiming = {},
  onError: (e: Error) => void = () => undefined,
): Promise<QueueConsumer> {
  const lockDuration = timing.lockMs ?? 30_000;
  // One slot pool across the job queues: `concurrency` jobs at once in all, whatever queue they
  // come from. Inference requests have their own pool: an answer someone waits for must not queue
  // behind an hour of training.
  const pool = (size: number) => {
    let free = size;
    const waiters: Array<() => void> = [];
    return {
      async acquire(): Promise<void> {
        if (free > 0) {
          free--;
          return;
        }
        await new Promise<void>((r) => waiters.push(r));
      },
      release(): void {
        const w = waiters.shift();
        if (w) w();
        else free++;
      },
    };
  };
  const requests = pool(concurrency);
  // Job slots: a job taken while every slot is busy (each queue's BullMQ worker fetches on its own)
  // is handed back at once (moved to delayed for a second, BullMQ's documented way) rather than
  // held here, where another process could have run it; and while all slots are busy the job
  // queues' workers stop fetching.
  let free = concurrency;
  const jobWorkers: Worker[] = [];
  const workers = names.map((name) => {
    const w = new Worker(
      name,
      async (job, token) => {
        if (name === 'inference') {
          await requests.acquire();
          try {
            return await process(name, job.data);
          } finally {
            requests.release();
          }
        }
        if (free === 0) {
          await job.moveToDelayed(Date.now() + 1000, token);
          throw new DelayedError();
        }
        if (--free === 0) for (const other of jobWorkers) void other.pause(true).catch(() => undefined);
        try {
          return await process(name, job.data);
        } finally {
          if (free++ === 0) for (const other of jobWorkers) void other.resume();
        }
      },
      {
        connection: { url, maxRetriesPerRequest: null },
        prefix,
        concurrency,
        lockDuration,
        stalledInterval: timing.stalledCheckMs ?? Math.max(1000, Math.floor(lockDuration / 2)),
        // Our handlers decide how often an interrupted job is resumed (JobHandler.maxAttempts, in
        // threads.ts), so BullMQ puts a stalled job back as often as it stalls.
        maxStalledCount: name === 'inference' ? 1 : 1_000_000,
        autorun: false,
      },
    );
    w.on('error', onError);
    if (name !== 'inference') jobWorkers.push(w);
    return w;
  });
  try {
    await Promise.all(workers.map((w) => w.waitUntilReady()));
  } catch (e) {
    await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
    throw new Error(`cannot reach Redis at ${redactedUrl(url)} for the job queues: ${(e as Error).message}`);
  }
  for (const w of workers) void w.run().catch(onError);
  return {
    async close(force = false) {
      await Promise.all(workers.map((w) => w.close(force).catch(() => undefined)));
    },
  };
}
