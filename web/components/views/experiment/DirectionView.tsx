'use client';
/**
 * /experiments/<id>/directions/<index>: one probe of a probes run as a residual-stream direction,
 * with a page like a component's: what it reads and how well (against its control task), how it
 * points relative to its layer's other probes (for a cell target drawn on the grid: does "target
 * is (2,3)" point like its neighbours?) and to its own column's probe at every layer (where the
 * representation forms), its logit weights, the findings about it, and its activity over test
 * mazes: P(label) by token class split by the label's truth, the components that write it (direct
 * attribution, linked to their pages), and the mazes where it is strongest.
 */
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import type { ProbeDirectionActivityQuery, ProbeDirectionQuery } from '../../../lib/generated/operations';
import { fullId } from '../../../lib/graphql';
import { useQuery } from '../../../lib/hooks';
import { componentHref, directionHref, useUrlState } from '../../../lib/url';
import { Heatmap } from '../../charts/Heatmap';
import { ErrorBox, Title } from '../../ui';
import { TargetFindings } from '../findings/TargetFindings';
import { fmt, pick, UrlSelect } from './common';
import { PROBE_DIRECTION, PROBE_DIRECTION_ACTIVITY } from './DirectionView.queries';
import { type DatasetChoice, TestMazeExample, useActivityDataset } from '../ActivityDataset';

type Experiment = NonNullable<ProbeDirectionQuery['experiment']>;
type Direction = NonNullable<Experiment['probeDirection']>;
type Activity = NonNullable<NonNullable<ProbeDirectionActivityQuery['experiment']>['probeDirection']>['activity'];

/** The cells a direction names ("r,c"), outlined on mazes. */
function litCells(d: Direction): string[] {
  if (d.cell) return [d.cell.join(',')];
  return d.edge ? d.edge.map((c) => c.join(',')) : [];
}

