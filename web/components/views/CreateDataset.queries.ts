/** CreateDataset's GraphQL document. */
import { JOB_FIELDS } from '../../lib/fragments';

export const CREATE_DATASET = `mutation CreateDataset($input: CreateDatasetInput!) { createDataset(input: $input) { ${JOB_FIELDS} } }`;
