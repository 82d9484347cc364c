'use client';
/**
 * Lines over categories (layers: "resid_pre 0", …, "resid_post 3"): one series per measure, with
 * dashed series for controls and baselines, a point per value, and a legend. Missing values (null,
 * NaN) break the line.
 */
export interface LayerSeries {
  name: string;
  values: ReadonlyArray<number | null>;
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
}: {
  categories: readonly string[];
  series: readonly LayerSeries[];
  yLabel: string;
  range?: readonly [number, number] | 'auto';
  width?: number;
  height?: number;
  testId?: string;
}) {
  const all = series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const [y0, y1] = range === 'auto' ? [Math.min(0, ...all), Math.max(1e-9, ...all)] : range;
  const longest = Math.max(1, ...categories.map((c) => c.length));
  const legend = 44 + 6.3 * Math.max(4, ...series.map((s) => s.name.length));
  const m = { l: 46, r: legend, t: 12, b: longest > 6 ? 22 + longest * 4.2 : 30 };
  const w = Math.max(width, m.l + m.r + 60 * categories.length);
  // Categories sit in the middle of equal slots, clear of the axes.
  const sx = (i: number): number => m.l + ((i + 0.5) / Math.max(1, categories.length)) * (w - m.l - m.r);
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
          transform={longest > 6 ? `translate(${sx(i) + 3}, ${height - m.b + 10}) rotate(-35)` : `translate(${sx(i)}, ${height - m.b + 14})`}
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
            {s.values.map((v, i) =>
              v === null || !Number.isFinite(v) ? null : (
                <circle key={i} cx={sx(i)} cy={sy(v)} r={3.2} fill={s.dashed ? '#fff' : colour} stroke={colour} strokeWidth={1.5}>
                  <title>{`${s.name} · ${categories[i]}: ${v.toPrecision(3)}`}</title>
                </circle>
              ),
            )}
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
    </svg>
  );
}
