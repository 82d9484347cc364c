/**
 * Pure helpers for the experiment pages: default params from a kind's field list, colour scales
 * for signed and unsigned heatmaps, slicing row-major tensors, and token labels for axes. Shared by
 * the views and their tests (test/e2e/experiment-lib.test.ts).
 */
import { heatColour } from './attention';

/** A field of a kind's params as `experimentKinds` lists it (server/graphql/resolvers/experiment.ts). */
export interface ParamField {
  name: string;
  /** int, number, string, bool, int[], string[] or int|string, as the kind declares it. */
  type: string;
  doc: string;
  /** The enum its values are sent as, for fields that take one of a few. */
  enum?: string | null;
}

/**
 * The params object a form starts from: the kind's defaults on the chosen model (ExperimentKind.defaults),
 * without the union's `__typename` and without fields the kind leaves unset.
 */
export function defaultParams(defaults: Readonly<Record<string, unknown>> | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(defaults ?? {})) if (k !== '__typename' && v !== null && v !== undefined) out[k] = v;
  return out;
}

/**
 * The params editor's object as the API takes it (ExperimentParamsInput): under the kind's field,
 * a choice written as the CLI spells it (`add-wall-on`) sent as the enum's value (`add_wall_on`),
 * an index of an index-or-name field (attention's `query`) sent as its decimal digits. Anything
 * else goes as written, and the server names whatever it refuses.
 */
export function paramsInput(
  inputField: string,
  fields: readonly ParamField[],
  value: Readonly<Record<string, unknown>>,
): Record<string, Record<string, unknown>> {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const enumValue = (x: unknown): unknown => (typeof x === 'string' ? x.replace(/-/g, '_') : x);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '__typename') continue;
    const f = byName.get(k);
    if (f?.enum) out[k] = Array.isArray(v) ? v.map(enumValue) : enumValue(v);
    else if (f?.type === 'int|string' && typeof v === 'number') out[k] = String(v);
    else out[k] = v;
  }
  return { [inputField]: out };
}

