/**
 * Opens the Searchlight database: `${dataDir}/searchlight.db`, where dataDir defaults to
 * `SEARCHLIGHT_DATA` or `./data`. Every connection (API thread and job workers) uses the same
 * pragmas: WAL so readers never block the writer, foreign keys enforced, and a busy timeout so two
 * writers (the API and a job worker) wait for each other instead of failing with SQLITE_BUSY.
 *
 * The query builder is asynchronous (drizzle's `sqlite-proxy` driver over our better-sqlite3
 * connection), so the service layer is written once against awaited queries and a PostgreSQL
 * driver, asynchronous by nature, can sit beneath the same code. One SQLite connection serves
 * many concurrent requests of the API process; a transaction whose body awaits would otherwise let
 * another request's queries run inside it (read its uncommitted rows, be rolled back with it). A
 * gate (`ConnectionGate`) gives an open transaction the connection to itself: the other callers'
 * queries wait until it commits or rolls back, as Kysely's SQLite driver does with its connection
 * mutex. Without an open transaction a query runs at once, synchronously, as before.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle, type SqliteRemoteDatabase } from 'drizzle-orm/sqlite-proxy';
import pg from 'pg';
import * as pgSchema from './schema.pg.js';
import * as schema from './schema.js';
import { LocalStore } from './localStore.js';
import type { ArtifactStore } from './store.js';
import { useDialect } from './tables.js';

export type Db = SqliteRemoteDatabase<typeof schema>;

/** A drizzle transaction handle (what `db.transaction(fn)` passes to fn). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

interface HandleBase {
  /** drizzle query builder over the connection; `db.transaction` takes a connection for itself. */
  db: Db;
  /** The data directory: local working files, caches, the lock (and, for SQLite, the database file). */
  dataDir: string;
  /** Where artifact bytes live (the data directory, or an S3-compatible bucket): rows name objects in it. */
  store: ArtifactStore;
  close(): Promise<void>;
}

/** The embedded default: one SQLite file in the data directory. */
export interface SqliteHandle extends HandleBase {
  dialect: 'sqlite';
  /**
   * The raw better-sqlite3 connection: migrations, pragmas and bulk paths that run synchronously
   * (a job thread's dataset writer). In the API process use `withConnection`, which waits for an
   * open transaction of another caller.
   */
  sqlite: Database.Database;
  /** Runs `fn` on the raw connection once no other caller's transaction is open. */
  withConnection<T>(fn: (sqlite: Database.Database) => T): Promise<T>;
}

/** A PostgreSQL server (SEARCHLIGHT_DATABASE_URL), shared by API instances and workers. */
export interface PostgresHandle extends HandleBase {
  dialect: 'postgres';
  /** The connection string it was opened with (job threads open their own pool with it). */
  url: string;
  pool: pg.Pool;
}

export type DbHandle = SqliteHandle | PostgresHandle;

export const DB_FILE = 'searchlight.db';

export function defaultDataDir(): string {
  return path.resolve(process.env.SEARCHLIGHT_DATA ?? './data');
}

/**
 * Exclusive use of one connection by one transaction at a time. The owner is an object carried
 * in AsyncLocalStorage through the transaction's awaits, so the owner's own queries pass and
 * everyone else's wait.
 */
class ConnectionGate {
  private owner: object | undefined;
  private waiting: Array<() => void> = [];
  private readonly als = new AsyncLocalStorage<object>();

  /** True when a transaction other than the caller's holds the connection. */
  private blocked(): boolean {
    return this.owner !== undefined && this.als.getStore() !== this.owner;
  }

  /**
   * Undefined when the caller may use the connection now (no other transaction is open: the common
   * case, answered without a promise), else a promise that resolves when it may.
   */
  pass(): Promise<void> | undefined {
    if (!this.blocked()) return undefined;
    return (async () => {
      while (this.blocked()) await new Promise<void>((resolve) => this.waiting.push(resolve));
    })();
  }

