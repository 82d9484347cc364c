/**
 * Token sequences back to mazes: the strict parser (`parseSequence`) for datasets and prompts, and
 * the tolerant reader (`readPredictedPath`) for whatever a model wrote after <PATH_START>.
 *
 * The parser accepts exactly what the tokenizers in ./tokenize write (see tokenizer.ts):
 *   <ADJLIST_START> (cell CONNECTOR cell ;)* <ADJLIST_END> <ORIGIN_START> cell <ORIGIN_END>
 *   <TARGET_START> cell <TARGET_END> <PATH_START> cell* <PATH_END>
 * in that order, and rejects anything else with a `ParseError` naming the token index and what
 * was expected (`token 17: expected "<-->" but found "(3,4)"`).
 *
 * Grid size: unless the caller passes `grid`, it is inferred as (max row + 1) × (max col + 1) over
 * every coordinate in the sequence. That is exact for aotp-ut/aotp-ctt on mazes with no isolated
 * cell (every cell of a spanning tree is an end of some listed edge) but only a lower bound
 * otherwise — isolated cells in the last row/column, and for `walls` any last row/column without
 * walls, are invisible. `gridInferred` in the result says which happened; pass `grid` when known.
 */
import { type Coord, type LatticeMaze, MAX_GRID, MazeError, checkGrid, connectedIdx, emptyMaze } from './lattice.js';
import { getTokenizer, type Tokenizer } from './tokenize/index.js';
import { SPECIAL_TOKENS, parseCoordToken, parseIntToken } from './tokenize/vocab.js';

export class ParseError extends MazeError {
  override name = 'ParseError';
  constructor(
    /** Index of the offending token (tokens.length when the input ended too early). */
    readonly tokenIndex: number,
    detail: string,
  ) {
    super(`token ${tokenIndex}: ${detail}`);
  }
}

export interface ParseOptions {
  /** Tokenizer name or instance; default aotp-ut. */
  tokenizer?: string | Tokenizer;
  /** Grid size (square side or rows/cols); coordinates outside it are rejected. Inferred when absent. */
  grid?: number | { rows: number; cols: number };
  /** Accept a prompt: the input may end anywhere inside the path (e.g. right after <PATH_START>). */
  partial?: boolean;
  /** Also require the path to start at the origin, end at the target and step along open edges. */
  checkPath?: boolean;
}

export interface ParsedSequence {
  rows: number;
  cols: number;
  maze: LatticeMaze;
  origin: Coord;
  target: Coord;
  /** Cells after <PATH_START>; may be empty or unfinished with `partial`. */
  path: Coord[];
  /** True when <PATH_END> was read. Always true without `partial`. */
  complete: boolean;
  /** True when rows/cols were inferred from the coordinates rather than given. */
  gridInferred: boolean;
}

const [ADJLIST_START, ADJLIST_END, TARGET_START, TARGET_END, ORIGIN_START, ORIGIN_END, PATH_START, PATH_END, , SEP] = SPECIAL_TOKENS;
const SECTIONS = [ADJLIST_START, ORIGIN_START, TARGET_START, PATH_START] as const;
const M = MAX_GRID;
const show = (p: number): string => `(${(p / M) | 0},${p % M})`;

/** Splits text on whitespace; tokens pass through. */
export function toTokens(input: string | readonly string[]): readonly string[] {
  if (typeof input !== 'string') return input;
  const t = input.trim();
  return t === '' ? [] : t.split(/\s+/);
}

function resolveTokenizer(t: string | Tokenizer | undefined): Tokenizer {
  return typeof t === 'object' ? t : getTokenizer(t);
}

function resolveGrid(g: ParseOptions['grid']): { rows: number; cols: number } | undefined {
  if (g === undefined) return undefined;
  const rows = typeof g === 'number' ? g : g.rows;
  const cols = typeof g === 'number' ? g : g.cols;
  checkGrid(rows, cols);
  return { rows, cols };
}

const knownCache = new WeakMap<Tokenizer, Set<string>>();
function knownTokens(tok: Tokenizer): Set<string> {
  let s = knownCache.get(tok);
  if (!s) knownCache.set(tok, (s = new Set(tok.vocab(MAX_GRID))));
  return s;
}

/** Cursor over the tokens with the format's coordinate reader and error helpers. */
class Reader {
  pos = 0;
  private readonly known: Set<string>;
  private readonly split: boolean;

  constructor(
    readonly tokens: readonly string[],
    readonly tok: Tokenizer,
    readonly grid: { rows: number; cols: number } | undefined,
  ) {
    this.known = knownTokens(tok);
    this.split = tok.format.coords === 'split';
  }

  get atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  peek(): string | undefined {
    return this.tokens[this.pos];
  }

