/**
 * Jobs through BullMQ on Redis with worker processes (issue 15): an API that runs no jobs itself,
 * `searchlight worker` processes (separate OS processes, as on other machines) taking them from the
 * queues, a worker killed with SIGKILL mid-training whose job another worker resumes from its last
 * checkpoint, per-user priorities, and a cancel reaching the process that runs the job. Needs the
 * Redis server CI runs (127.0.0.1:6379; .ci/run starts one when absent); each test uses its own
 * key prefix, so runs on a shared Redis stay apart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimJob, enqueue, getJob, jobTopic, markCompleted, markEnded, requeue, setProgress } from '../../server/services/jobs.js';
import { prepareDatabase } from '../../server/services/database.js';
import { sqlCount, sqlOne, sqlRows, startS3, TEST_DIALECT, type TestS3, tempDir, testDatabase } from './helpers.js';
import { engineCount } from '../../server/services/inference.js';
import { JobQueues, parseQueueNames } from '../../server/services/queue.js';
import { QueuedInference, QueuedJobs } from '../../server/jobs/queued.js';
import { getModel } from '../../server/services/models.js';
import { computeActivity } from '../../server/services/activity.js';
import { UserError } from '../../server/errors.js';
import { testSplitWindow } from '../../server/services/components.js';
import { type Harness, CREATE_DATASET, startHarness, waitForJob } from './helpers.js';
import { ROOT } from './spawn.js';
import { startServer } from '../../server/app/server.js';

const REDIS = process.env.SEARCHLIGHT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const LOCK_MS = 1500; // a killed worker's job is taken over after about this long

interface Proc {
  child: ChildProcess;
  /** Its data directory (the API's, or its own on PostgreSQL + S3). */
  dataDir: string;
  out: string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