/** Parses the params editor's text: an object, or an error message saying what is wrong. */
export function parseParams(text: string): { value: Record<string, unknown> } | { error: string } {
  if (!text.trim()) return { value: {} };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `params are not valid JSON: ${(e as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'params must be a JSON object, e.g. {"count": 4}' };
  return { value: v as Record<string, unknown> };
}

/**
 * Diverging colour for a signed value on [-max, max]: blue below zero, white at zero, red above
 * (ColorBrewer RdBu's ends); NaN (e.g. padding, undefined metric) is light grey.
 */
export function divergingColour(v: number, max: number): string {
  if (!Number.isFinite(v)) return '#e4e7eb';
  const x = max > 0 ? Math.max(-1, Math.min(1, v / max)) : 0;
  const [end, mid] = [x < 0 ? [33, 102, 172] : [178, 24, 43], [247, 247, 247]];
  const f = Math.abs(x);
  const c = mid.map((m, i) => Math.round(m + (end[i] - m) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Sequential colour for v on [lo, hi] (viridis); NaN is light grey. */
export function sequentialColour(v: number, lo: number, hi: number): string {
  if (!Number.isFinite(v)) return '#e4e7eb';
  return heatColour(hi > lo ? (v - lo) / (hi - lo) : 0);
}

/** Finite min and max of `values` ([0, 0] when none is finite). */
export function finiteRange(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/** Largest |v| over the finite values (for a symmetric diverging scale). */
export function absMax(values: ArrayLike<number>): number {
  const [lo, hi] = finiteRange(values);
  return Math.max(Math.abs(lo), Math.abs(hi));
}

/**
 * The index of a probes run's probe (Experiment.probeDirection) for class `ci`, layer `li`, target
 * `ti` (indices into the summary's lists) and label `column`: probes are numbered class-major, then
 * layer, target and column, as server/interp/probes.ts probeDirectionIndex numbers them.
 */
export function probeDirectionIndex(
  s: { classes: readonly string[]; probeLayers: readonly string[]; targets: readonly string[]; label_columns: Partial<Record<string, number | null>> },
  ci: number,
  li: number,
  ti: number,
  column: number,
): number {
  const widths = s.targets.map((t) => s.label_columns[t] ?? 0);
  const perLayer = widths.reduce((a, b) => a + b, 0);
  return (ci * s.probeLayers.length + li) * perLayer + widths.slice(0, ti).reduce((a, b) => a + b, 0) + column;
}

/** A flat cell (row·cols + col) as the maze tokens name it: "(r,c)". */
export const cellLabel = (c: number, cols: number): string => `(${Math.floor(c / cols)},${c % cols})`;

/** Lattice edges as the probes number them (server/interp/probes.ts latticeEdges): every down edge, then every right edge. */
export function latticeEdgeLabels(rows: number, cols: number): string[] {
  const at = (c: number) => cellLabel(c, cols);
  const out: string[] = [];
  for (let c = 0; c < (rows - 1) * cols; c++) out.push(`${at(c)}-${at(c + cols)}`);
  for (let c = 0; c < rows * cols; c++) if (c % cols < cols - 1) out.push(`${at(c)}-${at(c + 1)}`);
  return out;
}

/**
 * The sub-tensor at `index` along the leading axes of a row-major tensor: e.g. index [p] of a
 * [P, L, T] tensor is the [L, T] block of pair p. Throws when the index is out of range.
 */
export function subTensor(data: ArrayLike<number>, shape: readonly number[], index: readonly number[]): { data: number[]; shape: number[] } {
  if (index.length > shape.length) throw new Error(`index [${index.join(', ')}] has more axes than shape [${shape.join(', ')}]`);
  let offset = 0;
  let stride = shape.reduce((a, b) => a * b, 1);
  index.forEach((i, d) => {
    stride /= shape[d];
    if (!Number.isInteger(i) || i < 0 || i >= shape[d]) throw new Error(`index ${i} is out of range for axis ${d} of shape [${shape.join(', ')}]`);
    offset += i * stride;
  });
  return { data: Array.from({ length: stride }, (_, k) => data[offset + k]), shape: shape.slice(index.length) };
}

/** The token strings of the row at `index` of a tensor of token ids (e.g. maze m of a [maze, pos] tensor), up to its −1 padding. */
export function tokenRow(t: { data: ArrayLike<number>; shape: readonly number[] }, index: readonly number[], vocab: readonly string[]): string[] {
  return tokenLabels(subTensor(t.data, t.shape, index).data, vocab);
}

/** Mean over the leading axis, ignoring NaN (NaN where every entry is NaN). */
export function nanMean0(data: ArrayLike<number>, shape: readonly number[]): number[] {
  const n = shape[0];
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let k = 0; k < per; k++) {
    let s = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i * per + k];
      if (Number.isFinite(v)) {
        s += v;
        c++;
      }
    }
    out.push(c ? s / c : NaN);
  }
  return out;
}

/** Token strings of a row of ids (float32 from the API), stopping at the -1 padding. */
export function tokenLabels(ids: ArrayLike<number>, vocab: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ids.length && ids[i] >= 0; i++) out.push(vocab[ids[i]] ?? `#${ids[i]}`);
  return out;
}

/** Axis labels: the token with its position, e.g. "12 (1,2)"; specials shortened ("<PATH_START>" → "PATH_START"). */
export function axisLabel(pos: number, token: string | undefined): string {
  if (token === undefined) return String(pos);
  return `${pos} ${token.replace(/^<(.*)>$/, '$1')}`;
}

/** Text colour readable on a cell of colour `c` ("rgb(r,g,b)" or "#rrggbb"): white on dark, near-black on light. */
export function textOn(c: string): string {
  const m = /^rgb\((\d+),(\d+),(\d+)\)$/.exec(c) ?? /^#(..)(..)(..)$/.exec(c);
  if (!m) return '#111';
  const [r, g, b] = m.slice(1, 4).map((x) => (c.startsWith('#') ? Number.parseInt(x, 16) : Number(x)));
  // Relative luminance with the sRGB weights (ITU-R BT.709), on 0..255 values.
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 140 ? '#fff' : '#111';
}