  fail(what: string, at = this.pos): never {
    if (at >= this.tokens.length) throw new ParseError(at, `expected ${what} but found end of input`);
    const found = this.tokens[at];
    if (!this.known.has(found)) throw new ParseError(at, `unknown token "${found}" for ${this.tok.name} (expected ${what})`);
    throw new ParseError(at, `expected ${what} but found "${found}"`);
  }

  expect(token: string): void {
    if (this.tokens[this.pos] !== token) this.fail(`"${token}"`);
    this.pos++;
  }

  /** Reads one cell; returns it packed as r*MAX_GRID + c. `what` names it in errors. */
  cell(what = 'a coordinate'): number {
    const start = this.pos;
    let p: number;
    if (!this.split) {
      p = this.atEnd ? -1 : parseCoordToken(this.tokens[this.pos]);
      if (p < 0) this.fail(what);
      this.pos++;
    } else {
      if (this.peek() !== '(') this.fail(what);
      this.pos++;
      const r = this.atEnd ? -1 : parseIntToken(this.tokens[this.pos]);
      if (r < 0) this.fail('a row number');
      this.pos++;
      this.expect(',');
      const c = this.atEnd ? -1 : parseIntToken(this.tokens[this.pos]);
      if (c < 0) this.fail('a column number');
      this.pos++;
      this.expect(')');
      p = r * M + c;
    }
    const g = this.grid;
    if (g && (((p / M) | 0) >= g.rows || p % M >= g.cols)) {
      throw new ParseError(start, `coordinate ${show(p)} is outside the ${g.rows}x${g.cols} grid`);
    }
    return p;
  }
}

/**
 * Parses one sequence (text or tokens) into its maze, origin, target and path.
 * Throws `ParseError` (with `tokenIndex`) on malformed input, `MazeError` on bad options.
 */
export function parseSequence(input: string | readonly string[], opts: ParseOptions = {}): ParsedSequence {
  const tok = resolveTokenizer(opts.tokenizer);
  const grid = resolveGrid(opts.grid);
  const rd = new Reader(toTokens(input), tok, grid);
  const walls = tok.format.lists === 'walls';
  const connector = tok.format.connector;
  const seen = new Map<string, number>(); // section start token → its index

  const openSection = (s: number): void => {
    const want = SECTIONS[s];
    const t = rd.peek();
    if (t !== want && t !== undefined && seen.has(t)) {
      throw new ParseError(rd.pos, `duplicate section "${t}" (first at token ${seen.get(t)})`);
    }
    if (t !== want && (SECTIONS as readonly string[]).includes(t ?? '')) {
      throw new ParseError(rd.pos, `missing section: expected "${want}" but found "${t}"`);
    }
    seen.set(want, rd.pos);
    rd.expect(want);
  };

  // Adjacency section: listed edges as packed pairs with the token index of their first cell.
  openSection(0);
  const edges: number[] = [];
  const edgeAt = new Map<number, number>(); // lower cell * 2 + (0 down | 1 right) → token index
  while (rd.peek() !== ADJLIST_END) {
    const at = rd.pos;
    const a = rd.cell(`a coordinate or "${ADJLIST_END}"`);
    rd.expect(connector);
    const b = rd.cell();
    rd.expect(SEP);
    const lo = a < b ? a : b;
    const d = a < b ? b - a : a - b;
    if (d !== M && !(d === 1 && (lo + 1) % M !== 0)) {
      throw new ParseError(at, `edge ${show(a)} ${connector} ${show(b)} joins cells that are not lattice neighbours`);
    }
    const key = lo * 2 + (d === 1 ? 1 : 0);
    const first = edgeAt.get(key);
    if (first !== undefined) throw new ParseError(at, `edge ${show(a)} ${connector} ${show(b)} is listed twice (first at token ${first})`);
    edgeAt.set(key, at);
    edges.push(lo, d);
  }
  rd.expect(ADJLIST_END);

  openSection(1);
  const origin = rd.cell();
  rd.expect(ORIGIN_END);
  openSection(2);
  const target = rd.cell();
  rd.expect(TARGET_END);
  openSection(3);

  const path: number[] = [];
  const pathAt: number[] = [];
  let complete = false;
  for (;;) {
    if (rd.atEnd && opts.partial) break;
    if (rd.peek() === PATH_END) {
      if (path.length === 0 && !opts.partial) rd.fail('a coordinate (a path holds at least the origin)');
      rd.pos++;
      complete = true;
      break;
    }
    pathAt.push(rd.pos);
    path.push(rd.cell(`a coordinate or "${PATH_END}"`));
  }
  if (!rd.atEnd) {
    const t = rd.peek()!;
    if (seen.has(t)) throw new ParseError(rd.pos, `duplicate section "${t}" (first at token ${seen.get(t)})`);
    throw new ParseError(rd.pos, `unexpected trailing token "${t}" after "${PATH_END}"`);
  }

  // Grid: given, or (max + 1) over every coordinate read.
  let rows = grid?.rows ?? 0;
  let cols = grid?.cols ?? 0;
  if (!grid) {
    const see = (p: number): void => {
      const r = ((p / M) | 0) + 1,
        c = (p % M) + 1;
      if (r > rows) rows = r;
      if (c > cols) cols = c;
    };
    for (let i = 0; i < edges.length; i += 2) see(edges[i] + edges[i + 1]);
    see(origin);
    see(target);
    for (const p of path) see(p);
  }
  const maze = emptyMaze(rows, cols);
  if (walls) {
    // Every lattice edge is open unless listed as a wall.
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        if (r < rows - 1) maze.down[r * cols + c] = 1;
        if (c < cols - 1) maze.right[r * cols + c] = 1;
      }
    }
  }
  const v = walls ? 0 : 1;
  for (let i = 0; i < edges.length; i += 2) {
    const lo = edges[i];
    const idx = ((lo / M) | 0) * cols + (lo % M);
    (edges[i + 1] === 1 ? maze.right : maze.down)[idx] = v;
  }

  const coord = (p: number): Coord => [(p / M) | 0, p % M];
  const result: ParsedSequence = {
    rows,
    cols,
    maze,
    origin: coord(origin),
    target: coord(target),
    path: path.map(coord),
    complete,
    gridInferred: !grid,
  };
  if (opts.checkPath) checkParsedPath(result, pathAt, rd.tokens.length);
  return result;
}

