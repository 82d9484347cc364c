/**
 * Opening a data directory's database for the server and the command-line tools, and the
 * start-up sweep. The types adapters pass around (`Db`, `DbHandle`, `Tx`) are re-exported here, so
 * nothing above the services layer imports `server/db` (test/platform/layering.test.ts).
 */
import { inArray, lt } from 'drizzle-orm';
import { type DbHandle, databaseUrlFromEnv, defaultDataDir, openDb, openPostgres, type PostgresHandle, type Tx } from '../db/client.js';
import { sweepFiles } from '../db/files.js';
import { migrateDb, migratePostgres, pendingMigrations, pendingPostgresMigrations } from '../db/migrate.js';
import { activationCaches, checkpoints, jobs, results, sessions } from '../db/tables.js';
import { textLimitOf } from '../db/schema.js';
import { UserError } from '../errors.js';
import { storeFromEnv } from './store/index.js';
import type { ArtifactStore } from '../db/store.js';

export type { Db, DbHandle, DbOrTx, PostgresHandle, SqliteHandle, Tx } from '../db/client.js';
export type { ArtifactStore, StoredObject } from '../db/store.js';
export { databaseUrlFromEnv, defaultDataDir, first } from '../db/client.js';
export { acquireDataDirLock, type DataDirLock, DataDirInUseError } from '../db/lock.js';

/** Where the database is: SEARCHLIGHT_DATABASE_URL (PostgreSQL) or the data directory's SQLite file. */
export interface DatabaseLocation {
  dataDir?: string;
  /** Where artifacts live; default from the environment (store/index.ts storeFromEnv: the data directory unless SEARCHLIGHT_S3_BUCKET). */
  store?: ArtifactStore;
  /** A postgres:// URL; undefined: SQLite in the data directory (the default), null: SQLite even if the environment names a server. */
  url?: string | null;
}

function open(where: DatabaseLocation, max?: number): DbHandle {
  const dataDir = where.dataDir ?? defaultDataDir();
  const url = where.url === undefined ? databaseUrlFromEnv() : (where.url ?? undefined);
  const store = where.store ?? storeFromEnv(dataDir);
  return url ? openPostgres(url, dataDir, { max, store }) : openDb(dataDir, { store });
}

/** "the PostgreSQL database at postgres://…" or "the database in <dir>", for messages and the start-up log. */
export function describeDatabase(h: DbHandle): string {
  return h.dialect === 'postgres' ? `the PostgreSQL database at ${redactUrl(h.url)}` : `the database in ${h.dataDir}`;
}
const describe = describeDatabase;

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:…@');
}

/**
 * Opens and migrates the database (the server and command-line tools). Tools may run beside a live
 * server, so this never deletes files: see `sweepOrphans`.
 */
export async function prepareDatabase(where: DatabaseLocation | string = {}): Promise<DbHandle> {
  const handle = open(typeof where === 'string' ? { dataDir: where } : where);
  try {
    if (handle.dialect === 'postgres') await migratePostgres(handle.pool);
    else migrateDb(handle.sqlite);
  } catch (e) {
    await handle.close();
    throw new MigrationError(`${describe(handle)} could not be migrated (nothing was changed): ${(e as Error).message}`);
  }
  return handle;
}

/** A failed migration: an operator's problem (rows the new schema refuses, a damaged file), never a user's input mistake. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * A worker's connection (`searchlight worker`): the API migrates; a worker only checks the schema is
 * current, so a worker of an older or newer version never writes under the wrong schema.
 */
export async function openCurrentDatabase(where: DatabaseLocation | string = {}): Promise<DbHandle> {
  const handle = open(typeof where === 'string' ? { dataDir: where } : where);
  const pending = handle.dialect === 'postgres' ? await pendingPostgresMigrations(handle.pool) : pendingMigrations(handle.sqlite);
  if (pending > 0) {
    await handle.close();
    throw new UserError(
      `${describe(handle)} is ${pending} migration(s) behind this version; start the API (searchlight start) once to migrate it, then the workers`,
    );
  }
  return handle;
}

/** Runs `fn` in one write transaction on `handle` (SQLite: the write lock up front; see db/client.ts). */
export function inWriteTransaction<T>(handle: DbHandle, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return handle.db.transaction(fn);
}

/** A job worker thread's own connection (no migration: the server that spawned it has migrated). */
export function openWorkerDatabase(dataDir: string, url?: string): DbHandle {
  // A job thread runs one job: a couple of connections (its queries, and its progress writes) suffice.
  // Its store is its host's: the thread inherits the host's environment (jobs/threads.ts jobEnv).
  const store = storeFromEnv(dataDir);
  return url ? openPostgres(url, dataDir, { max: 2, store }) : openDb(dataDir, { store });
}

/** Any fixed 64-bit key: the advisory lock a server without Redis holds on its PostgreSQL database. */
const OWNER_LOCK = 0x5e4c17;

