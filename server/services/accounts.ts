/**
 * Accounts: users, API tokens and sessions over the database. Secrets are returned once, at
 * creation, and only their sha256 is stored.
 */
import { and, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { prepared } from '../db/prepared.js';
import { UserError } from '../errors.js';
import type { Db } from '../db/client.js';
import { audit } from '../db/audit.js';
import { apiTokens, sessions, users, TEXT_LIMITS } from '../db/schema.js';
import { type Role, parseRole } from '../auth/roles.js';
import { TOKEN_PREFIX, hashPassword, newSecret, sha256Hex, verifyPassword } from '../auth/secrets.js';

export type UserRow = typeof users.$inferSelect;

let dummyHash: string | undefined;

export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;
/** Longest user name an account can have. */
export const MAX_USER_NAME = TEXT_LIMITS['users.name'];
const NAME_RE = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,${MAX_USER_NAME - 1}}$`);

export function checkUserName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new UserError(
      `user name must be 1-64 characters of letters, digits, "_", ".", "@" or "-", starting with a letter or digit; got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

export interface CreatedUser {
  user: UserRow;
  /** The new API token, in clear: shown once, never stored. */
  token: string;
}

/** Creates a user with a first API token (and a password when given). */
export async function createUser(db: Db, input: { name: string; role: string; password?: string }, actorId: number | null = null): Promise<CreatedUser> {
  const name = checkUserName(input.name);
  const role: Role = parseRole(input.role);
  const passwordHash = input.password !== undefined ? await hashPassword(input.password) : null;
  const token = newSecret(TOKEN_PREFIX);
  const user = db.transaction(
    (tx) => {
      if (tx.select({ id: users.id }).from(users).where(eq(users.name, name)).get()) {
        throw new UserError(`a user named "${name}" already exists`);
      }
      const u = tx.insert(users).values({ name, role, passwordHash, createdAt: Date.now() }).returning().get();
      tx.insert(apiTokens)
        .values({ userId: u.id, name: 'default', tokenHash: sha256Hex(token), prefix: token.slice(0, 8), createdAt: Date.now() })
        .run();
      audit(tx, actorId, 'create', 'user', u.id, { name, role });
      return u;
    },
    { behavior: 'immediate' },
  );
  return { user, token };
}

/** Longest lifetime a token may be given, in days (ten years). */
export const MAX_TOKEN_DAYS = 3650;

/** A new API token for `userId`; with `expiresInDays` it is refused from then on. */
export function createApiToken(db: Db, userId: number, name: string, expiresInDays?: number | null): { token: string; id: number } {
  if (!name.trim() || name.length > TEXT_LIMITS['api_tokens.name']) throw new UserError(`token name must be 1-${TEXT_LIMITS['api_tokens.name']} characters`);
  if (expiresInDays != null && !(Number.isInteger(expiresInDays) && expiresInDays >= 1 && expiresInDays <= MAX_TOKEN_DAYS)) {
    throw new UserError(`expiresInDays must be an integer between 1 and ${MAX_TOKEN_DAYS}, got ${JSON.stringify(expiresInDays)}`);
  }
  const token = newSecret(TOKEN_PREFIX);
  const now = Date.now();
  const expiresAt = expiresInDays != null ? now + expiresInDays * 86_400_000 : null;
  const row = db.transaction((tx) => {
    const r = tx
      .insert(apiTokens)
      .values({ userId, name: name.trim(), tokenHash: sha256Hex(token), prefix: token.slice(0, 8), createdAt: now, expiresAt })
      .returning()
      .get();
    audit(tx, userId, 'create', 'api_token', r.id, { name: name.trim() });
    return r;
  });
  return { token, id: row.id };
}

