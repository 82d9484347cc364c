/**
 * What a probe direction's page (interp/direction.ts) and a finding about one read from storage: a
 * completed `probes` experiment of the model and the `directions*` tensors it stored.
 */
import { UserError } from '../errors.js';
import type { Db, DbHandle } from '../db/client.js';
import type { ProbeDirectionStore } from '../interp/direction.js';
import { directionIndexOf, type ProbesSummary } from '../interp/probes.js';
import { checkedRun, readResultTensor, resultsOf } from './experiments.js';
import { perOwner } from './cache.js';
import type { ExperimentRow } from './rows.js';

const TENSORS = ['directions', 'directions.bias', 'directions.balanced', 'directions.control_balanced'] as const;

/** How many probes (directions) a probes run fitted, from its summary. */
export function directionCount(s: ProbesSummary): number {
  return directionIndexOf(s).count;
}

/**
 * The probes experiment `id` of `modelId`, completed, with its directions stored; errors say which
 * condition failed, prefixed by `where`.
 */
export async function checkedProbes(db: Db, id: number, modelId: number, where: string): Promise<ExperimentRow> {
  const e = await checkedRun(db, id, modelId, where, 'probes', 'probed');
  const names = new Set((await resultsOf(db, id)).map((r) => r.name));
  if (!names.has('directions')) throw new UserError(`${where}: Experiment:${id} was stored before probes kept their weights; rerun it`);
  return e;
}

/**
 * The last few runs' stored directions, per artifact store: a page reads them for the direction and
 * again for its activity, and a completed run's results never change (ids are not reused).
 */
const storesOf = perOwner<object, number, ProbeDirectionStore | null>(4);

/** The stored directions of a completed probes run, or null when the run predates them. */
export function probeDirectionStore(handle: Pick<DbHandle, 'db' | 'store'>, e: ExperimentRow): Promise<ProbeDirectionStore | null> {
  return storesOf(handle.store).get(e.id, () => readDirectionStore(handle, e));
}

async function readDirectionStore(handle: Pick<DbHandle, 'db' | 'store'>, e: ExperimentRow): Promise<ProbeDirectionStore | null> {
  const rows = await resultsOf(handle.db, e.id);
  const found = TENSORS.map((n) => rows.find((r) => r.name === n));
  if (found.some((r) => !r)) return null;
  const [directions, bias, balanced, controlBalanced] = await Promise.all(found.map((r) => readResultTensor(handle.store, r!)));
  // The AUCs came later: a run stored between the two has none (its page shows none).
  const [auc, controlAuc] = await Promise.all(
    ['directions.auc', 'directions.control_auc'].map((n) => {
      const r = rows.find((x) => x.name === n);
      return r ? readResultTensor(handle.store, r) : undefined;
    }),
  );
  return { summary: e.summary as ProbesSummary, directions, bias, balanced, controlBalanced, ...(auc && controlAuc ? { auc, controlAuc } : {}) };
}
