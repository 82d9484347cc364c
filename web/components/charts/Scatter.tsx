'use client';
/**
 * A 2-D scatter plot in SVG: one circle per point with its own colour and a hover title, axes
 * labelled, points kept inside the frame. For maps of activations (PCA, UMAP), where the axes
 * carry no units and only neighbourhoods matter.
 */
export interface ScatterProps {
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  /** CSS colour of each point. */
  colours: readonly string[];
  /** Hover text of each point. */
  titles: readonly string[];
  xLabel: string;
  yLabel: string;
  /** Colour key entries: [colour, label]. */
  legend: ReadonlyArray<readonly [string, string]>;
  testId?: string;
}

export function Scatter({ xs, ys, colours, titles, xLabel, yLabel, legend, testId }: ScatterProps) {
  const W = 520,
    H = 420,
    m = 40,
    pad = 10;
  const n = xs.length;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) continue;
    x0 = Math.min(x0, xs[i]);
    x1 = Math.max(x1, xs[i]);
    y0 = Math.min(y0, ys[i]);
    y1 = Math.max(y1, ys[i]);
  }
  const sx = (v: number) => m + pad + ((v - x0) / (x1 - x0 || 1)) * (W - 2 * m - 2 * pad);
  const sy = (v: number) => H - m - pad - ((v - y0) / (y1 - y0 || 1)) * (H - 1.5 * m - 2 * pad);
  const points = [];
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) continue;
    points.push(
      <circle key={i} className="point" cx={sx(xs[i])} cy={sy(ys[i])} r={3.2} fill={colours[i]} fillOpacity={0.8} stroke="#fff" strokeWidth={0.5}>
        <title>{titles[i]}</title>
      </circle>,
    );
  }
  return (
    <svg className="chart" width={W + 150} height={H} role="img" aria-label={`${xLabel} against ${yLabel}`} data-testid={testId}>
      <rect x={m} y={m / 2} width={W - 2 * m} height={H - 1.5 * m} fill="none" stroke="#ccd" />
      {points}
      <text x={W / 2} y={H - 8} textAnchor="middle" className="axis-label">
        {xLabel}
      </text>
      <text x={12} y={H / 2} textAnchor="middle" className="axis-label" transform={`rotate(-90 12 ${H / 2})`}>
        {yLabel}
      </text>
      {legend.map(([c, label], i) => (
        <g key={label} transform={`translate(${W - m + 16}, ${m / 2 + 8 + i * 16})`}>
          <circle r={4} cx={4} cy={-4} fill={c} />
          <text x={14} y={0} className="legend">
            {label}
          </text>
        </g>
      ))}
    </svg>
  );
}
