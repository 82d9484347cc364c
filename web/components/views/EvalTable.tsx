'use client';
/**
 * Evaluations: one row per metric set — the model's rows and the baseline solver's row beside
 * them (summary JSON {model: {...}, baseline: {...}} or a flat metrics object) — and a form that
 * starts an evaluateModel job.
 */
import { useState } from 'react';
import { useMutation } from '../../lib/hooks';
import { EVALUATE_MODEL } from './EvalTable.queries';
import type { Dataset, Evaluation, Job, Model } from '../../lib/types';
import { JobProgress } from '../JobProgress';
import { ErrorBox, ago, num } from '../ui';
import { ciText } from '../../lib/stats';

type Row = { label: string; metrics: Record<string, unknown>; baseline: boolean; when: string };

/** Rows of the table; a dataset is named by its name (its id only when it is not in `names`). */
export function rows(evals: Evaluation[], names: ReadonlyMap<string, string>): Row[] {
  const out: Row[] = [];
  for (const e of evals) {
    const s = e.summary;
    if (!s) continue;
    const parts = Object.entries(s).filter(([, v]) => v && typeof v === 'object' && !Array.isArray(v)) as Array<[string, Record<string, unknown>]>;
    const ds = e.params.datasetId ? String(e.params.datasetId) : null;
    const data = ds ? `${names.get(ds) ?? ds} (test split)` : `${e.params.generator ?? ''} ${e.params.grid ?? ''}×${e.params.grid ?? ''}`;
    if (parts.length) for (const [k, v] of parts) out.push({ label: `${k} · ${data}`, metrics: v, baseline: /baseline/i.test(k), when: e.createdAt });
    else out.push({ label: data, metrics: s, baseline: false, when: e.createdAt });
  }
  return out;
}

/**
 * The trials behind rate `k` of a metrics object: its mazes (`count`) for the per-maze rates, the
 * pooled fork decisions for frac_correct_forks_pooled; null for a value that is not a rate.
 */
export function rateTrials(metrics: Record<string, unknown>, k: string): number | null {
  if (typeof metrics[k] !== 'number') return null;
  if (k === 'frac_correct_forks_pooled') {
    const f = metrics.fork_decisions as { total?: unknown } | undefined;
    return typeof f?.total === 'number' ? f.total : null;
  }
  return k.endsWith('_rate') && typeof metrics.count === 'number' ? metrics.count : null;
}

/**
 * The last evaluation made during training, from the training curve's eval/* and baseline/* points
 * at its latest eval step: rows beside the evaluations (the model's and the baseline's), or none.
 */
export function trainingEvalRows(curve: ReadonlyArray<{ step: number; name: string; value: number }>): Row[] {
  const evalSteps = curve.filter((p) => p.name.startsWith('eval/')).map((p) => p.step);
  if (evalSteps.length === 0) return [];
  const step = Math.max(...evalSteps);
  const at = (prefix: string): Record<string, unknown> =>
    Object.fromEntries(
      curve.filter((p) => p.step === step && p.name.startsWith(prefix) && p.name !== 'eval/loss').map((p) => [p.name.slice(prefix.length), p.value]),
    );
  const label = `during training (step ${step})`;
  const out: Row[] = [{ label: `model · ${label}`, metrics: at('eval/'), baseline: false, when: '' }];
  const base = at('baseline/');
  if (Object.keys(base).length) out.push({ label: `baseline · ${label}`, metrics: base, baseline: true, when: '' });
  return out;
}

export function EvalTable({
  model,
  evals,
  datasets,
  canRun,
  onDone,
  curve = [],
}: {
  model: Model;
  evals: Evaluation[];
  /** The model's training curve: its last in-training evaluation is shown as rows too. */
  curve?: ReadonlyArray<{ step: number; name: string; value: number }>;
  datasets: Array<Pick<Dataset, 'id' | 'name' | 'status'>>;
  canRun: boolean;
  onDone: () => void;
}) {
  const evaluate = useMutation<{ evaluateModel: Job }>(EVALUATE_MODEL);
  const [datasetId, setDatasetId] = useState('');
  const [job, setJob] = useState<Job>();
  const r = [...rows(evals, new Map(datasets.map((d) => [d.id, d.name]))), ...trainingEvalRows(curve)];
  // Every flat metric, in a table that scrolls sideways when they do not fit (none is left out).
  const keys = [...new Set(r.flatMap((x) => Object.keys(x.metrics).filter((k) => typeof x.metrics[k] !== 'object')))];
  const pending = evals.filter((e) => !e.summary && e.job).map((e) => e.job!);
  return (
    <div className="card">
      <h2>Evaluation</h2>
      {r.length ? (
        <div className="scroll-x">
          <table data-testid="evals">
            <thead>
              <tr>
                <th>Run</th>
                {keys.map((k) => (
                  <th key={k} className="num">
                    {k}
                  </th>
                ))}
                <th />
              </tr>
            </thead>
            <tbody>
              {r.map((x, i) => (
                <tr key={i} className={x.baseline ? 'baseline' : ''}>
                  <td>{x.label}</td>
                  {keys.map((k) => {
                    const n = rateTrials(x.metrics, k);
                    return (
                      <td key={k} className="num">
                        {num(x.metrics[k])}
                        {n !== null ? <div className="sub ci">{ciText(x.metrics[k] as number, n)}</div> : null}
                      </td>
                    );
                  })}
                  <td className="sub">{ago(x.when)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="sub">Rates are over the row's count of mazes (forks pooled: over its fork decisions), with their 95% Wilson interval below.</p>
        </div>
      ) : (
        <p className="empty">No evaluations yet.</p>
      )}
      {pending.map((j) => (
        <JobProgress key={j.id} job={j} onDone={onDone} />
      ))}
      {canRun ? (
        <form
          className="inline"
          style={{ marginTop: 10 }}
          onSubmit={async (e) => {
            e.preventDefault();
            const res = await evaluate.run({ input: { modelId: model.id, datasetId: datasetId || datasets.find((d) => d.status === 'READY')?.id } });
            if (res) setJob(res.evaluateModel);
          }}
        >
          <label>
            Evaluate on the test split of
            <select value={datasetId} onChange={(e) => setDatasetId(e.target.value)}>
              {datasets
                .filter((d) => d.status === 'READY')
                .map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))}
            </select>
          </label>
          <button type="submit" disabled={evaluate.busy}>
            Evaluate
          </button>
        </form>
      ) : null}
      <ErrorBox error={evaluate.error} />
      {job ? <JobProgress job={job} onDone={onDone} /> : null}
    </div>
  );
}
