'use client';
/** /datasets: filterable list (generator, grid) and the create form that starts a job. */
import type { DatasetsQuery } from '../../lib/generated/operations';
import Link from 'next/link';
import { shortId } from '../../lib/graphql';
import { useQuery } from '../../lib/hooks';
import { DATASETS } from './DatasetsView.queries';
import { intParam, useUrlState } from '../../lib/url';
import type { User } from '../../lib/types';
import { canWrite } from '../Session';
import { Badge, ErrorBox, Title, ago, num } from '../ui';
import { CreateDataset } from './CreateDataset';

export function DatasetsView({ me }: { me: User }) {
  const url = useUrlState();
  const gen = url.get('generator');
  const grid = intParam(url.get('grid'), 0);
  const q = useQuery<DatasetsQuery>(DATASETS, { first: 500 });
  const all = q.data?.datasets.edges.map((e) => e.node) ?? [];
  const rows = all.filter((d) => (!gen || d.generator === gen) && (!grid || d.grid === grid));
  const grids = [...new Set(all.map((d) => d.grid))].sort((a, b) => a - b);
  return (
    <>
      <Title sub={q.data ? `${q.data.datasets.totalCount} datasets` : undefined}>Datasets</Title>
      <ErrorBox error={q.error} />
      <div className="row">
        <div className="card" style={{ flex: '2 1 640px' }}>
          <div className="filters">
            <label>
              Generator
              <select value={gen} onChange={(e) => url.set({ generator: e.target.value })} name="generator-filter">
                <option value="">all</option>
                {(q.data?.generators ?? []).map((g) => (
                  <option key={g} value={g}>
                    {g}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Grid
              <select value={grid || ''} onChange={(e) => url.set({ grid: e.target.value })} name="grid-filter">
                <option value="">all</option>
                {grids.map((g) => (
                  <option key={g} value={g}>
                    {g}×{g}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <table data-testid="datasets">
            <thead>
              <tr>
                <th>Name</th>
                <th>Generator</th>
                <th>Grid</th>
                <th className="num">Mazes</th>
                <th className="num">Seed</th>
                <th>Status</th>
                <th>By</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link prefetch={false} href={`/datasets/${shortId(d.id)}`}>
                      {d.name}
                    </Link>
                  </td>
                  <td className="mono">
                    {d.generator}
                    {d.p !== null ? ` p=${d.p}` : ''}
                  </td>
                  <td>
                    {d.grid}×{d.grid}
                  </td>
                  <td className="num">
                    {num(d.mazeCount)}
                    {d.status === 'BUILDING' ? ` / ${num(d.count)}` : ''}
                  </td>
                  <td className="num">{d.seed}</td>
                  <td>
                    <Badge value={d.status} />
                  </td>
                  <td>{d.createdBy?.name ?? 'demo'}</td>
                  <td className="sub">{ago(d.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {q.data && rows.length === 0 ? <p className="empty">No datasets match.</p> : null}
        </div>
        <div style={{ flex: '1 1 320px' }}>
          {canWrite(me) ? (
            <CreateDataset generators={q.data?.generators ?? []} onDone={q.reload} />
          ) : !me.id ? null : (
            <p className="notice">Viewers can browse; ask an admin for the researcher role to create datasets.</p>
          )}
        </div>
      </div>
    </>
  );
}
