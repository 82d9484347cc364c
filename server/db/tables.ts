/**
 * The tables the services query, in the dialect of this process's database. drizzle has no
 * dialect-neutral tables (drizzle-orm#1196): schema.ts declares them for SQLite, schema.pg.ts the
 * same tables for PostgreSQL (test/platform/schema-parity.test.ts keeps the two in step, down to
 * identical row types). The services are written once against the SQLite declarations and the
 * query-builder subset both dialects share (awaited builders, returning, onConflict…); opening a
 * PostgreSQL database rebinds these exports to the PostgreSQL tables (ES module bindings are live),
 * so the same service code builds PostgreSQL queries. One process talks to one dialect: opening
 * the other afterwards is refused.
 *
 * The few SQL fragments that differ between the dialects are here too (`inIdList`, `jsonNumber`,
 * `ilike`), so no service writes dialect-specific SQL.
 */
import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import * as pg from './schema.pg.js';
import * as sqlite from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export let meta = sqlite.meta;
export let users = sqlite.users;
export let apiTokens = sqlite.apiTokens;
export let sessions = sqlite.sessions;
export let datasets = sqlite.datasets;
export let mazes = sqlite.mazes;
export let models = sqlite.models;
export let checkpoints = sqlite.checkpoints;
export let trainingCurves = sqlite.trainingCurves;
export let jobs = sqlite.jobs;
export let activationCaches = sqlite.activationCaches;
export let experiments = sqlite.experiments;
export let results = sqlite.results;
export let annotations = sqlite.annotations;
export let comments = sqlite.comments;
export let votes = sqlite.votes;
export let annotationTargets = sqlite.annotationTargets;
export let circuits = sqlite.circuits;
export let circuitEditors = sqlite.circuitEditors;
export let auditLog = sqlite.auditLog;

let current: Dialect | undefined;

/** The dialect this process's database speaks (SQLite until a PostgreSQL database is opened). */
export function dialect(): Dialect {
  return current ?? 'sqlite';
}

/**
 * Binds the tables to `d` for the life of the process. Called by the database openers; a second
 * dialect is refused (its queries would be built for the wrong database).
 */
export function useDialect(d: Dialect): void {
  if (current === d) return;
  if (current !== undefined) throw new Error(`this process already uses a ${current} database; it cannot also open a ${d} one`);
  current = d;
  if (d === 'sqlite') return;
  // The PostgreSQL tables have the same row types (schema-parity test); only their builders differ.
  ({
    meta,
    users,
    apiTokens,
    sessions,
    datasets,
    mazes,
    models,
    checkpoints,
    trainingCurves,
    jobs,
    activationCaches,
    experiments,
    results,
    annotations,
    comments,
    votes,
    annotationTargets,
    circuits,
    circuitEditors,
    auditLog,
  } = pg as unknown as typeof sqlite);
}

/**
 * `IN (…)` over a JSON array of integers bound as the one parameter `name`, so one prepared
 * statement serves any batch size.
 */
export function inIdList(name: string): SQL {
  return dialect() === 'postgres'
    ? sql`(SELECT (json_array_elements_text(CAST(${sql.placeholder(name)} AS json)))::integer)`
    : sql`(SELECT value FROM json_each(${sql.placeholder(name)}))`;
}

/** The number at `key` of a JSON column (null when absent). */
export function jsonNumber(column: SQLWrapper, key: string): SQL<number | null> {
  if (!/^\w+$/.test(key)) throw new Error(`jsonNumber: key ${JSON.stringify(key)} must be a plain field name`);
  return dialect() === 'postgres'
    ? sql<number | null>`(CAST(${column} AS json) ->> ${sql.raw(`'${key}'`)})::double precision`
    : sql<number | null>`json_extract(${column}, ${sql.raw(`'$.${key}'`)})`;
}

/** Case-insensitive LIKE with `\` as the escape character (SQLite's LIKE is case-insensitive for ASCII; PostgreSQL's ILIKE is). */
export function ilike(column: SQLWrapper, pattern: string): SQL {
  return dialect() === 'postgres' ? sql`${column} ILIKE ${pattern} ESCAPE '\\'` : sql`${column} LIKE ${pattern} ESCAPE '\\'`;
}

/**
 * The largest value of an integer column (ids, maze indices): PostgreSQL's `integer` is 32-bit and
 * refuses a larger parameter outright, so open-ended bounds ("below any id") use this, and bounds
 * from clients (cursors) are clamped to it.
 */
export const MAX_ROW_ID = 2_147_483_647;

/** `n` clamped to [-1, MAX_ROW_ID]: a bound on an integer column both dialects accept. */
export const rowBound = (n: number): number => Math.max(-1, Math.min(n, MAX_ROW_ID));
