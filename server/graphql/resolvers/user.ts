/** Users and API tokens: `me`, token management, and user administration (admins). */
import { and, eq } from 'drizzle-orm';
import { createApiToken, createUser } from '../../auth/accounts.js';
import { audit } from '../../db/audit.js';
import { apiTokens, users } from '../../db/schema.js';
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import type { Resolvers, Role } from '../generated/types.js';
import { requireRole, requireUser } from '../guard.js';
import { rowId, toId } from '../ids.js';

const toRole = (r: string): Role => r.toUpperCase() as Role;

export const userResolvers: Resolvers<Ctx> = {
  Query: {
    me: (_p, _a, ctx) => ctx.user,
    users(_p, _a, ctx) {
      requireRole(ctx, 'admin', 'listing users');
      return ctx.db.select().from(users).orderBy(users.id).all();
    },
    apiTokens(_p, _a, ctx) {
      const user = requireUser(ctx);
      return ctx.db.select().from(apiTokens).where(eq(apiTokens.userId, user.id)).orderBy(apiTokens.id).all();
    },
  },
  Mutation: {
    createApiToken(_p, { name, expiresInDays }, ctx) {
      const user = requireUser(ctx);
      const { token, id } = createApiToken(ctx.db, user.id, name, expiresInDays);
      audit(ctx.db, user.id, 'create', 'api_token', id, { name });
      return { token, apiToken: ctx.db.select().from(apiTokens).where(eq(apiTokens.id, id)).get()! };
    },
    revokeApiToken(_p, { id }, ctx) {
      const user = requireUser(ctx);
      const tokenId = rowId(id, 'ApiToken');
      const row = ctx.db.update(apiTokens).set({ revokedAt: Date.now() })
        .where(and(eq(apiTokens.id, tokenId), user.role === 'admin' ? undefined : eq(apiTokens.userId, user.id)))
        .returning().get();
      if (!row) throw notFound(`ApiToken:${tokenId}`);
      audit(ctx.db, user.id, 'revoke', 'api_token', tokenId);
      return row;
    },
    async createUser(_p, { input }, ctx) {
      const admin = requireRole(ctx, 'admin', 'creating users');
      return createUser(ctx.db, { name: input.name, role: input.role.toLowerCase(), password: input.password ?? undefined }, admin.id);
    },
    setUserRole(_p, { id, role }, ctx) {
      const admin = requireRole(ctx, 'admin', 'changing roles');
      const userId = rowId(id, 'User');
      const row = ctx.db.update(users).set({ role: role.toLowerCase() as 'admin' | 'researcher' | 'viewer' }).where(eq(users.id, userId)).returning().get();
      if (!row) throw notFound(`User:${userId}`);
      audit(ctx.db, admin.id, 'set_role', 'user', userId, { role });
      return row;
    },
  },
  User: {
    id: (u) => toId('User', u.id),
    role: (u) => toRole(u.role),
  },
  ApiToken: {
    id: (t) => toId('ApiToken', t.id),
    revoked: (t) => t.revokedAt !== null,
  },
};
