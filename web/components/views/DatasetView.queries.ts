/** DatasetView's GraphQL documents. */
import { DATASET_FIELDS, JOB_FIELDS } from '../../lib/fragments';

export const DATASET = `query Dataset($id: ID!) {
  dataset(id: $id) { ${DATASET_FIELDS} skipped contentHash splits { train test } forkless config { generator rows cols p forkless testFraction } job { ${JOB_FIELDS} } }
}`;

export const DATASET_MAZES = `query DatasetMazes($id: ID!, $first: Int!, $after: String, $split: Split, $cell: Int!) {
  dataset(id: $id) {
    id
    mazes(first: $first, after: $after, split: $split) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id index split pathLength svg(cellSize: $cell) } }
    }
  }
}`;
