'use client';
/**
 * /experiments/compare?ids=12,15: two or more runs of one kind side by side — different models,
 * checkpoints or params — on one chart where the kind has a curve (logit-lens accuracy by layer,
 * lookahead decisions by lookahead, retargeting by layer, behaviour by generator × size, adjacency
 * lift by head) with each rate's 95% interval, and every scalar of the summaries in one table. Each
 * run is named by what differs between them (model, checkpoint step, the params that differ).
 */
import Link from 'next/link';
import { useEffect, useState } from 'react';
import type { CompareRunQuery } from '../../lib/generated/operations';
import { defaultParams } from '../../lib/experiments';
import { fullId, gql, shortId } from '../../lib/graphql';
import { LayerLines, type LayerSeries } from '../charts/LayerLines';
import { ErrorBox, Title } from '../ui';
import { fmt } from './experiment/common';
import { COMPARE_RUN } from './CompareView.queries';

type Run = NonNullable<CompareRunQuery['experiment']>;
type Summary = NonNullable<Run['result']>;

/** What a kind's curve compares: categories and, per run, a value (and trials, for a rate) at each. */
interface Curve {
  yLabel: string;
  rate: boolean;
  points: (s: Summary) => Array<{ category: string; value: number | null; n?: number }>;
}

const CURVES: Partial<Record<Summary['__typename'], Curve>> = {
  LogitLensSummary: {
    yLabel: 'logit lens accuracy',
    rate: true,
    points: (s) => (s.__typename === 'LogitLensSummary' ? s.lensLayers.map((l) => ({ category: l.layer, value: l.accuracy, n: s.positions })) : []),
  },
  LookaheadSummary: {
    yLabel: 'forks decided right among the ways',
    rate: true,
    points: (s) =>
      s.__typename === 'LookaheadSummary' ? s.by_lookahead.map((r) => ({ category: `lookahead ${r.lookahead}`, value: r.choice_accuracy, n: r.forks })) : [],
  },
  RetargetSummary: {
    yLabel: 'valid path to the new target',
    rate: true,
    points: (s) =>
      s.__typename === 'RetargetSummary' ? s.retargetLayers.map((l) => ({ category: `L${l.layer}`, value: l.retarget.valid_to_new_target, n: s.mazes })) : [],
  },
  BehaviorSummary: {
    yLabel: 'exact path rate',
    rate: true,
    points: (s) =>
      s.__typename === 'BehaviorSummary'
        ? s.table.map((r) => ({ category: `${r.generator} ${r.size}×${r.size}`, value: r.model.exact_path_rate, n: r.mazes }))
        : [],
  },
  AdjacencyHeadsSummary: {
    yLabel: 'lattice-neighbour attention ÷ chance',
    rate: false,
    points: (s) => (s.__typename === 'AdjacencyHeadsSummary' ? s.ranked.map((r) => ({ category: `L${r.layer}H${r.head}`, value: r.lift })) : []),
  },
};

/** Top-level numbers of a summary (what every kind can be compared on). */
function scalars(s: Summary): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(s)) if (typeof v === 'number' || (v === null && k !== '__typename')) out[k] = v as number | null;
  return out;
}

/** Each run's label: its id, and of model, checkpoint step and params only what differs between the runs. */
function labels(runs: readonly Run[]): string[] {
  const params = runs.map((r) => defaultParams(r.params) as Record<string, unknown>);
  const keys = [...new Set(params.flatMap((p) => Object.keys(p)))].filter((k) => new Set(params.map((p) => JSON.stringify(p[k]))).size > 1);
  const models = new Set(runs.map((r) => r.model.id)).size > 1;
  const steps = new Set(runs.map((r) => r.checkpoint?.step)).size > 1;
  return runs.map((r, i) => {
    const parts = [
      ...(models ? [r.model.name] : []),
      ...(steps ? [`step ${r.checkpoint?.step ?? '?'}`] : []),
      ...keys.map((k) => `${k} ${JSON.stringify(params[i][k]) ?? '—'}`),
    ];
    return `#${shortId(r.id)}${parts.length ? ` · ${parts.join(', ')}` : ''}`;
  });
}

export function CompareView({ ids }: { ids: readonly string[] }) {
  const [runs, setRuns] = useState<Run[]>();
  const [error, setError] = useState<Error>();
  const key = ids.join(',');
  useEffect(() => {
    let live = true;
    setRuns(undefined);
    setError(undefined);
    Promise.all(key.split(',').map((id) => gql<CompareRunQuery>(COMPARE_RUN, { id: fullId('Experiment', id) }))).then(
      (rs) => {
        if (!live) return;
        const missing = rs.flatMap((r, i) => (r.experiment ? [] : [key.split(',')[i]]));
        if (missing.length) setError(new Error(`Experiment ${missing.join(', ')} not found`));
        else setRuns(rs.map((r) => r.experiment!));
      },
      (e: unknown) => live && setError(e as Error),
    );
    return () => {
      live = false;
    };
  }, [key]);

  const kinds = new Set(runs?.map((r) => r.kind));
  const unfinished = runs?.filter((r) => !r.result) ?? [];
  let body: React.ReactNode = null;
  if (ids.length < 2) body = <p className="empty">Choose two or more runs of one kind on the experiments page to compare them.</p>;
  else if (runs && kinds.size > 1)
    body = <ErrorBox error={new Error(`These runs are of different kinds (${[...kinds].join(', ')}); compare runs of one kind`)} />;
  else if (runs && unfinished.length)
    body = <ErrorBox error={new Error(`Experiment ${unfinished.map((r) => shortId(r.id)).join(', ')} has no result yet; compare finished runs`)} />;
  else if (runs) {
    const names = labels(runs);
    const summaries = runs.map((r) => r.result!);
    const curve = CURVES[summaries[0].__typename];
    let chart: React.ReactNode = null;
    if (curve) {
      const per = summaries.map((s) => curve.points(s));
      const categories = [...new Set(per.flatMap((ps) => ps.map((p) => p.category)))];
      const series: LayerSeries[] = per.map((ps, i) => {
        const at = new Map(ps.map((p) => [p.category, p]));
        return {
          name: names[i],
          values: categories.map((c) => at.get(c)?.value ?? null),
          ...(curve.rate ? { n: categories.map((c) => at.get(c)?.n ?? null) } : {}),
        };
      });
      chart = <LayerLines categories={categories} series={series} yLabel={curve.yLabel} range={curve.rate ? [0, 1] : 'auto'} testId="compare-chart" />;
    }
    const table = summaries.map(scalars);
    const fields = [...new Set(table.flatMap((t) => Object.keys(t)))];
    body = (
      <>
        {chart ?? <p className="sub">This kind has no curve to overlay; its numbers are compared below.</p>}
        <table className="compact" data-testid="compare-table">
          <thead>
            <tr>
              <th>Field</th>
              {runs.map((r, i) => (
                <th key={r.id} className="num">
                  <Link prefetch={false} href={`/experiments/${shortId(r.id)}`}>
                    {names[i]}
                  </Link>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {fields.map((f) => (
              <tr key={f}>
                <td className="mono">{f}</td>
                {table.map((t, i) => (
                  <td key={runs[i].id} className="num">
                    {fmt(t[f])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </>
    );
  }
  return (
    <>
      <Title sub={runs ? `${runs[0]?.kind ?? ''} · ${runs.length} runs` : undefined}>Compare runs</Title>
      <ErrorBox error={error} />
      {!runs && !error && ids.length >= 2 ? <p className="empty">Loading the runs…</p> : null}
      <div className="card" data-testid="compare">
        {body}
      </div>
    </>
  );
}
