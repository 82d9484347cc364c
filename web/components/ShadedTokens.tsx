'use client';
/**
 * A token sequence with each token shaded by a value there (an SAE latent's activation, a head's
 * attention from its query, a neuron's activation): by |value| on [0, max] (default the largest
 * |value|), the position of interest outlined; `null` marks a position the values do not cover.
 */
import { fmt } from './views/experiment/common';

export function ShadedTokens({
  tokens,
  values,
  position,
  max,
  nullTitle = 'no value here',
  testId,
}: {
  tokens: readonly string[];
  values: ReadonlyArray<number | null>;
  position: number;
  max?: number;
  nullTitle?: string;
  testId: string;
}) {
  const top = max ?? Math.max(0, ...values.map((v) => Math.abs(v ?? 0)));
  return (
    <div className="tokens" data-testid={testId}>
      {tokens.map((t, i) => {
        const v = values[i] ?? null;
        const a = v === null || !(top > 0) ? 0 : Math.min(1, Math.abs(v) / top);
        return (
          <span
            key={i}
            className={`tok${i === position ? ' current' : ''}`}
            title={v === null ? `position ${i}: ${nullTitle}` : `position ${i} ${t}: ${fmt(v)}`}
            style={{ background: a > 0 ? `rgba(214, 39, 40, ${0.15 + 0.7 * a})` : undefined }}
          >
            {t}
          </span>
        );
      })}
    </div>
  );
}
