'use client';
/**
 * "Which SAE latents are active on this token?": pick one of the model's trained SAEs, and the maze's
 * sequence is run through the model now and encoded by it; click a token to list its active latents,
 * each linking to its feature page. Tokens the SAE was not trained on still get codes (shown dimmed
 * by how many latents fire).
 */
import Link from 'next/link';
import { useState } from 'react';
import type { ModelSaesQuery, SaeActivationsQuery } from '../../lib/generated/operations';
import { fullId, shortId } from '../../lib/graphql';
import { featureHref } from '../../lib/url';
import { useQuery } from '../../lib/hooks';
import { TokenSequence } from '../TokenSequence';
import { ErrorBox } from '../ui';
import { fmt } from './experiment/common';
import { MODEL_SAES, SAE_ACTIVATIONS } from './SaeAtTokens.queries';

export function SaeAtTokens({ modelId, tokens }: { modelId: string; tokens: readonly string[] }) {
  const saes = useQuery<ModelSaesQuery>(MODEL_SAES, { modelId: fullId('Model', modelId) });
  const done = (saes.data?.experiments.edges ?? []).map((e) => e.node).filter((n) => n.status === 'COMPLETED' && n.result?.__typename === 'SaeSummary');
  const [sae, setSae] = useState('');
  const [pos, setPos] = useState<number | null>(null);
  const acts = useQuery<SaeActivationsQuery>(SAE_ACTIVATIONS, { id: sae, tokens: tokens.join(' ') }, { skip: !sae });
  const rows = acts.data?.experiment?.saeActivations ?? [];
  const here = pos !== null ? rows[pos] : undefined;
  return (
    <div className="card" data-testid="sae-at-tokens">
      <h2>SAE latents on this maze</h2>
      <ErrorBox error={saes.error ?? acts.error} />
      {done.length === 0 && !saes.loading ? (
        <p className="empty">This model has no trained SAE yet (an sae experiment).</p>
      ) : (
        <label>
          SAE{' '}
          <select name="sae" value={sae} onChange={(ev) => setSae(ev.target.value)}>
            <option value="">choose…</option>
            {done.map((n) => (
              <option key={n.id} value={n.id}>
                {`Experiment ${shortId(n.id)}`}
                {n.result?.__typename === 'SaeSummary' ? ` · ${n.result.hook} at ${n.result.classes.join(', ')} · ${n.result.d_sae} latents` : ''}
              </option>
            ))}
          </select>
        </label>
      )}
      {sae && acts.loading ? <p className="sub">Running the model…</p> : null}
      {rows.length ? (
        <>
          <p className="sub">Click a token to list the latents active there.</p>
          <TokenSequence tokens={tokens} current={pos ?? undefined} onPick={setPos} />
          {here ? (
            <table className="compact" data-testid="sae-token-latents">
              <thead>
                <tr>
                  <th>
                    Position {here.position} (<span className="mono">{here.token}</span>): latent
                  </th>
                  <th className="num">Activation</th>
                </tr>
              </thead>
              <tbody>
                {here.latents.map((l) => (
                  <tr key={l.latent}>
                    <td>
                      <Link prefetch={false} href={featureHref(sae, l.latent)}>
                        {l.latent}
                      </Link>
                    </td>
                    <td className="num">{fmt(l.activation)}</td>
                  </tr>
                ))}
                {here.latents.length === 0 ? (
                  <tr>
                    <td colSpan={2} className="empty">
                      No latent is active at this position.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
