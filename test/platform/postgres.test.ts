/**
 * What only PostgreSQL has (the `postgres` vitest project runs this file; the other platform
 * suites run on both databases): migrations shared by several processes, the one-server-without-
 * Redis rule, and its refusals reaching users as typed errors.
 */
import fs from 'node:fs';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../server/app/server.js';
import { PG_MIGRATIONS_DIR, pendingPostgresMigrations } from '../../server/db/migrate.js';
import { models } from '../../server/db/tables.js';
import { createUser } from '../../server/services/accounts.js';
import { type DbHandle, prepareDatabase, storageUserError } from '../../server/services/database.js';
import { importModelBytes } from '../../server/services/models.js';
import { sqlCount, TEST_DIALECT, type TestDatabase, tempDir, testDatabase } from './helpers.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function database(): Promise<TestDatabase> {
  const d = await testDatabase();
  cleanup.push(() => d.drop());
  return d;
}

function dir(): string {
  const d = tempDir();
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

async function open(url: string): Promise<DbHandle> {
  const h = await prepareDatabase({ dataDir: dir(), url });
  cleanup.push(() => h.close());
  return h;
}

const journal = (): number => (JSON.parse(fs.readFileSync(`${PG_MIGRATIONS_DIR}/meta/_journal.json`, 'utf8')) as { entries: unknown[] }).entries.length;

describe('PostgreSQL', () => {
  it('runs in the postgres project', () => {
    expect(TEST_DIALECT).toBe('postgres');
  });

  it('migrations: every one pending on an empty database, none after; processes starting together migrate once', async () => {
    const { url } = await database();
    const raw = new pg.Pool({ connectionString: url! });
    cleanup.push(() => raw.end());
    expect(journal()).toBeGreaterThan(0);
    expect(await pendingPostgresMigrations(raw)).toBe(journal());
    await open(url!); // migrates it
    expect(await pendingPostgresMigrations(raw)).toBe(0);
    // Three API processes starting at once against one fresh database: the advisory lock makes one migrate.
    const fresh = await database();
    const handles = await Promise.all([open(fresh.url!), open(fresh.url!), open(fresh.url!)]);
    expect(await sqlCount(handles[0], 'SELECT count(*) AS n FROM drizzle.__drizzle_migrations')).toBe(journal());
    expect(await sqlCount(handles[0], "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'")).toBeGreaterThanOrEqual(18);
  });

  it('a value over a column limit is refused by the database as VALUE_TOO_LONG, through the query layer', async () => {
    const { url } = await database();
    const h = await open(url!);
    const bytes = fs.readFileSync('data/demo/demo-5x5.safetensors');
    const m = await importModelBytes(h, 'tiny', bytes, null);
    let refused: unknown;
    try {
      await h.db
        .update(models)
        .set({ name: 'm'.repeat(201) })
        .where(eq(models.id, m.id));
    } catch (e) {
      refused = e;
    }
    expect(storageUserError(refused)).toMatchObject({ code: 'VALUE_TOO_LONG', message: 'name of models holds at most 200 characters; nothing was written' });
    expect(await sqlCount(h, "SELECT count(*) AS n FROM models WHERE name = 'tiny'")).toBe(1);
  });

  it('one server without Redis per database: a second is refused, saying why and what to do; after the first stops, it starts', async () => {
    const { url } = await database();
    const a = await startServer({ dataDir: dir(), port: 0, log: () => undefined, databaseUrl: url });
    let aClosed = false;
    cleanup.push(() => (aClosed ? undefined : a.close()));
    await createUser(a.app.handle.db, { name: 'ada', role: 'admin' });
    const second = dir();
    await expect(startServer({ dataDir: second, port: 0, log: () => undefined, databaseUrl: url })).rejects.toThrow(
      /^another Searchlight server without Redis is using the PostgreSQL database at postgres:\/\/\S+; stop it, or set SEARCHLIGHT_REDIS_URL on every server to run several$/,
    );
    // The refused start gave back everything it took: its data directory can serve once the first stops.
    await a.close();
    aClosed = true;
    const b = await startServer({ dataDir: second, port: 0, log: () => undefined, databaseUrl: url });
    cleanup.push(() => b.close());
    const res = await fetch(b.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(((await res.json()) as { data: unknown }).data).toEqual({ me: null });
    expect(await sqlCount(b.app.handle, "SELECT count(*) AS n FROM users WHERE name = 'ada'")).toBe(1); // the same database
  });
});