  /** Runs `fn` holding the connection; callers queue in arrival order. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.owner !== undefined && this.als.getStore() === this.owner)
      throw new Error('a transaction was opened inside a transaction on the same connection; use tx.transaction (a savepoint) instead');
    while (this.owner !== undefined) await new Promise<void>((resolve) => this.waiting.push(resolve));
    const token = {};
    this.owner = token;
    try {
      return await this.als.run(token, fn);
    } finally {
      this.owner = undefined;
      const woken = this.waiting;
      this.waiting = [];
      for (const wake of woken) wake();
    }
  }
}

/** Compiled statements by SQL text: drizzle rebuilds the text per call, better-sqlite3 compiles it once here. */
const STATEMENT_CACHE = 512;

export function openDb(dataDir: string = defaultDataDir(), opts: { readonly?: boolean; store?: ArtifactStore } = {}): SqliteHandle {
  useDialect('sqlite');
  fs.mkdirSync(dataDir, { recursive: true });
  const sqlite = new Database(path.join(dataDir, DB_FILE), { readonly: opts.readonly ?? false });
  if (!opts.readonly) sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // WAL makes NORMAL durable across application crashes (kill -9); only an OS crash or power loss
  // can drop the last transactions, never corrupt the file (https://sqlite.org/pragma.html#pragma_synchronous).
  sqlite.pragma('synchronous = NORMAL');

  const statements = new Map<string, Database.Statement>();
  const statement = (text: string): Database.Statement => {
    let s = statements.get(text);
    if (s) return s;
    s = sqlite.prepare(text);
    statements.set(text, s);
    // The oldest compiled first: the API's hot statements are few and stay; a burst of one-off
    // texts (ad-hoc filters) cannot grow the cache without bound.
    if (statements.size > STATEMENT_CACHE) statements.delete(statements.keys().next().value as string);
    return s;
  };

  const gate = new ConnectionGate();
  // sqlite-proxy's contract: 'run' returns nothing, 'get' one row as an array of column values
  // (undefined when none), 'all' and 'values' rows as arrays (drizzle maps them to fields by position).
  const db = drizzle(
    async (text, params, method) => {
      const wait = gate.pass();
      if (wait) await wait;
      const s = statement(text);
      if (method === 'run') {
        if (s.reader) s.raw(true).all(...params);
        else s.run(...params);
        return { rows: [] };
      }
      if (method === 'get') return { rows: s.raw(true).get(...params) as unknown[] };
      return { rows: s.raw(true).all(...params) as unknown[][] };
    },
    { schema },
  );
  // Every transaction on this handle takes the connection for itself and the write lock up front
  // (BEGIN IMMEDIATE: no deadlock upgrading a read lock when a job worker writes beside us).
  const begin = db.transaction.bind(db);
  db.transaction = ((fn, config) => gate.exclusive(() => begin(fn, { behavior: 'immediate', ...config }))) as Db['transaction'];

  return {
    dialect: 'sqlite',
    db,
    sqlite,
    store: opts.store ?? new LocalStore(dataDir),
    withConnection: async (fn) => {
      const wait = gate.pass();
      if (wait) await wait;
      return fn(sqlite);
    },
    dataDir,
    close: async () => {
      sqlite.close();
    },
  };
}

/** `SEARCHLIGHT_DATABASE_URL` when it names a PostgreSQL server (postgres:// or postgresql://), else undefined (SQLite). */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env.SEARCHLIGHT_DATABASE_URL?.trim();
  if (!url) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new Error(
      `SEARCHLIGHT_DATABASE_URL must be a postgres:// or postgresql:// URL (unset it for the embedded SQLite database); got ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//…@'))}`,
    );
  return url;
}

// node-postgres returns int8 (bigint: times in ms, byte counts, count(*)) as strings, to keep
// values past 2^53 exact; ours stay below 2^53 (ms until the year 287,396), so parse them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * A pool of connections to a PostgreSQL server (`max` per process: the API's concurrent requests,
 * a job thread's few). Each transaction runs on a connection of its own (drizzle's
 * node-postgres driver), so no gate is needed; PostgreSQL isolates them.
 */
export function openPostgres(url: string, dataDir: string = defaultDataDir(), opts: { max?: number; store?: ArtifactStore } = {}): PostgresHandle {
  useDialect('postgres');
  fs.mkdirSync(dataDir, { recursive: true });
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', (e) => process.stderr.write(`[db] idle PostgreSQL connection lost: ${e.message}\n`));
  // The services are typed against the SQLite declarations; the PostgreSQL tables have the same
  // row types (test/platform/schema-parity.test.ts) and the services use only builders both share.
  const db = drizzlePg(pool, { schema: pgSchema }) as unknown as Db;
  return { dialect: 'postgres', db, url, pool, dataDir, store: opts.store ?? new LocalStore(dataDir), close: () => pool.end() };
}

/** The first row of a query (undefined when it returns none): `.get()` where the dialect has none. */
export async function first<T>(query: PromiseLike<T[]>): Promise<T | undefined> {
  return (await query)[0];
}

/** The row an INSERT … RETURNING of one row wrote. */
export async function inserted<T>(query: PromiseLike<T[]>): Promise<T> {
  const [row] = await query;
  if (row === undefined) throw new Error('an INSERT … RETURNING of one row returned none');
  return row;
}
