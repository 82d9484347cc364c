/**
 * Attention over maze cells: a head's pattern row for one query position, summed over the key
 * positions whose token is a cell `(r,c)` (a cell appears several times in the adjacency list,
 * once in origin/target, and again on the path), as in maze-transformer's attention overlays.
 * Pure functions, shared by the playground and its tests.
 */

/** `(r,c)` → [r, c]; any other token → null. */
export function tokenCell(tok: string): [number, number] | null {
  const m = /^\((\d+),(\d+)\)$/.exec(tok);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Per position: the row-major cell index of its token, or -1 (special tokens, off-grid cells). */
export function positionCells(tokens: readonly string[], rows: number, cols: number): Int32Array {
  const out = new Int32Array(tokens.length).fill(-1);
  tokens.forEach((t, i) => {
    const c = tokenCell(t);
    if (c && c[0] < rows && c[1] < cols) out[i] = c[0] * cols + c[1];
  });
  return out;
}

export interface CellAttention {
  /** [rows*cols] summed attention from the query position onto each cell's tokens. */
  heat: Float64Array;
  /** Attention on tokens that are not cells (specials, connectors). */
  offCells: number;
}

/**
 * pattern: [batch=1, n_heads, T, T] row-major (TransformerLens' attn.hook_pattern; rows are
 * query positions, columns key positions, causal so k ≤ q).
 */
export function attentionToCells(
  pattern: ArrayLike<number>,
  shape: readonly number[],
  head: number,
  query: number,
  cells: Int32Array,
  rows: number,
  cols: number,
): CellAttention {
  const [, H, T, K] = shape;
  if (shape.length !== 4 || head < 0 || head >= H || query < 0 || query >= T) {
    throw new Error(`attentionToCells: head ${head} / query ${query} outside pattern of shape [${shape.join(', ')}]`);
  }
  const heat = new Float64Array(rows * cols);
  let offCells = 0;
  const base = (head * T + query) * K;
  for (let k = 0; k <= query && k < K; k++) {
    const a = pattern[base + k];
    const c = k < cells.length ? cells[k] : -1;
    if (c >= 0) heat[c] += a;
    else offCells += a;
  }
  return { heat, offCells };
}

/** Colour for v in [0, 1] on a perceptually ordered ramp (viridis' key colours, interpolated). */
export function heatColour(v: number): string {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((a, j) => Math.round(a + (stops[i + 1][j] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
