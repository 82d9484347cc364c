import fs from 'node:fs';
import path from 'node:path';
import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../server/db/client.js';
import { MIGRATIONS_DIR, migrateDb } from '../../server/db/migrate.js';
import * as schema from '../../server/db/schema.js';
import { tempDir } from './helpers.js';

const tables = Object.values(schema).filter((v: unknown): v is SQLiteTable => typeof v === 'object' && v !== null && Symbol.for('drizzle:IsDrizzleTable') in v);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('migrations', () => {
  it('apply to a fresh database and create every table and column declared in server/db/schema.ts', () => {
    const dir = tempDir();
    dirs.push(dir);
    const h = openDb(dir);
    migrateDb(h.db);
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
    migrateDb(h.db);
    migrateDb(h.db); // second run applies nothing
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
    migrateDb(h.db, old);
    h.sqlite.prepare("INSERT INTO users (id, name, role, created_at) VALUES (7, 'ada', 'researcher', 0)").run();
    h.sqlite.prepare("INSERT INTO models (id, name, config, vocab, status, lineage, created_at) VALUES (1, 'm', '{}', '[]', 'READY', '{}', 0)").run();
    h.sqlite
      .prepare(
        "INSERT INTO circuits (id, model_id, name, graph, updated_by, created_at, updated_at) VALUES (3, 1, 'c', '{}', NULL, 0, 0), (4, 1, 'd', '{}', NULL, 0, 0)",
      )
      .run();
    h.sqlite.prepare("INSERT INTO audit_log (at, user_id, action, entity, entity_id) VALUES (0, 7, 'create', 'circuit', '3')").run();
    migrateDb(h.db);
    const owners = h.sqlite.prepare('SELECT id, owner_id AS owner FROM circuits ORDER BY id').all();
    expect(owners).toEqual([
      { id: 3, owner: 7 },
      { id: 4, owner: null },
    ]); // no audit row: admins only
    h.close();
  });
});
