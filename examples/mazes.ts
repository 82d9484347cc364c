/**
 * A script against the Searchlight API with graphql-request: build a dataset (a job), wait for it,
 * then page through its long test mazes.
 *
 *   TOKEN=sl_… npx tsx examples/mazes.ts [SEARCHLIGHT_URL defaults to http://localhost:$PORT, PORT to 3000]
 */
import { ClientError, GraphQLClient } from 'graphql-request';

const API = process.env.SEARCHLIGHT_URL ?? `http://localhost:${process.env.PORT ?? 3000}`;
const client = new GraphQLClient(`${API}/graphql`, { headers: { authorization: `Bearer ${process.env.TOKEN}` } });

interface Job {
  id: string;
  status: string;
  result: { datasetId: string } | null;
  error: string | null;
}
interface MazePage {
  dataset: {
    mazes: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      edges: Array<{ node: { id: string; pathLength: number; tokens: string } }>;
    };
  };
}

try {
  // createDataset answers with a job; poll it (or subscribe to jobProgress over graphql-ws).
  let { createDataset: job } = await client.request<{ createDataset: Job }>(
    'mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id status result { datasetId } error } }',
    { input: { name: 'wilson-6', generator: 'wilson', grid: 6, count: 500, seed: 1 } },
  );
  while (!['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) {
    await new Promise((r) => setTimeout(r, 500));
    ({ job } = await client.request<{ job: Job }>('query($id: ID!) { job(id: $id) { id status result { datasetId } error } }', { id: job.id }));
  }
  if (job.status !== 'COMPLETED') throw new Error(`${job.id} ${job.status}: ${job.error}`);

  // Every test-split maze whose solution takes at least 12 steps, 100 per page.
  const long: Array<{ id: string; pathLength: number; tokens: string }> = [];
  for (let after: string | null = null; ; ) {
    const { dataset }: MazePage = await client.request<MazePage>(
      `query($id: ID!, $after: String) { dataset(id: $id) {
        mazes(first: 100, after: $after, split: test, minPathLength: 12) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { id pathLength tokens } } } } }`,
      { id: job.result!.datasetId, after },
    );
    long.push(...dataset.mazes.edges.map((e) => e.node));
    if (!dataset.mazes.pageInfo.hasNextPage) break;
    after = dataset.mazes.pageInfo.endCursor;
  }
  console.log(`${long.length} long test mazes in ${job.result!.datasetId}; the first:`, long[0]);
} catch (e) {
  // GraphQL errors carry extensions.code (BAD_USER_INPUT, UNAUTHENTICATED, …): print them, no stack.
  if (e instanceof ClientError) {
    const errors = e.response.errors ?? [];
    for (const err of errors) console.error(`${err.extensions?.code}: ${err.message}`);
    if (errors.length === 0) console.error(`HTTP ${e.response.status}: ${e.message.split('\n')[0]}`);
    process.exit(1);
  }
  throw e;
}
