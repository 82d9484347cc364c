/** The audit log: who changed what. Written in the same transaction as the change where possible. */
import type { DbOrTx } from './client.js';
import { auditLog } from './tables.js';

export async function audit(
  db: DbOrTx,
  userId: number | null,
  action: string,
  entity: string,
  entityId: string | number | null,
  detail?: unknown,
): Promise<void> {
  await db.insert(auditLog).values({ at: Date.now(), userId, action, entity, entityId: entityId === null ? null : String(entityId), detail: detail ?? null });
}
