'use client';
/**
 * Horizontal bars of signed values around a zero line (e.g. each component's direct logit
 * attribution): positive to the right in red, negative to the left in blue, value at the bar's end.
 */
import { absMax } from '../../lib/experiments';

export interface Bar {
  label: string;
  value: number;
  note?: string;
  /** Makes the label a link (e.g. a component's page). */
  href?: string | null;
}

export function Bars({ items, width = 620, valueLabel, testId = 'bars' }: { items: readonly Bar[]; width?: number; valueLabel: string; testId?: string }) {
  const left = Math.min(150, 12 + 7 * Math.max(4, ...items.map((b) => b.label.length)));
  const rowH = 20;
  const gutter = 46; // room for a value label beyond the longest bar on either side
  const plot = width - left - 2 * gutter;
  const max = absMax(items.map((b) => b.value)) || 1;
  const zero = left + gutter + plot / 2;
  const height = 24 + items.length * rowH + 18;
  return (
    <svg className="chart bars" width={width} height={height} role="img" aria-label={valueLabel} data-testid={testId}>
      <line className="axis" x1={zero} x2={zero} y1={14} y2={height - 18} />
      <text x={zero} y={10} textAnchor="middle">
        0
      </text>
      <text x={left + gutter} y={10} textAnchor="middle">
        {(-max).toPrecision(2)}
      </text>
      <text x={left + gutter + plot} y={10} textAnchor="middle">
        {max.toPrecision(2)}
      </text>
      {items.map((b, i) => {
        const w = Number.isFinite(b.value) ? (Math.abs(b.value) / max) * (plot / 2) : 0;
        const y = 18 + i * rowH;
        const x = b.value >= 0 ? zero : zero - w;
        return (
          <g key={b.label} data-label={b.label}>
            {b.href ? (
              <a href={b.href}>
                <text x={left - 6} y={y + 13} textAnchor="end" className="row-label link">
                  {b.label}
                </text>
              </a>
            ) : (
              <text x={left - 6} y={y + 13} textAnchor="end" className="row-label">
                {b.label}
              </text>
            )}
            <rect x={x} y={y + 3} width={Math.max(w, 0.5)} height={rowH - 6} fill={b.value >= 0 ? '#c0392b' : '#2166ac'} opacity={0.85}>
              <title>{`${b.label}: ${valueLabel} ${Number.isFinite(b.value) ? b.value.toPrecision(4) : 'n/a'}${b.note ? ` (${b.note})` : ''}`}</title>
            </rect>
            <text x={b.value >= 0 ? x + w + 4 : x - 4} y={y + 13} textAnchor={b.value >= 0 ? 'start' : 'end'}>
              {Number.isFinite(b.value) ? b.value.toPrecision(3) : 'n/a'}
            </text>
          </g>
        );
      })}
      <text x={zero} y={height - 4} textAnchor="middle">
        {valueLabel}
      </text>
    </svg>
  );
}
