/**
 * Opening a data directory's database for the server and the command-line tools, and the
 * start-up sweep. The types adapters pass around (`Db`, `DbHandle`, `Tx`) are re-exported here, so
 * nothing above the services layer imports `server/db` (test/platform/layering.test.ts).
 */
import { lt } from 'drizzle-orm';
import { type DbHandle, defaultDataDir, openDb, type Tx } from '../db/client.js';
import { sweepFiles } from '../db/files.js';
import { migrateDb, pendingMigrations } from '../db/migrate.js';
import { activationCaches, checkpoints, results, sessions, textLimitOf } from '../db/schema.js';
import { UserError } from '../errors.js';

export type { Db, DbHandle, DbOrTx, Tx } from '../db/client.js';
export { defaultDataDir, first } from '../db/client.js';
export { acquireDataDirLock, type DataDirLock, DataDirInUseError } from '../db/lock.js';

/**
 * Opens and migrates the database (the server and command-line tools). Tools may run beside a live
 * server, so this never deletes files: see `sweepOrphans`.
 */
export function prepareDatabase(dataDir?: string): DbHandle {
  const handle = openDb(dataDir ?? defaultDataDir());
  try {
    migrateDb(handle.sqlite);
  } catch (e) {
    handle.close();
    throw new MigrationError(`the database in ${handle.dataDir} could not be migrated (nothing was changed): ${(e as Error).message}`);
  }
  return handle;
}

/** A failed migration: an operator's problem (rows the new schema refuses, a damaged file), never a user's input mistake. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * A worker's connection (`searchlight worker`): the API migrates; a worker only checks the schema is
 * current, so two processes never migrate at once (drizzle reads what is applied before it locks).
 */
export function openCurrentDatabase(dataDir?: string): DbHandle {
  const handle = openDb(dataDir ?? defaultDataDir());
  const pending = pendingMigrations(handle.sqlite);
  if (pending > 0) {
    handle.close();
    throw new UserError(
      `the database in ${handle.dataDir} is ${pending} migration(s) behind this version; start the API (searchlight start) once to migrate it, then the workers`,
    );
  }
  return handle;
}

/** Runs `fn` in one write transaction on `handle` (the write lock up front; see db/client.ts). */
export function inWriteTransaction<T>(handle: DbHandle, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return handle.db.transaction(fn);
}

/** A job worker's own connection (no migration: the server that spawned it has migrated). */
export function openWorkerDatabase(dataDir: string): DbHandle {
  return openDb(dataDir);
}

/**
 * Server start-up only, under the data-directory lock: removes expired sessions and the files no
 * row references (partial writes of a crashed run). A tool running beside a live server must not
 * do this: the server's in-flight temporary files, and files renamed into place whose row has not
 * committed yet, would look orphaned. Returns how many files it removed.
 */
export async function sweepOrphans(handle: DbHandle): Promise<number> {
  const referenced = new Set<string>();
  for (const r of await handle.db.select({ p: checkpoints.path, s: checkpoints.statePath }).from(checkpoints)) {
    referenced.add(r.p);
    if (r.s) referenced.add(r.s);
  }
  for (const r of await handle.db.select({ p: activationCaches.path }).from(activationCaches)) referenced.add(r.p);
  for (const r of await handle.db.select({ p: results.path }).from(results)) referenced.add(r.p);
  await handle.db.delete(sessions).where(lt(sessions.expiresAt, Date.now()));
  return sweepFiles(handle.dataDir, referenced).length;
}

/**
 * A database refusal that is the caller's doing, as the UserError it is: a value over a column's
 * length limit (the CHECK constraints of db/schema.ts TEXT_LIMITS). Services check their inputs
 * first with messages naming the input; this is the backstop for a check they forgot. Undefined
 * for every other error.
 */
export function storageUserError(e: unknown): UserError | undefined {
  const hit = e instanceof Error && !(e instanceof MigrationError) ? textLimitOf(e.message) : undefined;
  if (!hit) return undefined;
  const [table, column] = hit.column.split('.');
  return new UserError(`${column} of ${table} holds at most ${hit.limit} characters; nothing was written`, { code: 'VALUE_TOO_LONG' });
}
