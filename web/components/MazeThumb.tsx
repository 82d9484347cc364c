/**
 * A maze thumbnail: the API's SVG inline, minus its per-cell rectangles (white on white in a
 * thumbnail; hover and heat layers are for the full-size views), which cuts a grid's DOM roughly
 * in half. Walls keep a constant on-screen width however far the drawing is scaled
 * (`vector-effect: non-scaling-stroke` in globals.css), so one cell size serves every grid.
 *
 * (Tried: the SVG as <img> data URIs. Chromium builds an SVG document per image on the main
 * thread, and 500 of them took several times longer to paint than inline SVG.)
 */
import { memo } from 'react';

export function stripCells(svg: string): string {
  return svg.replace(/<g class="cells">[\s\S]*?<\/g>/, '');
}

function Thumb({ svg, alt }: { svg: string; alt: string }) {
  // biome-ignore lint/security/noDangerouslySetInnerHtml: the SVG is the API's renderSvg output (drawn from maze data, no user text)
  return <div className="maze-thumb" role="img" aria-label={alt} dangerouslySetInnerHTML={{ __html: stripCells(svg) }} />;
}

export const MazeThumb = memo(Thumb);
