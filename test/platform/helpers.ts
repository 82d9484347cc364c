/**
 * Shared test harness: a real server on an ephemeral 127.0.0.1 port over a real database file in a
 * temporary directory, real HTTP GraphQL requests via fetch, and real accounts.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createUser } from '../../server/services/accounts.js';
import type { DbHandle } from '../../server/services/database.js';
import { type RunningServer, type ServerOptions, startServer } from '../../server/app/server.js';

/**
 * The database the platform tests run on: SQLite in each test's data directory (the default), or
 * PostgreSQL in the `postgres` vitest project (vitest.config.ts), where every test server gets a
 * database of its own on the server at SEARCHLIGHT_TEST_POSTGRES.
 */
export const TEST_DIALECT: 'sqlite' | 'postgres' = process.env.SEARCHLIGHT_TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite';

/** The maintenance database test databases are created from (trust auth on the CI machine). */
export const TEST_POSTGRES = process.env.SEARCHLIGHT_TEST_POSTGRES?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** null: SQLite in the data directory. */
  url: string | null;
  drop(): Promise<void>;
}

/** A fresh, empty database for one test server (see TEST_DIALECT); `drop` removes it. */
export async function testDatabase(): Promise<TestDatabase> {
  if (TEST_DIALECT === 'sqlite') return { url: null, drop: async () => undefined };
  const name = `sl_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_POSTGRES);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export function tempDir(prefix = 'searchlight-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface GqlResult<T = any> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string; [k: string]: unknown }; path?: string[] }>;
}

export interface Harness {
  server: RunningServer;
  dataDir: string;
  tokens: { admin: string; researcher: string; viewer: string };
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null, headers?: Record<string, string>): Promise<GqlResult<T>>;
  /** The server's database (a PostgreSQL URL in the postgres project; dropped by close). */
  database: TestDatabase;
  close(): Promise<void>;
}

export async function startHarness(opts: ServerOptions = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? tempDir();
  const database = opts.databaseUrl === undefined ? await testDatabase() : { url: opts.databaseUrl, drop: async () => undefined };
  let server: RunningServer;
  try {
    server = await startServer({ port: 0, host: '127.0.0.1', log: () => undefined, ...opts, dataDir, databaseUrl: database.url });
  } catch (e) {
    await database.drop();
    throw e;
  }
  const db = server.app.handle.db;
  const tokens = {
    admin: (await createUser(db, { name: 'ada', role: 'admin', password: 'correct horse battery' })).token,
    researcher: (await createUser(db, { name: 'rosalind', role: 'researcher', password: 'double helix 51' })).token,
    viewer: (await createUser(db, { name: 'victor', role: 'viewer' })).token,
  };
  const gql = async (
    query: string,
    variables: Record<string, unknown> = {},
    token: string | null = tokens.researcher,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GqlResult;
  };
  return {
    server,
    dataDir,
    tokens,
    gql,
    database,
    async close() {
      await server.close();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const codes = (r: GqlResult): string[] => (r.errors ?? []).map((e) => String(e.extensions?.code));

/** A job's progress and result as the tests read them (typed objects in the SDL). */
export const JOB_PROGRESS = 'progress { phase done total message modelId datasetId experimentId kind }';
export const JOB_RESULT =
  'result { datasetId mazeCount skipped contentHash modelId step loss evaluationId exact_path_rate baseline_exact_path_rate experimentId kind tensors }';

/** Polls job(id) until it is terminal (no timing assertion: the suite's timeout bounds it). */
export async function waitForJob(
  h: Pick<Harness, 'gql'>,
  id: string,
  token?: string,
): Promise<{ id: string; status: string; progress: any; error: string | null; result: any; attempts: number }> {
  for (;;) {
    const r = await h.gql(`query($id: ID!) { job(id: $id) { id status ${JOB_PROGRESS} error ${JOB_RESULT} attempts } }`, { id }, token);
    const job = r.data?.job;
    if (!job) throw new Error(`job ${id} vanished: ${JSON.stringify(r)}`);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    await new Promise((res) => setTimeout(res, 50));
  }
}

export const CREATE_DATASET = `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id kind status } }`;

/**
 * Rows of raw SQL on a server's database, in either dialect (`?` placeholders): what a test checks
 * beneath the API. Runs after any open transaction on the SQLite connection.
 */
export async function sqlRows<T = Record<string, unknown>>(handle: DbHandle, text: string, ...params: unknown[]): Promise<T[]> {
  if (handle.dialect === 'postgres') {
    let i = 0;
    return (
      await handle.pool.query(
        text.replace(/\?/g, () => `$${++i}`),
        params,
      )
    ).rows as T[];
  }
  return handle.withConnection((s) => {
    const st = s.prepare(text);
    if (st.reader) return st.all(...params) as T[];
    st.run(...params);
    return [];
  });
}

/** The first row of raw SQL (see sqlRows). */
export async function sqlOne<T = Record<string, unknown>>(handle: DbHandle, text: string, ...params: unknown[]): Promise<T | undefined> {
  return (await sqlRows<T>(handle, text, ...params))[0];
}

/** `SELECT count(*) AS n …` as a number. */
export async function sqlCount(handle: DbHandle, text: string, ...params: unknown[]): Promise<number> {
  return Number((await sqlOne<{ n: number }>(handle, text, ...params))?.n);
}

/** s3rver ships no types: the part of its API the tests use. */
export type S3rverCtor = new (opts: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: Array<{ name: string }>;
}) => { run(): Promise<{ port: number }>; close(): Promise<void>; httpServer: import('node:http').Server };

/** The s3rver class (an S3-compatible server the tests start in-process). */
export async function loadS3rver(): Promise<S3rverCtor> {
  return ((await import('s3rver' as string)) as { default: S3rverCtor }).default;
}

export interface TestS3 {
  /** The SEARCHLIGHT_S3_* settings that point a process at the bucket. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A real S3-compatible server (the npm package s3rver) on an ephemeral 127.0.0.1 port, with one
 * empty bucket: what a deployment's bucket is to servers and worker processes.
 */
export async function startS3(): Promise<TestS3> {
  const S3rver = await loadS3rver();
  const dir = tempDir('searchlight-s3-');
  const bucket = `artifacts-${crypto.randomBytes(3).toString('hex')}`;
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    env: {
      SEARCHLIGHT_S3_BUCKET: bucket,
      SEARCHLIGHT_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      SEARCHLIGHT_S3_ACCESS_KEY_ID: 'S3RVER', // s3rver's one account
      SEARCHLIGHT_S3_SECRET_ACCESS_KEY: 'S3RVER',
    },
    async close() {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` with these environment variables set, restoring the previous values (or their absence) after. */
export async function withEnv(vars: Record<string, string>, fn: () => Promise<void>): Promise<void> {
  const prev = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    await fn();
  } finally {
    for (const [k, v] of Object.entries(prev))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}
