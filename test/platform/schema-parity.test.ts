/**
 * server/db/schema.pg.ts is the PostgreSQL twin of server/db/schema.ts: the same tables, columns,
 * keys, indexes and constraints, so one set of services runs on either dialect. This compares the
 * two table by table (at run time through drizzle's table configs, at compile time through every
 * table's select and insert types), so a change made to one schema and not the other fails here.
 */
import { getTableColumns, getTableName, is, SQL } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as pg from '../../server/db/schema.pg.js';
import * as sqlite from '../../server/db/schema.js';

// ---- compile time: identical row types -------------------------------------------------------

/** true when A and B are the same type (not merely mutually assignable); false otherwise. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

type SqliteSchema = typeof sqlite;
type PgSchema = typeof pg;
/** The export names of schema.ts that are tables. */
type TableExport = { [K in keyof SqliteSchema]: SqliteSchema[K] extends SQLiteTable ? K : never }[keyof SqliteSchema];
/** Per table: whether its select and insert types match; a table missing from schema.pg.ts cannot be `true`. */
type TypeParity = {
  [K in TableExport]: K extends keyof PgSchema
    ? PgSchema[K] extends PgTable
      ? {
          select: Equal<PgSchema[K]['$inferSelect'], SqliteSchema[K]['$inferSelect']>;
          insert: Equal<PgSchema[K]['$inferInsert'], SqliteSchema[K]['$inferInsert']>;
        }
      : 'not a table in schema.pg.ts'
    : 'missing from schema.pg.ts';
};

/**
 * `tsc` fails on the table (and on `select` or `insert`) whose types differ, and on a table added
 * to schema.ts and not listed here (and so, by the mapped type, not checked).
 */
const typeParity: TypeParity = {
  meta: { select: true, insert: true },
  users: { select: true, insert: true },
  apiTokens: { select: true, insert: true },
  sessions: { select: true, insert: true },
  datasets: { select: true, insert: true },
  mazes: { select: true, insert: true },
  models: { select: true, insert: true },
  checkpoints: { select: true, insert: true },
  trainingCurves: { select: true, insert: true },
  jobs: { select: true, insert: true },
  activationCaches: { select: true, insert: true },
  experiments: { select: true, insert: true },
  results: { select: true, insert: true },
  annotations: { select: true, insert: true },
  comments: { select: true, insert: true },
  votes: { select: true, insert: true },
  annotationTargets: { select: true, insert: true },
  circuits: { select: true, insert: true },
  circuitEditors: { select: true, insert: true },
  auditLog: { select: true, insert: true },
};

// ---- run time: the same tables, columns, keys, indexes and constraints ------------------------

const sqliteTables = Object.fromEntries(Object.entries(sqlite as Record<string, unknown>).filter((e): e is [string, SQLiteTable] => is(e[1], SQLiteTable)));
const pgTables = Object.fromEntries(Object.entries(pg as Record<string, unknown>).filter((e): e is [string, PgTable] => is(e[1], PgTable)));

type AnyConfig = ReturnType<typeof sqliteTableConfig> | ReturnType<typeof pgTableConfig>;
type AnyColumn = AnyConfig['columns'][number];

/** A column's value kind, the same words in both dialects: pg's JSON-as-text and bytea custom types read as sqlite-core's json and buffer. */
function kindOf(c: AnyColumn): string {
  if (c.columnType !== 'PgCustomColumn') return c.dataType;
  const sqlType = c.getSQLType();
  return sqlType === 'text' ? 'json' : sqlType === 'bytea' ? 'buffer' : `custom ${sqlType}`;
}

