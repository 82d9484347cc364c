import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, CREATE_DATASET, type Harness, sqlCount, sqlOne, startHarness, waitForJob } from './helpers.js';

let h: Harness;
let datasetId: string;
let trainedModelId: string;
beforeAll(async () => {
  h = await startHarness();
  const job = (await h.gql(CREATE_DATASET, { input: { name: 'train-set', generator: 'dfs', grid: 3, count: 20, seed: 1, testFraction: 0.2 } })).data
    .createDataset;
  datasetId = (await waitForJob(h, job.id)).result.datasetId;
});
afterAll(async () => h?.close());

const TRAIN = 'mutation($i: TrainModelInput!) { trainModel(input: $i) { id kind status } }';
const count = (t: string) => sqlCount(h.server.app.handle, `SELECT count(*) AS n FROM ${t}`);

describe('trainModel and evaluateModel', () => {
  it.each([
    [
      'an unknown preset',
      { preset: 'huge' },
      /"huge" at "i.preset"; Value "huge" does not exist in "ModelPreset" enum \(one of: nano, tiny, hallway, demo, deep, deeper\)\.$/,
    ],
    ['a preset named after an object prototype key', { preset: '__proto__' }, /Value "__proto__" does not exist in "ModelPreset" enum \(one of: nano, tiny/],
    ['a dataset that does not exist', { datasetId: 'Dataset:999' }, /Dataset:999 does not exist/],
    ['a malformed dataset id', { datasetId: '7' }, /datasetId must be a Dataset id like "Dataset:1"/],
    ['zero steps', { steps: 0 }, /steps must be an integer between 1 and 10000000/],
  ])('refuse %s with BAD_USER_INPUT and write nothing', async (_l, patch, message) => {
    const before = await count('jobs');
    const r = await h.gql(TRAIN, { i: { name: 'm', preset: 'nano', datasetId, steps: 10, seed: 1, ...patch } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(message);
    expect(await count('jobs')).toBe(before);
  });

  it('evaluateModel refuses a model that does not exist', async () => {
    const r = await h.gql('mutation { evaluateModel(input: {modelId: "Model:42", generator: dfs, grid: 4, count: 10, seed: 1}) { id } }');
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(/Model:42 does not exist/);
  });

  it("trainModel trains on the dataset's training split in a worker: COMPLETED, a READY model with checkpoints, a training curve and held-out evals", async () => {
    const job = (await h.gql(TRAIN, { i: { name: 'nano-3x3', preset: 'nano', datasetId, steps: 12, seed: 1, batchSize: 4, checkpointEvery: 5 } })).data
      .trainModel;
    expect(job).toMatchObject({ kind: 'trainModel', status: 'QUEUED' });
    const done = await waitForJob(h, job.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('COMPLETED');
    expect(done.result).toMatchObject({ step: 12 });
    expect(done.progress).toMatchObject({ done: 12, total: 12 });
    const m = await h.gql(
      'query($id: ID!) { model(id: $id) { name status config { d_model n_layers n_heads d_head d_mlp d_vocab n_ctx act_fn eps tokenizer } lineage { source jobId datasetId trainMazes seed preset ignoredTensors metadataKeys } checkpoints { step sha256 bytes } trainingCurve(name: "train/loss") { step value } } }',
      { id: done.result.modelId },
    );
    const model = m.data.model;
    expect(model).toMatchObject({
      name: 'nano-3x3',
      status: 'READY',
      config: { d_model: 8, n_layers: 2, tokenizer: 'aotp-ut' },
      lineage: { source: 'train', datasetId, trainMazes: 16 },
    });
    expect(model.checkpoints.map((c: { step: number }) => c.step)).toEqual([5, 10, 12]);
    expect(model.trainingCurve.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(model.trainingCurve.every((p: { value: number }) => Number.isFinite(p.value) && p.value > 0)).toBe(true);
    const evals = await h.gql('query($id: ID!) { model(id: $id) { trainingCurve(name: "eval/exact_path_rate") { step value } } }', { id: done.result.modelId });
    expect(evals.data.model.trainingCurve.length).toBeGreaterThan(0);
    // The working files for resuming are gone once the job completed.
    expect(fs.existsSync(`${h.dataDir}/training/job-${job.id.split(':')[1]}`)).toBe(false);
    trainedModelId = done.result.modelId;
  });

  it("trainModel on generated mazes takes the CLI's sampling options: mixed grids, lookahead balance and a curriculum, recorded in the lineage", async () => {
    for (const [patch, message] of [
      [{ datasetId, grids: [3] }, /grids apply to generated mazes; leave out datasetId/],
      [{ grid: 5, grids: [3, 4] }, /largest of grids \(4\) must be the run's grid \(5\)/],
      [{ curriculum: { by: 'GRID', fraction: 1.5 } }, /curriculum.fraction must be in \(0, 1\]/],
      [{ generator: 'maze-of-doom' }, /Value "maze-of-doom" does not exist in "MazeGenerator" enum \(one of: dfs, wilson/],
      [{ queries: 0 }, /queries must be an integer between 1 and 64/],
    ] as const) {
      const r = await h.gql(TRAIN, { i: { name: 'm', preset: 'nano', steps: 4, seed: 1, ...patch } });
      expect(codes(r), JSON.stringify(patch)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].message).toMatch(message);
    }
    const input = {
      name: 'mixed',
      preset: 'nano',
      grids: [3, 4],
      balance: 'LOOKAHEAD',
      curriculum: { by: 'GRID', fraction: 0.5 },
      queries: 3,
      steps: 6,
      seed: 2,
      batchSize: 4,
      checkpointEvery: 3,
    };
    const job = (await h.gql(TRAIN, { i: input })).data.trainModel;
    const done = await waitForJob(h, job.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('COMPLETED');
    const m = (
      await h.gql(
        'query($id: ID!) { model(id: $id) { config { d_model n_layers n_heads d_head d_mlp d_vocab n_ctx act_fn eps tokenizer } lineage { source jobId datasetId trainMazes seed preset generated { generator grid grids balance curriculum { by fraction } queries } } vocab } }',
        { id: done.result.modelId },
      )
    ).data.model;
    expect(m.config.d_vocab).toBe(27); // the 4×4 aotp-ut vocabulary, which also covers 3×3
    expect(m.lineage).toEqual({
      source: 'train',
      jobId: job.id,
      datasetId: null,
      seed: 2,
      trainMazes: 24,
      preset: 'nano',
      generated: { generator: 'dfs', grid: 4, queries: 3, grids: [3, 4], balance: 'LOOKAHEAD', curriculum: { by: 'GRID', fraction: 0.5 } },
    });
  });

  it("evaluateModel scores the model on the dataset's test split beside the baseline solver and stores it in Model.evals", async () => {
    const job = (await h.gql('mutation($m: ID!, $d: ID!) { evaluateModel(input: {modelId: $m, datasetId: $d}) { id } }', { m: trainedModelId, d: datasetId }))
      .data.evaluateModel;
    const done = await waitForJob(h, job.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('COMPLETED');
    const r = await h.gql(
      'query($id: ID!) { model(id: $id) { evals { id params { datasetId split count checkpointId } summary { count checkpointStep engine model { count exact_path_rate } baseline { count } } job { id } } } }',
      { id: trainedModelId },
    );
    const [ev] = r.data.model.evals;
    expect(ev.job.id).toBe(job.id);
    expect(ev.params).toMatchObject({ datasetId, split: 'test', count: 4, checkpointId: expect.stringMatching(/^Checkpoint:\d+$/) });
    expect(ev.summary).toMatchObject({ count: 4, checkpointStep: 12, engine: 'onnx-cpu', model: { count: 4 }, baseline: { count: 4 } });
    expect(ev.summary.model.exact_path_rate).toBeGreaterThanOrEqual(0);
    expect(done.result.evaluationId).toBe(ev.id);
  });

  it('jobs lists newest first and filters by status and kind', async () => {
    const all = await h.gql('{ jobs(first: 10) { totalCount edges { node { kind status } } } }');
    expect(all.data.jobs.edges[0].node.kind).toBe('evaluateModel');
    const ds = await h.gql('{ jobs(kind: createDataset, status: COMPLETED) { totalCount edges { node { kind status } } } }');
    expect(ds.data.jobs.totalCount).toBe(1);
    expect(ds.data.jobs.edges[0].node).toEqual({ kind: 'createDataset', status: 'COMPLETED' });
  });

  it('cancelling a QUEUED job cancels it at once; cancelling a finished job changes nothing', async () => {
    // Two jobs: with one worker the second waits in the queue.
    const a = (await h.gql(CREATE_DATASET, { input: { name: 'a', generator: 'wilson', grid: 30, count: 20000, seed: 1 } })).data.createDataset;
    const b = (await h.gql(CREATE_DATASET, { input: { name: 'b', generator: 'dfs', grid: 4, count: 5, seed: 1 } })).data.createDataset;
    const cb = await h.gql('mutation($id: ID!) { cancelJob(id: $id) { status error } }', { id: b.id });
    expect(cb.data.cancelJob).toEqual({ status: 'CANCELLED', error: 'cancelled by rosalind before it started' });
    await h.gql('mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: a.id });
    expect((await waitForJob(h, a.id)).status).toBe('CANCELLED');
    const again = await h.gql('mutation($id: ID!) { cancelJob(id: $id) { status error } }', { id: a.id });
    expect(again.data.cancelJob.status).toBe('CANCELLED');
    expect(await count('datasets')).toBe(1);
  });
});

describe('graceful shutdown', () => {
  it('a job running when the server closes is put back in the queue with the reason, and runs again on the next start', async () => {
    const { startServer } = await import('../../server/app/server.js');
    const { createUser } = await import('../../server/services/accounts.js');
    const { tempDir, testDatabase } = await import('./helpers.js');
    const dir = tempDir();
    const database = await testDatabase();
    let s = await startServer({ dataDir: dir, port: 0, log: () => undefined, databaseUrl: database.url });
    const { token } = await createUser(s.app.handle.db, { name: 'g', role: 'researcher' });
    const gql = async (url: string, query: string, variables: Record<string, unknown> = {}) =>
      (await (
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        })
      ).json()) as any;
    const job = (await gql(s.graphqlUrl, CREATE_DATASET, { input: { name: 'long', generator: 'dfs', grid: 20, count: 5000, seed: 4 } })).data.createDataset;
    for (;;) {
      const j = (
        await gql(s.graphqlUrl, 'query($id: ID!) { job(id: $id) { status progress { phase done total message modelId datasetId experimentId } } }', {
          id: job.id,
        })
      ).data.job;
      if (j.status === 'RUNNING' && j.progress?.done > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await s.close();
    // What the stopped server left in the database, read with a connection of the test's own.
    const { prepareDatabase } = await import('../../server/services/database.js');
    const db = await prepareDatabase({ dataDir: dir, url: database.url });
    const row = (await sqlOne<{ status: string; attempts: number; progress: string }>(
      db,
      'SELECT status, attempts, progress FROM jobs WHERE id = ?',
      Number(job.id.split(':')[1]),
    ))!;
    const building = { n: await sqlCount(db, "SELECT count(*) AS n FROM datasets WHERE status = 'BUILDING'") };
    await db.close();
    expect(row.status).toBe('QUEUED');
    expect(row.attempts).toBe(1);
    expect(JSON.parse(row.progress).message).toMatch(
      /the server was shut down while this job was running \(attempt 1 of 2\); it will be retried from the start/,
    );
    expect(building.n).toBe(0);

    s = await startServer({ dataDir: dir, port: 0, log: () => undefined, databaseUrl: database.url });
    try {
      const done = await waitForJob({ gql: (q, v) => gql(s.graphqlUrl, q, v) }, job.id);
      expect(done).toMatchObject({ status: 'COMPLETED', attempts: 2 });
    } finally {
      await s.close();
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
