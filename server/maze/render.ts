/**
 * Text and SVG pictures of a maze, its solution, a predicted path and per-cell heat values.
 *
 * Both renderers take the same options. `origin`, `target` and `path` default to the maze's own
 * when it is a SolvedMaze; pass `null` to leave one out. `predicted` is a model's path in the
 * metrics' shape (`[row, col]` or null per token); null and off-grid entries are skipped.
 */
import { checkCoord, checkLattice, isIntPair } from './check.js';
import { type Coord, type LatticeMaze, MazeError, coordKey, inBounds, latticeAdjacent } from './lattice.js';

export interface RenderOptions {
  origin?: Coord | null;
  target?: Coord | null;
  path?: readonly Coord[] | null;
  predicted?: ReadonlyArray<Coord | null> | null;
}

export interface SvgOptions extends RenderOptions {
  /** [rows*cols] row-major per-cell values (e.g. attention to each cell's token), drawn as a colour scale. */
  heat?: ArrayLike<number> | null;
  /** Values mapped to the two ends of the scale; default the min and max of the finite heat values. */
  heatRange?: readonly [number, number];
  /** Side of a cell in SVG user units, an integer in [4, 200]; default 24. */
  cellSize?: number;
  /** Text for the SVG's <title> (escaped). */
  title?: string;
}

interface Resolved {
  origin: Coord | null;
  target: Coord | null;
  path: readonly Coord[];
  /** Runs of consecutive on-grid predicted cells (split where an entry was null or off the grid). */
  predictedRuns: Coord[][];
}

function resolve(maze: LatticeMaze, opts: RenderOptions, where: string): Resolved {
  checkLattice(maze, where);
  const own = maze as Partial<{ origin: Coord; target: Coord; path: readonly Coord[] }>;
  const origin = opts.origin === undefined ? (own.origin ?? null) : opts.origin;
  const target = opts.target === undefined ? (own.target ?? null) : opts.target;
  const path = opts.path === undefined ? (own.path ?? []) : (opts.path ?? []);
  if (origin !== null) checkCoord(maze, origin, 'origin', where);
  if (target !== null) checkCoord(maze, target, 'target', where);
  if (!Array.isArray(path)) throw new MazeError(`${where}: path must be an array of [row, col] cells`);
  path.forEach((c, i) => checkCoord(maze, c, `path[${i}]`, where));
  const predicted = opts.predicted ?? [];
  if (!Array.isArray(predicted)) throw new MazeError(`${where}: predicted must be an array of [row, col] or null`);
  const predictedRuns: Coord[][] = [];
  let run: Coord[] = [];
  for (const p of predicted) {
    if (isIntPair(p) && inBounds(maze, p)) run.push(p);
    else if (run.length > 0) {
      predictedRuns.push(run);
      run = [];
    }
  }
  if (run.length > 0) predictedRuns.push(run);
  return { origin, target, path, predictedRuns };
}

/**
 * ASCII picture, (2·rows + 1) lines of (2·cols + 1) characters joined by "\n" (no trailing newline).
 * Cell (r, c) is at line 2r+1, column 2c+1; the characters between cells are passages or walls.
 *
 * Legend:
 *   #  wall (and every corner post)          S  origin
 *   ␠  open passage or unmarked cell         E  target
 *   *  solution cell, or passage between consecutive solution cells
 *   o  predicted cell / passage not on the solution
 *   @  cell / passage on both the solution and the prediction
 *   X  a wall the prediction steps through (between lattice neighbours)
 * S and E take precedence over path marks. Predicted jumps between non-neighbours are not drawn.
 */
