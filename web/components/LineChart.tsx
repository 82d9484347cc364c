/** A small SVG line chart (training curves): one line per series, step on x. */
export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

const COLOURS = ['#2f6fdb', '#d62728', '#1f8a4c', '#b7791f', '#7b3fb5', '#17a2b8'];

function ticks(lo: number, hi: number, n = 4): number[] {
  if (!(hi > lo)) return [lo];
  const step = 10 ** Math.floor(Math.log10((hi - lo) / n));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= n) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-9; v += nice) out.push(Number(v.toPrecision(6)));
  return out;
}

export function LineChart({ series, width = 520, height = 220, yLabel }: { series: Series[]; width?: number; height?: number; yLabel?: string }) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return <p className="empty">No points yet.</p>;
  const m = { l: 46, r: 12, t: 10, b: 26 };
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y).filter(Number.isFinite);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys) > Math.min(...ys) ? Math.max(...ys) : Math.min(...ys) + 1];
  const sx = (x: number): number => m.l + ((x - x0) / (x1 - x0)) * (width - m.l - m.r);
  const sy = (y: number): number => height - m.b - ((y - y0) / (y1 - y0)) * (height - m.t - m.b);
  return (
    <svg className="chart" width={width} height={height} role="img" aria-label={yLabel ?? 'chart'}>
      <line className="axis" x1={m.l} y1={height - m.b} x2={width - m.r} y2={height - m.b} />
      <line className="axis" x1={m.l} y1={m.t} x2={m.l} y2={height - m.b} />
      {ticks(y0, y1).map((v) => (
        <g key={`y${v}`}>
          <line x1={m.l - 3} x2={width - m.r} y1={sy(v)} y2={sy(v)} stroke="#eef0f3" />
          <text x={m.l - 6} y={sy(v) + 3} textAnchor="end">
            {v}
          </text>
        </g>
      ))}
      {ticks(x0, x1).map((v) => (
        <text key={`x${v}`} x={sx(v)} y={height - m.b + 14} textAnchor="middle">
          {v}
        </text>
      ))}
      {series.map((s, i) => (
        <polyline
          key={s.name}
          fill="none"
          stroke={COLOURS[i % COLOURS.length]}
          strokeWidth={1.6}
          points={s.points
            .filter((p) => Number.isFinite(p.y))
            .map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
            .join(' ')}
        />
      ))}
      {series.map((s, i) => (
        <text key={`l${s.name}`} x={width - m.r} y={m.t + 10 + i * 12} textAnchor="end" style={{ fill: COLOURS[i % COLOURS.length] }}>
          {s.name}
        </text>
      ))}
    </svg>
  );
}
