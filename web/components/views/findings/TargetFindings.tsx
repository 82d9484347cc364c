'use client';
/**
 * The findings about one component (a head, MLP, neuron or SAE latent), newest 20 with how many
 * there are, each linking to it on the findings page, and a link to write one about it: the card
 * a component page and a feature page share.
 */
import Link from 'next/link';
import type { TargetFindingsQuery } from '../../../lib/generated/operations';
import { shortId } from '../../../lib/graphql';
import { useQuery } from '../../../lib/hooks';
import { Badge, ErrorBox } from '../../ui';
import { type Target, targetInput, targetParam } from './target';
import { TARGET_FINDINGS } from './TargetFindings.queries';

export function TargetFindings({ modelId, target, name, testId }: { modelId: string; target: Target; name: string; testId: string }) {
  const q = useQuery<TargetFindingsQuery>(TARGET_FINDINGS, { model: modelId, target: targetInput(target) });
  const list = q.data?.annotations.edges.map((e) => e.node) ?? [];
  const total = q.data?.annotations.totalCount ?? 0;
  return (
    <div className="card" data-testid={testId}>
      <h2>
        Findings{' '}
        {total > list.length ? (
          <span className="sub">
            newest {list.length} of {total}
          </span>
        ) : null}
      </h2>
      <ErrorBox error={q.error} />
      {list.length === 0 && !q.loading ? <p className="empty">No finding about {name} yet.</p> : null}
      <ul>
        {list.map((a) => (
          <li key={a.id}>
            <Badge value={a.status} />{' '}
            <Link prefetch={false} href={`/findings?model=${shortId(modelId)}&focus=${shortId(a.id)}`}>
              {a.body.split('\n')[0].slice(0, 140)}
            </Link>{' '}
            <span className="sub">— {a.author?.name ?? 'someone'}</span>
          </li>
        ))}
      </ul>
      <Link className="button" prefetch={false} href={`/findings?model=${shortId(modelId)}&target=${encodeURIComponent(targetParam(target))}`}>
        Write a finding about {name}…
      </Link>
    </div>
  );
}
