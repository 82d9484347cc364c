/** The DateTime scalar, Query.node, and session login/logout. */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql/index.js';
import { MAX_USER_NAME, SESSION_TTL_MS, auditLogin, checkPassword, createSession, deleteSession } from '../../services/accounts.js';
import { type Ctx, deviceCookieHeader, parseCookies, sessionCookieHeader } from '../context.js';
import { apiError } from '../errors.js';
import type { Resolvers } from '../generated/types.js';
import { requireRole, requireUser } from '../guard.js';
import { DEVICE_COOKIE, deviceNonce, issueDeviceCookie } from '../../auth/device.js';
import { UserError } from '../../errors.js';
import { parseId } from '../ids.js';
import { loadExperiment } from './experiment.js';

export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  serialize(v) {
    const d = v instanceof Date ? v : typeof v === 'number' ? new Date(v) : typeof v === 'string' ? new Date(v) : null;
    if (!d || Number.isNaN(d.getTime())) throw new GraphQLError(`DateTime cannot represent ${JSON.stringify(v)}`);
    return d.toISOString();
  },
  parseValue(v) {
    const d = typeof v === 'string' ? new Date(v) : null;
    if (!d || Number.isNaN(d.getTime())) throw new GraphQLError(`DateTime must be an ISO-8601 string, got ${JSON.stringify(v)}`);
    return d.getTime();
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING || Number.isNaN(new Date(ast.value).getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return new Date(ast.value).getTime();
  },
});

const NODE_LOADERS = {
  User: (ctx: Ctx, id: number) => ctx.loaders.user.load(id),
  Dataset: (ctx: Ctx, id: number) => ctx.loaders.dataset.load(id),
  Maze: (ctx: Ctx, id: number) => ctx.loaders.maze.load(id),
  Model: (ctx: Ctx, id: number) => ctx.loaders.model.load(id),
  Job: (ctx: Ctx, id: number) => ctx.loaders.job.load(id),
  Annotation: (ctx: Ctx, id: number) => ctx.loaders.annotation.load(id),
  Experiment: (ctx: Ctx, id: number) => loadExperiment(ctx, id),
} as const;

/** Longest password accepted at login (names: accounts.ts MAX_USER_NAME). */
const MAX_PASSWORD = 1024;

export const commonResolvers: Resolvers<Ctx> = {
  DateTime: DateTimeScalar,
  Query: {
    async node(_p, { id }, ctx) {
      const me = requireUser(ctx);
      const { type, id: n } = parseId(id);
      // The same rule as the typed queries: `me` for oneself, `users` (admin only) for anyone else.
      if (type === 'User' && n !== me.id) requireRole(ctx, 'admin', 'reading another user by id');
      const load = NODE_LOADERS[type as keyof typeof NODE_LOADERS];
      if (!load) return null;
      const row = await load(ctx, n);
      return row ? ({ ...row, __typename: type } as never) : null;
    },
  },
  Mutation: {
    async login(_p, { name, password }, ctx) {
      // Checked before the (deliberately slow) argon2 verification: password guessing is slowed
      // per account and address, and cannot be used to burn the server's CPU either.
      // No account has a longer name, and no one types a longer password: refused before any
      // state is kept or any hash computed.
      if (name.length > MAX_USER_NAME || password.length > MAX_PASSWORD) {
        throw new UserError(`login: a user name has at most ${MAX_USER_NAME} characters and a password at most ${MAX_PASSWORD}`);
      }
      // A browser that signed in to this account before (device cookie, device.ts) has its own
      // bucket; every other attempt shares the account's bucket and its address's.
      const device = deviceNonce(ctx.app.deviceSecret, parseCookies(ctx.credentials.cookie)[DEVICE_COOKIE], name);
      const key = device ? `device\n${device}` : `account\n${name.toLowerCase()}`;
      const wait = ctx.app.loginLimiter.take(key);
      if (wait > 0) {
        throw apiError(
          'RATE_LIMITED',
          device
            ? `login: too many attempts for "${name}" from this browser; try again in ${wait} s`
            : `login: too many failed attempts for "${name}" from browsers that have not signed in to it before; try again in ${wait} s`,
          { retryAfterSeconds: wait },
        );
      }
      if (!device) {
        const fromAddress = ctx.app.addressLimiter.take(`address\n${ctx.clientAddress}`);
        if (fromAddress > 0)
          throw apiError('RATE_LIMITED', `login: too many attempts from this address; try again in ${fromAddress} s`, { retryAfterSeconds: fromAddress });
      }
      // Distinct names each get their own bucket, so the CPU spent on argon2 is also bounded for
      // the whole server: one bucket for browsers without a device cookie and another for those
      // with one, so anonymous traffic that drains the first cannot lock the accounts' owners out.
      const busy = ctx.app.passwordChecks.take(device ? 1 : 0);
      if (busy > 0) throw apiError('RATE_LIMITED', `login: the server is checking too many passwords; try again in ${busy} s`, { retryAfterSeconds: busy });
      const user = await checkPassword(ctx.db, name, password);
      if (!user) throw apiError('UNAUTHENTICATED', 'wrong user name or password');
      ctx.app.loginLimiter.reset(key);
      const { cookie } = await createSession(ctx.db, user.id);
      ctx.setCookies?.push(sessionCookieHeader(ctx.app, cookie, Math.floor(SESSION_TTL_MS / 1000)));
      ctx.setCookies?.push(deviceCookieHeader(ctx.app, issueDeviceCookie(ctx.app.deviceSecret, user.name)));
      await auditLogin(ctx.db, user.id);
      return user;
    },
    async logout(_p, _a, ctx) {
      if (ctx.sessionCookie) await deleteSession(ctx.db, ctx.sessionCookie);
      ctx.setCookies?.push(sessionCookieHeader(ctx.app, '', 0));
      return true;
    },
  },
};
