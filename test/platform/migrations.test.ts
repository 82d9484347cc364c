import fs from 'node:fs';
import path from 'node:path';
import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../server/db/client.js';
import { MIGRATIONS_DIR, migrateDb } from '../../server/db/migrate.js';
import * as schema from '../../server/db/schema.js';
import { tempDir } from './helpers.js';
import { storageUserError } from '../../server/services/database.js';
import { UserError } from '../../server/errors.js';
import { formatError } from '../../server/graphql/errors.js';

const tables = Object.values(schema as Record<string, unknown>).filter(
  (v: unknown): v is SQLiteTable => typeof v === 'object' && v !== null && Symbol.for('drizzle:IsDrizzleTable') in v,
);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('migrations', () => {
  it('apply to a fresh database and create every table and column declared in server/db/schema.ts', () => {
    const dir = tempDir();
    dirs.push(dir);
    const h = openDb(dir);
    migrateDb(h.sqlite);
    expect(tables.length).toBeGreaterThanOrEqual(18);
    for (const t of tables) {
      const cfg = getTableConfig(t);
      const cols = (h.sqlite.prepare(`PRAGMA table_info(${JSON.stringify(cfg.name)})`).all() as Array<{ name: string }>).map((c) => c.name);
      expect(cols, `table ${cfg.name}`).toEqual(expect.arrayContaining(cfg.columns.map((c) => c.name)));
      expect(cols.length, `table ${cfg.name} has exactly the declared columns`).toBe(cfg.columns.length);
    }
    h.close();
  });

  it('are idempotent, and the connection runs in WAL mode with foreign keys enforced', () => {
    const dir = tempDir();
    dirs.push(dir);
    const h = openDb(dir);
    migrateDb(h.sqlite);
    migrateDb(h.sqlite); // second run applies nothing
    const applied = h.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number };
    const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(applied.n).toBe(journal.entries.length);
    expect(h.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(h.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    // A maze pointing at a dataset that does not exist is refused by the foreign key.
    expect(() =>
      h.sqlite
        .prepare(
          "INSERT INTO mazes (dataset_id, idx, split, rows, cols, planes, origin_row, origin_col, target_row, target_col, solution, path_length, stats) VALUES (999, 0, 'train', 2, 2, x'00', 0, 0, 0, 1, x'00000100', 1, '{}')",
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
    expect(h.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    h.close();
  });

  it('are the committed drizzle-kit output: every SQL file is listed in the journal', () => {
    const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    const sqlFiles = fs
      .readdirSync(MIGRATIONS_DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort();
    expect(sqlFiles).toEqual(journal.entries.map((e) => `${e.tag}.sql`).sort());
  });

  it('give circuits made before owner_id existed the creator named by their audit row', () => {
    const dir = tempDir();
    dirs.push(dir);
    // The migrations up to 0002 (before circuits had an owner), then a circuit as that schema stored it.
    const old = path.join(dir, 'old-migrations');
    fs.mkdirSync(path.join(old, 'meta'), { recursive: true });
    const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    const before = journal.entries.filter((e) => e.tag < '0003');
    for (const e of before) fs.copyFileSync(path.join(MIGRATIONS_DIR, `${e.tag}.sql`), path.join(old, `${e.tag}.sql`));
    fs.writeFileSync(path.join(old, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: before }));
    const h = openDb(dir);
    migrateDb(h.sqlite, old);
    h.sqlite.prepare("INSERT INTO users (id, name, role, created_at) VALUES (7, 'ada', 'researcher', 0)").run();
    h.sqlite.prepare("INSERT INTO models (id, name, config, vocab, status, lineage, created_at) VALUES (1, 'm', '{}', '[]', 'READY', '{}', 0)").run();
    h.sqlite
      .prepare(
        "INSERT INTO circuits (id, model_id, name, graph, updated_by, created_at, updated_at) VALUES (3, 1, 'c', '{}', NULL, 0, 0), (4, 1, 'd', '{}', NULL, 0, 0)",
      )
      .run();
    h.sqlite.prepare("INSERT INTO audit_log (at, user_id, action, entity, entity_id) VALUES (0, 7, 'create', 'circuit', '3')").run();
    migrateDb(h.sqlite);
    const owners = h.sqlite.prepare('SELECT id, owner_id AS owner FROM circuits ORDER BY id').all();
    expect(owners).toEqual([
      { id: 3, owner: 7 },
      { id: 4, owner: null },
    ]); // no audit row: admins only
    h.close();
  });
});

describe('migration 0007: length limits in the database itself (issue 16)', () => {
  it('rebuilds the limited tables without losing a row or a reference (foreign keys off while it runs), then refuses an overlong value', () => {
    const dir = tempDir();
    dirs.push(dir);
    const old = path.join(dir, 'old-migrations');
    fs.mkdirSync(path.join(old, 'meta'), { recursive: true });
    const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    const before = journal.entries.filter((e) => e.tag < '0007');
    for (const e of before) fs.copyFileSync(path.join(MIGRATIONS_DIR, `${e.tag}.sql`), path.join(old, `${e.tag}.sql`));
    fs.writeFileSync(path.join(old, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: before }));
    const h = openDb(dir);
    migrateDb(h.sqlite, old);
    const run = (q: string) => h.sqlite.prepare(q).run();
    run("INSERT INTO users (id, name, role, created_at) VALUES (7, 'ada', 'researcher', 0)");
    run("INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (7, 't', 'h', 'p', 0)");
    run("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('s', 7, 0, 9999999999999)");
    run("INSERT INTO models (id, name, config, vocab, status, lineage, created_by, created_at) VALUES (1, 'm', '{}', '[]', 'READY', '{}', 7, 0)");
    run("INSERT INTO checkpoints (model_id, step, path, sha256, bytes, created_at) VALUES (1, 5, 'p', 's', 3, 0)");
    run(
      "INSERT INTO annotations (id, model_id, target, target_key, body, tags, evidence, author_id, created_at, updated_at) VALUES (2, 1, '{}', 'k', 'b', '[]', '[]', 7, 0, 0)",
    );
    run("INSERT INTO comments (annotation_id, author_id, body, created_at) VALUES (2, 7, 'c', 0)");
    run("INSERT INTO circuits (id, model_id, name, graph, owner_id, created_at, updated_at) VALUES (3, 1, 'c', '{}', 7, 0, 0)");
    const counts = () =>
      Object.fromEntries(
        ['users', 'api_tokens', 'sessions', 'models', 'checkpoints', 'annotations', 'comments', 'circuits'].map((t) => [
          t,
          (h.sqlite.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n,
        ]),
      );
    const was = counts();
    expect(Object.values(was).every((n) => n === 1)).toBe(true);
    migrateDb(h.sqlite);
    expect(counts()).toEqual(was);
    expect(h.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(() => run(`INSERT INTO users (name, role, created_at) VALUES ('${'x'.repeat(65)}', 'viewer', 0)`)).toThrow(
      'CHECK constraint failed: users_name_length',
    );
    // A refusal that reaches an adapter is the caller's mistake, typed, with what was wrong.
    let refused: unknown;
    try {
      run(`UPDATE models SET name = '${'m'.repeat(201)}' WHERE id = 1`);
    } catch (e) {
      refused = e;
    }
    const asUser = storageUserError(refused);
    expect(asUser).toBeInstanceOf(UserError);
    expect(asUser).toMatchObject({ code: 'VALUE_TOO_LONG', message: 'name of models holds at most 200 characters; nothing was written' });
    expect(formatError({ message: (refused as Error).message }, refused)).toEqual({
      message: 'name of models holds at most 200 characters; nothing was written',
      extensions: { code: 'BAD_USER_INPUT', reason: 'VALUE_TOO_LONG' },
    });
    expect(storageUserError(new Error('UNIQUE constraint failed: users.name'))).toBeUndefined();
    expect(() => run(`UPDATE circuits SET graph = '${'x'.repeat(256 * 1024 + 1)}' WHERE id = 3`)).toThrow('CHECK constraint failed: circuits_graph_length');
    h.close();
  });
});
