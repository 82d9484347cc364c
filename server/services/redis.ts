/**
 * The Redis connection (ioredis: the client BullMQ builds on, so one client serves queues and
 * pub/sub). Only this module imports ioredis. Configured by SEARCHLIGHT_REDIS_URL
 * (redis://host:port/db); without it nothing here is loaded and everything stays in-process.
 */
import { redactedUrl } from '../env.js';
import { Redis } from 'ioredis';
import type { MessageBus } from './pubsub.js';

export function redisUrlFromEnv(env: Record<string, string | undefined> = process.env): string | undefined {
  const u = env.SEARCHLIGHT_REDIS_URL?.trim();
  return u ? u : undefined;
}

/**
 * Pub/sub across processes: every message goes through Redis and comes back to every subscribed
 * process — this one included — so an API instance sees the events of jobs that another
 * instance's worker runs. One connection publishes; a second, in subscriber mode, receives every
 * channel under the prefix with one pattern subscription.
 */

export async function redisBus(url: string, prefix = 'searchlight'): Promise<MessageBus> {
  const opts = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false } as const;
  const pub = new Redis(url, opts);
  const sub = new Redis(url, opts);
  // Connection errors surface as the failed connect() below, or as dropped events while ioredis
  // reconnects; without a listener ioredis would print each one as an "unhandled error event".
  let lastError: Error | undefined;
  for (const c of [pub, sub]) c.on('error', (e: Error) => (lastError = e));
  const handlers = new Set<(topic: string, payload: unknown) => void>();
  const head = `${prefix}:`;
  try {
    await Promise.all([pub.connect(), sub.connect()]);
    await sub.psubscribe(`${head}*`);
  } catch (e) {
    pub.disconnect();
    sub.disconnect();
    throw new Error(`cannot reach Redis at ${redactedUrl(url)}: ${(lastError ?? (e as Error)).message}`);
  }
  sub.on('pmessage', (_pattern: string, channel: string, message: string) => {
    let payload: unknown;
    try {
      payload = JSON.parse(message);
    } catch {
      return; // not ours
    }
    for (const h of handlers) h(channel.slice(head.length), payload);
  });
  return {
    ready: () => pub.status === 'ready' && sub.status === 'ready',
    publish(topic, payload) {
      void pub.publish(`${head}${topic}`, JSON.stringify(payload)).catch(() => undefined);
    },
    onMessage(handler) {
      handlers.add(handler);
    },
    async close() {
      handlers.clear();
      await Promise.allSettled([sub.quit(), pub.quit()]);
    },
  };
}
