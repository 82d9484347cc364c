/** ExperimentsView's GraphQL document (a model's page lists its experiments with it too: experiment/ModelExperiments.tsx). */
import { PROGRESS } from '../../lib/fragments';

// Literal page size: the API's cost limit assumes the largest page for a variable `first`.
export const EXPERIMENTS = `query Experiments($modelId: ID, $kind: String, $after: String) {
  experiments(modelId: $modelId, kind: $kind, after: $after, first: 50) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id kind status seed createdAt createdBy { name } model { id name } dataset { id name } job { id ${PROGRESS} } } }
  }
}`;
