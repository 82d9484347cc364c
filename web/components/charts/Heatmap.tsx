'use client';
/**
 * A labelled SVG heatmap: rows × columns of values with row labels on the left and column labels
 * (e.g. the tokens of a sequence) rotated along the bottom, a colour legend, and a tooltip per
 * cell. Signed data (patching effects, attributions) uses a diverging scale centred on zero;
 * unsigned data (attention, probabilities) a sequential one. NaN cells are grey.
 */
import { absMax, divergingColour, finiteRange, labelStride, sequentialColour, textOn } from '../../lib/experiments';

export interface HeatmapProps {
  /** Row-major [rows, cols]. */
  values: ArrayLike<number>;
  rows: number;
  cols: number;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  /** Signed data on a symmetric scale around 0. */
  diverging?: boolean;
  /** Fixed scale: [lo, hi] (sequential) or [-m, m] (diverging). */
  range?: readonly [number, number];
  /** What the values are, for the legend and tooltips. */
  valueLabel: string;
  /** Columns to mark (e.g. the positions where clean and corrupted prompts differ). */
  marked?: readonly number[];
  maxWidth?: number;
  /** Fixed cell width (small matrices read better with wide cells). */
  cell?: number;
  /** Print each value in its cell (for small matrices). */
  showValues?: boolean;
  testId?: string;
}

const fmt = (v: number): string => (Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : 'n/a');

export function Heatmap({
  values,
  rows,
  cols,
  rowLabels,
  colLabels,
  diverging,
  range,
  valueLabel,
  marked,
  maxWidth = 1180,
  cell,
  showValues,
  testId = 'heatmap',
}: HeatmapProps) {
  const longest = Math.max(1, ...colLabels.map((l) => l.length));
  // Room for the row labels, and for the first column label, which slants down to the left.
  const left = Math.max(Math.min(140, 10 + 7 * Math.max(4, ...rowLabels.map((l) => l.length))), Math.min(80, 6 + 2.7 * longest));
  const bottom = Math.min(120, 14 + 5.2 * longest);
  const cw = cell ?? Math.max(4, Math.min(28, Math.floor((maxWidth - left - 20) / Math.max(1, cols))));
  // Square cells for big matrices (attention patterns); at least label height for short ones.
  const ch = showValues ? 26 : rows > 24 ? cw : Math.max(rows <= 8 ? 22 : 14, Math.min(28, cw));
  const stride = labelStride(cw, 11);
  const rowStride = labelStride(ch, 11);
  const legendH = 34;
  const height = 8 + rows * ch + bottom + legendH;
  const [lo, hi] =
    range ??
    (diverging
      ? (() => {
          const m = absMax(values);
          return [-m, m] as const;
        })()
      : finiteRange(values));
  const colour = (v: number): string => (diverging ? divergingColour(v, Math.max(Math.abs(lo), Math.abs(hi))) : sequentialColour(v, lo, hi));
  const mark = new Set(marked ?? []);
  const cells: React.ReactNode[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      const fill = colour(v);
      cells.push(
        <rect key={`${r}.${c}`} x={left + c * cw} y={8 + r * ch} width={cw} height={ch} fill={fill} data-v={Number.isFinite(v) ? v.toFixed(4) : 'nan'}>
          <title>{`${rowLabels[r] ?? r} · ${colLabels[c] ?? c}: ${valueLabel} ${fmt(v)}`}</title>
        </rect>,
      );
      if (showValues)
        cells.push(
          <text
            key={`v${r}.${c}`}
            className="cell-value"
            x={left + c * cw + cw / 2}
            y={8 + r * ch + ch / 2 + 4}
            textAnchor="middle"
            style={{ fill: textOn(fill) }}
          >
            {Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)) : ''}
          </text>,
        );
    }
  }
  const legendY = 8 + rows * ch + bottom + 8;
  const legendW = Math.min(260, Math.max(140, cols * cw));
  const width = Math.max(left + cols * cw + 20, left + legendW + 16 + 6.2 * valueLabel.length);
  const stops = Array.from({ length: 11 }, (_, i) => lo + ((hi - lo) * i) / 10);
  return (
    <div className="heatmap-wrap">
      <svg className="heatmap" width={width} height={height} role="img" aria-label={valueLabel} data-testid={testId} data-rows={rows} data-cols={cols}>
        {cells}
        {[...mark]
          .filter((c) => c < cols)
          .map((c) => (
            <rect key={`m${c}`} x={left + c * cw} y={8} width={cw} height={rows * ch} fill="none" stroke="#111" strokeWidth={1.5} />
          ))}
        {rowLabels.map((l, r) =>
          r % rowStride === 0 ? (
            <text key={`r${r}`} className="row-label" x={left - 6} y={8 + r * ch + ch / 2 + 4} textAnchor="end">
              {l}
            </text>
          ) : null,
        )}
        {colLabels.map((l, c) =>
          c % stride === 0 ? (
            <text
              key={`c${c}`}
              className={`col-label${mark.has(c) ? ' marked' : ''}`}
              transform={`translate(${left + c * cw + cw / 2 + 3}, ${8 + rows * ch + 6}) rotate(-60)`}
              textAnchor="end"
            >
              {l}
            </text>
          ) : null,
        )}
        <defs>
          <linearGradient id={`${testId}-legend`}>
            {stops.map((v, i) => (
              <stop key={i} offset={`${i * 10}%`} stopColor={colour(v)} />
            ))}
          </linearGradient>
        </defs>
        <rect x={left} y={legendY} width={legendW} height={10} fill={`url(#${testId}-legend)`} stroke="#c9cfd6" />
        <text className="legend" x={left} y={legendY + 22}>
          {fmt(lo)}
        </text>
        {diverging ? (
          <text className="legend" x={left + legendW / 2} y={legendY + 22} textAnchor="middle">
            0
          </text>
        ) : null}
        <text className="legend" x={left + legendW} y={legendY + 22} textAnchor="end">
          {fmt(hi)}
        </text>
        <text className="legend" x={left + legendW + 10} y={legendY + 9}>
          {valueLabel}
        </text>
      </svg>
    </div>
  );
}
