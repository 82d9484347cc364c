'use client';
/** /circuits: every model's circuits, most recently changed first, with who edits each. */
import type { CircuitsQuery } from '../../lib/generated/operations';
import Link from 'next/link';
import { shortId } from '../../lib/graphql';
import { useQuery } from '../../lib/hooks';
import { CIRCUITS } from './CircuitsView.queries';
import { ErrorBox, Title, ago } from '../ui';

export function CircuitsView() {
  const q = useQuery<CircuitsQuery>(CIRCUITS, {});
  const rows = q.data?.circuits ?? [];
  return (
    <>
      <Title sub="Hypothesised circuits, drawn and co-edited per model. Make one from a model's page.">Circuits</Title>
      <ErrorBox error={q.error} />
      <div className="card">
        {q.data && rows.length === 0 ? (
          <p className="empty">No circuits yet. Open a model and create one.</p>
        ) : (
          <table data-testid="circuits">
            <thead>
              <tr>
                <th>Circuit</th>
                <th>Model</th>
                <th>Version</th>
                <th>Edited by</th>
                <th>Changed</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link prefetch={false} href={`/circuits/${shortId(c.id)}`}>
                      {c.name}
                    </Link>
                  </td>
                  <td>
                    <Link prefetch={false} href={`/models/${shortId(c.model.id)}`}>
                      {c.model.name}
                    </Link>
                  </td>
                  <td>v{c.version}</td>
                  <td>{[c.owner?.name ?? 'an admin', ...c.editors.map((u) => u.name)].join(', ')}</td>
                  <td className="sub">
                    {c.updatedBy?.name ?? 'someone'} · {ago(c.updatedAt)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
