/** ModelView's GraphQL documents (it follows a training job with JobProgress's JOB_PROGRESS). */
import { AGGREGATE, JOB_FIELDS, LINEAGE, MODEL_CONFIG } from '../../lib/fragments';

export const MODEL = `query Model($id: ID!) {
  model(id: $id) {
    id name status parameterCount ${MODEL_CONFIG} ${LINEAGE} vocab createdAt createdBy { name }
    checkpoints { id step sha256 bytes createdAt downloadUrl }
    trainingCurve { step name value }
    evals { id params { datasetId split generator grid seed count checkpointId } summary { count checkpointStep engine model { ${AGGREGATE} } baseline { ${AGGREGATE} } } createdAt job { ${JOB_FIELDS} } }
  }
  circuits(modelId: $id) { id name version updatedAt updatedBy { name } }
  datasets(first: 100) { edges { node { id name status } } }
  trainJobs: jobs(first: 20, kind: trainModel) { edges { node { ${JOB_FIELDS} } } }
}`;

export const CREATE_CIRCUIT = `mutation CreateCircuit($modelId: ID!, $name: String!) { createCircuit(modelId: $modelId, name: $name) { id } }`;
