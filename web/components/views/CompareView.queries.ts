/** CompareView's GraphQL document: what comparing a run needs (no drawing, tensors or job). */
import { EXPERIMENT_RESULT, PARAMS } from '../../lib/fragments';

export const COMPARE_RUN = `query CompareRun($id: ID!) {
  experiment(id: $id) { id kind ${PARAMS} ${EXPERIMENT_RESULT} model { id name } checkpoint { step } }
}`;
