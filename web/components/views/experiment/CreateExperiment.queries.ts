/** CreateExperiment's GraphQL documents. */
import { JOB_FIELDS, MODEL_CONFIG } from '../../../lib/fragments';
import { EXPERIMENT_PARAMS } from '../../../lib/generated/params';

export const EXPERIMENT_FORM = `query ExperimentForm($modelId: ID) {
  experimentKinds(modelId: $modelId) { kind describe inputField params { name type doc enum choices defaultDoc hasDefault min max } defaults { __typename ${EXPERIMENT_PARAMS} } }
  models(first: 100) { edges { node { id name status ${MODEL_CONFIG} } } }
  datasets(first: 100) { edges { node { id name status grid generator } } }
}`;

export const RUN_EXPERIMENT = `mutation RunExperiment($modelId: ID!, $params: ExperimentParamsInput!, $datasetId: ID, $seed: Int) {
  runExperiment(modelId: $modelId, params: $params, datasetId: $datasetId, seed: $seed) { ${JOB_FIELDS} params { __typename ... on ExperimentJobParams { experimentId } } }
}`;
