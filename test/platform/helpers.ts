/**
 * Shared test harness: a real server on an ephemeral 127.0.0.1 port over a real database file in a
 * temporary directory, real HTTP GraphQL requests via fetch, and real accounts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createUser } from '../../server/services/accounts.js';
import { type RunningServer, type ServerOptions, startServer } from '../../server/app/server.js';

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
  close(): Promise<void>;
}

export async function startHarness(opts: ServerOptions = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? tempDir();
  const server = await startServer({ port: 0, host: '127.0.0.1', log: () => undefined, ...opts, dataDir });
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
    async close() {
      await server.close();
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
