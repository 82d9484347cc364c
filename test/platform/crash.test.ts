import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/services/accounts.js';
import { prepareDatabase } from '../../server/services/database.js';
import { CREATE_DATASET, type GqlResult, sqlCount, sqlRows, type TestDatabase, tempDir, testDatabase, waitForJob } from './helpers.js';

const SERVE = fileURLToPath(new URL('./fixtures/serve.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
/** The servers' database: the data directory's SQLite file, or a PostgreSQL database of this suite's own. */
let database: TestDatabase;
let token: string;
let child: ChildProcess | undefined;
let url = '';

async function spawnServer(): Promise<void> {
  const proc = spawn(process.execPath, ['--import', 'tsx', SERVE, dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SEARCHLIGHT_DATABASE_URL: database.url ?? '' },
  });
  child = proc;
  let log = '';
  proc.stderr!.on('data', (d) => (log += d));
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).url);
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}: ${log}`)));
  });
}

async function kill9(): Promise<void> {
  const proc = child!;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
  child = undefined;
}

const gql = async (query: string, variables: Record<string, unknown> = {}): Promise<GqlResult> => {
  const r = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return r.json() as Promise<GqlResult>;
};

async function waitRunningWithProgress(id: string, min: number): Promise<void> {
  for (;;) {
    const r = await gql('query($id: ID!) { job(id: $id) { status progress { phase done total message modelId datasetId experimentId } } }', { id });
    const j = r.data.job;
    if (j.status === 'RUNNING' && (j.progress?.done ?? 0) >= min) return;
    if (j.status !== 'RUNNING' && j.status !== 'QUEUED') throw new Error(`job ended early: ${JSON.stringify(j)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/**
 * Opens the database the dead server left behind and checks it. Integrity: SQLite's own check of
 * the file; on PostgreSQL (whose write-ahead log is the server's business) that every row's
 * references hold, which the foreign keys promise.
 */
async function inspect(): Promise<{
  integrity: string;
  jobs: Array<{ id: number; status: string; attempts: number; error: string | null }>;
  building: number;
  mazes: number;
}> {
  const h = await prepareDatabase({ dataDir: dir, url: database.url });
  try {
    const integrity =
      h.dialect === 'sqlite'
        ? (h.sqlite.pragma('integrity_check', { simple: true }) as string)
        : (await sqlCount(h, 'SELECT count(*) AS n FROM mazes m LEFT JOIN datasets d ON d.id = m.dataset_id WHERE d.id IS NULL')) === 0
          ? 'ok'
          : 'mazes without their dataset';
    return {
      integrity,
      jobs: await sqlRows(h, 'SELECT id, status, attempts, error FROM jobs ORDER BY id'),
      building: await sqlCount(h, "SELECT count(*) AS n FROM datasets WHERE status = 'BUILDING'"),
      mazes: await sqlCount(h, 'SELECT count(*) AS n FROM mazes'),
    };
  } finally {
    await h.close();
  }
}

beforeAll(async () => {
  dir = tempDir('searchlight-crash-');
  database = await testDatabase();
  const h = await prepareDatabase({ dataDir: dir, url: database.url });
  token = (await createUser(h.db, { name: 'crash', role: 'researcher' })).token;
  await h.close();
});

afterAll(async () => {
  if (child) await kill9();
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 during a job, then restart', () => {
  it('a dataset job killed mid-write is retried from the start after restart and completes; the database stays intact', async () => {
    await spawnServer();
    const job = (await gql(CREATE_DATASET, { input: { name: 'survivor', generator: 'dfs', grid: 24, count: 6000, seed: 5 } })).data.createDataset;
    await waitRunningWithProgress(job.id, 1000);
    await kill9();

    const dead = await inspect();
    expect(dead.integrity).toBe('ok');
    expect(dead.jobs[0]).toMatchObject({ status: 'RUNNING', attempts: 1 }); // as the dead process left it
    expect(dead.building).toBe(1);
    expect(dead.mazes).toBeGreaterThanOrEqual(1000);

    await spawnServer();
    const done = await waitForJob({ gql: (q, v) => gql(q, v) }, job.id);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 2, error: null });
    const ds = await gql('query($id: ID!) { dataset(id: $id) { status mazeCount mazes(first: 1) { totalCount } } }', { id: done.result.datasetId });
    expect(ds.data.dataset).toEqual({ status: 'READY', mazeCount: 6000, mazes: { totalCount: 6000 } });
    const after = await inspect();
    expect(after.integrity).toBe('ok');
    expect(after.building).toBe(0);
    expect(after.mazes).toBe(6000); // the first attempt's partial mazes are gone
  });

  it('a training job killed after a checkpoint resumes from that checkpoint after restart and completes', async () => {
    const ds = (await gql(CREATE_DATASET, { input: { name: 'tiny', generator: 'dfs', grid: 3, count: 40, seed: 2 } })).data.createDataset;
    const datasetId = (await waitForJob({ gql: (q, v) => gql(q, v) }, ds.id)).result.datasetId;
    const job = (
      await gql('mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }', {
        i: { name: 'phoenix', preset: 'nano', datasetId, steps: 30, seed: 3, batchSize: 4, checkpointEvery: 5 },
      })
    ).data.trainModel;
    // Wait for a checkpoint to be recorded, then kill the server mid-training.
    for (;;) {
      const j = (await gql('query($id: ID!) { job(id: $id) { status progress { phase done total message modelId datasetId experimentId } } }', { id: job.id }))
        .data.job;
      if (j.status !== 'RUNNING' && j.status !== 'QUEUED') throw new Error(`training ended before the kill: ${JSON.stringify(j)}`);
      const modelId = j.progress?.modelId;
      if (modelId && j.progress.done >= 6 && j.progress.done < 30) {
        const m = (await gql('query($id: ID!) { model(id: $id) { checkpoints { step } } }', { id: modelId })).data.model;
        if (m.checkpoints.length > 0) break;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    await kill9();
    const dead = await inspect();
    expect(dead.integrity).toBe('ok');
    expect(dead.jobs.find((j) => `Job:${j.id}` === job.id)).toMatchObject({ status: 'RUNNING', attempts: 1 });

    await spawnServer();
    const done = await waitForJob({ gql: (q, v) => gql(q, v) }, job.id);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 2, error: null });
    const m = (
      await gql(
        'query($id: ID!) { model(id: $id) { status lineage { source resumes { attempt fromStep } } checkpoints { step } trainingCurve(name: "train/loss") { step } } }',
        { id: done.result.modelId },
      )
    ).data.model;
    expect(m.status).toBe('READY');
    expect(m.lineage.resumes).toEqual([expect.objectContaining({ attempt: 2, fromStep: expect.any(Number) })]);
    expect(m.lineage.resumes[0].fromStep).toBeGreaterThanOrEqual(5);
    expect(m.checkpoints.at(-1).step).toBe(30);
    expect(m.trainingCurve.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect((await inspect()).integrity).toBe('ok');
  });

  it('a job interrupted on its last attempt is FAILED with the reason, its partial output removed — never left RUNNING', async () => {
    const job = (await gql(CREATE_DATASET, { input: { name: 'doomed', generator: 'dfs', grid: 24, count: 40000, seed: 6 } })).data.createDataset;
    await waitRunningWithProgress(job.id, 1000);
    await kill9();
    expect((await inspect()).integrity).toBe('ok');

    await spawnServer(); // attempt 2 starts
    await waitRunningWithProgress(job.id, 1000);
    expect((await gql('query($id: ID!) { job(id: $id) { attempts } }', { id: job.id })).data.job.attempts).toBe(2);
    await kill9();
    expect((await inspect()).integrity).toBe('ok');

    await spawnServer();
    const j = (await gql('query($id: ID!) { job(id: $id) { status error attempts } }', { id: job.id })).data.job;
    expect(j.status).toBe('FAILED');
    expect(j.error).toMatch(
      /the server stopped \(crash or restart\) while this job was running \(attempt 2 of 2\); no attempts left, partial output was removed/,
    );
    const end = await inspect();
    expect(end.integrity).toBe('ok');
    expect(end.jobs.every((x) => x.status !== 'RUNNING' && x.status !== 'QUEUED')).toBe(true);
    expect(end.building).toBe(0);
    expect(end.mazes).toBe(6000 + 40); // only the completed datasets of the earlier tests
  });
});
