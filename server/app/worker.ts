/**
 * `searchlight worker`: runs jobs from the BullMQ queues on Redis (issue 15) on this machine, until
 * SIGINT/SIGTERM. It needs what the API uses: the database (the data directory here; the same
 * SQLite file on one machine), Redis (SEARCHLIGHT_REDIS_URL or --redis) and the artifacts. Jobs
 * it runs report progress through Redis to every API instance's subscribers.
 */
import { openCurrentDatabase } from '../services/database.js';
import { PubSub } from '../services/pubsub.js';
import { type Command, type CommandSpec, parseCommand, UsageError } from '../cli/args.js';
import type { CliIO } from '../cli/io.js';
import { untilSignal } from './signals.js';

const workerSpec = {
  name: 'worker',
  usage: 'searchlight worker [options]',
  summary: 'Run jobs from the Redis job queues (training, datasets, evaluations, experiments).',
  options: {
    queues: { type: 'string', description: 'Queues to serve, comma-separated: dataset, train, evaluate, experiment (default: all)', placeholder: 'LIST' },
    concurrency: { type: 'integer', description: 'Jobs run at once (default 1)', default: 1, placeholder: 'N' },
    device: { type: 'string', description: 'Where models run (default: SEARCHLIGHT_DEVICE or cpu)', choices: ['cpu', 'cuda', 'auto'] },
    data: { type: 'string', description: 'Data directory (default: SEARCHLIGHT_DATA or ./data)', placeholder: 'DIR' },
    redis: { type: 'string', description: 'Redis URL (default: SEARCHLIGHT_REDIS_URL)', placeholder: 'URL' },
  },
  details: `Start the API with the same SEARCHLIGHT_REDIS_URL (and SEARCHLIGHT_JOB_WORKERS=0 if it should run none itself):
  SEARCHLIGHT_REDIS_URL=redis://127.0.0.1:6379 npm start
  SEARCHLIGHT_REDIS_URL=redis://127.0.0.1:6379 npx searchlight worker --queues train --concurrency 1`,
} satisfies CommandSpec;

export const workerCommand: Command = {
  summary: workerSpec.summary,
  async run(argv: string[], io: CliIO): Promise<void> {
    const parsed = parseCommand(workerSpec, argv, (s) => io.stdout.write(s));
    if (!parsed) return;
    const o = parsed.options;
    const redisUrl = o.redis?.trim() || process.env.SEARCHLIGHT_REDIS_URL?.trim();
    if (!redisUrl) throw new UsageError('a worker takes its jobs from Redis: set SEARCHLIGHT_REDIS_URL or pass --redis redis://host:port');
    if (o.concurrency < 1) throw new UsageError(`--concurrency must be at least 1; got ${o.concurrency}`);
    // Job threads inherit this process's environment (threads.ts): the device applies to every job here.
    if (o.device) process.env.SEARCHLIGHT_DEVICE = o.device;
    const [{ redisBus }, { parseQueueNames, queueTimingFromEnv }, { QueueWorker }] = await Promise.all([
      import('../services/redis.js'),
      import('../services/queue.js'),
      import('../jobs/queued.js'),
    ]);
    const queues = parseQueueNames(o.queues);
    const prefix = process.env.SEARCHLIGHT_REDIS_PREFIX?.trim() || 'searchlight';
    const log = (l: string): void => void io.stderr.write(`[worker ${process.pid}] ${l}\n`);
    const handle = await openCurrentDatabase(o.data);
    let pubsub: PubSub | undefined;
    try {
      pubsub = new PubSub(await redisBus(redisUrl, prefix));
      const worker = await QueueWorker.start({ handle, pubsub, redisUrl, prefix, queues, concurrency: o.concurrency, timing: queueTimingFromEnv(), log });
      io.stdout.write(`Searchlight worker ${process.pid} serving ${queues.join(', ')} (${o.concurrency} at once) from ${handle.dataDir}\n`);
      await untilSignal(() => worker.stop(), log, 'stopping, running jobs go back to the queue');
    } finally {
      await pubsub?.close().catch(() => undefined);
      await handle.close();
    }
  },
};
