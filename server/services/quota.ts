/**
 * Per-user quota on stored artifact bytes (issue 16): the checkpoints of a user's models and the
 * result tensors of a user's experiments. Checked before work that would add to them (a job is
 * admitted, a model imported), so a refused request costs nothing; a running job is not stopped
 * halfway (its checkpoints are the work the user asked for). Activation caches are shared by
 * content and bounded by their own byte budget with eviction (inference.ts), so they are not
 * counted here. SEARCHLIGHT_USER_QUOTA_BYTES sets the quota (default 20 GiB; 0: none).
 */
import { eq, sql } from 'drizzle-orm';
import { first, type Db } from '../db/client.js';
import { checkpoints, experiments, models, results } from '../db/tables.js';
import { type EnvVars, intFromEnv } from '../env.js';
import { UserError } from '../errors.js';

export const DEFAULT_USER_QUOTA_BYTES = 20 * 1024 ** 3;

export function userQuotaFromEnv(env: EnvVars = process.env): number {
  return intFromEnv('SEARCHLIGHT_USER_QUOTA_BYTES', DEFAULT_USER_QUOTA_BYTES, 0, env);
}

/** Bytes of the user's stored artifacts: their models' checkpoints plus their experiments' results. */
export async function storedBytes(db: Db, userId: number): Promise<number> {
  const ckpt =
    (
      await first(
        db
          .select({ n: sql<number>`coalesce(sum(${checkpoints.bytes}), 0)`.mapWith(Number) })
          .from(checkpoints)
          .innerJoin(models, eq(models.id, checkpoints.modelId))
          .where(eq(models.createdBy, userId)),
      )
    )?.n ?? 0;
  const res =
    (
      await first(
        db
          .select({ n: sql<number>`coalesce(sum(${results.bytes}), 0)`.mapWith(Number) })
          .from(results)
          .innerJoin(experiments, eq(experiments.id, results.experimentId))
          .where(eq(experiments.createdBy, userId)),
      )
    )?.n ?? 0;
  return ckpt + res;
}

const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(2)} GiB`;

/** Refuses (UserError) when the user's stored bytes plus `adding` would pass the quota; `what` names the request. */
export async function checkQuota(db: Db, userId: number, what: string, adding = 0, quota = userQuotaFromEnv()): Promise<void> {
  if (quota === 0) return;
  const used = await storedBytes(db, userId);
  if (used + adding > quota)
    throw new UserError(
      `${what}: you store ${gib(used)} of checkpoints and results${adding ? ` and this adds ${gib(adding)}` : ''}, over your quota of ${gib(quota)}; delete models or experiments you no longer need, or ask an admin to raise SEARCHLIGHT_USER_QUOTA_BYTES`,
    );
}
