/**
 * The playground's edited maze: a grid with open edges as two bit planes (the layout of
 * server/maze/lattice.ts: down[r*cols+c] opens (r,c)–(r+1,c), right[r*cols+c] opens (r,c)–(r,c+1)),
 * plus origin and target. It lives in the URL as `RxC_or-oc_tr-tc_HEX` (HEX: the down plane then the
 * right plane, 4 bits per hex digit) so an edited view is shareable; the server re-checks it
 * (tokenizeMaze / generatePath take it as a MazeInput).
 */
export type Cell = [number, number];

export interface EditedMaze {
  rows: number;
  cols: number;
  /** [rows*cols] 1 where the edge to the cell below is open. */
  down: Uint8Array;
  /** [rows*cols] 1 where the edge to the cell on the right is open. */
  right: Uint8Array;
  origin: Cell;
  target: Cell;
}

/** The MazeInput the API takes: open edges as [[r, c], [r, c]] pairs. */
export interface MazeSpec {
  rows: number;
  cols: number;
  edges: Array<[Cell, Cell]>;
  origin: Cell;
  target: Cell;
}

export function fromConnections(rows: number, cols: number, connections: Array<[Cell, Cell]>, origin: Cell, target: Cell): EditedMaze {
  const m: EditedMaze = { rows, cols, down: new Uint8Array(rows * cols), right: new Uint8Array(rows * cols), origin: [...origin], target: [...target] };
  for (const [a, b] of connections) setEdge(m, a, b, true);
  return m;
}

function setEdge(m: EditedMaze, a: Cell, b: Cell, open: boolean): void {
  const [p, q] = a[0] * m.cols + a[1] <= b[0] * m.cols + b[1] ? [a, b] : [b, a];
  const i = p[0] * m.cols + p[1];
  if (q[0] === p[0] + 1 && q[1] === p[1]) m.down[i] = open ? 1 : 0;
  else if (q[0] === p[0] && q[1] === p[1] + 1) m.right[i] = open ? 1 : 0;
}

export function isOpen(m: EditedMaze, a: Cell, b: Cell): boolean {
  const [p, q] = a[0] * m.cols + a[1] <= b[0] * m.cols + b[1] ? [a, b] : [b, a];
  const i = p[0] * m.cols + p[1];
  if (q[0] === p[0] + 1 && q[1] === p[1]) return m.down[i] === 1;
  if (q[0] === p[0] && q[1] === p[1] + 1) return m.right[i] === 1;
  return false;
}

/** A copy with the edge between lattice neighbours a and b flipped (open ↔ wall). */
export function toggleEdge(m: EditedMaze, a: Cell, b: Cell): EditedMaze {
  const out = { ...m, down: m.down.slice(), right: m.right.slice() };
  setEdge(out, a, b, !isOpen(m, a, b));
  return out;
}

export function toSpec(m: EditedMaze): MazeSpec {
  const edges: Array<[Cell, Cell]> = [];
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      if (m.down[r * m.cols + c])
        edges.push([
          [r, c],
          [r + 1, c],
        ]);
      if (m.right[r * m.cols + c])
        edges.push([
          [r, c],
          [r, c + 1],
        ]);
    }
  }
  return { rows: m.rows, cols: m.cols, edges, origin: m.origin, target: m.target };
}

export function encodeMaze(m: EditedMaze): string {
  const bits = [...m.down, ...m.right];
  let hex = '';
  for (let i = 0; i < bits.length; i += 4) hex += ((bits[i] << 3) | ((bits[i + 1] ?? 0) << 2) | ((bits[i + 2] ?? 0) << 1) | (bits[i + 3] ?? 0)).toString(16);
  return `${m.rows}x${m.cols}_${m.origin.join('-')}_${m.target.join('-')}_${hex}`;
}