/** `checkPath`: the path starts at the origin, ends at the target (when complete), steps on open edges. */
function checkParsedPath(s: ParsedSequence, at: number[], end: number): void {
  const { maze, path, origin, target } = s;
  const idx = ([r, c]: Coord): number => r * maze.cols + c;
  const key = ([r, c]: Coord): string => `(${r},${c})`;
  if (path.length > 0 && idx(path[0]) !== idx(origin)) {
    throw new ParseError(at[0], `path starts at ${key(path[0])}, not at the origin ${key(origin)}`);
  }
  for (let i = 1; i < path.length; i++) {
    if (!connectedIdx(maze, idx(path[i - 1]), idx(path[i]))) {
      throw new ParseError(at[i], `path step ${key(path[i - 1])} → ${key(path[i])} does not follow an open connection`);
    }
  }
  if (s.complete && path.length > 0 && idx(path[path.length - 1]) !== idx(target)) {
    throw new ParseError(end - 1, `path ends at ${key(path[path.length - 1])}, not at the target ${key(target)}`);
  }
}

export interface PredictedPath {
  /** One entry per predicted cell; null for a token that is not a valid cell (a special, junk, off-grid). */
  path: Array<Coord | null>;
  /** True when <PATH_END> was seen (reading stops there). */
  ended: boolean;
}

/**
 * Tolerant reader for model output after <PATH_START>: never throws on content. Unified formats
 * map each token to a cell or null. In `aotp-ctt` a well-formed `( r , c )` group is one cell; a
 * malformed group yields a single null and reading resumes at the next "(" or special token,
 * so one garbled coordinate counts as one invalid step. With `grid`, cells outside it are null.
 */
export function readPredictedPath(
  input: string | readonly string[],
  tokenizer: string | Tokenizer = 'aotp-ut',
  opts: { grid?: number | { rows: number; cols: number } } = {},
): PredictedPath {
  const tok = resolveTokenizer(tokenizer);
  const tokens = toTokens(input);
  const grid = resolveGrid(opts.grid);
  const rows = grid?.rows ?? MAX_GRID,
    cols = grid?.cols ?? MAX_GRID;
  const cellOrNull = (p: number): Coord | null => {
    if (p < 0) return null;
    const r = (p / M) | 0,
      c = p % M;
    return r < rows && c < cols ? [r, c] : null;
  };
  const path: Array<Coord | null> = [];
  const n = tokens.length;
  if (tok.format.coords === 'unified') {
    for (let i = 0; i < n; i++) {
      if (tokens[i] === PATH_END) return { path, ended: true };
      path.push(cellOrNull(parseCoordToken(tokens[i])));
    }
    return { path, ended: false };
  }
  const specials = new Set<string>(SPECIAL_TOKENS);
  let i = 0;
  while (i < n) {
    const t = tokens[i];
    if (t === PATH_END) return { path, ended: true };
    if (t === '(' && i + 4 < n && tokens[i + 2] === ',' && tokens[i + 4] === ')') {
      const r = parseIntToken(tokens[i + 1]),
        c = parseIntToken(tokens[i + 3]);
      if (r >= 0 && c >= 0) {
        path.push(cellOrNull(r * M + c));
        i += 5;
        continue;
      }
    }
    path.push(null);
    i++;
    if (specials.has(t)) continue; // a special is one invalid step by itself
    while (i < n && tokens[i] !== '(' && !specials.has(tokens[i])) i++;
  }
  return { path, ended: false };
}
