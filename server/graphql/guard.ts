/**
 * Authorization, checked by every resolver that reads or writes: viewers read; researchers
 * create, run and annotate; admins manage users and may edit or delete anything.
 */
import { hasRole, type Role } from '../auth/roles.js';
import type { Ctx } from './context.js';
import { apiError, forbidden, unauthenticated } from './errors.js';
import type { UserRow } from '../services/rows.js';

export function requireUser(ctx: Ctx): UserRow {
  if (!ctx.user) throw unauthenticated();
  return ctx.user;
}

export function requireRole(ctx: Ctx, min: Role, action: string): UserRow {
  const user = requireUser(ctx);
  if (!hasRole(user.role, min)) throw forbidden(`${action} needs the ${min} role or higher; ${user.name} is a ${user.role}`);
  return user;
}

/** For mutations that start computation: researcher role, and the per-user rate limit. */
export function requireCompute(ctx: Ctx, action: string): UserRow {
  const user = requireRole(ctx, 'researcher', action);
  const wait = ctx.app.limiter.take(user.id);
  if (wait > 0) throw apiError('RATE_LIMITED', `${action}: too many compute requests; try again in ${wait} s`, { retryAfterSeconds: wait });
  return user;
}

/** The owner of a thing or an admin. */
export function requireOwnerOrAdmin(ctx: Ctx, ownerId: number | null, action: string): UserRow {
  const user = requireRole(ctx, 'researcher', action);
  if (user.role !== 'admin' && ownerId !== user.id) throw forbidden(`${action}: only its creator or an admin may do this`);
  return user;
}
