'use client';
/**
 * A labelled SVG heatmap: rows × columns of values with row labels on the left and column labels
 * (e.g. the tokens of a sequence) rotated along the bottom, a colour legend, and a tooltip per
 * cell. Signed data (patching effects, attributions) uses a diverging scale centred on zero;
 * unsigned data (attention, probabilities) a sequential one. NaN cells are grey.
 *
 * Read like circuitsvis' and plotly's heatmaps in TransformerLens notebooks: every row and column
 * is labelled (cells are at least a label's height wide, and a wide map scrolls inside its card
 * rather than skipping labels); hovering draws a crosshair over the cell's row and column and
 * reads out its labels and value; dragging a rectangle zooms to those rows and columns (the colour
 * scale stays the whole map's, so zoomed values compare with the rest), and "Whole map" undoes it.
 * A click on a cell calls `onCellClick` (drill-down to what is behind it).
 */
import { useMemo, useState } from 'react';
import { absMax, divergingColour, finiteRange, sequentialColour, textOn } from '../../lib/experiments';

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
  /** A click on cell (row, col) of the whole map: e.g. open the mazes behind it. */
  onCellClick?: (row: number, col: number) => void;
  testId?: string;
}

/** What a map draws, as a short string (FNV-1a over its values and labels): equal for the same data, whatever array holds it. */
function fingerprint(values: ArrayLike<number>, rowLabels: readonly string[], colLabels: readonly string[]): string {
  let h = 0x811c9dc5;
  const mix = (x: number): void => {
    h = Math.imul(h ^ x, 0x01000193) >>> 0;
  };
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    mix(Number.isFinite(v) ? Math.round(v * 1e6) | 0 : -1);
  }
  for (const l of [...rowLabels, '|', ...colLabels]) for (let i = 0; i < l.length; i++) mix(l.charCodeAt(i));
  return `${values.length}:${h}`;
}

/** Smallest cell side that fits a label (11 px text): every row and column keeps its label. */
const LABEL_CELL = 11;

