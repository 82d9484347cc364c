'use client';
/**
 * A maze drawn by the API (`Maze.svg`, server/maze/render.ts: `rect.cell[data-cell="r,c"]`, walls,
 * solution, origin and target), with client-side layers on top: per-cell heat (attention), lit
 * cells (hover links with the token sequence), and a predicted path polyline. The SVG text comes
 * from our own API, which builds it from numbers and escapes its one text field (the title).
 */
import { memo, useEffect, useRef } from 'react';
import { heatColour } from '../lib/attention';

export interface MazeSvgProps {
  svg: string;
  /** [rows*cols] row-major values; cells are coloured on [0, heatMax]. */
  heat?: ArrayLike<number> | null;
  heatMax?: number;
  /** Cell keys "r,c" to highlight. */
  lit?: readonly string[];
  /** Predicted cells (null entries break the line). */
  predicted?: ReadonlyArray<readonly [number, number] | null> | null;
  onCellHover?: (cell: string | null) => void;
  className?: string;
  label?: string;
}

const NS = 'http://www.w3.org/2000/svg';

function Inner({ svg }: { svg: string }) {
  // biome-ignore lint/security/noDangerouslySetInnerHtml: the SVG is the API's renderSvg output (drawn from maze data, no user text)
  return <div dangerouslySetInnerHTML={{ __html: svg }} />;
}
// Re-render the injected SVG only when its text changes, so the layers below survive re-renders.
const StaticSvg = memo(Inner);

export function MazeSvg({ svg, heat, heatMax, lit, predicted, onCellHover, className, label }: MazeSvgProps) {
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const root = ref.current?.querySelector('svg');
    if (!root || !heat) return;
    const cols = Number(root.getAttribute('data-cols'));
    let max = heatMax ?? 0;
    if (heatMax === undefined) for (let i = 0; i < heat.length; i++) max = Math.max(max, heat[i]);
    const cells = root.querySelectorAll<SVGRectElement>('rect.cell');
    cells.forEach((el) => {
      const [r, c] = (el.getAttribute('data-cell') ?? '0,0').split(',').map(Number);
      const v = heat[r * cols + c] ?? 0;
      el.style.fill = heatColour(max > 0 ? v / max : 0);
      el.setAttribute('data-attn', v.toFixed(4));
    });
    return () =>
      cells.forEach((el) => {
        el.style.fill = '';
        el.removeAttribute('data-attn');
      });
  }, [svg, heat, heatMax]);

  useEffect(() => {
    const root = ref.current?.querySelector('svg');
    if (!root || !lit?.length) return;
    const els = lit.map((k) => root.querySelector(`rect.cell[data-cell="${k}"]`)).filter((e): e is Element => e !== null);
    els.forEach((e) => e.classList.add('lit'));
    return () => els.forEach((e) => e.classList.remove('lit'));
  }, [svg, lit]);

  useEffect(() => {
    const root = ref.current?.querySelector('svg');
    const first = root?.querySelector('rect.cell');
    if (!root || !first || !predicted?.length) return;
    // Geometry from the drawing itself: cell size and the outer padding.
    const cs = Number(first.getAttribute('width'));
    const pad = Number(first.getAttribute('x'));
    const centre = (v: number): number => pad + v * cs + cs / 2;
    const added: Element[] = [];
    let run: string[] = [];
    const flush = (): void => {
      if (run.length >= 2) {
        const pl = document.createElementNS(NS, 'polyline');
        pl.setAttribute('class', 'overlay-predicted');
        pl.setAttribute('points', run.join(' '));
        pl.setAttribute('fill', 'none');
        pl.setAttribute('stroke', '#d62728');
        pl.setAttribute('stroke-width', String(Math.max(2, cs / 7)));
        pl.setAttribute('stroke-dasharray', `${cs / 4},${cs / 8}`);
        pl.setAttribute('stroke-linecap', 'round');
        root.appendChild(pl);
        added.push(pl);
      }
      run = [];
    };
    for (const p of predicted) {
      if (p) run.push(`${centre(p[1])},${centre(p[0])}`);
      else flush();
    }
    flush();
    return () => added.forEach((e) => e.remove());
  }, [svg, predicted]);

  const hover = (e: React.MouseEvent): void => {
    if (!onCellHover) return;
    const cell = (e.target as Element).closest?.('rect.cell');
    onCellHover(cell ? cell.getAttribute('data-cell') : null);
  };

  return (
    <div
      ref={ref}
      className={`maze-svg ${className ?? ''}`}
      aria-label={label}
      onMouseOver={hover}
      onMouseLeave={onCellHover ? () => onCellHover(null) : undefined}
    >
      <StaticSvg svg={svg} />
    </div>
  );
}
