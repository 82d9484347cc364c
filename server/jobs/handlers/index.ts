/** Job handlers by kind. A new kind plugs in by adding its handler here. */
import type { JobKind } from '../../services/jobs.js';
import type { JobHandler } from '../types.js';
import { createDataset } from './createDataset.js';
import { evaluateModel } from './evaluate.js';
import { experimentJob } from './experiment.js';
import { trainModel } from './train.js';

// Keyed by every JobKind, so a kind without a handler (or a handler without a kind) does not compile.
// biome-ignore lint/suspicious/noExplicitAny: each handler's params type differs; getHandler answers JobHandler<unknown>
const HANDLERS: Record<JobKind, JobHandler<any>> = {
  createDataset,
  trainModel,
  evaluateModel,
  experiment: experimentJob,
};

export function getHandler(kind: string): JobHandler<unknown> | undefined {
  return Object.hasOwn(HANDLERS, kind) ? HANDLERS[kind as JobKind] : undefined;
}

export function allHandlers(): Array<JobHandler<unknown>> {
  return Object.values(HANDLERS);
}