function Reads({ id, d }: { id: string; d: Direction }) {
  return (
    <div className="card" data-testid="direction-reads">
      <h2>What it reads</h2>
      <table className="compact">
        <tbody>
          <tr>
            <th>Hook</th>
            <td className="mono">{d.hook}</td>
          </tr>
          <tr>
            <th>At</th>
            <td>{d.class} tokens</td>
          </tr>
          <tr>
            <th>Label</th>
            <td>
              {d.target} · column {d.column}
            </td>
          </tr>
          <tr>
            <th>ROC AUC (test)</th>
            <td data-testid="direction-auc">
              {fmt(d.auc)} <span className="sub">control (shuffled labels) {fmt(d.controlAuc)}; chance 0.5</span>
            </td>
          </tr>
          <tr>
            <th>Balanced accuracy (test)</th>
            <td data-testid="direction-accuracy">
              {fmt(d.balancedAccuracy)} <span className="sub">control {fmt(d.controlBalancedAccuracy)}; at P = 0.5, which a rare label seldom reaches</span>
            </td>
          </tr>
          <tr>
            <th>‖w‖, bias</th>
            <td>
              {fmt(d.norm)}, {fmt(d.bias)}
            </td>
          </tr>
        </tbody>
      </table>
      <h3>This label at every layer</h3>
      <table className="compact" data-testid="direction-layers">
        <thead>
          <tr>
            <th>Layer</th>
            <th className="num">Cosine with this one</th>
            <th className="num">ROC AUC</th>
            <th className="num">Balanced accuracy</th>
          </tr>
        </thead>
        <tbody>
          {d.acrossLayers.map((x) => (
            <tr key={x.index}>
              <td>
                {x.index === d.index ? (
                  <strong>{x.label}</strong>
                ) : (
                  <Link prefetch={false} href={directionHref(id, x.index)}>
                    {x.label}
                  </Link>
                )}
              </td>
              <td className="num">{fmt(x.cosine)}</td>
              <td className="num">{fmt(x.auc)}</td>
              <td className="num">{fmt(x.balancedAccuracy)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Logit weights (direct path, no final LayerNorm)</h3>
      <p data-testid="direction-logits">
        raises {d.logitsUp.map((t) => `${t.token} ${fmt(t.weight, 2)}`).join(', ')}; lowers{' '}
        {d.logitsDown.map((t) => `${t.token} ${fmt(t.weight, 2)}`).join(', ')}
      </p>
    </div>
  );
}

/** The layer's other probes of this target: a grid of cosines for cell targets (click opens one), the nearest for edges. */
function Siblings({ id, d, grid }: { id: string; d: Direction; grid: readonly number[] }) {
  const router = useRouter();
  const url = useUrlState();
  // What the grid shows per cell: its probe's cosine with this one, or how well its probe reads (test ROC AUC).
  const map = pick(url.get, 'map', ['cosine', 'auc'], 'cosine');
  const [rows, cols] = grid;
  if (d.cell) {
    return (
      <div className="card" data-testid="direction-siblings">
        <h2>
          “{d.target}” probes of every cell at {d.layer}
        </h2>
        <div className="filters">
          <UrlSelect
            param="map"
            label="Each cell shows "
            value={map}
            options={[
              ['cosine', 'its probe’s cosine with this one'],
              ['auc', 'its probe’s test ROC AUC'],
            ]}
          />
        </div>
        <p className="sub">
          {map === 'auc'
            ? 'Test ROC AUC of each cell’s probe on the probes’ test mazes (0.5: chance; empty where the test mazes never had it as the label)'
            : 'Cosine of each cell’s probe with this one'}
          , on the maze grid; click a cell to open its probe.
        </p>
        <Heatmap
          values={d.siblings.map((x) => (map === 'auc' ? x.auc : x.cosine) ?? NaN)}
          rows={rows}
          cols={cols}
          rowLabels={Array.from({ length: rows }, (_, r) => `row ${r}`)}
          colLabels={Array.from({ length: cols }, (_, c) => `col ${c}`)}
          diverging={map !== 'auc'}
          range={map === 'auc' ? [0, 1] : [-1, 1]}
          valueLabel={map === 'auc' ? 'test ROC AUC' : 'cosine'}
          cell={48}
          showValues
          onCellClick={(r, c) => router.push(directionHref(id, d.siblings[r * cols + c].index))}
          testId="direction-sibling-map"
        />
      </div>
    );
  }
  const nearest = d.siblings
    .filter((x) => x.index !== d.index && x.cosine !== null)
    .sort((a, b) => (b.cosine ?? 0) - (a.cosine ?? 0))
    .slice(0, 8);
  return (
    <div className="card" data-testid="direction-siblings">
      <h2>Nearest edge probes at {d.layer}</h2>
      <ul>
        {nearest.map((x) => (
          <li key={x.index}>
            <Link prefetch={false} href={directionHref(id, x.index)}>
              {x.label}
            </Link>{' '}
            cosine {fmt(x.cosine, 2)}
          </li>
        ))}
      </ul>
    </div>
  );
}

function ActivityView({
  e,
  d,
  side,
  datasets,
}: {
  e: Experiment;
  d: Direction;
  /** The probes' grid side. */
  side: number;
  datasets: readonly DatasetChoice[];
}) {
  // A probe reads cells of its own grid: only datasets of that grid can show it.
  const { dataset, select } = useActivityDataset(
    datasets,
    [
      { id: e.dataset?.id, note: 'the probes’' },
      { id: e.model.lineage.datasetId, note: 'trained on' },
    ],
    side,
  );
  const q = useQuery<ProbeDirectionActivityQuery>(PROBE_DIRECTION_ACTIVITY, { id: e.id, index: d.index, dataset: dataset || null }, { skip: !dataset });
  const a: Activity | undefined = q.data?.experiment?.probeDirection?.activity;
  // A difference needs both sides: with no position where the label is true (a rare target cell in a
  // small window) there is none, and the writers are ranked by their mean where it is false instead.
  const writers = a
    ? [...a.writers]
        .map((w) => ({ ...w, diff: w.meanTrue != null && w.meanFalse != null ? w.meanTrue - w.meanFalse : null }))
        .sort((x, y) => Math.abs(y.diff ?? y.meanFalse ?? 0) - Math.abs(x.diff ?? x.meanFalse ?? 0))
        .slice(0, 12)
    : [];
  return (
    <div className="card" data-testid="direction-activity">
      <h2>Activity over mazes</h2>
      {select}
      {!dataset ? (
        <p className="empty">
          No ready dataset of {side}×{side} mazes to read: create one first.
        </p>
      ) : null}
      <ErrorBox error={q.error} />
      {q.loading && !a ? <p className="empty">Running the model on the test mazes…</p> : null}
      {a ? (
        <>
          <p data-testid="direction-activity-summary">
            {a.mazes} of {a.splitSize} test mazes of {a.dataset.name} from #{a.offset},{' '}
            {a.overlap > 0 ? <strong>{a.overlap} of them among the probes’ own</strong> : 'none of them among the probes’ own'}; {a.positions} positions.
          </p>
          <p data-testid="direction-activity-auc">
            At its {d.class} tokens here, P(label) separates the {a.nTrue} positions where the label is true from the {a.nFalse} where it is false with ROC AUC{' '}
            <strong>{a.auc == null ? 'n/a (one side is empty)' : fmt(a.auc)}</strong> (0.5: not at all).
          </p>
          <h3>Mean P(label) by token class</h3>
          <table className="compact" data-testid="direction-by-class">
            <thead>
              <tr>
                <th>Class</th>
                <th className="num">Label true</th>
                <th className="num">n</th>
                <th className="num">Label false</th>
                <th className="num">n</th>
              </tr>
            </thead>
            <tbody>
              {a.byClass.map((c) => (
                <tr key={c.class} className={c.class === d.class ? 'selected' : undefined}>
                  <td>{c.class}</td>
                  <td className="num">{fmt(c.meanTrue)}</td>
                  <td className="num">{c.nTrue}</td>
                  <td className="num">{fmt(c.meanFalse)}</td>
                  <td className="num">{c.nFalse}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>What writes it (direct attribution at {d.class} tokens)</h3>
          <p className="sub">
            w·(each component’s output), mean where the label is true ({a.nTrue} positions) and false ({a.nFalse}); the 12 with the largest{' '}
            {a.nTrue > 0 && a.nFalse > 0 ? 'difference' : 'mean (the label is never true here, so there is no difference)'}. They sum to w·resid up to{' '}
            {fmt(a.maxSumError, 2)}.
          </p>
          <table className="compact" data-testid="direction-writers">
            <thead>
              <tr>
                <th>Component</th>
                <th className="num">Label true</th>
                <th className="num">Label false</th>
                <th className="num">Difference</th>
              </tr>
            </thead>
            <tbody>
              {writers.map((w) => {
                const href = componentHref(e.model.id, w.component);
                return (
                  <tr key={w.component}>
                    <td>
                      {href ? (
                        <Link prefetch={false} href={href}>
                          {w.component}
                        </Link>
                      ) : (
                        w.component
                      )}
                    </td>
                    <td className="num">{fmt(w.meanTrue)}</td>
                    <td className="num">{fmt(w.meanFalse)}</td>
                    <td className="num">{fmt(w.diff)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <h3>Strongest mazes</h3>
          {a.examples.map((x) => (
            <TestMazeExample key={x.maze.id} x={x} lit={litCells(d)} max={1} label="the probe's cell outlined" testId="direction-example">
              P {fmt(x.value)}, label {x.label ? 'true' : 'false'}
            </TestMazeExample>
          ))}
        </>
      ) : null}
    </div>
  );
}

export function DirectionView({ id, index }: { id: string; index: string }) {
  const n = Number(index);
  const q = useQuery<ProbeDirectionQuery>(PROBE_DIRECTION, { id: fullId('Experiment', id), index: Number.isInteger(n) ? n : -1 });
  const e = q.data?.experiment;
  const d = e?.probeDirection;
  const s = e?.result?.__typename === 'ProbesSummary' ? e.result : undefined;
  const datasets = q.data?.datasets.edges.map((x) => x.node) ?? [];
  return (
    <>
      <Title
        sub={
          <>
            {d ? `${d.label} · ` : ''}a probe of{' '}
            <Link prefetch={false} href={`/experiments/${id}`}>
              Experiment {id}
            </Link>
            {e ? ` · ${e.model.name}` : ''}
          </>
        }
      >
        {`Probe direction ${index}`}
      </Title>
      <ErrorBox error={q.error} />
      {e && !d && !q.error ? <p className="empty">Experiment {id} is not a completed probes run that kept its probes’ weights.</p> : null}
      {e && d && s ? (
        <div data-testid="direction-page">
          <div className="grid2">
            <Reads id={id} d={d} />
            <Siblings id={id} d={d} grid={s.grid} />
          </div>
          <TargetFindings
            modelId={e.model.id}
            target={{ kind: 'direction', experimentId: id, index: d.index }}
            name="this direction"
            testId="direction-findings"
          />
          <ActivityView e={e} d={d} side={s.grid[0]} datasets={datasets} />
        </div>
      ) : null}
    </>
  );
}
