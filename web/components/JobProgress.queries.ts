/** JobProgress's GraphQL documents (ModelView follows its training jobs with JOB_PROGRESS too). */
import { JOB_FIELDS } from '../lib/fragments';

export const JOB_PROGRESS = `subscription JobProgress($id: ID!) { jobProgress(id: $id) { ${JOB_FIELDS} } }`;
export const CANCEL_JOB = `mutation CancelJob($id: ID!) { cancelJob(id: $id) { ${JOB_FIELDS} } }`;
