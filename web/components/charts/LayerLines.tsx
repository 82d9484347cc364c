'use client';
/**
 * Lines over categories (layers: "resid_pre 0", …, "resid_post 3"): one series per measure, with
 * dashed series for controls and baselines, a point per value, and a legend. Missing values (null,
 * NaN) break the line. A series of rates that gives its trial counts `n` draws each point's 95%
 * Wilson interval as a whisker (lib/stats.ts) and names n in its tooltip; series are then set a few
 * pixels apart, so lines that coincide (controls at 0) stay readable.
 */
import { wilson } from '../../lib/stats';

export interface LayerSeries {
  name: string;
  values: ReadonlyArray<number | null>;
  /** Trials behind each value (a rate over n): draws its confidence interval. */
  n?: ReadonlyArray<number | null>;
  dashed?: boolean;
  colour?: string;
}

const COLOURS = ['#2f6fdb', '#d62728', '#1f8a4c', '#b7791f', '#7b3fb5', '#17a2b8'];

export function LayerLines({
  categories,
  series,
  yLabel,
  range = [0, 1],
  width = 560,
  height = 260,
  testId = 'layer-chart',
  onCategoryClick,
}: {
  categories: readonly string[];
  series: readonly LayerSeries[];
  yLabel: string;
  range?: readonly [number, number] | 'auto';
  width?: number;
  height?: number;
  testId?: string;
  /** A click on a point of category i (drill-down to what is behind it). */
  onCategoryClick?: (i: number) => void;
}) {
  const all = series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const [y0, y1] = range === 'auto' ? [Math.min(0, ...all), Math.max(1e-9, ...all)] : range;
  const longest = Math.max(1, ...categories.map((c) => c.length));
  const legend = 44 + 6.3 * Math.max(4, ...series.map((s) => s.name.length));
  const m = { l: 46, r: legend, t: 12, b: longest > 6 ? 22 + longest * 4.2 : 30 };
  const w = Math.max(width, m.l + m.r + 60 * categories.length);
  // Categories sit in the middle of equal slots, clear of the axes.
  const slot = (i: number): number => m.l + ((i + 0.5) / Math.max(1, categories.length)) * (w - m.l - m.r);
  // With intervals drawn, series k sits `offset(k)` px off the slot's centre so whiskers do not overlap.
  const spread = series.some((s) => s.n) ? 5 : 0;
  const offset = (k: number): number => (k - (series.length - 1) / 2) * spread;
  const sy = (v: number): number => height - m.b - ((v - y0) / (y1 - y0 || 1)) * (height - m.t - m.b);
  const ticks = Array.from({ length: 5 }, (_, i) => y0 + ((y1 - y0) * i) / 4);
  return (
    <svg className="chart" width={w} height={height} role="img" aria-label={yLabel} data-testid={testId}>
      {ticks.map((v) => (
        <g key={v}>
          <line x1={m.l - 3} x2={w - m.r} y1={sy(v)} y2={sy(v)} stroke="#eef0f3" />
          <text x={m.l - 6} y={sy(v) + 3} textAnchor="end">
            {Number(v.toPrecision(3))}
          </text>
        </g>
      ))}
      <line className="axis" x1={m.l} y1={height - m.b} x2={w - m.r} y2={height - m.b} />
      <line className="axis" x1={m.l} y1={m.t} x2={m.l} y2={height - m.b} />
      {categories.map((c, i) => (
        <text
          key={c}
          transform={longest > 6 ? `translate(${slot(i) + 3}, ${height - m.b + 10}) rotate(-35)` : `translate(${slot(i)}, ${height - m.b + 14})`}
          textAnchor={longest > 6 ? 'end' : 'middle'}
        >
          {c}
        </text>
      ))}
      <text transform={`translate(12, ${(height - m.b + m.t) / 2}) rotate(-90)`} textAnchor="middle">
        {yLabel}
      </text>
      {series.map((s, k) => {
        const colour = s.colour ?? COLOURS[k % COLOURS.length];
        const sx = (i: number): number => slot(i) + offset(k);
        const runs: string[][] = [[]];
        s.values.forEach((v, i) => {
          if (v === null || !Number.isFinite(v)) runs.push([]);
          else runs[runs.length - 1].push(`${sx(i).toFixed(1)},${sy(v).toFixed(1)}`);
        });
        return (
          <g key={s.name} data-series={s.name}>
            {runs
              .filter((r) => r.length > 1)
              .map((r, j) => (
                <polyline key={j} fill="none" stroke={colour} strokeWidth={2} strokeDasharray={s.dashed ? '5,4' : undefined} points={r.join(' ')} />
              ))}
            {s.values.map((v, i) => {
              if (v === null || !Number.isFinite(v)) return null;
              const n = s.n?.[i];
              const ci = wilson(v, n);
              return (
                <g key={i}>
                  {ci ? (
                    <path
                      className="ci"
                      d={`M${sx(i) - 3},${sy(ci.lo)}H${sx(i) + 3}M${sx(i)},${sy(ci.lo)}V${sy(ci.hi)}M${sx(i) - 3},${sy(ci.hi)}H${sx(i) + 3}`}
                      stroke={colour}
                      strokeWidth={1}
                      opacity={0.7}
                    />
                  ) : null}
                  <circle
                    cx={sx(i)}
                    cy={sy(v)}
                    r={onCategoryClick ? 4.5 : 3.2}
                    fill={s.dashed ? '#fff' : colour}
                    stroke={colour}
                    strokeWidth={1.5}
                    data-category={i}
                    style={onCategoryClick ? { cursor: 'pointer' } : undefined}
                    onClick={onCategoryClick ? () => onCategoryClick(i) : undefined}
                  >
                    <title>{`${s.name} · ${categories[i]}: ${v.toPrecision(3)}${n != null ? ` (n = ${n}${ci ? `, 95% CI ${ci.lo.toFixed(2)}–${ci.hi.toFixed(2)}` : ''})` : ''}`}</title>
                  </circle>
                </g>
              );
            })}
            <line
              x1={w - m.r + 12}
              x2={w - m.r + 32}
              y1={m.t + 8 + k * 16}
              y2={m.t + 8 + k * 16}
              stroke={colour}
              strokeWidth={2}
              strokeDasharray={s.dashed ? '5,4' : undefined}
            />
            <text x={w - m.r + 38} y={m.t + 12 + k * 16} style={{ fill: 'var(--ink)' }}>
              {s.name}
            </text>
          </g>
        );
      })}
      {spread ? (
        <text x={w - m.r + 12} y={m.t + 12 + series.length * 16} className="sub" style={{ fill: 'var(--muted)' }}>
          whiskers: 95% Wilson CI
        </text>
      ) : null}
    </svg>
  );
}
