/**
 * Live updates across processes through Redis (issue 15): with SEARCHLIGHT_REDIS_URL every event
 * goes through Redis and reaches every process's subscribers — an API instance sees the progress
 * of a job another instance runs. Needs the Redis server CI runs (127.0.0.1:6379; .ci/run starts
 * one when absent); each test uses its own channel prefix.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../server/app/server.js';
import { PubSub } from '../../server/services/pubsub.js';
import { redisBus } from '../../server/services/redis.js';
import { createUser } from '../../server/services/accounts.js';
import { CREATE_DATASET, tempDir } from './helpers.js';

const REDIS = process.env.SEARCHLIGHT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = () => `searchlight-test-${crypto.randomBytes(4).toString('hex')}`;

async function next<T>(it: AsyncIterator<T>, ms = 10_000): Promise<T> {
  const r = await Promise.race([it.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms))]);
  if (r.done) throw new Error('subscription ended');
  return r.value;
}

describe('pub/sub through Redis', () => {
  it("an event published by one process reaches the subscribers of another, and the publisher's own subscribers once", async () => {
    const p = prefix();
    const a = new PubSub(await redisBus(REDIS, p));
    const b = new PubSub(await redisBus(REDIS, p));
    const other = new PubSub(await redisBus(REDIS, prefix())); // another deployment on the same Redis
    try {
      const onA = a.subscribe<{ n: number }>('job:7');
      const onB = b.subscribe<{ n: number }>('job:7');
      const elsewhere = other.subscribe<{ n: number }>('job:7');
      await new Promise((r) => setTimeout(r, 50)); // subscriptions registered with Redis
      a.publish('job:7', { n: 1 });
      a.publish('job:7', { n: 2 });
      expect(await next(onB)).toEqual({ n: 1 });
      expect(await next(onB)).toEqual({ n: 2 });
      expect(await next(onA)).toEqual({ n: 1 });
      expect(await next(onA)).toEqual({ n: 2 });
      await expect(next(onA, 300)).rejects.toThrow(/no event within 300 ms/); // once: not also delivered locally
      await expect(next(elsewhere, 300)).rejects.toThrow(/no event within 300 ms/); // prefixes keep deployments apart
      await onA.return!();
      await onB.return!();
      await elsewhere.return!();
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  it("a server on Redis publishes its jobs' progress there: another instance's subscriber follows the job to COMPLETED", async () => {
    const p = prefix();
    const dir = tempDir();
    const server = await startServer({ dataDir: dir, port: 0, host: '127.0.0.1', log: () => undefined, redisUrl: REDIS, redisPrefix: p });
    const instanceB = new PubSub(await redisBus(REDIS, p));
    try {
      const { token } = await createUser(server.app.handle.db, { name: 'ada', role: 'researcher' });
      const gql = async (query: string, variables: unknown) =>
        (await (
          await fetch(server.graphqlUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ query, variables }),
          })
        ).json()) as {
          data: { createDataset: { id: string } };
        };
      // Subscribe on "instance B" before the job exists, by its id (jobs are numbered from 1 here).
      const events = instanceB.subscribe<{ id: number; status: string }>('job:1', { isLast: (j) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.status) });
      await new Promise((r) => setTimeout(r, 50));
      const job = (await gql(CREATE_DATASET, { input: { name: 'redis', generator: 'dfs', grid: 3, count: 20, seed: 1 } })).data.createDataset;
      expect(job.id).toBe('Job:1');
      const seen: string[] = [];
      for (;;) {
        const e = await next(events, 30_000);
        seen.push(e.status);
        if (e.status !== 'RUNNING' && e.status !== 'QUEUED') break;
      }
      expect(seen.at(-1)).toBe('COMPLETED');
      expect(seen).toContain('RUNNING');
    } finally {
      await instanceB.close();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable Redis fails the start with a clear error, and releases the data directory', async () => {
    const dir = tempDir();
    try {
      await expect(startServer({ dataDir: dir, port: 0, log: () => undefined, redisUrl: 'redis://127.0.0.1:1' })).rejects.toThrow(
        /^cannot reach Redis at redis:\/\/127.0.0.1:1: /,
      );
      const again = await startServer({ dataDir: dir, port: 0, log: () => undefined }); // the lock was released
      await again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
