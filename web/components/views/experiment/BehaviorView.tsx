'use client';
/**
 * Behaviour over a generalisation grid (generator × grid size, including sizes larger than
 * trained, percolation mazes with cycles, open fields): one metric as a generator × size heatmap,
 * and the table with the baseline solver's value beside the model's. URL state: metric.
 */
import { useUrlState } from '../../../lib/url';
import { ciText } from '../../../lib/stats';
import { Heatmap } from '../../charts/Heatmap';
import { type SummaryData, type ViewProps, UrlSelect, fmt, pick } from './common';

/** The metric columns of one table row (model or baseline): null where undefined, e.g. no maze fitted n_ctx. */
export type MetricColumns = SummaryData<'BehaviorSummary'>['table'][number]['model'];

/** One metric column by name (an entry of summary.metrics); NaN where it is null or no column. */
export function metricOf(m: MetricColumns, name: string): number {
  const known = (k: string): k is keyof MetricColumns => Object.hasOwn(m, k);
  return known(name) ? (m[name] ?? NaN) : NaN;
}

const SHOWN = ['exact_path_rate', 'valid_rollout_rate', 'target_reached_rate', 'node_overlap'];

export function BehaviorView({ s }: ViewProps<'BehaviorSummary'>) {
  const url = useUrlState();
  const rows = s.table;
  const details = s.rows;
  const metrics = s.metrics;
  const metric = pick(url.get, 'metric', metrics, metrics[0] ?? 'exact_path_rate');
  const gens = [...new Set(rows.map((r) => r.generator))];
  // The context's mazes have no size (null); they sort with 0 and their column reads "null×null".
  const sizes = [...new Set(rows.map((r) => r.size))].sort((a, b) => (a ?? 0) - (b ?? 0));
  const at = (g: string, n: number | null) => rows.find((r) => r.generator === g && r.size === n);
  const rate = !/backtracks|invalid_tokens/.test(metric);
  return (
    <div data-testid="behavior-view">
      <div className="filters">
        <UrlSelect param="metric" label="Metric" value={metric} options={metrics.map((m) => [m, m])} />
      </div>
      <h3>
        Model: {metric} by generator × grid size{s.constrained ? ' (constrained decoding)' : ''}
      </h3>
      <Heatmap
        values={gens.flatMap((g) =>
          sizes.map((n) => {
            const r = at(g, n);
            return r ? metricOf(r.model, metric) : NaN;
          }),
        )}
        rows={gens.length}
        cols={sizes.length}
        rowLabels={gens}
        colLabels={sizes.map((n) => `${n}×${n}`)}
        range={rate ? [0, 1] : undefined}
        valueLabel={metric}
        cell={70}
        showValues
        testId="behavior-heatmap"
      />
      <table data-testid="behavior-table" className="compact">
        <thead>
          <tr>
            <th>Generator</th>
            <th className="num">Grid</th>
            <th className="num">Mazes</th>
            {SHOWN.map((m) => (
              <th key={m} className="num">
                {m.replace(/_/g, ' ')}
                <br />
                <span className="sub">model / baseline</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={`${r.generator}.${r.size}`} title={details[i]?.skipped ?? undefined}>
              <td className="mono">{r.generator}</td>
              <td className="num">
                {r.size}×{r.size}
              </td>
              <td className="num">
                {r.mazes}
                {details[i]?.too_long ? (
                  <span className="sub" title="left out: longer than the model's n_ctx">
                    {' '}
                    (+{details[i].too_long} too long)
                  </span>
                ) : null}
              </td>
              {SHOWN.map((m) => (
                <td key={m} className="num">
                  {fmt(metricOf(r.model, m))} <span className="baseline-value">/ {fmt(metricOf(r.baseline, m))}</span>
                  {m.endsWith('_rate') ? <div className="sub ci">{ciText(metricOf(r.model, m), r.mazes)}</div> : null}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="sub">Under each model rate: its 95% Wilson interval over the cell's mazes.</p>
    </div>
  );
}
