/** UrlJob's GraphQL document. */
import { JOB_FIELDS } from '../lib/fragments';

export const JOB = `query Job($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
