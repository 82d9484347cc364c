/** OverviewView's GraphQL document (its recent findings query is built in the view, one alias per model). */
import { DATASET_FIELDS, JOB_FIELDS, MODEL_CONFIG } from '../../lib/fragments';

export const OVERVIEW = `query Overview {
  datasets(first: 6) { totalCount edges { node { ${DATASET_FIELDS} } } }
  models(first: 6) { totalCount edges { node { id name status parameterCount ${MODEL_CONFIG} createdAt } } }
  running: jobs(first: 20, status: RUNNING) { edges { node { ${JOB_FIELDS} } } }
  queued: jobs(first: 20, status: QUEUED) { edges { node { ${JOB_FIELDS} } } }
  recent: jobs(first: 5) { edges { node { ${JOB_FIELDS} } } }
}`;