/** The hold `ownDatabase` took; release it when the server stops. */
export interface DatabaseOwnership {
  release(): Promise<void>;
}

/** Another server without Redis already runs on this PostgreSQL database. */
export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
}

/**
 * A server without Redis owns its jobs: after a restart it takes every RUNNING job for one of its
 * own interrupted runs. On a PostgreSQL database several servers could do so at once, so such a
 * server holds a session-level advisory lock for its lifetime and a second one stops here
 * (several servers on one database need Redis, whose queues know which worker holds which job).
 */
export async function ownDatabase(handle: PostgresHandle): Promise<DatabaseOwnership> {
  const client = await handle.pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [OWNER_LOCK]);
    if (!rows[0]?.ok)
      throw new DatabaseInUseError(
        `another Searchlight server without Redis is using ${describeDatabase(handle)}; stop it, or set SEARCHLIGHT_REDIS_URL on every server to run several`,
      );
  } catch (e) {
    client.release();
    throw e;
  }
  return {
    release: async () => {
      await client.query('SELECT pg_advisory_unlock($1)', [OWNER_LOCK]).catch(() => undefined);
      client.release();
    },
  };
}

/**
 * Server start-up only, under the data-directory lock: removes expired sessions and the files no
 * row references (partial writes of a crashed run). A tool running beside a live server must not
 * do this: the server's in-flight temporary files, and files renamed into place whose row has not
 * committed yet, would look orphaned. Returns how many files it removed.
 */
export async function sweepOrphans(handle: DbHandle, opts: { minAgeMs?: number } = {}): Promise<number> {
  const referenced = new Set<string>();
  for (const r of await handle.db.select({ p: checkpoints.path, s: checkpoints.statePath }).from(checkpoints)) {
    referenced.add(r.p);
    if (r.s) referenced.add(r.s);
  }
  for (const r of await handle.db.select({ p: activationCaches.path }).from(activationCaches)) referenced.add(r.p);
  for (const r of await handle.db.select({ p: results.path }).from(results)) referenced.add(r.p);
  // An imported SAE's file is referenced by its job until the job is over (services/experiments.ts).
  for (const j of await handle.db
    .select({ params: jobs.params })
    .from(jobs)
    .where(inArray(jobs.status, ['QUEUED', 'RUNNING']))) {
    const io = (j.params as { importObject?: { path?: unknown } }).importObject;
    if (typeof io?.path === 'string') referenced.add(io.path);
  }
  await handle.db.delete(sessions).where(lt(sessions.expiresAt, Date.now()));
  if (handle.store.kind === 'local') return sweepFiles(handle.dataDir, referenced).length;
  // A shared bucket: the working files here go as before (nothing references them once their job
  // is over), and unreferenced objects go unless they are young (a tool on another machine may have
  // just written one whose row is about to commit).
  const local = sweepFiles(handle.dataDir, new Set()).length;
  const active = new Set(
    (
      await handle.db
        .select({ id: jobs.id })
        .from(jobs)
        .where(inArray(jobs.status, ['QUEUED', 'RUNNING']))
    ).map((j) => j.id),
  );
  const cutoff = Date.now() - (opts.minAgeMs ?? SWEEP_MIN_AGE_MS);
  let removed = 0;
  for (const folder of ['checkpoints', 'caches', 'results', 'training', 'uploads']) {
    for (const o of await handle.store.list(folder)) {
      const job = /^training\/job-(\d+)\//.exec(o.path);
      const orphan = job ? !active.has(Number(job[1])) : !referenced.has(o.path);
      if (!orphan || o.modifiedMs > cutoff) continue;
      await handle.store.remove(o.path);
      removed++;
    }
  }
  return local + removed;
}

/** Objects younger than this are never swept from a shared store (see sweepOrphans). */
const SWEEP_MIN_AGE_MS = 10 * 60_000;

/**
 * A database refusal that is the caller's doing, as the UserError it is: a value over a column's
 * length limit (the CHECK constraints of db/schema.ts TEXT_LIMITS). Services check their inputs
 * first with messages naming the input; this is the backstop for a check they forgot. Undefined
 * for every other error.
 */
export function storageUserError(e: unknown): UserError | undefined {
  if (!(e instanceof Error) || e instanceof MigrationError) return undefined;
  // drizzle wraps a driver's error (DrizzleQueryError: "Failed query: …") with the driver's as its cause.
  let hit: ReturnType<typeof textLimitOf>;
  for (let c: unknown = e, depth = 0; c instanceof Error && !hit && depth < 4; c = c.cause, depth++) hit = textLimitOf(c.message);
  if (!hit) return undefined;
  const [table, column] = hit.column.split('.');
  return new UserError(`${column} of ${table} holds at most ${hit.limit} characters; nothing was written`, { code: 'VALUE_TOO_LONG' });
}
