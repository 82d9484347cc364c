/** Job handlers by kind. A new kind plugs in by adding its handler here. */
import type { JobHandler } from '../types.js';
import { createDataset } from './createDataset.js';
import { evaluateModel } from './evaluate.js';
import { experimentJob } from './experiment.js';
import { trainModel } from './train.js';

const HANDLERS: Record<string, JobHandler<any>> = {
  [createDataset.kind]: createDataset,
  [trainModel.kind]: trainModel,
  [evaluateModel.kind]: evaluateModel,
  [experimentJob.kind]: experimentJob,
};

export function getHandler(kind: string): JobHandler<unknown> | undefined {
  return Object.prototype.hasOwnProperty.call(HANDLERS, kind) ? HANDLERS[kind] : undefined;
}
