/** DatasetsView's GraphQL document. */
import { DATASET_FIELDS } from '../../lib/fragments';

export const DATASETS = `query Datasets($first: Int!, $after: String) {
  generators
  datasets(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${DATASET_FIELDS} } } }
}`;
