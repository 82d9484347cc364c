import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../server/auth/rateLimit.js';
import { type GqlResult, type Harness, codes, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  // 3 attempts, then (practically) never again within the test.
  h = await startHarness({ loginRateLimit: { burst: 3, perMinute: 0.001 } });
});
afterAll(async () => h?.close());

const LOGIN = 'mutation($n: String!, $p: String!) { login(name: $n, password: $p) { name } }';

/** A login POST sent from a chosen loopback source address (Linux routes all of 127/8 to lo). */
function loginFrom(localAddress: string, name: string, password: string, cookie?: string): Promise<{ body: GqlResult; setCookie: string[] }> {
  const url = new URL(h.server.graphqlUrl);
  const payload = JSON.stringify({ query: LOGIN, variables: { n: name, p: password } });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...(cookie ? { cookie } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ body: JSON.parse(text) as GqlResult, setCookie: res.headers['set-cookie'] ?? [] }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('login attempts are rate-limited per account, and a browser that signed in before keeps its own bucket', () => {
  let adaDevice = '';

  it('a successful login gives the browser a signed, httpOnly device cookie for that account', async () => {
    const ok = await loginFrom('127.0.0.9', 'ada', 'correct horse battery');
    expect(ok.body.data).toEqual({ login: { name: 'ada' } });
    const device = ok.setCookie.find((c) => c.startsWith('searchlight_device='))!;
    expect(device).toMatch(/; HttpOnly; SameSite=Lax; Max-Age=31536000/);
    adaDevice = device.split(';')[0];
  });

  it('after the burst of wrong passwords, even the right one is refused with RATE_LIMITED and a retry hint — from any address without the device cookie', async () => {
    for (let i = 0; i < 3; i++) expect(codes((await loginFrom('127.0.0.1', 'ada', `guess ${i}`)).body)).toEqual(['UNAUTHENTICATED']);
    for (const address of ['127.0.0.1', '127.0.0.2']) {
      const limited = await loginFrom(address, 'ada', 'correct horse battery');
      expect(codes(limited.body)).toEqual(['RATE_LIMITED']);
      expect(limited.body.errors![0].message).toMatch(
        /^login: too many failed attempts for "ada" from browsers that have not signed in to it before; try again in \d+ s$/,
      );
      expect(limited.body.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(0);
      expect(limited.body.data).toBeNull();
      expect(limited.setCookie).toEqual([]);
    }
    // The name is matched case-insensitively, so "ADA" is the same account's bucket.
    expect(codes((await loginFrom('127.0.0.1', 'ADA', 'x')).body)).toEqual(['RATE_LIMITED']);
  });

  it("the owner's browser (device cookie) still signs in, from the attacker's own address too; a forged or other account's cookie does not help", async () => {
    const mine = await loginFrom('127.0.0.1', 'ada', 'correct horse battery', adaDevice);
    expect(mine.body.errors).toBeUndefined();
    expect(mine.body.data).toEqual({ login: { name: 'ada' } });
    const forged = adaDevice.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect(codes((await loginFrom('127.0.0.1', 'ada', 'correct horse battery', forged)).body)).toEqual(['RATE_LIMITED']);
    // Names are exact: "ada"'s cookie buys nothing for "ADA" (another account could be named so).
    expect(codes((await loginFrom('127.0.0.1', 'ADA', 'x', adaDevice)).body)).toEqual(['RATE_LIMITED']);
  });

  it('other accounts from the same address are unaffected', async () => {
    const other = await loginFrom('127.0.0.1', 'rosalind', 'double helix 51');
    expect(other.body.data).toEqual({ login: { name: 'rosalind' } });
  });

  it('a successful login clears its bucket, so a few typos later do not lock the user out', async () => {
    expect(codes((await loginFrom('127.0.0.3', 'rosalind', 'typo 1')).body)).toEqual(['UNAUTHENTICATED']);
    expect(codes((await loginFrom('127.0.0.3', 'rosalind', 'typo 2')).body)).toEqual(['UNAUTHENTICATED']);
    expect((await loginFrom('127.0.0.3', 'rosalind', 'double helix 51')).body.data).toEqual({ login: { name: 'rosalind' } });
    for (let i = 0; i < 3; i++) expect(codes((await loginFrom('127.0.0.3', 'rosalind', `typo ${i + 3}`)).body)).toEqual(['UNAUTHENTICATED']);
    expect(codes((await loginFrom('127.0.0.3', 'rosalind', 'typo 6')).body)).toEqual(['RATE_LIMITED']);
  });
});

describe('RateLimiter', () => {
  it('refills at perMinute, answers the exact wait, and forgets refilled buckets once many keys are tracked', () => {
    let now = 0;
    const rl = new RateLimiter({ burst: 2, perMinute: 6 }, () => now); // one token per 10 s
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([0, 0, 10]);
    now = 10_000;
    expect(rl.take('a')).toBe(0);
    for (let i = 0; i < 10_000; i++) rl.take(`k${i}`);
    expect(rl.size).toBe(10_001);
    now += 60_000; // every bucket has refilled: they may all be forgotten
    rl.take('fresh');
    expect(rl.size).toBe(1);
    expect([rl.take('fresh'), rl.take('fresh')]).toEqual([0, 10]);
  });

  it('a name or password longer than any account could have is refused before any state is kept or hash computed', async () => {
    const before = h.server.app.loginLimiter.size;
    const r = await loginFrom('127.0.0.4', 'x'.repeat(30_000), 'p');
    expect(codes(r.body)).toEqual(['BAD_USER_INPUT']);
    expect(r.body.errors![0].message).toBe('login: a user name has at most 64 characters and a password at most 1024');
    expect(codes((await loginFrom('127.0.0.4', 'ada', 'p'.repeat(2000))).body)).toEqual(['BAD_USER_INPUT']);
    expect(h.server.app.loginLimiter.size).toBe(before);
    // A 4 MB name does not even get read: an anonymous body is at most 64 KiB.
    const huge = await fetch(h.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: LOGIN, variables: { n: 'x'.repeat(4 << 20), p: 'p' } }),
    });
    expect(huge.status).toBe(413);
  });

  it('limiter keys are stored as short digests, whatever the name', async () => {
    await loginFrom('127.0.0.5', 'n'.repeat(64), 'p');
    const keys = h.server.app.loginLimiter.storedKeys();
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(String(k).length).toBeLessThanOrEqual(22);
  });
});

