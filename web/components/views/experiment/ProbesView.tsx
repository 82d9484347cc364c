'use client';
/**
 * Linear probes: test accuracy by layer for one target (edge connected, cell on the solution, on
 * the future path, is the target) read at one token class, beside the control task (shuffled
 * labels) and the majority-class rate; and the selectivity (probe − control) of every class ×
 * layer. URL state: target, cls, metric (accuracy | balanced).
 */
import { useUrlState } from '../../../lib/url';
import { Heatmap } from '../../charts/Heatmap';
import { LayerLines } from '../../charts/LayerLines';
import { type SummaryData, type ViewProps, UrlSelect, fmt, pick } from './common';

type Row = SummaryData<'ProbesSummary'>['table'][number];
/** A target's scores in a row: one field per probe target, null where it was not probed. */
type Cell = NonNullable<Row['edge']>;
/** Whether `t` (an entry of s.targets) names a field of the table's rows. */
const isTarget = (row: Row, t: string): t is Exclude<keyof Row, 'class' | 'layer'> => t !== 'class' && t !== 'layer' && Object.hasOwn(row, t);

export function ProbesView({ s }: ViewProps<'ProbesSummary'>) {
  const url = useUrlState();
  const { targets, classes, table } = s;
  const layers = s.probeLayers;
  const target = pick(url.get, 'target', targets, targets[0] ?? 'edge');
  const cls = pick(url.get, 'cls', classes, classes.includes('path') ? 'path' : (classes[0] ?? ''));
  const metric = pick(url.get, 'metric', ['accuracy', 'balanced'], 'accuracy');
  const cell = (c: string, l: string): Cell | undefined => {
    const row = table.find((r) => r.class === c && r.layer === l);
    return row && isTarget(row, target) ? (row[target] ?? undefined) : undefined;
  };
  const rows = layers.map((l) => cell(cls, l));
  const sel = (c: Cell | undefined): number | null => (c ? (metric === 'balanced' ? c.selectivity_balanced : c.selectivity) : null);
  return (
    <div data-testid="probes-view">
      <div className="filters">
        <UrlSelect param="target" label="Probe target" value={target} options={targets.map((t) => [t, t])} />
        <UrlSelect param="cls" label="Read at" value={cls} options={classes.map((c) => [c, c])} />
        <UrlSelect
          param="metric"
          label="Metric"
          value={metric}
          options={[
            ['accuracy', 'accuracy'],
            ['balanced', 'balanced accuracy'],
          ]}
        />
      </div>
      <h3>
        Probe for “{target}” at {cls} tokens: test {metric} by layer ({s.train} train / {s.test} test mazes)
      </h3>
      <LayerLines
        categories={layers}
        yLabel={metric}
        testId="probe-accuracy"
        series={[
          { name: 'probe', values: rows.map((c) => (c ? (metric === 'balanced' ? c.balanced : c.accuracy) : null)) },
          { name: 'control (shuffled)', values: rows.map((c) => (c ? (metric === 'balanced' ? null : c.control) : null)), dashed: true, colour: '#d62728' },
          { name: 'majority class', values: rows.map((c) => (c ? (metric === 'balanced' ? 0.5 : c.majority) : null)), dashed: true, colour: '#8895a7' },
        ]}
      />
      <h3>Selectivity (probe − control) for “{target}”: token class × layer</h3>
      <Heatmap
        values={classes.flatMap((c) => layers.map((l) => sel(cell(c, l)) ?? NaN))}
        rows={classes.length}
        cols={layers.length}
        rowLabels={classes}
        colLabels={layers}
        diverging
        range={[-0.5, 0.5]}
        valueLabel="selectivity"
        cell={78}
        showValues
        testId="probe-selectivity"
      />
      <table className="compact">
        <thead>
          <tr>
            <th>Layer</th>
            <th className="num">Accuracy</th>
            <th className="num">Balanced</th>
            <th className="num">Control</th>
            <th className="num">Majority</th>
            <th className="num">Selectivity</th>
          </tr>
        </thead>
        <tbody>
          {layers.map((l, i) => (
            <tr key={l}>
              <td className="mono">{l}</td>
              <td className="num">{fmt(rows[i]?.accuracy)}</td>
              <td className="num">{fmt(rows[i]?.balanced)}</td>
              <td className="num">{fmt(rows[i]?.control)}</td>
              <td className="num">{fmt(rows[i]?.majority)}</td>
              <td className="num">{fmt(rows[i]?.selectivity)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {s.future_equals_solution_at.length ? (
        <p className="sub">Before the path starts ({s.future_equals_solution_at.join(', ')}), “future” equals “solution”.</p>
      ) : null}
    </div>
  );
}
