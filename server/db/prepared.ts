/**
 * Prepared-query cache. drizzle builds SQL text and better-sqlite3 compiles a statement on every
 * call of a query builder (~150-300 µs together, measured under load); the API's hot paths
 * (authentication, DataLoader batches, list pages) build each query once per connection with
 * `sql.placeholder`s and reuse it (~10 µs per run).
 */
import type { Db } from './client.js';
import { dialect } from './tables.js';

const caches = new WeakMap<Db, Map<string, unknown>>();

/** The query `key` prepared on `db`, built by `build` on first use. */
export function prepared<T>(db: Db, key: string, build: () => T): T {
  let m = caches.get(db);
  if (!m) caches.set(db, (m = new Map()));
  let q = m.get(key) as T | undefined;
  if (q === undefined) m.set(key, (q = build()));
  return q;
}

/**
 * A drizzle query prepared once per database handle: on PostgreSQL as the named server-side
 * statement `key` (parsed and planned once per connection, not on every run); SQLite's builders
 * take no name (db/client.ts compiles each SQL text once per connection).
 */
export function preparedQuery<T>(db: Db, key: string, build: () => { prepare(): T }): T {
  return prepared(db, key, () => {
    const builder = build();
    if (dialect() !== 'postgres') return builder.prepare();
    // PostgreSQL statement names are identifiers of at most 63 bytes (longer ones are cut: collisions).
    if (!/^[\w.:-]{1,60}$/.test(key)) throw new Error(`prepared statement name ${JSON.stringify(key)} must be 1-60 word characters`);
    return (builder as unknown as { prepare(name: string): T }).prepare(`sl.${key}`);
  });
}
