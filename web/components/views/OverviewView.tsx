'use client';
/** `/`: datasets, models, running jobs with live progress, and recent findings. */
import type { OverviewQuery } from '../../lib/generated/operations';
import Link from 'next/link';
import { useEffect, useMemo } from 'react';
import { shortId } from '../../lib/graphql';
import { useQuery } from '../../lib/hooks';
import { plainText } from '../../lib/markdown';
import { TARGET_FIELDS } from '../../lib/fragments';
import { OVERVIEW } from './OverviewView.queries';
import type { Annotation, Connection, Model } from '../../lib/types';
import { JobProgress } from '../JobProgress';
import { Badge, ErrorBox, Title, ago, num } from '../ui';
import { targetLabel } from './findings/target';

function RecentFindings({ models }: { models: Array<Pick<Model, 'id' | 'name'>> }) {
  // One request for the newest findings of each listed model (aliases m0, m1, ...).
  const query = useMemo(
    () =>
      models.length
        ? `query RecentFindings { ${models.map((m, i) => `m${i}: annotations(modelId: ${JSON.stringify(m.id)}, first: 3) { edges { node { id ${TARGET_FIELDS} body status createdAt author { name } } } }`).join(' ')} }`
        : '',
    [models],
  );
  const q = useQuery<Record<string, Connection<Annotation>>>(query, {}, { skip: !query });
  const rows = models
    .flatMap((m, i) => (q.data?.[`m${i}`]?.edges ?? []).map((e) => ({ model: m, a: e.node })))
    .sort((x, y) => y.a.createdAt.localeCompare(x.a.createdAt))
    .slice(0, 8);
  return (
    <div className="card">
      <h2>
        Recent findings{' '}
        <Link prefetch={false} href="/findings">
          all findings →
        </Link>
      </h2>
      <ErrorBox error={q.error} />
      {rows.length === 0 ? (
        <p className="empty">No findings yet. Annotate a head from the playground.</p>
      ) : (
        <table>
          <tbody>
            {rows.map(({ model, a }) => (
              <tr key={a.id}>
                <td>
                  <Badge value={a.status} />
                </td>
                <td className="mono">{targetLabel(a.target)}</td>
                <td>
                  <Link prefetch={false} href={`/findings?model=${shortId(model.id)}&focus=${shortId(a.id)}`}>
                    {plainText(a.body, 80)}
                  </Link>
                </td>
                <td className="sub">
                  {model.name} · {a.author?.name} · {ago(a.createdAt)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function OverviewView() {
  const q = useQuery<OverviewQuery>(OVERVIEW);
  const { reload } = q;
  // Jobs appear as colleagues start them: refresh the lists now and then (progress itself is live).
  useEffect(() => {
    const t = setInterval(reload, 5000);
    return () => clearInterval(t);
  }, [reload]);
  const d = q.data;
  const active = [...(d?.running.edges ?? []), ...(d?.queued.edges ?? [])].map((e) => e.node);
  const models = useMemo(() => d?.models.edges.map((e) => e.node) ?? [], [d?.models]);
  return (
    <>
      <Title sub="datasets, models, jobs and findings of this workspace">Overview</Title>
      <ErrorBox error={q.error} />
      <div className="grid2">
        <div className="card">
          <h2>
            Datasets{' '}
            <Link prefetch={false} href="/datasets">
              {d ? `${d.datasets.totalCount} · ` : ''}all →
            </Link>
          </h2>
          {d && d.datasets.edges.length === 0 ? <p className="empty">No datasets yet.</p> : null}
          <table>
            <tbody>
              {d?.datasets.edges.map(({ node: ds }) => (
                <tr key={ds.id}>
                  <td>
                    <Link prefetch={false} href={`/datasets/${shortId(ds.id)}`}>
                      {ds.name}
                    </Link>
                  </td>
                  <td className="mono">
                    {ds.generator} {ds.grid}×{ds.grid}
                  </td>
                  <td className="num">{num(ds.mazeCount)} mazes</td>
                  <td>
                    <Badge value={ds.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="card">
          <h2>
            Models{' '}
            <Link prefetch={false} href="/models">
              {d ? `${d.models.totalCount} · ` : ''}all →
            </Link>
          </h2>
          {d && models.length === 0 ? <p className="empty">No models yet. Import one on the models page.</p> : null}
          <table>
            <tbody>
              {models.map((m) => (
                <tr key={m.id}>
                  <td>
                    <Link prefetch={false} href={`/models/${shortId(m.id)}`}>
                      {m.name}
                    </Link>
                  </td>
                  <td className="mono">
                    {m.config.n_layers}L × {m.config.n_heads}H, d_model {m.config.d_model}
                  </td>
                  <td className="num">{num(m.parameterCount)} params</td>
                  <td>
                    <Badge value={m.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="card" data-testid="running-jobs">
          <h2>Running jobs</h2>
          {d && active.length === 0 ? <p className="empty">Nothing running.</p> : null}
          {active.map((j) => (
            <div key={j.id} style={{ marginBottom: 10 }}>
              <JobProgress job={j} onDone={reload} />
            </div>
          ))}
          {d && d.recent.edges.length > 0 ? (
            <>
              <h3 style={{ marginTop: 12 }}>Latest</h3>
              <table>
                <tbody>
                  {d.recent.edges.map(({ node: j }) => (
                    <tr key={j.id}>
                      <td>{j.id}</td>
                      <td className="mono">{j.kind}</td>
                      <td>
                        <Badge value={j.status} />
                      </td>
                      <td className="sub">
                        {j.createdBy?.name ?? 'system'} · {ago(j.createdAt)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </div>
        <RecentFindings models={models} />
      </div>
    </>
  );
}