/** The active user owning a bearer token, or null. Updates last_used_at at most once a minute. */
export function userForToken(db: Db, token: string): UserRow | null {
  const q = prepared(db, 'userForToken', () =>
    db
      .select({ user: users, tokenId: apiTokens.id, lastUsedAt: apiTokens.lastUsedAt })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(
        and(
          eq(apiTokens.tokenHash, sql.placeholder('hash')),
          isNull(apiTokens.revokedAt),
          eq(users.disabled, false),
          or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql.placeholder('now'))),
        ),
      )
      .prepare(),
  );
  const row = q.get({ hash: sha256Hex(token), now: Date.now() });
  if (!row) return null;
  const now = Date.now();
  if (!row.lastUsedAt || now - row.lastUsedAt > 60_000) db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.tokenId)).run();
  return row.user;
}

/** Checks name + password; returns the user or null (same answer for unknown name and bad password). */
export async function checkPassword(db: Db, name: string, password: string): Promise<UserRow | null> {
  const u = db.select().from(users).where(eq(users.name, name)).get();
  if (!u || u.disabled || !u.passwordHash) {
    // Spend comparable time so response timing does not reveal which names exist.
    dummyHash ??= await hashPassword('dummy-password-for-timing');
    await verifyPassword(dummyHash, password);
    return null;
  }
  return (await verifyPassword(u.passwordHash, password)) ? u : null;
}

/** Starts a session; returns the cookie value (shown once; sha256 stored). */
export function createSession(db: Db, userId: number): { cookie: string; expiresAt: number } {
  const cookie = newSecret();
  const expiresAt = Date.now() + SESSION_TTL_MS;
  db.insert(sessions)
    .values({ id: sha256Hex(cookie), userId, createdAt: Date.now(), expiresAt })
    .run();
  return { cookie, expiresAt };
}

export function userForSession(db: Db, cookie: string): UserRow | null {
  const q = prepared(db, 'userForSession', () =>
    db
      .select({ user: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.id, sql.placeholder('id')), gt(sessions.expiresAt, sql.placeholder('now')), eq(users.disabled, false)))
      .prepare(),
  );
  const row = q.get({ id: sha256Hex(cookie), now: Date.now() });
  return row?.user ?? null;
}

export function deleteSession(db: Db, cookie: string): void {
  db.delete(sessions)
    .where(eq(sessions.id, sha256Hex(cookie)))
    .run();
}

export type ApiTokenRow = typeof apiTokens.$inferSelect;

export function listUsers(db: Db): UserRow[] {
  return db.select().from(users).orderBy(users.id).all();
}

export function usersNamed(db: Db, names: readonly string[]): UserRow[] {
  return names.length
    ? db
        .select()
        .from(users)
        .where(inArray(users.name, [...names]))
        .all()
    : [];
}

/** A user's API tokens (revoked ones too), oldest first. */
export function apiTokensOf(db: Db, userId: number): ApiTokenRow[] {
  return db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(apiTokens.id).all();
}

export function getApiToken(db: Db, id: number): ApiTokenRow | undefined {
  return db.select().from(apiTokens).where(eq(apiTokens.id, id)).get();
}

/** Revokes a token of `owner` (any user's when `owner` is null: admins); undefined when there is no such token. */
export function revokeApiToken(db: Db, tokenId: number, owner: number | null, actorId: number): ApiTokenRow | undefined {
  const row = db
    .update(apiTokens)
    .set({ revokedAt: Date.now() })
    .where(and(eq(apiTokens.id, tokenId), owner === null ? undefined : eq(apiTokens.userId, owner)))
    .returning()
    .get();
  if (row) audit(db, actorId, 'revoke', 'api_token', tokenId);
  return row;
}

/** Sets a user's role; undefined when there is no such user. */
export function setUserRole(db: Db, userId: number, role: Role, actorId: number): UserRow | undefined {
  const row = db.update(users).set({ role }).where(eq(users.id, userId)).returning().get();
  // Recorded as the API names roles (ADMIN, RESEARCHER, VIEWER), as before the services layer.
  if (row) audit(db, actorId, 'set_role', 'user', userId, { role: role.toUpperCase() });
  return row;
}

/** How many accounts exist (start-up creates the first admin when none does). */
export function userCount(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(users).get()?.n ?? 0;
}

export function auditLogin(db: Db, userId: number): void {
  audit(db, userId, 'login', 'user', userId);
}
