/**
 * The per-user quota on stored artifact bytes (issue 16): work that would store more checkpoints or
 * results is refused once a user's stored bytes pass SEARCHLIGHT_USER_QUOTA_BYTES, with the figures
 * and what to do; nothing is written; other users and datasets are unaffected.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { storedBytes } from '../../server/services/quota.js';
import { codes, CREATE_DATASET, type Harness, sqlCount, sqlOne, startHarness, waitForJob } from './helpers.js';

let h: Harness;
let datasetId: string;
beforeAll(async () => {
  h = await startHarness();
  const job = (await h.gql(CREATE_DATASET, { input: { name: 'q', generator: 'dfs', grid: 3, count: 20, seed: 1 } })).data.createDataset;
  datasetId = (await waitForJob(h, job.id)).result.datasetId;
});
afterAll(async () => h?.close());
afterEach(() => {
  delete process.env.SEARCHLIGHT_USER_QUOTA_BYTES;
});

const TRAIN = 'mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }';
const jobs = () => sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM jobs');
const userId = async (name: string) => (await sqlOne<{ id: number }>(h.server.app.handle, 'SELECT id FROM users WHERE name = ?', name))!.id;

describe('stored-bytes quota per user', () => {
  it("counts a user's checkpoints, and refuses the next training run once they pass the quota; datasets and other users go on", async () => {
    const first = (await h.gql(TRAIN, { i: { name: 'q1', preset: 'nano', datasetId, steps: 6, seed: 1, batchSize: 4, checkpointEvery: 3 } })).data.trainModel;
    expect((await waitForJob(h, first.id)).status).toBe('COMPLETED');
    const used = await storedBytes(h.server.app.handle.db, await userId('rosalind'));
    const ckpt = await sqlCount(h.server.app.handle, "SELECT sum(c.bytes) AS n FROM checkpoints c JOIN models m ON m.id = c.model_id WHERE m.name = 'q1'");
    expect(used).toBe(ckpt);
    expect(used).toBeGreaterThan(0);

    process.env.SEARCHLIGHT_USER_QUOTA_BYTES = String(used - 1);
    const before = await jobs();
    const r = await h.gql(TRAIN, { i: { name: 'q2', preset: 'nano', datasetId, steps: 6, seed: 1 } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(
      /^trainModel: you store 0\.00 GiB of checkpoints and results, over your quota of 0\.00 GiB; delete models or experiments you no longer need, or ask an admin to raise SEARCHLIGHT_USER_QUOTA_BYTES$/,
    );
    expect(await jobs()).toBe(before);

    // A dataset stores no artifacts; another user's quota is their own.
    expect(codes(await h.gql(CREATE_DATASET, { input: { name: 'q-more', generator: 'dfs', grid: 3, count: 5, seed: 2 } }))).toEqual([]);
    expect(codes(await h.gql(TRAIN, { i: { name: 'q3', preset: 'nano', datasetId, steps: 2, seed: 1 } }, h.tokens.admin))).toEqual([]);

    // Used bytes equal to the quota are not over it: the run is admitted.
    process.env.SEARCHLIGHT_USER_QUOTA_BYTES = String(used);
    expect(codes(await h.gql(TRAIN, { i: { name: 'q4', preset: 'nano', datasetId, steps: 2, seed: 1 } }))).toEqual([]);
    await h.server.runner.idle();
  });

  it('jobs admitted together under the quota: the one that starts after the other passed it fails before any work, saying why', async () => {
    const used = await storedBytes(h.server.app.handle.db, await userId('rosalind'));
    process.env.SEARCHLIGHT_USER_QUOTA_BYTES = String(used + 1); // both are admitted…
    const a = (await h.gql(TRAIN, { i: { name: 'q6', preset: 'nano', datasetId, steps: 4, seed: 1, batchSize: 4, checkpointEvery: 2 } })).data.trainModel;
    const b = (await h.gql(TRAIN, { i: { name: 'q7', preset: 'nano', datasetId, steps: 4, seed: 1, batchSize: 4 } })).data.trainModel;
    expect((await waitForJob(h, a.id)).status).toBe('COMPLETED'); // …the first stores its checkpoints…
    const late = await waitForJob(h, b.id); // …and the second finds the quota passed when it is to start
    expect(late.status).toBe('FAILED');
    expect(late.error).toMatch(/^trainModel \(Job:\d+, when it was to start\): you store 0\.00 GiB of checkpoints and results, over your quota of 0\.00 GiB; /);
    expect(await sqlCount(h.server.app.handle, "SELECT count(*) AS n FROM models WHERE name = 'q7'")).toBe(0);
  });

  it('a bad quota setting is an error naming the variable', async () => {
    process.env.SEARCHLIGHT_USER_QUOTA_BYTES = 'lots';
    const r = await h.gql(TRAIN, { i: { name: 'q5', preset: 'nano', datasetId, steps: 2, seed: 1 } });
    expect(r.errors![0].message).toBe('SEARCHLIGHT_USER_QUOTA_BYTES must be an integer ≥ 0; got "lots"');
  });
});
