'use client';
/** The logit lens at the current position: each layer's resid_post read through ln_final and W_U. */
import { useMemo } from 'react';
import { type LensWeights, lensTopK } from '../../../lib/lens';
import type { NpyTensor } from '../../../lib/npy';

export function LogitLens({
  resid,
  lens,
  vocab,
  pos,
  actual,
}: {
  resid: NpyTensor[];
  lens: LensWeights;
  vocab: string[];
  pos: number;
  actual: string | undefined;
}) {
  const rows = useMemo(() => resid.map((r) => lensTopK(r.data, pos, lens, vocab, 3)), [resid, lens, vocab, pos]);
  return (
    <table className="lens" data-testid="logit-lens">
      <thead>
        <tr>
          <th>Layer</th>
          <th>top 1</th>
          <th>top 2</th>
          <th>top 3</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((top, l) => (
          <tr key={l}>
            <th>
              resid_post {l}
              {l === rows.length - 1 ? ' (output)' : ''}
            </th>
            {top.map((t, i) => (
              <td key={i} style={t.token === actual ? { fontWeight: 700, color: 'var(--ok)' } : undefined}>
                {t.token} <span className="sub">{(t.prob * 100).toFixed(0)}%</span>
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
