import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSequence } from '../../server/maze/parse.js';
import { codes, CREATE_DATASET, type Harness, sqlCount, startHarness, waitForJob, withEnv } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const counts = async () => {
  const n = (t: string) => sqlCount(h.server.app.handle, `SELECT count(*) AS n FROM ${t}`);
  return { jobs: await n('jobs'), datasets: await n('datasets'), mazes: await n('mazes') };
};

const MAZE_FIELDS = 'id index split rows cols origin target solution pathLength stats { edges isTree deadEnds forks forksOnPath } tokens ascii svg connections';

describe('createDataset input validation', () => {
  it.each([
    ['grid 0', { grid: 0 }, /grid must be an integer between 2 and 64/],
    ['grid 65', { grid: 65 }, /grid must be an integer between 2 and 64/],
    ['count 10^9', { count: 1_000_000_000 }, /count must be an integer between 1 and 1,000,000/],
    ['count 0', { count: 0 }, /count must be an integer between 1 and 1,000,000/],
    [
      'unknown generator',
      { generator: 'labyrinth' },
      /"labyrinth" at "input.generator"; Value "labyrinth" does not exist in "MazeGenerator" enum \(one of: dfs, wilson, kruskal/,
    ],
    ['p on a generator without it', { p: 0.5 }, /generator dfs does not accept option p/],
    ['p out of range', { generator: 'percolation', p: 1.5 }, /p must be a number in \[0, 1\]/],
    ['negative seed', { seed: -1 }, /seed must be an integer between 0 and 4294967295/],
    ['empty name', { name: '   ' }, /name must be 1-200 characters/],
  ])('%s → BAD_USER_INPUT naming the problem, and nothing is written', async (_label, patch, message) => {
    const before = await counts();
    const r = await h.gql(CREATE_DATASET, { input: { name: 'bad', generator: 'dfs', grid: 4, count: 10, seed: 1, ...patch } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(message);
    expect(JSON.stringify(r)).not.toMatch(/stack|at .*\.ts:/);
    expect(await counts()).toEqual(before);
  });

  it("an enum written as a string literal is refused with the enum's values named (graphql-js names only the bad one)", async () => {
    const r = await h.gql('mutation { createDataset(input: {name: "x", generator: "dfs", grid: 4, count: 1, seed: 1}) { id } }');
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(
      /^Enum "MazeGenerator" cannot represent non-enum value \(one of: dfs, wilson, kruskal, prim, recursive_division, percolation, dfs_percolation, open_field\): "dfs"\./,
    );
  });

  it('a wrongly typed variable is refused by GraphQL itself, also as BAD_USER_INPUT', async () => {
    const r = await h.gql(CREATE_DATASET, { input: { name: 'x', generator: 'dfs', grid: 'big', count: 1, seed: 1 } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('createDataset job', () => {
  let datasetId: string;

  it('runs to COMPLETED; its result names the dataset, which is READY with every maze stored', async () => {
    const job = (await h.gql(CREATE_DATASET, { input: { name: 'five', generator: 'dfs', grid: 5, count: 45, seed: 7, testFraction: 0.2 } })).data.createDataset;
    expect(job).toMatchObject({ kind: 'createDataset', status: 'QUEUED' });
    const done = await waitForJob(h, job.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.progress).toMatchObject({ done: 45, total: 45 });
    datasetId = done.result.datasetId;
    const r = await h.gql(
      'query($id: ID!) { dataset(id: $id) { id name generator grid count seed status mazeCount contentHash splits { train test } forkless p job { id } } }',
      { id: datasetId },
    );
    expect(r.data.dataset).toMatchObject({
      id: datasetId,
      name: 'five',
      generator: 'dfs',
      grid: 5,
      count: 45,
      seed: 7,
      status: 'READY',
      mazeCount: 45,
      splits: { train: [0, 36], test: [36, 45] },
      forkless: false,
      p: null,
      job: { id: job.id },
    });
    expect(r.data.dataset.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('serves mazes with tokens, ascii and svg derived from storage; the tokens parse back to the same maze and solution', async () => {
    const r = await h.gql(`query($id: ID!) { dataset(id: $id) { mazes(first: 5) { edges { node { ${MAZE_FIELDS} } } } } }`, { id: datasetId });
    expect(r.errors).toBeUndefined();
    const nodes = r.data.dataset.mazes.edges.map((e: { node: any }) => e.node);
    expect(nodes).toHaveLength(5);
    for (const m of nodes) {
      const parsed = parseSequence(m.tokens);
      expect(parsed.origin).toEqual(m.origin);
      expect(parsed.target).toEqual(m.target);
      expect(parsed.path).toEqual(m.solution);
      expect(m.solution[0]).toEqual(m.origin);
      expect(m.solution.at(-1)).toEqual(m.target);
      expect(m.pathLength).toBe(m.solution.length - 1);
      // A DFS maze is a spanning tree: rows*cols - 1 connections.
      expect(m.connections).toHaveLength(24);
      expect(parsed.maze.rows).toBe(5);
      expect(m.ascii.split('\n')).toHaveLength(11);
      expect(m.svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(m.stats).toMatchObject({ isTree: true, edges: 24 });
    }
    // Tokens are stable across reads (the adjacency order is seeded by the maze id) and re-drawn with another seed.
    const again = await h.gql('query($id: ID!) { maze(id: $id) { tokens t2: tokens(seed: 99) walls: tokens(tokenizer: "walls") } }', { id: nodes[0].id });
    expect(again.data.maze.tokens).toBe(nodes[0].tokens);
    expect(parseSequence(again.data.maze.t2).path).toEqual(nodes[0].solution);
    expect(again.data.maze.walls).toContain('<-X->');
  });

  it('Relay pagination walks every maze exactly once, in index order, with opaque cursors', async () => {
    const seen: number[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const r: any = await h.gql(
        'query($id: ID!, $after: String) { dataset(id: $id) { mazes(first: 10, after: $after) { totalCount edges { cursor node { index } } pageInfo { hasNextPage hasPreviousPage endCursor startCursor } } } }',
        { id: datasetId, after },
      );
      const conn = r.data.dataset.mazes;
      expect(conn.totalCount).toBe(45);
      expect(conn.pageInfo.hasPreviousPage).toBe(after !== null);
      for (const e of conn.edges) {
        expect(e.cursor).not.toMatch(/^\d+$/);
        seen.push(e.node.index);
      }
      pages++;
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(pages).toBe(5);
    expect(seen).toEqual(Array.from({ length: 45 }, (_, i) => i));
    const test = await h.gql('query($id: ID!) { dataset(id: $id) { mazes(first: 50, split: test) { totalCount edges { node { index split } } } } }', {
      id: datasetId,
    });
    expect(test.data.dataset.mazes.totalCount).toBe(9);
    expect(test.data.dataset.mazes.edges.every((e: any) => e.node.split === 'test' && e.node.index >= 36)).toBe(true);
    expect(codes(await h.gql('query($id: ID!) { dataset(id: $id) { mazes(after: "garbage") { totalCount } } }', { id: datasetId }))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('the same parameters and seed give a dataset with the same content hash', async () => {
    const job = (await h.gql(CREATE_DATASET, { input: { name: 'five again', generator: 'dfs', grid: 5, count: 45, seed: 7, testFraction: 0.2 } })).data
      .createDataset;
    const done = await waitForJob(h, job.id);
    const a = await h.gql('query($a: ID!, $b: ID!) { a: dataset(id: $a) { contentHash } b: dataset(id: $b) { contentHash } }', {
      a: datasetId,
      b: done.result.datasetId,
    });
    expect(a.data.a.contentHash).toBe(a.data.b.contentHash);
  });

  it('datasets(first, after) lists newest first with pagination; unknown ids are null, malformed ids BAD_USER_INPUT', async () => {
    const r = await h.gql('{ datasets(first: 1) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } }');
    expect(r.data.datasets.totalCount).toBe(2);
    expect(r.data.datasets.edges[0].node.name).toBe('five again');
    const next = await h.gql('query($a: String) { datasets(first: 1, after: $a) { edges { node { name } } pageInfo { hasNextPage } } }', {
      a: r.data.datasets.pageInfo.endCursor,
    });
    expect(next.data.datasets.edges[0].node.name).toBe('five');
    expect(next.data.datasets.pageInfo.hasNextPage).toBe(false);
    expect((await h.gql('{ dataset(id: "Dataset:999") { id } }')).data.dataset).toBeNull();
    expect(codes(await h.gql('{ dataset(id: "Model:1") { id } }'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await h.gql('{ datasets(first: 100000) { totalCount } }'))).toEqual(['BAD_USER_INPUT']);
  });

  it('a dataset can be deleted by its creator (mazes go with it) but not by a viewer', async () => {
    expect(codes(await h.gql('mutation($id: ID!) { deleteDataset(id: $id) }', { id: datasetId }, h.tokens.viewer))).toEqual(['FORBIDDEN']);
    expect((await h.gql('mutation($id: ID!) { deleteDataset(id: $id) }', { id: datasetId })).data.deleteDataset).toBe(true);
    expect((await counts()).mazes).toBe(45);
  });

  it('cancelling a running job stops it, removes its partial dataset and records who cancelled', async () => {
    const job = (await h.gql(CREATE_DATASET, { input: { name: 'big', generator: 'wilson', grid: 24, count: 40_000, seed: 3 } })).data.createDataset;
    for (;;) {
      const r = await h.gql('query($id: ID!) { job(id: $id) { status progress { phase done total message modelId datasetId experimentId } } }', { id: job.id });
      if (r.data.job.status === 'RUNNING' && r.data.job.progress?.done > 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const c = await h.gql('mutation($id: ID!) { cancelJob(id: $id) { id status } }', { id: job.id });
    expect(c.errors).toBeUndefined();
    const done = await waitForJob(h, job.id);
    expect(done.status).toBe('CANCELLED');
    expect(done.error).toMatch(/cancelled by rosalind while running; partial output was removed/);
    const ds = { n: await sqlCount(h.server.app.handle, "SELECT count(*) AS n FROM datasets WHERE name = 'big'") };
    expect(ds.n).toBe(0);
    expect((await counts()).mazes).toBe(45);
  });
});

describe('query limits', () => {
  it('refuses over-deep and over-costly queries before running them', async () => {
    // 13 levels: datasets.edges.node.mazes.edges.node.dataset.mazes.edges.node.dataset.job.id
    const deep =
      '{ datasets(first: 2) { edges { node { mazes(first: 2) { edges { node { dataset { mazes(first: 2) { edges { node { dataset { job { id } } } } } } } } } } } } }';
    const d = await h.gql(deep);
    expect(codes(d)).toEqual(['BAD_USER_INPUT']);
    expect(d.errors![0].message).toMatch(/is 13 levels deep; the limit is 12/);
    const costly = await h.gql('{ datasets(first: 500) { edges { node { mazes(first: 500) { edges { node { svg } } } } } } }');
    expect(codes(costly)).toEqual(['BAD_USER_INPUT']);
    expect(costly.errors![0].message).toMatch(/may cost \d+ .*the limit is 50000/);
  });
});

describe('bounded work per user (issue 16)', () => {
  it("a dataset over the role's cell limit is refused with both numbers and nothing queued; an admin may build larger", async () => {
    const h = await startHarness();
    try {
      const huge = await h.gql(CREATE_DATASET, { input: { name: 'huge', generator: 'dfs', grid: 64, count: 1_000_000, seed: 1 } });
      expect(codes(huge)).toEqual(['BAD_USER_INPUT']);
      expect(huge.errors![0].message).toBe(
        'createDataset: 1,000,000 mazes of 64x64 are 4,096,000,000 cells; a researcher may build at most 25,000,000 per dataset (fewer or smaller mazes)',
      );
      await withEnv({ SEARCHLIGHT_MAX_DATASET_CELLS: '1000' }, async () => {
        const r = await h.gql(CREATE_DATASET, { input: { name: 'small', generator: 'dfs', grid: 5, count: 50, seed: 1 } });
        expect(r.errors![0].message).toMatch(/1,250 cells; a researcher may build at most 1,000/);
        const admin = await h.gql(CREATE_DATASET, { input: { name: 'small', generator: 'dfs', grid: 5, count: 50, seed: 1 } }, h.tokens.admin);
        expect(admin.errors).toBeUndefined();
      });
      expect(await sqlCount(h.server.app.handle, "SELECT count(*) AS n FROM jobs WHERE kind = 'createDataset'")).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('one user may have SEARCHLIGHT_MAX_QUEUED_PER_USER jobs queued; the next is refused, other users are not', async () => {
    const h = await startHarness();
    try {
      await withEnv({ SEARCHLIGHT_MAX_QUEUED_PER_USER: '2' }, async () => {
        const ids: string[] = [];
        let refused: { message: string } | undefined;
        for (let i = 0; i < 5 && !refused; i++) {
          const r = await h.gql(CREATE_DATASET, { input: { name: `slow-${i}`, generator: 'dfs', grid: 20, count: 20_000, seed: i } });
          if (r.errors) refused = r.errors[0];
          else ids.push(r.data.createDataset.id);
        }
        expect(refused?.message).toBe('you already have 2 jobs queued (the limit is 2); wait for them to start or cancel some');
        expect(ids.length).toBeGreaterThanOrEqual(2);
        const other = await h.gql(CREATE_DATASET, { input: { name: 'theirs', generator: 'dfs', grid: 3, count: 5, seed: 1 } }, h.tokens.admin);
        expect(other.errors).toBeUndefined();
        for (const id of [...ids, other.data.createDataset.id]) await h.gql('mutation($id: ID!) { cancelJob(id: $id) { id } }', { id }, h.tokens.admin);
      });
    } finally {
      await h.close();
    }
  });
});
