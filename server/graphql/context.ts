/**
 * Per-request context: who is calling (from `Authorization: Bearer <token>` for scripts, or the
 * httpOnly session cookie for the web app), the shared services, and fresh DataLoaders.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { userForSession, userForToken } from '../services/accounts.js';
import type { RateLimiter } from '../auth/rateLimit.js';
import { DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE_S } from '../auth/device.js';
import type { Db, DbHandle } from '../services/database.js';
import type { JobScheduler } from '../services/jobs.js';
import { type Loaders, createLoaders } from './loaders.js';
import type { UserRow } from '../services/rows.js';
import type { PubSub } from '../services/pubsub.js';
import type { RemoteForward } from '../services/inference.js';

export const SESSION_COOKIE = 'searchlight_session';

/** Services shared by every request. */
export interface App {
  handle: DbHandle;
  runner: JobScheduler;
  /** Heavy runForward requests go here when set (inference workers); else they run in this process. */
  inference?: RemoteForward;
  pubsub: PubSub;
  limiter: RateLimiter;
  /** Login attempts: per account from browsers that never signed in to it, per browser that did (device.ts). */
  loginLimiter: RateLimiter;
  /** Every password verification on the server (argon2 is deliberately slow), one shared bucket. */
  passwordChecks: RateLimiter;
  /** Login attempts from browsers without a device cookie, per client address. */
  addressLimiter: RateLimiter;
  /** Signs device cookies (auth/device.ts). */
  deviceSecret: Buffer;
  /** True when cookies should carry `Secure` (served over https). */
  secureCookies: boolean;
}

export interface Ctx {
  app: App;
  db: Db;
  user: UserRow | null;
  /** The session cookie this request carried (for logout). */
  sessionCookie: string | null;
  loaders: Loaders;
  /** The client's address (the TCP peer; '' when unknown), for per-address limits. */
  clientAddress: string;
  /** Set-Cookie values to send with the HTTP response (login/logout); absent over WebSocket. */
  setCookies?: string[];
  /** What the caller authenticated with, so a long-lived subscription can check it again per event. */
  credentials: { authorization?: string; cookie?: string };
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const k = part.slice(0, i).trim();
    try {
      out[k] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      /* malformed cookie: ignore it */
    }
  }
  return out;
}

/** The user behind a bearer token or session cookie; null when none or invalid. */
export async function authenticate(app: App, headers: { authorization?: string | undefined; cookie?: string | undefined }): Promise<Authenticated> {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth.trim());
    return { user: m ? await userForToken(app.handle.db, m[1]) : null, sessionCookie: null };
  }
  const session = parseCookies(headers.cookie)[SESSION_COOKIE] ?? null;
  return { user: session ? await userForSession(app.handle.db, session) : null, sessionCookie: session };
}

export interface Authenticated {
  user: UserRow | null;
  sessionCookie: string | null;
}

/** `auth`: the result of authenticate() on these headers when the caller already has it (no second lookup). */
export async function createContext(
  app: App,
  headers: IncomingHttpHeaders | { authorization?: string; cookie?: string },
  setCookies?: string[],
  clientAddress = '',
  auth?: Authenticated,
): Promise<Ctx> {
  const credentials = { authorization: headers.authorization as string | undefined, cookie: headers.cookie as string | undefined };
  const { user, sessionCookie } = auth ?? (await authenticate(app, credentials));
  return { app, db: app.handle.db, user, sessionCookie, loaders: createLoaders(app.handle.db), clientAddress, setCookies, credentials };
}

/**
 * The context for one event of a subscription: the subscriber's identity and services, with
 * fresh DataLoaders, so each event reads the current comments, score, ... (loaders cache for the
 * life of a context; see subscribe.ts).
 */
export async function eventContext(ctx: Ctx): Promise<Ctx> {
  // The subscriber's token or session is checked again for every event: one revoked, expired or
  // logged out (or an account disabled) ends the subscription, and a role change applies at once.
  const { user } = await authenticate(ctx.app, ctx.credentials);
  if (!user) throw new CredentialsRevoked();
  return { ...ctx, user, loaders: createLoaders(ctx.db) };
}

/** Thrown by eventContext: the subscription ends with this error as its last event. */
export class CredentialsRevoked extends Error {
  override name = 'CredentialsRevoked';
  constructor() {
    super('the token or session this subscription was made with is no longer valid (revoked, expired or signed out); sign in and subscribe again');
  }
}

export function deviceCookieHeader(app: App, value: string): string {
  return `${DEVICE_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${DEVICE_COOKIE_MAX_AGE_S}${app.secureCookies ? '; Secure' : ''}`;
}

export function sessionCookieHeader(app: App, value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${app.secureCookies ? '; Secure' : ''}`;
}
