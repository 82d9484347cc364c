/**
 * The asynchronous query layer over one SQLite connection (server/db/client.ts): an open
 * transaction has the connection to itself, so another caller's queries wait for it instead of
 * running inside it (reading its uncommitted rows, or being rolled back with it).
 */
import fs from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { first, openDb } from '../../server/db/client.js';
import { migrateDb } from '../../server/db/migrate.js';
import { users } from '../../server/db/schema.js';
import { tempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function open() {
  const dir = tempDir();
  dirs.push(dir);
  const h = openDb(dir);
  migrateDb(h.sqlite);
  return h;
}

/** A promise and the function that resolves it. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const tick = () => new Promise((r) => setImmediate(r));

/**
 * A transaction that has inserted ada and stays open across an await until `rollBack()`, which
 * lets it throw (rolling back) and resolves once it has.
 */
async function openRollingBack(h: ReturnType<typeof open>): Promise<{ rollBack(): Promise<void> }> {
  const gate = latch();
  const tx = h.db.transaction(async (t) => {
    await t.insert(users).values(user('ada'));
    await gate.promise;
    throw new Error('roll back');
  });
  const rejected = expect(tx).rejects.toThrow('roll back');
  await tick(); // it has begun and inserted
  return {
    async rollBack() {
      gate.open();
      await rejected;
    },
  };
}
const user = (name: string) => ({ name, role: 'viewer' as const, createdAt: 0 });

describe('one connection, many callers', () => {
  it("another caller's read waits for an open transaction and never sees its uncommitted row", async () => {
    const h = open();
    const tx = await openRollingBack(h);
    let seen: unknown = 'pending';
    const read = h.db
      .select()
      .from(users)
      .then((rows) => (seen = rows));
    await tick();
    expect(seen).toBe('pending'); // it waits; run inside the transaction it would have returned ada
    await tx.rollBack();
    await read;
    expect(seen).toEqual([]);
    h.close();
  });

  it("another caller's write made while a transaction is open is not rolled back with it", async () => {
    const h = open();
    const tx = await openRollingBack(h);
    // Builders are lazy: then() sends the query now.
    const write = h.db
      .insert(users)
      .values(user('grace'))
      .then(() => undefined);
    await tick();
    await tx.rollBack();
    await write;
    expect((await h.db.select({ name: users.name }).from(users)).map((u) => u.name)).toEqual(['grace']);
    h.close();
  });

  it('the raw connection (withConnection) waits for an open transaction too', async () => {
    const h = open();
    const tx = await openRollingBack(h);
    const count = h.withConnection((s) => (s.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n);
    await tick();
    await tx.rollBack();
    expect(await count).toBe(0); // after the rollback, not a read of the uncommitted row
    h.close();
  });

  it("the transaction's own queries pass, and transactions queue one after another", async () => {
    const h = open();
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((n) =>
        h.db.transaction(async (t) => {
          order.push(`begin ${n}`);
          await t.insert(users).values(user(n));
          await tick();
          expect(await first(t.select().from(users).where(eq(users.name, n)))).toBeDefined();
          order.push(`end ${n}`);
        }),
      ),
    );
    expect(order).toEqual(['begin a', 'end a', 'begin b', 'end b', 'begin c', 'end c']);
    h.close();
  });

  it('a transaction opened inside a transaction on the same connection is refused, not deadlocked', async () => {
    const h = open();
    await expect(h.db.transaction(async () => h.db.transaction(async () => undefined))).rejects.toThrow(/inside a transaction/);
    // The connection is usable afterwards.
    await h.db.insert(users).values(user('ada'));
    expect(await h.db.select().from(users)).toHaveLength(1);
    h.close();
  });
});
