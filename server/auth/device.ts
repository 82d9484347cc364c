/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
 * signed in to an account successfully gets a signed cookie naming that account. Later attempts
 * from that browser are limited on their own bucket, so password guessing against the account —
 * from any address, a shared proxy's included — can hold back only browsers that never signed in
 * to it, never its owner's (issue 16: with buckets per name + address, anyone behind the same proxy
 * could lock any account out).
 *
 * Cookie: base64url(exact user name) "." nonce "." HMAC-SHA256(secret, name "." nonce), with the
 * secret kept in the data directory (`device-secret`, made on first start), so cookies survive
 * restarts; deleting the file invalidates every device cookie.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const DEVICE_COOKIE = 'searchlight_device';
/** A year: a device cookie is a claim of "this browser signed in before", not a credential. */
export const DEVICE_COOKIE_MAX_AGE_S = 365 * 86_400;

/** The data directory's device-cookie secret (32 random bytes), created atomically on first use. */
export function deviceSecret(dataDir: string): Buffer {
  const file = path.join(dataDir, 'device-secret');
  try {
    const s = fs.readFileSync(file);
    if (s.length === 32) return s;
  } catch {
    /* made below */
  }
  const secret = randomBytes(32);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, secret, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return secret;
}

const sign = (secret: Buffer, body: string): string => createHmac('sha256', secret).update(body).digest('base64url');

/** A new device cookie value for the account `name` (exactly as stored: names are case-sensitive). */
export function issueDeviceCookie(secret: Buffer, name: string): string {
  const body = `${Buffer.from(name).toString('base64url')}.${randomBytes(12).toString('base64url')}`;
  return `${body}.${sign(secret, body)}`;
}

/**
 * The cookie's nonce when it is genuine and names exactly `name`; else null. Exactly, because login
 * matches names exactly: "alice"'s cookie must not buy attempts against "Alice".
 */
export function deviceNonce(secret: Buffer, cookie: string | undefined, name: string): string | null {
  if (!cookie || cookie.length > 300) return null;
  const parts = cookie.split('.');
  if (parts.length !== 3) return null;
  const [who, nonce, mac] = parts;
  const want = Buffer.from(sign(secret, `${who}.${nonce}`));
  const got = Buffer.from(mac);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  return Buffer.from(who, 'base64url').toString() === name ? nonce : null;
}