interface Crop {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
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
  onCellClick,
  testId = 'heatmap',
}: HeatmapProps) {
  // A zoom belongs to the data it was made on: when the values or labels change (another pair, site,
  // target or metric), the map shows whole again, whichever view draws it.
  const drawn = useMemo(() => fingerprint(values, rowLabels, colLabels), [values, rowLabels, colLabels]);
  const [zoom, setCrop] = useState<(Crop & { of: string }) | null>(null);
  const crop = zoom && zoom.of === drawn && zoom.r1 <= rows && zoom.c1 <= cols ? zoom : null;
  const [hover, setHover] = useState<{ r: number; c: number } | null>(null);
  const [drag, setDrag] = useState<{ r: number; c: number; r2: number; c2: number } | null>(null);
  // The visible block [r0, r1) × [c0, c1) of the whole map.
  const { r0, r1, c0, c1 } = crop ?? { r0: 0, r1: rows, c0: 0, c1: cols };
  const vr = r1 - r0;
  const vc = c1 - c0;
  const shownCols = colLabels.slice(c0, c1);
  const shownRows = rowLabels.slice(r0, r1);
  const longest = Math.max(1, ...shownCols.map((l) => l.length));
  // Room for the row labels, and for the first column label, which slants down to the left.
  const left = Math.max(Math.min(140, 10 + 7 * Math.max(4, ...shownRows.map((l) => l.length))), Math.min(80, 6 + 2.7 * longest));
  const bottom = Math.min(120, 14 + 5.2 * longest);
  const cw = cell ?? Math.max(LABEL_CELL, Math.min(28, Math.floor((maxWidth - left - 20) / Math.max(1, vc))));
  // Square cells for big matrices (attention patterns); at least label height for short ones.
  const ch = showValues ? 26 : vr > 24 ? cw : Math.max(vr <= 8 ? 22 : 14, Math.min(28, cw));
  const legendH = 34;
  const height = 8 + vr * ch + bottom + legendH;
  // The scale is the whole map's, zoomed or not.
  const [lo, hi] = useMemo(
    () =>
      range ??
      (diverging
        ? (() => {
            const m = absMax(values);
            return [-m, m] as const;
          })()
        : finiteRange(values)),
    [range, diverging, values],
  );
  const colour = (v: number): string => (diverging ? divergingColour(v, Math.max(Math.abs(lo), Math.abs(hi))) : sequentialColour(v, lo, hi));
  const mark = new Set(marked ?? []);
  // The cells are many (a pattern is T × T): built once per view, not on every hover.
  // biome-ignore lint/correctness/useExhaustiveDependencies: colour is a function of lo, hi and diverging
  const cells = useMemo(() => {
    const out: React.ReactNode[] = [];
    for (let r = r0; r < r1; r++) {
      for (let c = c0; c < c1; c++) {
        const v = values[r * cols + c];
        const fill = colour(v);
        const x = left + (c - c0) * cw;
        const y = 8 + (r - r0) * ch;
        out.push(
          <rect key={`${r}.${c}`} x={x} y={y} width={cw} height={ch} fill={fill} data-v={Number.isFinite(v) ? v.toFixed(4) : 'nan'}>
            <title>{`${rowLabels[r] ?? r} · ${colLabels[c] ?? c}: ${valueLabel} ${fmt(v)}`}</title>
          </rect>,
        );
        if (showValues)
          out.push(
            <text key={`v${r}.${c}`} className="cell-value" x={x + cw / 2} y={y + ch / 2 + 4} textAnchor="middle" style={{ fill: textOn(fill) }}>
              {Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)) : ''}
            </text>,
          );
      }
    }
    return out;
  }, [values, cols, r0, r1, c0, c1, left, cw, ch, lo, hi, diverging, rowLabels, colLabels, valueLabel, showValues]);
  const legendY = 8 + vr * ch + bottom + 8;
  const legendW = Math.min(260, Math.max(140, vc * cw));
  const width = Math.max(left + vc * cw + 20, left + legendW + 16 + 6.2 * valueLabel.length);
  const stops = Array.from({ length: 11 }, (_, i) => lo + ((hi - lo) * i) / 10);

  /** The whole map's (row, col) under the pointer, or null off the cells. */
  const cellAt = (ev: React.MouseEvent<SVGSVGElement>): { r: number; c: number } | null => {
    const box = ev.currentTarget.getBoundingClientRect();
    const c = Math.floor((ev.clientX - box.left - left) / cw);
    const r = Math.floor((ev.clientY - box.top - 8) / ch);
    return r >= 0 && r < vr && c >= 0 && c < vc ? { r: r + r0, c: c + c0 } : null;
  };
  const h = hover && hover.r >= r0 && hover.r < r1 && hover.c >= c0 && hover.c < c1 ? hover : null;
  const hv = h ? values[h.r * cols + h.c] : NaN;
  const sel = drag ? { ra: Math.min(drag.r, drag.r2), rb: Math.max(drag.r, drag.r2), ca: Math.min(drag.c, drag.c2), cb: Math.max(drag.c, drag.c2) } : null;
  return (
    <div className="heatmap-wrap">
      <div className="heatmap-bar">
        <span className="heatmap-readout" data-testid={`${testId}-readout`}>
          {h
            ? `${rowLabels[h.r] ?? h.r} · ${colLabels[h.c] ?? h.c}: ${valueLabel} ${fmt(hv)}`
            : `${vr < rows || vc < cols ? `rows ${r0}–${r1 - 1}, columns ${c0}–${c1 - 1} of ${rows} × ${cols}; ` : ''}hover a cell to read it; drag to zoom`}
        </span>
        {crop ? (
          <button type="button" className="small" data-testid={`${testId}-unzoom`} onClick={() => setCrop(null)}>
            Whole map
          </button>
        ) : null}
      </div>
      <svg
        className="heatmap"
        width={width}
        height={height}
        role="img"
        aria-label={valueLabel}
        data-testid={testId}
        data-rows={rows}
        data-cols={cols}
        data-shown={`${r0}:${r1},${c0}:${c1}`}
        style={onCellClick ? { cursor: 'pointer' } : undefined}
        onMouseMove={(ev) => {
          const at = cellAt(ev);
          if (at?.r !== hover?.r || at?.c !== hover?.c) setHover(at);
          if (drag && at) setDrag({ ...drag, r2: at.r, c2: at.c });
        }}
        onMouseLeave={() => {
          setHover(null);
          setDrag(null);
        }}
        onMouseDown={(ev) => {
          const at = cellAt(ev);
          if (at && ev.button === 0) {
            ev.preventDefault(); // no text selection while dragging
            setDrag({ ...at, r2: at.r, c2: at.c });
          }
        }}
        onMouseUp={(ev) => {
          const at = cellAt(ev) ?? (drag ? { r: drag.r2, c: drag.c2 } : null);
          if (drag && at) {
            const ra = Math.min(drag.r, at.r);
            const rb = Math.max(drag.r, at.r);
            const ca = Math.min(drag.c, at.c);
            const cb = Math.max(drag.c, at.c);
            if (ra === rb && ca === cb) onCellClick?.(ra, ca);
            else setCrop({ r0: ra, r1: rb + 1, c0: ca, c1: cb + 1, of: drawn });
          }
          setDrag(null);
        }}
      >
        {cells}
        {[...mark]
          .filter((c) => c >= c0 && c < c1)
          .map((c) => (
            <rect key={`m${c}`} x={left + (c - c0) * cw} y={8} width={cw} height={vr * ch} fill="none" stroke="#111" strokeWidth={1.5} />
          ))}
        {h ? (
          <g className="crosshair" pointerEvents="none" data-testid={`${testId}-crosshair`}>
            <rect x={left} y={8 + (h.r - r0) * ch} width={vc * cw} height={ch} fill="none" stroke="#111" strokeOpacity={0.45} />
            <rect x={left + (h.c - c0) * cw} y={8} width={cw} height={vr * ch} fill="none" stroke="#111" strokeOpacity={0.45} />
            <rect x={left + (h.c - c0) * cw} y={8 + (h.r - r0) * ch} width={cw} height={ch} fill="none" stroke="#111" strokeWidth={2} />
          </g>
        ) : null}
        {sel ? (
          <rect
            className="zoom-selection"
            pointerEvents="none"
            x={left + (sel.ca - c0) * cw}
            y={8 + (sel.ra - r0) * ch}
            width={(sel.cb - sel.ca + 1) * cw}
            height={(sel.rb - sel.ra + 1) * ch}
            fill="rgba(47, 111, 219, 0.12)"
            stroke="#2f6fdb"
          />
        ) : null}
        {shownRows.map((l, i) => (
          <text key={`r${i}`} className={`row-label${h && h.r === i + r0 ? ' hover' : ''}`} x={left - 6} y={8 + i * ch + ch / 2 + 4} textAnchor="end">
            {l}
          </text>
        ))}
        {shownCols.map((l, i) => (
          <text
            key={`c${i}`}
            className={`col-label${mark.has(i + c0) ? ' marked' : ''}${h && h.c === i + c0 ? ' hover' : ''}`}
            transform={`translate(${left + i * cw + cw / 2 + 3}, ${8 + vr * ch + 6}) rotate(-60)`}
            textAnchor="end"
          >
            {l}
          </text>
        ))}
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
