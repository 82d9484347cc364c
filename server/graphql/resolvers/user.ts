/** Users and API tokens: `me`, token management, and user administration (admins). */
import { apiTokensOf, createApiToken, createUser, getApiToken, listUsers, revokeApiToken, setUserRole } from '../../services/accounts.js';
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import type { Resolvers, Role } from '../generated/types.js';
import { requireRole, requireUser } from '../guard.js';
import { rowId, toId } from '../ids.js';

const toRole = (r: string): Role => r.toUpperCase() as Role;

export const userResolvers: Resolvers<Ctx> = {
  Query: {
    me: (_p, _a, ctx) => ctx.user,
    async users(_p, _a, ctx) {
      requireRole(ctx, 'admin', 'listing users');
      return await listUsers(ctx.db);
    },
    async apiTokens(_p, _a, ctx) {
      const user = requireUser(ctx);
      return await apiTokensOf(ctx.db, user.id);
    },
  },
  Mutation: {
    async createApiToken(_p, { name, expiresInDays }, ctx) {
      const user = requireUser(ctx);
      const { token, id } = await createApiToken(ctx.db, user.id, name, expiresInDays);
      return { token, apiToken: (await getApiToken(ctx.db, id))! };
    },
    async revokeApiToken(_p, { id }, ctx) {
      const user = requireUser(ctx);
      const tokenId = rowId(id, 'ApiToken');
      const row = await revokeApiToken(ctx.db, tokenId, user.role === 'admin' ? null : user.id, user.id);
      if (!row) throw notFound(`ApiToken:${tokenId}`);
      return row;
    },
    async createUser(_p, { input }, ctx) {
      const admin = requireRole(ctx, 'admin', 'creating users');
      return await createUser(ctx.db, { name: input.name, role: input.role.toLowerCase(), password: input.password ?? undefined }, admin.id);
    },
    async setUserRole(_p, { id, role }, ctx) {
      const admin = requireRole(ctx, 'admin', 'changing roles');
      const userId = rowId(id, 'User');
      const row = await setUserRole(ctx.db, userId, role.toLowerCase() as 'admin' | 'researcher' | 'viewer', admin.id);
      if (!row) throw notFound(`User:${userId}`);
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
