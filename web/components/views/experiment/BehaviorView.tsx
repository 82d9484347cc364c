'use client';
/**
 * Behaviour over a generalisation grid (generator × grid size, including sizes larger than
 * trained, percolation mazes with cycles, open fields): one metric as a generator × size heatmap,
 * and the table with the baseline solver's value beside the model's. URL state: metric.
 */
import { useUrlState } from '../../../lib/url';
import { Heatmap } from '../../charts/Heatmap';
import { type ViewProps, UrlSelect, asArray, asRecord, fmt, pick } from './common';

/** summary.table: one row per (generator, size), every metric flat (null where undefined, e.g. no maze fitted n_ctx). */
interface Row {
  generator: string;
  size: number;
  mazes: number;
  model: Record<string, unknown> | null;
  baseline: Record<string, unknown> | null;
}
interface Detail {
  too_long?: number;
  skipped?: string;
}

/** A metric of one aggregate: a rate at its top level, or a mean under `means`. */
export function metricOf(agg: Record<string, unknown> | null | undefined, name: string): number {
  if (!agg) return NaN;
  const v = agg[name] ?? asRecord(agg.means)[name];
  return typeof v === 'number' ? v : NaN;
}

const SHOWN = ['exact_path_rate', 'valid_rollout_rate', 'target_reached_rate', 'node_overlap'];

export function BehaviorView({ e }: ViewProps) {
  const url = useUrlState();
  const s = asRecord(e.summary);
  const rows = asArray<Row>(s.table);
  const details = asArray<Detail>(s.rows);
  const metrics = asArray<string>(s.metrics);
  const metric = pick(url.get, 'metric', metrics, metrics[0] ?? 'exact_path_rate');
  const gens = [...new Set(rows.map((r) => r.generator))];
  const sizes = [...new Set(rows.map((r) => r.size))].sort((a, b) => a - b);
  const at = (g: string, n: number) => rows.find((r) => r.generator === g && r.size === n);
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
            <tr key={`${r.generator}.${r.size}`} title={details[i]?.skipped}>
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
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
