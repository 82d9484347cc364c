/**
 * Prepared-query cache. drizzle builds SQL text and better-sqlite3 compiles a statement on every
 * call of a query builder (~150-300 µs together, measured under load); the API's hot paths
 * (authentication, DataLoader batches, list pages) build each query once per connection with
 * `sql.placeholder`s and reuse it (~10 µs per run).
 */
import type { Db } from './client.js';

const caches = new WeakMap<Db, Map<string, unknown>>();

/** The query `key` prepared on `db`, built by `build` on first use. */
export function prepared<T>(db: Db, key: string, build: () => T): T {
  let m = caches.get(db);
  if (!m) caches.set(db, (m = new Map()));
  let q = m.get(key) as T | undefined;
  if (q === undefined) m.set(key, (q = build()));
  return q;
}
