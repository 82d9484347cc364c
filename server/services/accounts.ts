/**
 * Accounts: users, API tokens and sessions over the database. Secrets are returned once, at
 * creation, and only their sha256 is stored.
 */
import { and, count, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { preparedQuery } from '../db/prepared.js';
import { UserError } from '../errors.js';
import { first, inserted, type Db } from '../db/client.js';
import { audit } from '../db/audit.js';
import { apiTokens, sessions, users } from '../db/tables.js';
import { TEXT_LIMITS } from '../db/schema.js';
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
  const user = await db.transaction(async (tx) => {
    if (await first(tx.select({ id: users.id }).from(users).where(eq(users.name, name)))) {
      throw new UserError(`a user named "${name}" already exists`);
    }
    const u = await inserted(tx.insert(users).values({ name, role, passwordHash, createdAt: Date.now() }).returning());
    await tx.insert(apiTokens).values({ userId: u.id, name: 'default', tokenHash: sha256Hex(token), prefix: token.slice(0, 8), createdAt: Date.now() });
    await audit(tx, actorId, 'create', 'user', u.id, { name, role });
    return u;
  });
  return { user, token };
}

/** Longest lifetime a token may be given, in days (ten years). */
export const MAX_TOKEN_DAYS = 3650;

/** A new API token for `userId`; with `expiresInDays` it is refused from then on. */
export async function createApiToken(db: Db, userId: number, name: string, expiresInDays?: number | null): Promise<{ token: string; id: number }> {
  if (!name.trim() || name.length > TEXT_LIMITS['api_tokens.name']) throw new UserError(`token name must be 1-${TEXT_LIMITS['api_tokens.name']} characters`);
  if (expiresInDays != null && !(Number.isInteger(expiresInDays) && expiresInDays >= 1 && expiresInDays <= MAX_TOKEN_DAYS)) {
    throw new UserError(`expiresInDays must be an integer between 1 and ${MAX_TOKEN_DAYS}, got ${JSON.stringify(expiresInDays)}`);
  }
  const token = newSecret(TOKEN_PREFIX);
  const now = Date.now();
  const expiresAt = expiresInDays != null ? now + expiresInDays * 86_400_000 : null;
  const row = await db.transaction(async (tx) => {
    const r = await inserted(
      tx
        .insert(apiTokens)
        .values({ userId, name: name.trim(), tokenHash: sha256Hex(token), prefix: token.slice(0, 8), createdAt: now, expiresAt })
        .returning(),
    );
    await audit(tx, userId, 'create', 'api_token', r.id, { name: name.trim() });
    return r;
  });
  return { token, id: row.id };
}

/** The active user owning a bearer token, or null. Updates last_used_at at most once a minute. */
export async function userForToken(db: Db, token: string): Promise<UserRow | null> {
  const q = preparedQuery(db, 'userForToken', () =>
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
      ),
  );
  const row = await first(q.execute({ hash: sha256Hex(token), now: Date.now() }));
  if (!row) return null;
  const now = Date.now();
  if (!row.lastUsedAt || now - row.lastUsedAt > 60_000) await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.tokenId));
  return row.user;
}

/** Checks name + password; returns the user or null (same answer for unknown name and bad password). */
export async function checkPassword(db: Db, name: string, password: string): Promise<UserRow | null> {
  const u = await first(db.select().from(users).where(eq(users.name, name)));
  if (!u || u.disabled || !u.passwordHash) {
    // Spend comparable time so response timing does not reveal which names exist.
    dummyHash ??= await hashPassword('dummy-password-for-timing');
    await verifyPassword(dummyHash, password);
    return null;
  }
  return (await verifyPassword(u.passwordHash, password)) ? u : null;
}

/** Starts a session; returns the cookie value (shown once; sha256 stored). */
export async function createSession(db: Db, userId: number): Promise<{ cookie: string; expiresAt: number }> {
  const cookie = newSecret();
  const expiresAt = Date.now() + SESSION_TTL_MS;
  await db.insert(sessions).values({ id: sha256Hex(cookie), userId, createdAt: Date.now(), expiresAt });
  return { cookie, expiresAt };
}

export async function userForSession(db: Db, cookie: string): Promise<UserRow | null> {
  const q = preparedQuery(db, 'userForSession', () =>
    db
      .select({ user: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.id, sql.placeholder('id')), gt(sessions.expiresAt, sql.placeholder('now')), eq(users.disabled, false))),
  );
  const row = await first(q.execute({ id: sha256Hex(cookie), now: Date.now() }));
  return row?.user ?? null;
}

export async function deleteSession(db: Db, cookie: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sha256Hex(cookie)));
}

export type ApiTokenRow = typeof apiTokens.$inferSelect;

export async function listUsers(db: Db): Promise<UserRow[]> {
  return await db.select().from(users).orderBy(users.id);
}

export async function usersNamed(db: Db, names: readonly string[]): Promise<UserRow[]> {
  return names.length
    ? await db
        .select()
        .from(users)
        .where(inArray(users.name, [...names]))
    : [];
}

/** A user's API tokens (revoked ones too), oldest first. */
export async function apiTokensOf(db: Db, userId: number): Promise<ApiTokenRow[]> {
  return await db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(apiTokens.id);
}

export async function getApiToken(db: Db, id: number): Promise<ApiTokenRow | undefined> {
  return await first(db.select().from(apiTokens).where(eq(apiTokens.id, id)));
}

/** Revokes a token of `owner` (any user's when `owner` is null: admins); undefined when there is no such token. */
export async function revokeApiToken(db: Db, tokenId: number, owner: number | null, actorId: number): Promise<ApiTokenRow | undefined> {
  const row = await first(
    db
      .update(apiTokens)
      .set({ revokedAt: Date.now() })
      .where(and(eq(apiTokens.id, tokenId), owner === null ? undefined : eq(apiTokens.userId, owner)))
      .returning(),
  );
  if (row) await audit(db, actorId, 'revoke', 'api_token', tokenId);
  return row;
}

/** Sets a user's role; undefined when there is no such user. */
export async function setUserRole(db: Db, userId: number, role: Role, actorId: number): Promise<UserRow | undefined> {
  const row = await first(db.update(users).set({ role }).where(eq(users.id, userId)).returning());
  // Recorded as the API names roles (ADMIN, RESEARCHER, VIEWER), as before the services layer.
  if (row) await audit(db, actorId, 'set_role', 'user', userId, { role: role.toUpperCase() });
  return row;
}

/** How many accounts exist (start-up creates the first admin when none does). */
export async function userCount(db: Db): Promise<number> {
  return (await first(db.select({ n: count() }).from(users)))?.n ?? 0;
}

export async function auditLogin(db: Db, userId: number): Promise<void> {
  await audit(db, userId, 'login', 'user', userId);
}
