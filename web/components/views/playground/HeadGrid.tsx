'use client';
/**
 * Every head's attention from the current query position, summed onto maze cells and drawn as a
 * heatmap over the maze, scaled to each head's own maximum or (`shared`) to one scale for every head,
 * so a head that barely attends to cells looks faint beside one that does. Each head links to a new
 * finding about it, citing this exact view.
 */
import Link from 'next/link';
import { useMemo } from 'react';
import { attentionToCells, positionCells } from '../../../lib/attention';
import type { NpyTensor } from '../../../lib/npy';
import { MazeSvg } from '../../MazeSvg';

export function HeadGrid({
  svg,
  rows,
  cols,
  tokens,
  patterns,
  query,
  nHeads,
  annotateHref,
  headHref,
  shared = false,
}: {
  svg: string;
  rows: number;
  cols: number;
  tokens: string[];
  patterns: NpyTensor[];
  query: number;
  nHeads: number;
  annotateHref: (layer: number, head: number) => string;
  /** The head's component page. */
  headHref: (layer: number, head: number) => string;
  /** One colour scale for every head (the largest cell value of any head) instead of one per head. */
  shared?: boolean;
}) {
  const cells = useMemo(() => positionCells(tokens, rows, cols), [tokens, rows, cols]);
  // Each head's cells with their maximum, and the maximum over every head (the shared scale).
  const { heads, globalMax } = useMemo(() => {
    const heads = patterns.map((p) =>
      Array.from({ length: nHeads }, (_, h) => {
        const a = attentionToCells(p.data, p.shape, h, query, cells, rows, cols);
        let max = 0;
        for (const v of a.heat) max = Math.max(max, v);
        return { ...a, max };
      }),
    );
    return { heads, globalMax: Math.max(0, ...heads.flat().map((a) => a.max)) };
  }, [patterns, nHeads, query, cells, rows, cols]);
  return (
    <div className="heads" style={{ gridTemplateColumns: `repeat(${nHeads}, minmax(120px, 1fr))` }} data-testid="head-grid">
      {heads.map((layer, l) =>
        layer.map((a, h) => {
          const { max } = a;
          return (
            <div key={`${l}.${h}`} className="head" data-head={`${l}.${h}`}>
              <header>
                <Link prefetch={false} className="mono" href={headHref(l, h)} data-testid={`head-page-${l}.${h}`}>
                  <strong>
                    L{l}H{h}
                  </strong>
                </Link>
                <span className="sub" title="attention on special tokens (not cells)">
                  {(a.offCells * 100).toFixed(0)}% off-cell
                </span>
              </header>
              <MazeSvg svg={svg} heat={a.heat} heatMax={(shared ? globalMax : max) || 1} label={`attention L${l}H${h}`} />
              <footer style={{ display: 'flex', justifyContent: 'space-between', fontSize: 11.5 }}>
                <span className="sub" data-max={max.toFixed(4)}>
                  max {max.toFixed(2)}
                  {shared ? ` (scale ${globalMax.toFixed(2)})` : ''}
                </span>
                <Link prefetch={false} href={annotateHref(l, h)} data-testid={`annotate-${l}.${h}`}>
                  annotate
                </Link>
              </footer>
            </div>
          );
        }),
      )}
    </div>
  );
}