describe('password verification is also bounded for the whole server', () => {
  it('distinct names from distinct addresses share one bucket of argon2 checks', async () => {
    const g = await startHarness({ passwordCheckLimit: { burst: 2, perMinute: 0.001 } });
    try {
      const post = (name: string, password: string, cookie?: string) =>
        fetch(g.server.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
          body: JSON.stringify({ query: LOGIN, variables: { n: name, p: password } }),
        });
      const send = async (name: string, password = 'guess', cookie?: string) => (await post(name, password, cookie)).json() as Promise<GqlResult>;
      const first = await post('ada', 'correct horse battery');
      const device = (first.headers.getSetCookie().find((c) => c.startsWith('searchlight_device=')) ?? '').split(';')[0];
      expect(device).toMatch(/^searchlight_device=/);
      expect(codes(await send('nobody-1'))).toEqual(['UNAUTHENTICATED']);
      const third = await send('nobody-2');
      expect(codes(third)).toEqual(['RATE_LIMITED']);
      expect(third.errors![0].message).toMatch(/^login: the server is checking too many passwords; try again in \d+ s$/);
      // Browsers that signed in before draw on their own server-wide bucket: the flood does not lock them out.
      expect((await send('ada', 'correct horse battery', device)).data).toEqual({ login: { name: 'ada' } });
    } finally {
      await g.close();
    }
  });
});