let harness: Harness | undefined;
/** Data directories of the workers of a test (on PostgreSQL + S3 each worker has its own, as on its own machine). */
const workerDirs: string[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await harness?.close();
  harness = undefined;
  for (const d of workerDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * On PostgreSQL the suite runs the whole deployment apart: artifacts in an S3-compatible bucket
 * (s3rver) and each worker on a data directory of its own, so nothing passes through a shared
 * disk — a killed worker's training run resumes on the other from what the bucket holds. On SQLite
 * the workers share the API's data directory (the database file lives there).
 */
let s3: TestS3 | undefined;
beforeAll(async () => {
  if (TEST_DIALECT !== 'postgres') return;
  s3 = await startS3();
  Object.assign(process.env, s3.env); // the API (this process) and, inherited, its workers
});
afterAll(async () => {
  if (!s3) return;
  for (const k of [...Object.keys(s3.env), 'SEARCHLIGHT_S3_PREFIX']) delete process.env[k];
  await s3.close();
});

async function startApi(prefix: string): Promise<Harness> {
  process.env.SEARCHLIGHT_QUEUE_LOCK_MS = String(LOCK_MS);
  // Each test's deployment keeps its objects under its own prefix of the shared bucket (inherited by its workers).
  if (s3) process.env.SEARCHLIGHT_S3_PREFIX = prefix;
  harness = await startHarness({ redisUrl: REDIS, redisPrefix: prefix, jobWorkers: 0 });
  return harness;
}

/**
 * Where a training job's resumable working state is still found: the data directories of the API
 * and of the workers still alive (a SIGKILLed worker's disk is a dead machine's), and the bucket.
 */
async function workLeft(h: Harness, jobId: string): Promise<string[]> {
  const rel = `training/job-${jobId.split(':')[1]}`;
  const alive = procs.filter((p) => p.child.signalCode !== 'SIGKILL').map((p) => p.dataDir);
  const dirs = [...new Set([h.dataDir, ...alive])].filter((d) => fs.existsSync(`${d}/${rel}`));
  const objects = (await h.server.app.handle.store.list(rel)).map((o) => `${h.server.app.handle.store.describe()}: ${o.path}`);
  return [...dirs, ...objects];
}

/** Stored artifacts no row names, and rows whose artifact is missing (the store and the database disagreeing). */
async function orphans(h: Harness): Promise<{ objectsWithoutRows: string[]; rowsWithoutObjects: string[] }> {
  const { store } = h.server.app.handle;
  const rows = await sqlRows<{ p: string }>(
    h.server.app.handle,
    'SELECT path AS p FROM checkpoints UNION ALL SELECT path FROM results UNION ALL SELECT path FROM activation_caches',
  );
  const named = new Set(rows.map((r) => r.p));
  const objects: string[] = [];
  for (const folder of ['checkpoints', 'results', 'caches']) for (const o of await store.list(folder)) objects.push(o.path);
  const missing: string[] = [];
  for (const p of named) if (!(await store.exists(p))) missing.push(p);
  return { objectsWithoutRows: objects.filter((o) => !named.has(o) && !o.includes('.tmp-')), rowsWithoutObjects: missing };
}

/** Starts `searchlight worker` as its own OS process; resolves once it serves. */
async function startWorker(h: Harness, prefix: string, args: string[] = []): Promise<Proc> {
  let dataDir = h.dataDir;
  if (s3) workerDirs.push((dataDir = tempDir('searchlight-worker-')));
  const child = spawn(process.execPath, ['bin/searchlight.js', 'worker', '--data', dataDir, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      SEARCHLIGHT_REDIS_URL: REDIS,
      SEARCHLIGHT_REDIS_PREFIX: prefix,
      // The API's database: its PostgreSQL database in the postgres project, else (unset) the data directory's.
      SEARCHLIGHT_DATABASE_URL: h.database.url ?? '',
      SEARCHLIGHT_QUEUE_LOCK_MS: String(LOCK_MS),
      SEARCHLIGHT_THREADS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Proc = { child, dataDir, out: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stdout!.on('data', (d) => (p.out += d));
  child.stderr!.on('data', (d) => (p.out += d));
  procs.push(p);
  const deadline = Date.now() + 60_000;
  while (!/Searchlight worker \d+ serving/.test(p.out)) {
    if (child.exitCode !== null) throw new Error(`worker exited: ${p.out}`);
    if (Date.now() > deadline) throw new Error(`worker did not start: ${p.out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return p;
}

/** A 3×3 DFS dataset of `mazes` mazes, then a nano training job on it; returns the training job's id. */
async function queueTraining(h: Harness, name: string, o: { mazes: number; steps: number; checkpointEvery: number }): Promise<string> {
  const data = (await h.gql(CREATE_DATASET, { input: { name: `${name}-set`, generator: 'dfs', grid: 3, count: o.mazes, seed: 1 } })).data.createDataset;
  const datasetId = (await waitForJob(h, data.id)).result.datasetId;
  const r = await h.gql('mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }', {
    i: { name, preset: 'nano', datasetId, steps: o.steps, seed: 1, batchSize: 4, checkpointEvery: o.checkpointEvery },
  });
  return r.data.trainModel.id as string;
}

/** Waits until the job is RUNNING with progress.done ≥ `done` (QUEUED or RUNNING meanwhile, nothing else). */
async function untilRunning(h: Harness, id: string, done = 0): Promise<void> {
  for (;;) {
    const r = await h.gql('query($id: ID!) { job(id: $id) { status progress { done } } }', { id });
    if (r.data.job.status === 'RUNNING' && (r.data.job.progress?.done ?? 0) >= done) return;
    expect(['QUEUED', 'RUNNING']).toContain(r.data.job.status);
    await new Promise((res) => setTimeout(res, 50));
  }
}

const prefix = () => `searchlight-queue-test-${crypto.randomBytes(4).toString('hex')}`;
const rowOf = async (h: Harness, id: string) =>
  (await sqlOne<{ status: string; attempts: number; startedAt: number | null }>(
    h.server.app.handle,
    'SELECT status, attempts, started_at AS "startedAt" FROM jobs WHERE id = ?',
    Number(id.split(':')[1]),
  ))!;

describe('jobs on BullMQ with worker processes', async () => {
  it('queue names are checked where they are given', () => {
    expect(parseQueueNames(undefined)).toEqual(['dataset', 'train', 'evaluate', 'experiment', 'inference']);
    expect(parseQueueNames('train, dataset,train')).toEqual(['train', 'dataset']);
    expect(() => parseQueueNames('train,gpu')).toThrow('unknown queue "gpu"; queues are dataset, train, evaluate, experiment, inference');
  });

  it("a claim's attempt is its async token: a run that lost the job to a newer claim can no longer report, complete, fail or requeue it", async () => {
    const dir = tempDir();
    const database = await testDatabase();
    const handle = await prepareDatabase({ dataDir: dir, url: database.url });
    try {
      const db = handle.db;
      const { id } = await enqueue(db, 'createDataset', { name: 'x' }, null);
      expect((await claimJob(db, id))?.attempts).toBe(1);
      await requeue(db, id, 'its worker stopped renewing its lock', true, 1); // another process recovers it…
      expect((await claimJob(db, id))?.attempts).toBe(2); // …and claims it again
      await setProgress(db, id, { phase: 'stale' }, 1);
      expect((await getJob(db, id))?.progress).toMatchObject({ phase: 'queued' });
      expect(await markCompleted(db, id, { datasetId: 'Dataset:1' }, undefined, 1)).toBe(false);
      expect(await markEnded(db, id, 'FAILED', 'stale failure', 1)).toBeUndefined();
      await requeue(db, id, 'stale requeue', false, 1);
      expect((await getJob(db, id))?.status).toBe('RUNNING');
      expect(await markCompleted(db, id, { datasetId: 'Dataset:1' }, undefined, 2)).toBe(true); // the holder of attempt 2 may
      expect((await getJob(db, id))?.status).toBe('COMPLETED');
    } finally {
      await handle.close();
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a worker refuses a database the API has not migrated, saying what to run', async () => {
    const dir = tempDir();
    const database = await testDatabase(); // empty: nothing migrated
    const child = spawn(process.execPath, ['bin/searchlight.js', 'worker', '--data', dir], {
      cwd: ROOT,
      env: { ...process.env, SEARCHLIGHT_REDIS_URL: REDIS, SEARCHLIGHT_DATABASE_URL: database.url ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
    await database.drop();
    expect(code).toBe(2);
    expect(err).toMatch(
      /^searchlight: (the database in .+|the PostgreSQL database at postgres:\/\/\S+) is \d+ migration\(s\) behind this version; start the API \(searchlight start\) once to migrate it, then the workers\n$/,
    );
  });

  it('a worker refuses to start without Redis, saying how to give it one', async () => {
    const child = spawn(process.execPath, ['bin/searchlight.js', 'worker', '--data', '/nonexistent-dir'], {
      cwd: ROOT,
      env: { ...process.env, SEARCHLIGHT_REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(err).toBe('searchlight: a worker takes its jobs from Redis: set SEARCHLIGHT_REDIS_URL or pass --redis redis://host:port\n');
  });

  it('two worker processes run a training job and a dataset job; SIGKILL one mid-training and the other resumes it from its checkpoint; an API running none (on PostgreSQL another instance) streams every step; no orphans', async () => {
    const p = prefix();
    const h = await startApi(p);
    const a = await startWorker(h, p);
    const train = { id: await queueTraining(h, 'resumed', { mazes: 40, steps: 600, checkpointEvery: 25 }) };
    // The job's subscriber is on the API, or (on PostgreSQL, where API instances can share a
    // database) on a second API instance that neither queued the job nor runs any.
    const otherDir = tempDir();
    workerDirs.push(otherDir); // removed after the test
    const other = s3
      ? await startServer({
          dataDir: otherDir,
          port: 0,
          host: '127.0.0.1',
          log: () => undefined,
          redisUrl: REDIS,
          redisPrefix: p,
          jobWorkers: 0,
          databaseUrl: h.database.url,
        })
      : undefined;
    const events = (other?.app ?? h.server.app).pubsub.subscribe<{ status: string; attempts: number; progress: { done?: number } | null }>(
      jobTopic(Number(train.id.split(':')[1])),
      {
        isLast: (j) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.status),
      },
    );
    // The subscriber's view, collected as it arrives.
    const seen: Array<{ status: string; attempts: number; done: number }> = [];
    const collected = (async () => {
      for await (const e of events) seen.push({ status: e.status, attempts: e.attempts, done: e.progress?.done ?? 0 });
    })();
    // Worker A is training (it is the only one) and has written a checkpoint or two. It is held
    // there (SIGSTOP) while worker B starts, so it cannot finish the run first (CI once saw A
    // complete all 600 steps while B was starting: one attempt, nothing resumed) — once the
    // subscriber has seen a report past step 60 (held earlier, that report might never leave A).
    while (!seen.some((e) => e.status === 'RUNNING' && e.attempts === 1 && e.done >= 60)) await new Promise((r) => setTimeout(r, 20));
    a.child.kill('SIGSTOP');
    const b = await startWorker(h, p);
    const second = (await h.gql(CREATE_DATASET, { input: { name: 'while-training', generator: 'dfs', grid: 3, count: 20, seed: 2 } })).data.createDataset;
    a.child.kill('SIGKILL');
    expect(await a.exited).toBeNull();

    const done = await waitForJob(h, train.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.attempts).toBe(2);
    expect(done.result).toMatchObject({ step: 600 });
    expect((await waitForJob(h, second.id)).status).toBe('COMPLETED');
    expect(b.out).not.toMatch(/Error|error:/);

    // Every state reached the subscriber although no job ran in its API process.
    await collected;
    await other?.close();
    expect(seen.at(-1)).toMatchObject({ status: 'COMPLETED', attempts: 2 });
    const resumedAt = seen.findIndex((e) => e.attempts === 2 && e.status === 'RUNNING');
    expect(resumedAt).toBeGreaterThan(0);
    expect(seen.slice(0, resumedAt).some((e) => e.status === 'RUNNING' && e.attempts === 1 && e.done >= 60)).toBe(true);
    // Resumed, not restarted: the second attempt's first progress starts past the killed run's checkpoint.
    const firstAfter = seen.slice(resumedAt).find((e) => e.done > 0);
    expect(firstAfter!.done).toBeGreaterThanOrEqual(50);

    // Integrity: the model is READY with its checkpoints, nothing is left RUNNING or QUEUED, and
    // the resumable working files are gone.
    expect(await sqlCount(h.server.app.handle, "SELECT count(*) AS n FROM jobs WHERE status NOT IN ('COMPLETED')")).toBe(0);
    expect(await sqlOne(h.server.app.handle, "SELECT status FROM models WHERE name = 'resumed'")).toEqual({ status: 'READY' });
    expect(await workLeft(h, train.id)).toEqual([]);
    expect(await orphans(h)).toEqual({ objectsWithoutRows: [], rowsWithoutObjects: [] });
  });

  it('a job whose only worker died while no other serves its queue is put back by the API, and the next worker resumes it', async () => {
    const p = prefix();
    const h = await startApi(p);
    const runner = h.server.runner;
    expect(runner).toBeInstanceOf(QueuedJobs);
    const a = await startWorker(h, p);
    const train = { id: await queueTraining(h, 'orphaned', { mazes: 30, steps: 400, checkpointEvery: 20 }) };
    await untilRunning(h, train.id, 40);
    a.child.kill('SIGKILL');
    await a.exited;
    await (runner as QueuedJobs).reconcile(); // too early: the row has not been silent for two lock periods
    expect((await rowOf(h, train.id)).status).toBe('RUNNING');
    await new Promise((r) => setTimeout(r, 2 * LOCK_MS + 1500)); // BullMQ forgets the dead worker; the row goes silent
    await (runner as QueuedJobs).reconcile();
    const back = await h.gql('query($id: ID!) { job(id: $id) { status progress { message } } }', { id: train.id });
    expect(back.data.job.status).toBe('QUEUED');
    expect(back.data.job.progress.message).toMatch(
      /its worker stopped \(no progress for \d+ s\) and no worker serves its queue \(attempt 1 of \d+\); it will resume from its last checkpoint/,
    );
    const b = await startWorker(h, p);
    const done = await waitForJob(h, train.id);
    expect(done, `${done.error}\n${b.out}`).toMatchObject({ status: 'COMPLETED', attempts: 2, result: { step: 400 } });
  });

  it('a busy worker hands back a job it cannot start, so another worker runs it meanwhile', async () => {
    const p = prefix();
    const h = await startApi(p);
    const a = await startWorker(h, p); // concurrency 1
    const train = { id: await queueTraining(h, 'long', { mazes: 20, steps: 100000, checkpointEvery: 1000 }) };
    await untilRunning(h, train.id);
    const second = (await h.gql(CREATE_DATASET, { input: { name: 'meanwhile', generator: 'dfs', grid: 3, count: 10, seed: 2 } })).data.createDataset;
    await new Promise((r) => setTimeout(r, 1500)); // worker A's dataset queue may fetch it; A must hand it back
    const dispatch = await JobQueues.open(REDIS, p);
    try {
      expect(await dispatch.state('createDataset', Number(second.id.split(':')[1]))).not.toBe('active');
    } finally {
      await dispatch.close();
    }
    await startWorker(h, p);
    expect((await waitForJob(h, second.id)).status).toBe('COMPLETED');
    expect((await rowOf(h, train.id)).status).toBe('RUNNING'); // done meanwhile, not after the training run
    await h.gql('mutation($id: ID!) { cancelJob(id: $id) { id } }', { id: train.id });
    expect((await waitForJob(h, train.id)).status).toBe('CANCELLED');
    expect(a.child.exitCode).toBeNull();
  });

  it("a user's many jobs do not hold back another user's first: each user's n-th waiting job has priority n", async () => {
    const p = prefix();
    const h = await startApi(p);
    const make = (name: string, token: string) =>
      h.gql(CREATE_DATASET, { input: { name, generator: 'dfs', grid: 3, count: 5, seed: 1 } }, token).then((r) => r.data.createDataset.id as string);
    const ada = [await make('a1', h.tokens.admin), await make('a2', h.tokens.admin), await make('a3', h.tokens.admin)];
    const rosalind = await make('r1', h.tokens.researcher);
    await startWorker(h, p); // one at a time, from now on
    for (const id of [...ada, rosalind]) expect((await waitForJob(h, id)).status).toBe('COMPLETED');
    const started = new Map<string, number>();
    for (const id of [...ada, rosalind]) started.set(id, (await rowOf(h, id)).startedAt!);
    const order = [...ada, rosalind].sort((x, y) => started.get(x)! - started.get(y)!);
    expect(order).toEqual([ada[0], rosalind, ada[1], ada[2]]);
  });

  it('a cancel reaches the worker process running the job: CANCELLED, by whom, partial output removed', async () => {
    const p = prefix();
    const h = await startApi(p);
    await startWorker(h, p);
    const train = { id: await queueTraining(h, 'stopped', { mazes: 20, steps: 100000, checkpointEvery: 1000 }) };
    await untilRunning(h, train.id);
    const c = await h.gql('mutation($id: ID!) { cancelJob(id: $id) { id } }', { id: train.id });
    expect(c.errors).toBeUndefined();
    const done = await waitForJob(h, train.id);
    expect(done.status).toBe('CANCELLED');
    expect(done.error).toBe('cancelled by rosalind while running; partial output was removed');
    // Partial output: the working files are removed; the model row goes too, unless a checkpoint
    // was stored (then it stays, FAILED, with what it learned: services/training.ts cleanupTraining).
    const left = await sqlRows<{ status: string; n: number }>(
      h.server.app.handle,
      "SELECT m.status, (SELECT count(*) FROM checkpoints c WHERE c.model_id = m.id) AS n FROM models m WHERE m.name = 'stopped'",
    );
    expect(left.filter((m) => !(m.status === 'FAILED' && m.n > 0))).toEqual([]);
    expect(await workLeft(h, train.id)).toEqual([]);
    expect(await orphans(h)).toEqual({ objectsWithoutRows: [], rowsWithoutObjects: [] });
  });

  it('heavy runForward requests are answered by an inference worker; light ones run in the API; mistakes are refused the same; the wait is bounded', async () => {
    const p = prefix();
    process.env.SEARCHLIGHT_REMOTE_MIN_HOOKS = '3';
    const h = await startApi(p);
    delete process.env.SEARCHLIGHT_REMOTE_MIN_HOOKS;
    const bytes = fs.readFileSync(`${ROOT}/data/demo/demo-5x5.safetensors`).toString('base64');
    const modelId = (await h.gql('mutation($b: String!) { importModel(name: "demo", base64: $b) { id } }', { b: bytes })).data.importModel.id;
    await startWorker(h, p, ['--queues', 'inference']);
    const FORWARD =
      'mutation($m: ID!, $t: String!, $h: [String!]) { runForward(modelId: $m, tokens: $t, hooks: $h, topK: 3) { nextToken topK { token logit } cacheUrl } }';
    const tokens = '<ADJLIST_START> (0,0) <--> (0,1) ; <ADJLIST_END> <ORIGIN_START> (0,0) <ORIGIN_END> <TARGET_START> (0,1) <TARGET_END> <PATH_START>';
    const heavy = ['blocks.0.hook_resid_pre', 'blocks.0.attn.hook_pattern', 'blocks.1.hook_resid_post'];
    const remote = await h.gql(FORWARD, { m: modelId, t: tokens, h: heavy });
    expect(remote.errors).toBeUndefined();
    expect(engineCount()).toBe(0); // the API loaded no engine: the worker computed it
    expect(remote.data.runForward.cacheUrl).toMatch(/^\/files\/caches\/[0-9a-f]{64}\.safetensors$/);
    const file = await fetch(`${h.server.url}${remote.data.runForward.cacheUrl}`, { headers: { authorization: `Bearer ${h.tokens.researcher}` } });
    expect(file.status).toBe(200); // the worker's cache file and row, served by the API

    const local = await h.gql(FORWARD, { m: modelId, t: tokens, h: ['blocks.0.hook_resid_pre'] });
    expect(engineCount()).toBe(1); // light: in the API process
    expect(local.data.runForward.topK).toEqual(remote.data.runForward.topK); // the same logits either way

    const bad = await h.gql(FORWARD, { m: modelId, t: tokens, h: [...heavy, 'blocks.9.hook_nothing'] });
    expect(bad.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_HOOK' });

    // A worker that cannot answer in time: a typed refusal naming the bound, and the request withdrawn.
    const dispatch = await JobQueues.open(REDIS, p);
    try {
      const model = (await getModel(h.server.app.handle.db, Number(modelId.split(':')[1])))!;
      const impatient = new QueuedInference(dispatch, h.server.app.handle, 1, 1);
      await expect(impatient.runForward(model, tokens, [...heavy, 'blocks.1.hook_mlp_out'], 3)).rejects.toThrow(
        /^runForward: no inference worker answered within 0\.001 s \(they are busy\); try again, or ask for fewer hooks \(under 1 run on the API\)$/,
      );
    } finally {
      await dispatch.close();
    }
  });

  it("a component's and a probe direction's activity are computed by an inference worker when there is one, with the answer the API computes itself", async () => {
    const p = prefix();
    const h = await startApi(p);
    const bytes = fs.readFileSync(`${ROOT}/data/demo/demo-5x5.safetensors`).toString('base64');
    const modelId: string = (await h.gql('mutation($b: String!) { importModel(name: "demo", base64: $b) { id } }', { b: bytes })).data.importModel.id;
    await startWorker(h, p); // jobs and inference
    const ds = await waitForJob(
      h,
      (await h.gql(CREATE_DATASET, { input: { name: 'pages', generator: 'dfs', grid: 5, count: 24, seed: 3, testFraction: 0.5 } })).data.createDataset.id,
    );
    const datasetId: string = ds.result.datasetId;
    const run = await h.gql(
      'mutation($m: ID!, $d: ID) { runExperiment(modelId: $m, datasetId: $d, params: {probes: {count: 10, iters: 10, classes: [path], targets: [target]}}) { id params { ... on ExperimentJobParams { experimentId } } } }',
      { m: modelId, d: datasetId },
    );
    expect(run.errors).toBeUndefined();
    expect((await waitForJob(h, run.data.runExperiment.id)).status).toBe('COMPLETED');
    const probesId: string = run.data.runExperiment.params.experimentId;
    const engines = engineCount();
    expect(engines).toBeLessThan(3); // below the API's engine cache bound, so a load here would show
    const component = await h.gql(
      `query($m: ID!, $d: ID) { model(id: $m) { component(name: "L1H0") { activity(datasetId: $d, mazes: 6, examples: 2) {
        positions byClass { class value n } examples { maze { id } position value heat } } } } }`,
      { m: modelId, d: datasetId },
    );
    expect(component.errors).toBeUndefined();
    const direction = await h.gql(
      `query($e: ID!) { experiment(id: $e) { probeDirection(index: 7) { logitsUp { token weight } activity(mazes: 6, examples: 2) {
        offset positions nTrue nFalse maxSumError writers { component meanTrue meanFalse } examples { maze { id } position value values } } } } }`,
      { e: probesId },
    );
    expect(direction.errors).toBeUndefined();
    expect(engineCount()).toBe(engines); // the API loaded no engine: the worker ran both, and W_U was read from the file
    expect(direction.data.experiment.probeDirection.logitsUp).toHaveLength(8);

    // The same answers computed in this process.
    const mazeIds = await testSplitWindow(h.server.app.handle.db, Number(datasetId.split(':')[1]), 6);
    const c = component.data.model.component.activity;
    const localC = await computeActivity(h.server.app.handle, { op: 'component', modelId: Number(modelId.split(':')[1]), name: 'L1H0', mazeIds, examples: 2 });
    expect(c.positions).toBe(localC.positions);
    expect(c.byClass.map((x: { value: number }) => x.value)).toEqual(localC.byClass.map((x) => expect.closeTo(x.value, 5)));
    expect(c.examples.map((x: { maze: { id: string } }) => Number(x.maze.id.split(':')[1]))).toEqual(localC.examples.map((x) => mazeIds[x.maze]));
    expect(c.examples[0].heat).toEqual(localC.examples[0].heat.map((v) => expect.closeTo(v, 5)));
    const d = direction.data.experiment.probeDirection.activity;
    expect(d.offset).toBe(0); // 2 mazes past the probes' 10 of 12: too few, so from the start
    const localD = await computeActivity(h.server.app.handle, {
      op: 'direction',
      experimentId: Number(probesId.split(':')[1]),
      index: 7,
      mazeIds,
      examples: 2,
    });
    expect({ positions: d.positions, nTrue: d.nTrue, nFalse: d.nFalse }).toEqual({ positions: localD.positions, nTrue: localD.nTrue, nFalse: localD.nFalse });
    expect(d.writers.map((w: { meanFalse: number }) => w.meanFalse)).toEqual(localD.writers.map((w) => expect.closeTo(w.meanFalse!, 4)));
    expect(d.examples[0].values).toEqual(localD.examples[0].values.map((v) => expect.closeTo(v, 5)));
    expect(d.maxSumError).toBeLessThan(1e-3);
    expect(engineCount()).toBeGreaterThan(engines); // computing here loaded an engine here

    // A mistake found on the worker (a maze deleted meanwhile) comes back typed, as it would have here.
    const dispatch = await JobQueues.open(REDIS, p);
    try {
      const remote = new QueuedInference(dispatch, h.server.app.handle, 1, 60_000);
      const gone = remote.activity({ op: 'component', modelId: Number(modelId.split(':')[1]), name: 'L1H0', mazeIds: [mazeIds[0], 999_999], examples: 1 });
      await expect(gone).rejects.toBeInstanceOf(UserError);
      await expect(gone).rejects.toThrow(/^Maze:999999 does not exist \(deleted meanwhile\)$/);
    } finally {
      await dispatch.close();
    }
  });
});
