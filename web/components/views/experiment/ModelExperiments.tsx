'use client';
/** The model page's experiments card: its newest experiments and a link to start one. */
import type { ExperimentsQuery } from '../../../lib/generated/operations';
import Link from 'next/link';
import { shortId } from '../../../lib/graphql';
import { useQuery } from '../../../lib/hooks';
import { EXPERIMENTS } from '../ExperimentsView.queries';
import { Badge, ErrorBox, ago } from '../../ui';

export function ModelExperiments({ modelId, canRun }: { modelId: string; canRun: boolean }) {
  const q = useQuery<ExperimentsQuery>(EXPERIMENTS, { modelId });
  const rows = q.data?.experiments.edges.map((x) => x.node).slice(0, 8) ?? [];
  const short = shortId(modelId);
  return (
    <div className="card" data-testid="model-experiments">
      <h2>
        Experiments{' '}
        <Link prefetch={false} href={`/experiments?model=${short}`} className="sub">
          all {q.data?.experiments.totalCount ?? ''} →
        </Link>
      </h2>
      <ErrorBox error={q.error} />
      {rows.length ? (
        <table className="compact">
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link prefetch={false} href={`/experiments/${shortId(r.id)}`}>
                    #{shortId(r.id)} {r.kind}
                  </Link>
                </td>
                <td>
                  <Badge value={r.status} />
                </td>
                <td className="sub">
                  {r.createdBy?.name ?? ''} · {ago(r.createdAt)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : q.data ? (
        <p className="empty">No experiments on this model yet.</p>
      ) : null}
      {canRun ? (
        <p style={{ marginTop: 10 }}>
          <Link prefetch={false} className="button primary" href={`/experiments?model=${short}`} data-testid="new-experiment">
            New experiment…
          </Link>
        </p>
      ) : null}
    </div>
  );
}
