'use client';
/**
 * /experiments?model=M&kind=K&dataset=D&seed=S&params=…: the new-experiment form (researchers) and
 * the experiments run so far — of the chosen model — newest first, with live status; ticking two
 * or more (kept in the URL as cmp=…) opens them side by side (/experiments/compare).
 */
import type { ExperimentsQuery } from '../../lib/generated/operations';
import Link from 'next/link';
import { fullId, shortId } from '../../lib/graphql';
import { useQuery } from '../../lib/hooks';
import { EXPERIMENTS } from './ExperimentsView.queries';
import { useUrlState } from '../../lib/url';
import type { User } from '../../lib/types';
import { canWrite } from '../Session';
import { Badge, ErrorBox, Title, ago } from '../ui';
import { CreateExperiment } from './experiment/CreateExperiment';
import { ImportSae } from './experiment/ImportSae';

export function ExperimentsView({ me }: { me: User }) {
  const url = useUrlState();
  const model = url.get('model');
  const q = useQuery<ExperimentsQuery>(EXPERIMENTS, { modelId: model ? fullId('Model', model) : null });
  const rows = q.data?.experiments.edges.map((x) => x.node) ?? [];
  const picked = url.get('cmp') ? url.get('cmp').split(',').filter(Boolean) : [];
  const toggle = (id: string) => {
    const next = picked.includes(id) ? picked.filter((x) => x !== id) : [...picked, id];
    url.set({ cmp: next.join(',') || null });
  };
  const pickedKinds = new Set(rows.filter((r) => picked.includes(shortId(r.id))).map((r) => r.kind));
  return (
    <>
      <Title sub="interpretability experiments: attention, logit lens, DLA, patching, probes, weights, adjacency heads, retargeting, behaviour">
        Experiments
      </Title>
      <ErrorBox error={q.error} />
      <div className="row">
        {canWrite(me) ? (
          <div style={{ flex: '1 1 460px' }}>
            <CreateExperiment />
            {model ? <ImportSae model={model} /> : null}
          </div>
        ) : null}
        <div className="card" style={{ flex: '2 1 560px' }}>
          <h2>
            {model && rows[0] ? `Experiments on ${rows[0].model.name}` : 'Experiments'}{' '}
            <span className="sub">{q.data ? q.data.experiments.totalCount : ''}</span>
          </h2>
          {picked.length ? (
            <p className="filters" data-testid="compare-picked">
              {picked.length >= 2 ? (
                <Link prefetch={false} className="button primary" href={`/experiments/compare?ids=${picked.join(',')}`}>
                  Compare {picked.length} runs
                </Link>
              ) : (
                <span className="sub">Tick another run of the same kind to compare.</span>
              )}
              {pickedKinds.size > 1 ? <span className="sub"> These are runs of different kinds; only runs of one kind compare.</span> : null}
              <button type="button" onClick={() => url.set({ cmp: null })}>
                Clear
              </button>
            </p>
          ) : null}
          {rows.length ? (
            <table data-testid="experiments">
              <thead>
                <tr>
                  <th title="compare">⇆</th>
                  <th>#</th>
                  <th>Kind</th>
                  {model ? null : <th>Model</th>}
                  <th>Mazes</th>
                  <th>Status</th>
                  <th className="num">Seed</th>
                  <th>By</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => {
                  const p = r.job?.progress;
                  return (
                    <tr key={r.id}>
                      <td>
                        <input
                          type="checkbox"
                          name="compare"
                          value={shortId(r.id)}
                          aria-label={`compare experiment ${shortId(r.id)}`}
                          checked={picked.includes(shortId(r.id))}
                          disabled={r.status !== 'COMPLETED'}
                          onChange={() => toggle(shortId(r.id))}
                        />
                      </td>
                      <td>
                        <Link prefetch={false} href={`/experiments/${shortId(r.id)}`}>
                          {shortId(r.id)}
                        </Link>
                      </td>
                      <td className="mono" style={{ whiteSpace: 'nowrap' }}>
                        <Link prefetch={false} href={`/experiments/${shortId(r.id)}`}>
                          {r.kind}
                        </Link>
                      </td>
                      {model ? null : (
                        <td>
                          <Link prefetch={false} href={`/models/${shortId(r.model.id)}`}>
                            {r.model.name}
                          </Link>
                        </td>
                      )}
                      <td>{r.dataset ? r.dataset.name : <span className="sub">generated</span>}</td>
                      <td>
                        <Badge value={r.status} />
                        {r.status === 'RUNNING' && p?.total ? <span className="sub"> {p.done}%</span> : null}
                      </td>
                      <td className="num">{r.seed}</td>
                      <td>{r.createdBy?.name ?? ''}</td>
                      <td className="sub" style={{ whiteSpace: 'nowrap' }}>
                        {ago(r.createdAt)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : q.data ? (
            <p className="empty">No experiments yet{model ? ' on this model' : ''}.</p>
          ) : null}
        </div>
      </div>
    </>
  );
}
