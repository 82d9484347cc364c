/**
 * Worker-thread entry: runs one job's handler with its own database connection (WAL lets the API
 * thread keep reading and writing meanwhile; busy_timeout serializes writers). The job is marked
 * COMPLETED here, in the transaction that commits its output; failures and cancellations are
 * reported to the runner (server/jobs/runner.ts), which cleans up and records them.
 *
 * Messages: runner → worker {type: 'cancel' | 'stop'}; worker → runner {type: 'progress'} |
 * {type: 'done'} | {type: 'cancelled'} | {type: 'error', message, userError}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isUserError } from '../errors.js';
import { inWriteTransaction, openWorkerDatabase, storageUserError } from '../services/database.js';
import { getHandler } from './handlers/index.js';
import { markCompleted, setProgress } from '../services/jobs.js';
import { type JobContext, type JobProgress, JobCancelled } from './types.js';

export interface WorkerData {
  jobId: number;
  kind: string;
  params: unknown;
  attempt: number;
  dataDir: string;
  /** The PostgreSQL server the host uses (undefined: SQLite in dataDir). */
  databaseUrl?: string;
}

export type WorkerMessage = { type: 'progress' } | { type: 'done' } | { type: 'cancelled' } | { type: 'error'; message: string; userError: boolean };

async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as WorkerData;
  const post = (m: WorkerMessage): void => port.postMessage(m);
  const handler = getHandler(data.kind);
  if (!handler) {
    post({ type: 'error', message: `unknown job kind "${data.kind}"`, userError: true });
    port.close();
    return;
  }
  const handle = openWorkerDatabase(data.dataDir, data.databaseUrl);
  const controller = new AbortController();
  port.on('message', (m: { type: string }) => {
    if (m.type === 'cancel' || m.type === 'stop') controller.abort(m.type);
  });
  let last: JobProgress = {};
  let completed = false;
  // Progress writes, in order; a failed one is reported and does not stop the job (the next one carries the newer progress).
  let writes: Promise<void> = Promise.resolve();
  const ctx: JobContext = {
    jobId: data.jobId,
    attempt: data.attempt,
    handle,
    db: handle.db,
    dataDir: data.dataDir,
    signal: controller.signal,
    progress(p) {
      last = p;
      writes = writes
        .then(() => setProgress(handle.db, data.jobId, p, data.attempt))
        .catch((e: unknown) => {
          process.stderr.write(`[jobs] job ${data.jobId}: progress not saved: ${(e as Error)?.message ?? e}\n`);
        });
      post({ type: 'progress' });
    },
    checkCancelled() {
      if (controller.signal.aborted) throw new JobCancelled();
    },
    async complete(commit) {
      await writes;
      const result = await inWriteTransaction(handle, async (tx) => {
        const r = await commit(tx);
        // Completes only the run this thread holds (its attempt): a run recovered meanwhile by another process is not this one's to end.
        if (!(await markCompleted(tx, data.jobId, r, { ...last, phase: 'completed' }, data.attempt))) throw new JobCancelled();
        return r;
      });
      completed = true;
      return result;
    },
  };
  try {
    const result = await handler.run(ctx, data.params);
    if (!completed) await ctx.complete(async () => result);
    post({ type: 'done' });
  } catch (thrown) {
    const e = storageUserError(thrown) ?? thrown;
    if (e instanceof JobCancelled) post({ type: 'cancelled' });
    else post({ type: 'error', message: (e as Error)?.message ?? String(e), userError: isUserError(e) });
    if (!(e instanceof JobCancelled) && !isUserError(e)) process.stderr.write(`[jobs] job ${data.jobId} (${data.kind}) failed: ${(e as Error)?.stack ?? e}\n`);
  } finally {
    await writes;
    handle.close();
    port.close();
  }
}

void main();