export function renderAscii(maze: LatticeMaze, opts: RenderOptions = {}): string {
  const { origin, target, path, predictedRuns } = resolve(maze, opts, 'renderAscii');
  const { rows, cols } = maze;
  const W = 2 * cols + 1;
  const H = 2 * rows + 1;
  const grid: string[][] = Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => (y % 2 === 1 && x % 2 === 1 ? ' ' : '#')));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (c + 1 < cols && maze.right[r * cols + c]) grid[2 * r + 1][2 * c + 2] = ' ';
      if (r + 1 < rows && maze.down[r * cols + c]) grid[2 * r + 2][2 * c + 1] = ' ';
    }
  }
  // Marks per character position: bit 1 = solution, bit 2 = predicted.
  const marks = new Uint8Array(W * H);
  const markRun = (cells: readonly Coord[], bit: number): void => {
    cells.forEach((p, i) => {
      marks[(2 * p[0] + 1) * W + 2 * p[1] + 1] |= bit;
      if (i === 0) return;
      const q = cells[i - 1];
      if (!latticeAdjacent(p, q)) return;
      const y = p[0] + q[0] + 1; // midpoint between the two cells' character positions
      const x = p[1] + q[1] + 1;
      if (grid[y][x] === '#') {
        if (bit === 2) grid[y][x] = 'X';
      } else marks[y * W + x] |= bit;
    });
  };
  markRun(path, 1);
  for (const run of predictedRuns) markRun(run, 2);
  const symbol = ['', '*', 'o', '@'];
  for (let i = 0; i < marks.length; i++) if (marks[i]) grid[Math.floor(i / W)][i % W] = symbol[marks[i]];
  if (origin) grid[2 * origin[0] + 1][2 * origin[1] + 1] = 'S';
  if (target) grid[2 * target[0] + 1][2 * target[1] + 1] = 'E';
  return grid.map((line) => line.join('')).join('\n');
}

/** Escape text for XML element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch] as string);
}

// Viridis at five stops (matplotlib's colormap, sampled at 0, .25, .5, .75, 1), interpolated linearly:
// perceptually ordered and readable by colour-blind viewers.
const VIRIDIS: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

function heatColour(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const ch = (k: number): string =>
    Math.round(VIRIDIS[i][k] + (VIRIDIS[i + 1][k] - VIRIDIS[i][k]) * f)
      .toString(16)
      .padStart(2, '0');
  return `#${ch(0)}${ch(1)}${ch(2)}`;
}

const num = (v: number): string => String(Math.round(v * 100) / 100);

/**
 * A self-contained SVG (no scripts, no external references). Elements, each with a class to style
 * or query:
 *   rect.cell[data-cell="r,c"]  one per cell, row-major; with heat also data-heat and a viridis fill
 *                               (non-finite values are grey)
 *   line.wall                   one per closed lattice edge between two cells
 *   rect.border                 the outer wall
 *   polyline.solution           the solution path through cell centres (when it has ≥ 2 cells)
 *   polyline.predicted          each run of consecutive on-grid predicted cells (≥ 2 cells);
 *   circle.predicted            a run of a single cell
 *   circle.origin, path.target  origin circle and target cross, as in the research plan's figures
 */
