'use client';
/**
 * Linear probes: test accuracy by layer for one target (edge connected, cell on the solution, on
 * the future path, is the target) read at one token class, beside the control task (shuffled
 * labels) and the majority-class rate; and the selectivity (probe − control) of every class ×
 * layer. A cell of that map opens what its probe reads on the first test maze: the probability of
 * each cell drawn on the maze, the true cells outlined. URL state: target, cls, metric (accuracy |
 * balanced), at (the opened class.layer).
 */
import Link from 'next/link';
import { cellLabel, latticeEdgeLabels, probeDirectionIndex, subTensor, tokenLabels } from '../../../lib/experiments';
import { cellParam, directionHref, useUrlState } from '../../../lib/url';
import { Heatmap } from '../../charts/Heatmap';
import { LayerLines } from '../../charts/LayerLines';
import { TokensMaze } from '../../TokensMaze';
import { type ExperimentData, type SummaryData, type ViewProps, Pending, UrlSelect, fmt, pick } from './common';
import { useTensors } from './useTensors';

/** Links to the direction pages of one class, layer and target's probes, one per label column (none for runs stored before probes kept them). */
function DirectionLinks({
  e,
  s,
  ci,
  li,
  ti,
  labels,
  strong,
  what,
}: {
  e: ExperimentData;
  s: SummaryData<'ProbesSummary'>;
  ci: number;
  li: number;
  ti: number;
  /** Each column's cell or edge, in column order. */
  labels: readonly string[];
  /** A column to set in bold (the drill-down's most probable cell). */
  strong?: number;
  what: string;
}) {
  if (!e.tensors.some((t) => t.name === 'directions')) return null;
  return (
    <p className="cells-links" data-testid="probe-directions">
      {what}:{' '}
      {labels
        .map((label, k) => (
          <Link key={label} prefetch={false} href={directionHref(e.id, probeDirectionIndex(s, ci, li, ti, k))}>
            {k === strong ? <strong>{label}</strong> : label}
          </Link>
        ))
        .flatMap((x, i) => (i ? [' ', x] : [x]))}
    </p>
  );
}

/** One probe (class, layer, target) on the first test maze: P(label) per cell against the truth. */
function ProbeOnMaze({ e, s, ci, li, ti }: { e: ExperimentData; s: SummaryData<'ProbesSummary'>; ci: number; li: number; ti: number }) {
  const { tensors, error } = useTensors(e, ['detail.tokens', 'detail.position', 'detail.cells', 'detail.truth']);
  if (!tensors) return <Pending error={error} />;
  const [rows, cols] = s.grid;
  const n = rows * cols;
  const tokens = tokenLabels(tensors['detail.tokens'].data, e.model.vocab);
  const at = tensors['detail.position'].data[ci];
  const probs = subTensor(tensors['detail.cells'].data, tensors['detail.cells'].shape, [ci, li, ti]).data; // [cell]
  const truth = subTensor(tensors['detail.truth'].data, tensors['detail.truth'].shape, [ci, ti]).data; // [cell]
  const lit = truth.flatMap((v, c) => (v === 1 ? [`${Math.floor(c / cols)},${c % cols}`] : []));
  const best = probs.reduce((b, v, c) => (v > probs[b] ? c : b), 0);
  return (
    <div className="card drill" data-testid="probe-drill">
      <h3>
        “{s.targets[ti]}” read at {s.classes[ci]} (position {at}, <span className="mono">{tokens[at]}</span>), {s.probeLayers[li]}: the first test maze
      </h3>
      <p className="sub">
        Each cell shaded by the probe’s P(label), on [0, 1]; outlined: the true cells. Most probable: {cellLabel(best, cols)} at {fmt(probs[best])}.
      </p>
      <TokensMaze
        tokens={tokens}
        tokenizer={e.model.config.tokenizer}
        grid={s.grid}
        heat={probs}
        heatMax={1}
        lit={lit}
        label="first test maze"
        testId="probe-drill-maze"
      />
      <DirectionLinks
        e={e}
        s={s}
        ci={ci}
        li={li}
        ti={ti}
        labels={Array.from({ length: n }, (_, c) => cellLabel(c, cols))}
        strong={best}
        what="Each cell’s probe as a residual direction (its page: where it is present, what writes it)"
      />
    </div>
  );
}

type Row = SummaryData<'ProbesSummary'>['table'][number];
/** A target's scores in a row: one field per probe target, null where it was not probed. */
type Cell = NonNullable<Row['edge']>;
/** Whether `t` (an entry of s.targets) names a field of the table's rows. */
const isTarget = (row: Row, t: string): t is Exclude<keyof Row, 'class' | 'layer'> => t !== 'class' && t !== 'layer' && Object.hasOwn(row, t);

export function ProbesView({ e, s }: ViewProps<'ProbesSummary'>) {
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
  const drillable = e.tensors.some((t) => t.name === 'detail.cells');
  const opened = cellParam(url.get('at'), classes.length, layers.length);
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
        onCellClick={drillable ? (ci, li) => url.set({ at: `${ci}.${li}` }) : undefined}
        testId="probe-selectivity"
      />
      {drillable && opened ? (
        target === 'edge' ? (
          <>
            <p className="sub">Edge probes read one label per lattice edge, not per cell; choose a cell target (solution, future, target) to draw.</p>
            <DirectionLinks
              e={e}
              s={s}
              ci={opened[0]}
              li={opened[1]}
              ti={targets.indexOf('edge')}
              labels={latticeEdgeLabels(s.grid[0], s.grid[1])}
              what="Each edge’s probe as a residual direction"
            />
          </>
        ) : (
          <ProbeOnMaze e={e} s={s} ci={opened[0]} li={opened[1]} ti={targets.indexOf(target)} />
        )
      ) : drillable ? (
        <p className="sub">Click a cell to see that probe on the first test maze.</p>
      ) : null}
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
