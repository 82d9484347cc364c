/** EvalTable's GraphQL document. */
import { JOB_FIELDS } from '../../lib/fragments';

export const EVALUATE_MODEL = `mutation EvaluateModel($input: EvaluateModelInput!) { evaluateModel(input: $input) { ${JOB_FIELDS} } }`;