export function renderSvg(maze: LatticeMaze, opts: SvgOptions = {}): string {
  const { origin, target, path, predictedRuns } = resolve(maze, opts, 'renderSvg');
  const { rows, cols } = maze;
  const n = rows * cols;
  const cs = opts.cellSize ?? 24;
  if (!Number.isInteger(cs) || cs < 4 || cs > 200) throw new MazeError(`renderSvg: cellSize must be an integer in [4, 200], got ${cs}`);
  const pad = 2; // room for half of the outer wall's stroke
  const width = cols * cs + 2 * pad;
  const height = rows * cs + 2 * pad;
  const cx = (c: number): number => pad + c * cs + cs / 2;

  const heat: ArrayLike<number> | null = opts.heat ?? null;
  let lo = 0;
  let span = 1;
  if (heat !== null) {
    if (typeof heat.length !== 'number' || heat.length !== n) {
      throw new MazeError(`renderSvg: heat must have rows*cols = ${n} values, got ${heat.length}`);
    }
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++)
      if (Number.isFinite(heat[i])) {
        min = Math.min(min, heat[i]);
        max = Math.max(max, heat[i]);
      }
    if (opts.heatRange) {
      [min, max] = opts.heatRange;
      if (!Number.isFinite(min) || !Number.isFinite(max) || !(max >= min)) {
        throw new MazeError(`renderSvg: heatRange must be two finite numbers [min, max] with max ≥ min, got ${JSON.stringify(opts.heatRange)}`);
      }
    }
    lo = Number.isFinite(min) ? min : 0; // no finite value at all: every cell is grey anyway
    span = Number.isFinite(max) && max > lo ? max - lo : 1;
  }

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" class="maze" data-rows="${rows}" data-cols="${cols}">`,
  );
  if (opts.title !== undefined) out.push(`<title>${escapeXml(String(opts.title))}</title>`);
  out.push('<g class="cells">');
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let fill = '#ffffff';
      let extra = '';
      if (heat !== null) {
        const v = heat[r * cols + c];
        fill = Number.isFinite(v) ? heatColour((v - lo) / span) : '#cccccc';
        extra = ` data-heat="${Number.isFinite(v) ? String(v) : 'NaN'}"`;
      }
      out.push(`<rect class="cell" data-cell="${r},${c}" x="${pad + c * cs}" y="${pad + r * cs}" width="${cs}" height="${cs}" fill="${fill}"${extra}/>`);
    }
  }
  out.push('</g>');

  out.push('<g class="walls" stroke="#000000" stroke-width="2" stroke-linecap="square">');
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = pad + (c + 1) * cs;
      const y = pad + (r + 1) * cs;
      if (c + 1 < cols && !maze.right[r * cols + c]) out.push(`<line class="wall" x1="${x}" y1="${y - cs}" x2="${x}" y2="${y}"/>`);
      if (r + 1 < rows && !maze.down[r * cols + c]) out.push(`<line class="wall" x1="${x - cs}" y1="${y}" x2="${x}" y2="${y}"/>`);
    }
  }
  out.push(`<rect class="border" x="${pad}" y="${pad}" width="${cols * cs}" height="${rows * cs}" fill="none"/>`);
  out.push('</g>');

  const points = (cells: readonly Coord[]): string => cells.map((p) => `${num(cx(p[1]))},${num(cx(p[0]))}`).join(' ');
  const stroke = Math.max(1, Math.round(cs / 6));
  if (path.length >= 2) {
    out.push(
      `<polyline class="solution" points="${points(path)}" fill="none" stroke="#1f77b4" stroke-width="${stroke}" stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }
  for (const run of predictedRuns) {
    if (run.length >= 2) {
      out.push(
        `<polyline class="predicted" points="${points(run)}" fill="none" stroke="#d62728" stroke-width="${stroke}" stroke-dasharray="${stroke * 2},${stroke}" stroke-linejoin="round" stroke-linecap="round"/>`,
      );
    } else {
      out.push(`<circle class="predicted" cx="${num(cx(run[0][1]))}" cy="${num(cx(run[0][0]))}" r="${num(cs / 8)}" fill="#d62728"/>`);
    }
  }
  if (origin) {
    out.push(
      `<circle class="origin" cx="${num(cx(origin[1]))}" cy="${num(cx(origin[0]))}" r="${num(cs * 0.3)}" fill="none" stroke="#2ca02c" stroke-width="${stroke}"><title>origin ${escapeXml(coordKey(origin))}</title></circle>`,
    );
  }
  if (target) {
    const x = cx(target[1]);
    const y = cx(target[0]);
    const d = cs * 0.28;
    out.push(
      `<path class="target" d="M${num(x - d)} ${num(y - d)}L${num(x + d)} ${num(y + d)}M${num(x - d)} ${num(y + d)}L${num(x + d)} ${num(y - d)}" stroke="#ff7f0e" stroke-width="${stroke}" stroke-linecap="round"><title>target ${escapeXml(coordKey(target))}</title></path>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}
