/** ModelsView's GraphQL documents (PlaygroundView lists models and datasets with MODELS too). */
import { JOB_FIELDS, LINEAGE, MODEL_CONFIG } from '../../lib/fragments';

export const MODELS = `query Models {
  models(first: 100) { totalCount edges { node { id name status parameterCount ${MODEL_CONFIG} ${LINEAGE} createdAt createdBy { name } } } }
  datasets(first: 100) { edges { node { id name status grid generator } } }
}`;

export const TRAIN_MODEL = `mutation TrainModel($input: TrainModelInput!) { trainModel(input: $input) { ${JOB_FIELDS} } }`;
