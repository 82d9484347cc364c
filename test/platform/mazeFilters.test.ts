import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mazeCount, mazePage, splitRange } from '../../server/db/mazePages.js';
import { Rng } from '../../server/maze/rng.js';
import { CREATE_DATASET, type Harness, codes, sqlOne, startHarness, waitForJob } from './helpers.js';

interface M {
  index: number;
  split: string;
  pathLength: number;
}

let h: Harness;
let datasetId: string;
let all: M[]; // every maze of the dataset, in index order
beforeAll(async () => {
  h = await startHarness();
  const job = (await h.gql(CREATE_DATASET, { input: { name: 'lengths', generator: 'dfs', grid: 6, count: 2600, seed: 5, testFraction: 0.25 } })).data
    .createDataset;
  datasetId = (await waitForJob(h, job.id)).result.datasetId;
  all = [];
  for (let after: string | null = null; ; ) {
    const r: any = await h.gql(
      'query($id: ID!, $after: String) { dataset(id: $id) { mazes(first: 500, after: $after) { pageInfo { hasNextPage endCursor } edges { node { index split pathLength } } } } }',
      { id: datasetId, after },
    );
    const c = r.data.dataset.mazes;
    all.push(...c.edges.map((e: { node: M }) => e.node));
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
});
afterAll(async () => h?.close());

const PAGE =
  'query($id: ID!, $first: Int, $after: String, $split: Split, $min: Int, $max: Int) { dataset(id: $id) { mazes(first: $first, after: $after, split: $split, minPathLength: $min, maxPathLength: $max) { totalCount pageInfo { hasNextPage endCursor } edges { node { index split pathLength } } } } }';

/** Follows endCursor to the end; returns every node and the totalCount each page reported. */
async function pageThrough(vars: { split?: string; min?: number; max?: number }, first: number): Promise<{ nodes: M[]; totals: number[]; pages: number }> {
  const nodes: M[] = [];
  const totals: number[] = [];
  let pages = 0;
  for (let after: string | null = null; ; ) {
    const r: any = await h.gql(PAGE, { id: datasetId, first, after, ...vars });
    expect(r.errors).toBeUndefined();
    const c = r.data.dataset.mazes;
    pages++;
    totals.push(c.totalCount);
    nodes.push(...c.edges.map((e: { node: M }) => e.node));
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  return { nodes, totals, pages };
}

describe('Dataset.mazes path-length and split filters', () => {
  it('the test dataset has a spread of path lengths (so the filters below select real subsets)', () => {
    expect(all).toHaveLength(2600);
    expect(all.map((m) => m.index)).toEqual([...Array(2600).keys()]);
    expect(new Set(all.map((m) => m.pathLength)).size).toBeGreaterThan(10);
  });

  type Filter = { split?: string; min?: number | 'second-longest'; max?: number };
  it.each<[string, Filter]>([
    ['min only', { min: 15 }],
    ['max only', { max: 4 }],
    ['a band', { min: 8, max: 11 }],
    ['one length', { min: 10, max: 10 }],
    ['the two longest lengths (rare: the first scan window holds too few, so pages come from seeks)', { min: 'second-longest' }],
    ['a band in the test split', { split: 'test', min: 6, max: 12 }],
    ['the train split only', { split: 'train' }],
    ['nothing matches', { min: 4000 }],
  ])('%s: paging with cursors yields exactly the matching mazes of the whole dataset, in index order, and totalCount counts them', async (_label, f) => {
    const lengths = [...new Set(all.map((m) => m.pathLength))].sort((a, b) => a - b);
    const vars = { ...f, min: f.min === 'second-longest' ? lengths.at(-2)! : f.min };
    const want = all.filter(
      (m) => (vars.split === undefined || m.split === vars.split) && m.pathLength >= (vars.min ?? 0) && m.pathLength <= (vars.max ?? Infinity),
    );
    const first = Math.max(7, Math.ceil(want.length / 10)); // a dozen pages at most, each cut mid-dataset
    const { nodes, totals, pages } = await pageThrough(vars, first);
    expect(nodes).toEqual(want);
    expect(new Set(totals)).toEqual(new Set([want.length]));
    expect(pages).toBe(Math.max(1, Math.ceil(want.length / first)));
  });

  it('bad bounds are BAD_USER_INPUT naming the argument', async () => {
    const neg = await h.gql(PAGE, { id: datasetId, min: -1 });
    expect(codes(neg)).toEqual(['BAD_USER_INPUT']);
    expect(neg.errors![0].message).toBe('minPathLength must be a non-negative integer, got -1');
    const crossed = await h.gql(PAGE, { id: datasetId, min: 9, max: 3 });
    expect(codes(crossed)).toEqual(['BAD_USER_INPUT']);
    expect(crossed.errors![0].message).toBe('minPathLength (9) must not exceed maxPathLength (3)');
  });
});

describe('mazePage (server/db/mazePages.ts)', () => {
  it('scanning and per-length seeking return the same pages as a brute-force filter, for random bounds, splits and cursors', async () => {
    const handle = h.server.app.handle;
    const ds = Number(datasetId.split(':')[1]);
    const splits = (await sqlOne<{ splits: string }>(handle, 'SELECT splits FROM datasets WHERE id = ?', ds))!.splits;
    const rng = new Rng(17);
    for (let trial = 0; trial < 200; trial++) {
      const split = [null, 'train', 'test'][rng.int(3)] as 'train' | 'test' | null;
      const lo = rng.int(20);
      const hi = lo + rng.int(12);
      const afterIdx = rng.chance(0.3) ? -1 : rng.int(2600);
      const limit = 1 + rng.int(30);
      const range = { datasetId: ds, ...splitRange(JSON.parse(splits), split), minLength: lo, maxLength: hi };
      const want = all.filter((m) => m.index > afterIdx && (split === null || m.split === split) && m.pathLength >= lo && m.pathLength <= hi);
      for (const scan of [undefined, 1, 3]) {
        const got = (await mazePage(handle, { ...range, afterIdx, limit, scan })).map((r) => ({ index: r.idx, split: r.split, pathLength: r.pathLength }));
        expect(got, `trial ${trial} scan ${scan}`).toEqual(want.slice(0, limit));
      }
      expect(await mazeCount(handle, range)).toBe(all.filter((m) => (split === null || m.split === split) && m.pathLength >= lo && m.pathLength <= hi).length);
    }
  });

  it('filtered pages and counts are answered from the (dataset_id, path_length, idx) index the migration adds', async () => {
    const handle = h.server.app.handle;
    if (handle.dialect === 'postgres') {
      // The same index, from the PostgreSQL migration (its planner's choice depends on table statistics).
      const def = await sqlOne<{ d: string }>(handle, "SELECT indexdef AS d FROM pg_indexes WHERE indexname = 'mazes_dataset_len_idx'");
      expect(def?.d).toMatch(/\(dataset_id, path_length, idx\)/);
      return;
    }
    const s = handle.sqlite;
    const plan = (q: string) => (s.prepare(`EXPLAIN QUERY PLAN ${q}`).all(1, 3, 9, 0, 100) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    expect(plan('SELECT count(*) FROM mazes WHERE dataset_id = ? AND path_length BETWEEN ? AND ? AND idx >= ? AND idx < ?')).toMatch(
      /USING COVERING INDEX mazes_dataset_len_idx/,
    );
    const cols = (s.prepare("SELECT name FROM pragma_index_info('mazes_dataset_len_idx')").all() as Array<{ name: string }>).map((r) => r.name);
    expect(cols).toEqual(['dataset_id', 'path_length', 'idx']);
  });
});
