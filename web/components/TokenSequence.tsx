'use client';
/**
 * A token sequence, one span per token. Coordinate tokens `(r,c)` carry data-cell="r,c" and light
 * up when their cell is hovered in the maze; hovering a token reports its cell.
 */
import { memo } from 'react';
import { tokenCell } from '../lib/attention';

export interface TokenSequenceProps {
  tokens: readonly string[];
  litCell?: string | null;
  /** Position to outline (the playground's current step). */
  current?: number;
  onHover?: (cell: string | null, position: number | null) => void;
  onPick?: (position: number) => void;
  /** Positions before this index are dimmed (e.g. the prompt before a prediction). */
  from?: number;
}

function Tokens({ tokens, litCell, current, onHover, onPick, from = 0 }: TokenSequenceProps) {
  return (
    <div className="tokens" data-testid="tokens" onMouseLeave={() => onHover?.(null, null)}>
      {tokens.map((t, i) => {
        const c = tokenCell(t);
        const key = c ? `${c[0]},${c[1]}` : undefined;
        const cls = ['tok', c ? 'cell' : 'special', key && key === litCell ? 'lit' : '', i === current ? 'current' : ''].join(' ');
        return (
          <span
            key={i}
            className={cls}
            data-cell={key}
            data-pos={i}
            title={`position ${i}`}
            style={i < from ? { opacity: 0.55 } : undefined}
            onMouseEnter={() => onHover?.(key ?? null, i)}
            onClick={onPick ? () => onPick(i) : undefined}
          >
            {t}
          </span>
        );
      })}
    </div>
  );
}

export const TokenSequence = memo(Tokens);