/** The maze in `s` (from `encodeMaze`); null when `s` is not one (a hand-edited URL). */
export function decodeMaze(s: string): EditedMaze | null {
  const f = /^(\d{1,2})x(\d{1,2})_(\d{1,2})-(\d{1,2})_(\d{1,2})-(\d{1,2})_([0-9a-f]*)$/.exec(s);
  if (!f) return null;
  const [rows, cols, or, oc, tr, tc] = f.slice(1, 7).map(Number);
  const n = rows * cols;
  if (rows < 1 || cols < 1 || f[7].length !== Math.ceil((2 * n) / 4)) return null;
  const bits = Array.from(f[7]).flatMap((h) => {
    const v = parseInt(h, 16);
    return [(v >> 3) & 1, (v >> 2) & 1, (v >> 1) & 1, v & 1];
  });
  // Origin/target outside the grid are left for the server to refuse with a clear message.
  return { rows, cols, down: Uint8Array.from(bits.slice(0, n)), right: Uint8Array.from(bits.slice(n, 2 * n)), origin: [or, oc], target: [tr, tc] };
}

/**
 * The maze drawn in the API's SVG layout (server/maze/render.ts: `rect.cell[data-cell="r,c"]`,
 * `line.wall` per closed edge, `rect.border`), so MazeSvg's and HeadGrid's overlays work on it.
 */
export function mazeSvg(m: EditedMaze, cs: number, solution: readonly Cell[] = []): string {
  const pad = 2;
  const w = m.cols * cs + 2 * pad;
  const h = m.rows * cs + 2 * pad;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" data-rows="${m.rows}" data-cols="${m.cols}">`];
  const key = (r: number, c: number): boolean => (r === m.origin[0] && c === m.origin[1]) || (r === m.target[0] && c === m.target[1]);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      const fill = r === m.origin[0] && c === m.origin[1] ? '#2ca02c' : r === m.target[0] && c === m.target[1] ? '#d62728' : '#ffffff';
      out.push(
        `<rect class="cell" data-cell="${r},${c}" x="${pad + c * cs}" y="${pad + r * cs}" width="${cs}" height="${cs}" fill="${fill}"${key(r, c) ? ' fill-opacity="0.6"' : ''}/>`,
      );
    }
  }
  if (solution.length > 1) {
    const pts = solution.map(([r, c]) => `${pad + c * cs + cs / 2},${pad + r * cs + cs / 2}`).join(' ');
    out.push(`<polyline class="solution" points="${pts}" fill="none" stroke="#1f77b4" stroke-width="${Math.max(1, cs / 8)}" stroke-opacity="0.6"/>`);
  }
  out.push('<g class="walls" stroke="#000000" stroke-width="2" stroke-linecap="square">');
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      const x = pad + (c + 1) * cs;
      const y = pad + (r + 1) * cs;
      if (c + 1 < m.cols && !m.right[r * m.cols + c]) out.push(`<line class="wall" x1="${x}" y1="${y - cs}" x2="${x}" y2="${y}"/>`);
      if (r + 1 < m.rows && !m.down[r * m.cols + c]) out.push(`<line class="wall" x1="${x - cs}" y1="${y}" x2="${x}" y2="${y}"/>`);
    }
  }
  out.push('</g>');
  out.push(`<rect class="border" x="${pad}" y="${pad}" width="${m.cols * cs}" height="${m.rows * cs}" fill="none" stroke="#000000" stroke-width="3"/>`);
  out.push('</svg>');
  return out.join('');
}

/**
 * The lattice edge nearest a point given in cell units (x: columns, y: rows from the top-left
 * corner), or null outside the grid or on the outer border (which is never open).
 */
export function nearestEdge(m: { rows: number; cols: number }, x: number, y: number): [Cell, Cell] | null {
  if (x < 0 || y < 0 || x >= m.cols || y >= m.rows) return null;
  const r = Math.floor(y);
  const c = Math.floor(x);
  const vx = Math.round(x); // nearest vertical grid line
  const hy = Math.round(y); // nearest horizontal grid line
  if (Math.abs(x - vx) <= Math.abs(y - hy)) {
    return vx > 0 && vx < m.cols
      ? [
          [r, vx - 1],
          [r, vx],
        ]
      : null;
  }
  return hy > 0 && hy < m.rows
    ? [
        [hy - 1, c],
        [hy, c],
      ]
    : null;
}
