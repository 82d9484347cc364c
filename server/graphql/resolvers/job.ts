/** Jobs: status and progress, cancellation, and the `jobProgress` subscription. */
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import type { Resolvers, ResolversParentTypes } from '../generated/types.js';
import { paramsToGraphQL } from '../experiment-params.js';
import { requireOwnerOrAdmin, requireUser } from '../guard.js';
import { type NodeType, rowId, toId } from '../ids.js';
import type { JobRow } from '../../services/rows.js';
import { connection, pageArgs } from '../pagination.js';
import { countJobs, getJob, type JobStatus, jobTopic, listJobs, TERMINAL } from '../../services/jobs.js';

type Stored = Readonly<Record<string, unknown>>;

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const idOf = (type: NodeType, v: unknown): string | null => (typeof v === 'number' ? toId(type, v) : null);

/**
 * A job's stored params (the handler's validated input, server/jobs/handlers/<kind>.ts) as the
 * JobParams member of its kind: row ids become global ids, an experiment's params the kind's typed
 * params. The member's name travels as `__typename` (JobParams.__resolveType reads it).
 */
export function jobParams(j: JobRow): ResolversParentTypes['JobParams'] & { __typename: string } {
  const p = (j.params ?? {}) as Stored;
  switch (j.kind) {
    case 'createDataset':
      return { __typename: 'CreateDatasetJobParams', ...(p as ResolversParentTypes['CreateDatasetJobParams']) };
    case 'trainModel':
      return {
        __typename: 'TrainModelJobParams',
        ...(p as Omit<ResolversParentTypes['TrainModelJobParams'], 'datasetId'>),
        datasetId: idOf('Dataset', p.datasetId),
      };
    case 'evaluateModel':
      return {
        __typename: 'EvaluateModelJobParams',
        ...(p as Omit<ResolversParentTypes['EvaluateModelJobParams'], 'modelId' | 'datasetId'>),
        modelId: toId('Model', num(p.modelId) ?? 0),
        datasetId: idOf('Dataset', p.datasetId),
      };
    default: {
      const kind = String(p.kind);
      return {
        __typename: 'ExperimentJobParams',
        kind,
        experimentId: idOf('Experiment', p.experimentId),
        modelId: toId('Model', num(p.modelId) ?? 0),
        checkpointId: toId('Checkpoint', num(p.checkpointId) ?? 0),
        params: paramsToGraphQL(kind, (p.params ?? {}) as Stored) as ResolversParentTypes['ExperimentParams'],
        seed: num(p.seed) ?? 0,
        datasetId: idOf('Dataset', p.datasetId),
        split: p.split === 'train' || p.split === 'test' ? p.split : null,
      };
    }
  }
}

/** The union member a value was built as (jobParams, paramsToGraphQL set `__typename`). */
export function typenameOf<T extends string>(v: unknown): T {
  return (v as { __typename: T }).__typename;
}

export const jobResolvers: Resolvers<Ctx> = {
  Query: {
    async job(_p, { id }, ctx) {
      requireUser(ctx);
      return (await ctx.loaders.job.load(rowId(id, 'Job'))) ?? null;
    },
    async jobs(_p, args, ctx) {
      requireUser(ctx);
      const { first, afterKey } = pageArgs('job', args);
      const filter = { status: (args.status ?? undefined) as JobStatus | undefined, kind: args.kind ?? undefined };
      const rows = await listJobs(ctx.db, { limit: first + 1, beforeId: afterKey, ...filter });
      return connection(
        'job',
        rows,
        first,
        (r) => r.id,
        afterKey !== undefined,
        () => countJobs(ctx.db, filter),
      );
    },
  },
  Mutation: {
    async cancelJob(_p, { id }, ctx) {
      const jobId = rowId(id, 'Job');
      const job = await getJob(ctx.db, jobId);
      if (!job) throw notFound(`Job:${jobId}`);
      const user = requireOwnerOrAdmin(ctx, job.createdBy, 'cancelJob');
      return (await ctx.app.runner.cancel(jobId, user)) ?? job;
    },
  },
  Subscription: {
    jobProgress: {
      async subscribe(_p, { id }, ctx) {
        requireUser(ctx);
        const jobId = rowId(id, 'Job');
        const job = await getJob(ctx.db, jobId);
        if (!job) throw notFound(`Job:${jobId}`);
        // The current state first, then every change; the stream ends with the terminal state.
        const isLast = (j: JobRow): boolean => TERMINAL.has(j.status);
        return ctx.app.pubsub.subscribe<JobRow>(jobTopic(jobId), { initial: [job], isLast });
      },
      resolve: (payload: JobRow) => payload,
    },
  },
  Job: {
    id: (j) => toId('Job', j.id),
    params: (j) => jobParams(j),
    createdBy: async (j, _a, ctx) => (j.createdBy ? ((await ctx.loaders.user.load(j.createdBy)) ?? null) : null),
  },
  JobParams: { __resolveType: (p) => typenameOf<'CreateDatasetJobParams' | 'TrainModelJobParams' | 'EvaluateModelJobParams' | 'ExperimentJobParams'>(p) },
  ExperimentParams: { __resolveType: (p) => typenameOf<ReturnType<NonNullable<NonNullable<Resolvers['ExperimentParams']>['__resolveType']>> & string>(p) },
};
