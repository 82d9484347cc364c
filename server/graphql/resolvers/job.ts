/** Jobs: status and progress, cancellation, and the `jobProgress` subscription. */
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import type { Resolvers } from '../generated/types.js';
import { requireOwnerOrAdmin, requireUser } from '../guard.js';
import { rowId, toId } from '../ids.js';
import type { JobRow } from '../../services/rows.js';
import { connection, pageArgs } from '../pagination.js';
import { countJobs, getJob, type JobStatus, jobTopic, listJobs, TERMINAL } from '../../services/jobs.js';

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
    createdBy: async (j, _a, ctx) => (j.createdBy ? ((await ctx.loaders.user.load(j.createdBy)) ?? null) : null),
  },
};
