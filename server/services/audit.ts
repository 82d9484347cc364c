/** The audit log, for adapters that record an action the services did not (a cancel, a token made). */
export { audit } from '../db/audit.js';
