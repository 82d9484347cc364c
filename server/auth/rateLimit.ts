/**
 * Token buckets: each key may burst `burst` requests, refilled at `perMinute`. Two uses:
 *   - compute mutations (createDataset, trainModel, runForward, ...), keyed by user id;
 *   - login attempts: per account for browsers that never signed in to it, per browser for those
 *     that did (device cookies, device.ts), and per address for the former; so guessing one
 *     account's password is slowed to `perMinute` tries once the burst is spent, and cannot hold
 *     back the account's own browsers.
 * In-process state: one server process owns the database (see server/app/server.ts), so this
 * is exact for it.
 */
import { createHash } from 'node:crypto';

export interface RateLimitOptions {
  burst: number;
  perMinute: number;
}

const num = (v: string | undefined, d: number): number => (v !== undefined && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d);

export function rateLimitFromEnv(): RateLimitOptions {
  return { burst: num(process.env.SEARCHLIGHT_RATE_BURST, 30), perMinute: num(process.env.SEARCHLIGHT_RATE_PER_MIN, 120) };
}

/** Login attempts without a device cookie per client address: 30 at once, then 10 a minute (shared proxies send many users' logins). */
export function addressLoginLimitFromEnv(): RateLimitOptions {
  return { burst: num(process.env.SEARCHLIGHT_ADDRESS_LOGIN_BURST, 30), perMinute: num(process.env.SEARCHLIGHT_ADDRESS_LOGIN_PER_MIN, 10) };
}

/** Login attempts per account from unrecognised browsers, and per recognised browser (device.ts): 10 at once, then one every 30 s. */
export function loginRateLimitFromEnv(): RateLimitOptions {
  return { burst: num(process.env.SEARCHLIGHT_LOGIN_BURST, 10), perMinute: num(process.env.SEARCHLIGHT_LOGIN_PER_MIN, 2) };
}

/** Password verifications by the whole server: 20 at once, then 10 per second (~a quarter of a core of argon2). */
export function passwordCheckLimitFromEnv(): RateLimitOptions {
  return { burst: num(process.env.SEARCHLIGHT_PASSWORD_CHECK_BURST, 20), perMinute: num(process.env.SEARCHLIGHT_PASSWORD_CHECKS_PER_MIN, 600) };
}

/** Buckets kept before full (idle) ones are swept, so keys chosen by clients cannot grow memory without bound. */
const SWEEP_AT = 10_000;

/**
 * String keys are stored as a 16-byte digest: a key is chosen by the client (a user name), and a
 * 4 MB name kept verbatim per attempt grew the heap by ~900 MiB over 250 logins (issue 16).
 */
function bounded(key: number | string): number | string {
  return typeof key === 'number' ? key : createHash('sha256').update(key).digest('base64url').slice(0, 22);
}

export class RateLimiter {
  private readonly buckets = new Map<number | string, { tokens: number; at: number }>();
  constructor(
    private readonly opts: RateLimitOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes one token for `key`; returns 0 when allowed, else the seconds to wait. */
  take(rawKey: number | string): number {
    const key = bounded(rawKey);
    const now = this.clock();
    const rate = this.opts.perMinute / 60_000;
    if (this.buckets.size >= SWEEP_AT && !this.buckets.has(key)) this.sweep(now, rate);
    const b = this.buckets.get(key) ?? { tokens: this.opts.burst, at: now };
    b.tokens = Math.min(this.opts.burst, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / rate / 1000);
  }

  /** Forgets `key` (a full bucket again), e.g. after a successful login. */
  reset(key: number | string): void {
    this.buckets.delete(bounded(key));
  }

  /** The keys as stored (for tests: every one is short, whatever the caller passed). */
  storedKeys(): Array<number | string> {
    return [...this.buckets.keys()];
  }

  /** Number of keys tracked (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops buckets that have refilled completely: forgetting them changes no answer. */
  private sweep(now: number, rate: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * rate >= this.opts.burst) this.buckets.delete(k);
  }
}