/** Every property of a table that must match across dialects, in comparable (sorted, plain) form. */
function describeTable(table: SQLiteTable | PgTable, cfg: AnyConfig) {
  const keyOf = new Map(Object.entries(getTableColumns(table)).map(([key, c]) => [c.name, key]));
  const names = (cols: Array<{ name: string }>) => cols.map((c) => c.name);
  return {
    name: cfg.name,
    columns: cfg.columns
      .map((c) => ({
        key: keyOf.get(c.name),
        name: c.name,
        kind: kindOf(c),
        notNull: c.notNull,
        primary: c.primary,
        unique: c.isUnique ? (c.uniqueName ?? true) : false,
        hasDefault: c.hasDefault,
        // Literal defaults must be equal; SQL ones (the current time) differ by dialect and only need to exist on both.
        default: is(c.default, SQL) ? 'SQL expression' : c.default,
        enumValues: c.enumValues ?? null,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    primaryKey: [...cfg.columns.filter((c) => c.primary).map((c) => [c.name]), ...cfg.primaryKeys.map((pk) => names(pk.columns))],
    indexes: cfg.indexes
      .map((i) => ({
        name: i.config.name,
        unique: i.config.unique,
        columns: i.config.columns.map((c) => (is(c, SQL) ? 'SQL expression' : (c as { name: string }).name)),
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    uniqueConstraints: cfg.uniqueConstraints
      .map((u) => ({ name: u.name, columns: names(u.columns) }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    checks: cfg.checks.map((c) => c.name).sort(),
    foreignKeys: cfg.foreignKeys
      .map((fk) => {
        const ref = fk.reference();
        return `(${names(ref.columns).join(', ')}) → ${getTableName(ref.foreignTable)}(${names(ref.foreignColumns).join(', ')}) on delete ${fk.onDelete ?? 'no action'}`;
      })
      .sort(),
  };
}

describe('schema.pg.ts is the PostgreSQL twin of schema.ts', () => {
  it('exports the same tables under the same names', () => {
    expect(Object.keys(sqliteTables).length).toBeGreaterThanOrEqual(19);
    expect(Object.keys(pgTables).sort(), 'table exports of schema.pg.ts').toEqual(Object.keys(sqliteTables).sort());
    // The compile-time check above lists every table too.
    expect(Object.keys(typeParity).sort()).toEqual(Object.keys(sqliteTables).sort());
  });

  it.each(Object.keys(sqliteTables))('table %s: same SQL name, columns, keys, indexes, CHECKs and foreign keys', (key) => {
    const pgTable = pgTables[key];
    expect(pgTable, `schema.pg.ts exports no table "${key}"`).toBeDefined();
    const want = describeTable(sqliteTables[key], sqliteTableConfig(sqliteTables[key]));
    const got = describeTable(pgTable, pgTableConfig(pgTable));
    expect(got.name, `${key}: SQL table name`).toBe(want.name);
    expect(
      got.columns.map((c) => `${c.key} (${c.name})`),
      `${key}: columns (JS key and SQL name)`,
    ).toEqual(want.columns.map((c) => `${c.key} (${c.name})`));
    expect(got.columns, `${key}: column kinds, nullability, defaults, enums, unique flags`).toEqual(want.columns);
    expect(got.primaryKey, `${key}: primary key`).toEqual(want.primaryKey);
    expect(got.indexes, `${key}: indexes`).toEqual(want.indexes);
    expect(got.uniqueConstraints, `${key}: unique constraints`).toEqual(want.uniqueConstraints);
    expect(got.checks, `${key}: CHECK constraints`).toEqual(want.checks);
    expect(got.foreignKeys, `${key}: foreign keys`).toEqual(want.foreignKeys);
  });

  it('bounds every TEXT_LIMITS column with a CHECK in both dialects', () => {
    const expected = Object.keys(sqlite.TEXT_LIMITS)
      .map((k) => `${k.replace('.', '_')}_length`)
      .sort();
    const sqliteChecks = Object.values(sqliteTables).flatMap((t) => sqliteTableConfig(t).checks.map((c) => c.name));
    const pgChecks = Object.values(pgTables).flatMap((t) => pgTableConfig(t).checks.map((c) => c.name));
    expect(sqliteChecks.sort()).toEqual(expected);
    expect(pgChecks.sort()).toEqual(expected);
  });
});
