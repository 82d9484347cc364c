/**
 * The three maze tokenizers (`aotp-ut`, `aotp-ctt`, `walls`), one parametrised implementation.
 *
 * Every sequence has the seed post's layout (A-O-T-P: adjacency list, origin, target, path):
 *   <ADJLIST_START> a <--> b ; … <ADJLIST_END> <ORIGIN_START> o <ORIGIN_END>
 *   <TARGET_START> t <TARGET_END> <PATH_START> p0 p1 … <PATH_END>
 * and the formats differ only in how a cell is written and which edges the list holds:
 *   aotp-ut   cell = one token `(r,c)`; the list holds the open connections, joined by `<-->`.
 *   aotp-ctt  cell = five tokens `( r , c )`; vocabulary = specials, `(` `,` `)`, integers 0..63.
 *   walls     cell = one token `(r,c)`; the list holds the *missing* lattice edges (walls), joined
 *             by `<-X->`, inside the same <ADJLIST_START>/<ADJLIST_END> markers so models and
 *             tooling share the section tokens.
 *
 * Randomness (a contract, since same seed ⇒ byte-identical output): the edge list is drawn on every
 * call as (1) a Fisher–Yates shuffle of the edges in plane order (all "down" edges row-major
 * interleaved with "right" edges, see `collectEdges`), `for i = E-1..1: swap(i, rng.int(i+1))`,
 * then (2) one bit per edge from `rng.u32()` (bit e%32 of word ⌊e/32⌋), set ⇒ the edge's two
 * ends are written high-index-first. Nothing else draws from the Rng.
 *
 * The hot path `writeIds` builds no strings and allocates nothing: cells are packed as
 * `r*MAX_GRID + c` into a module scratch buffer and mapped to ids by table.
 */
import { type Coord, MAX_GRID, MazeError, type SolvedMaze } from '../lattice.js';
import type { Rng } from '../rng.js';
import { COORD_INDEX, COORD_TOKENS, NUM_SPECIALS, SPECIAL, SPECIAL_TOKENS, WALL_TOKEN, checkGridSize } from './vocab.js';

// Module-local copies of imported constants: the hot loops below read plain locals, never
// module-namespace bindings (which some loaders turn into getter calls).
const G = MAX_GRID; // cells are packed as r*G + c
const ADJ_START = SPECIAL.ADJLIST_START,
  ADJ_END = SPECIAL.ADJLIST_END,
  SEP = SPECIAL.SEP;
const ORIGIN_START = SPECIAL.ORIGIN_START,
  ORIGIN_END = SPECIAL.ORIGIN_END;
const TARGET_START = SPECIAL.TARGET_START,
  TARGET_END = SPECIAL.TARGET_END;
const PATH_START = SPECIAL.PATH_START,
  PATH_END = SPECIAL.PATH_END;
const LPAREN = NUM_SPECIALS,
  COMMA = NUM_SPECIALS + 1,
  RPAREN = NUM_SPECIALS + 2; // aotp-ctt's `(` `,` `)`

export type TokenizerName = 'aotp-ut' | 'aotp-ctt' | 'walls';

/** How a format writes things down; the parser reads sequences from this description. */
export interface TokenFormat {
  /** Token between the two cells of a listed edge: `<-->` or `<-X->`. */
  readonly connector: string;
  /** Which lattice edges the adjacency section lists. */
  readonly lists: 'connections' | 'walls';
  /** `unified`: one `(r,c)` token per cell; `split`: `( r , c )`. */
  readonly coords: 'unified' | 'split';
}

export interface Tokenizer {
  readonly name: TokenizerName;
  /** One paragraph for `--help` and the docs. */
  readonly describe: string;
  readonly format: TokenFormat;
  /** Vocabulary (frozen) for grids with rows, cols ≤ gridSize; a prefix of `vocab(gridSize + 1)`. */
  vocab(gridSize: number): readonly string[];
  vocabSize(gridSize: number): number;
  /** Full sequence as tokens (edge order re-drawn from `rng`). */
  tokenize(maze: SolvedMaze, rng: Rng): string[];
  /** Same sequence as ids; writes into `out` when given (throws if too short), returns the filled part. */
  tokenizeToIds(maze: SolvedMaze, rng: Rng, out?: Int32Array): Int32Array;
  /** Allocation-free core: writes the sequence's ids at `out[offset…]`, returns how many. */
  writeIds(maze: SolvedMaze, rng: Rng, out: Int32Array, offset?: number): number;
  /** Full sequence as space-separated text (what `mazes generate --format text` prints). */
  tokenizeToText(maze: SolvedMaze, rng: Rng): string;
  /**
   * Allocation-free text: the same text as `tokenizeToText` as ASCII bytes (no newline) at
   * `out[offset…]`; returns the byte count. Needs at most seqLength(maze)·MAX_TOKEN_BYTES bytes
   * (throws a MazeError, after drawing from `rng`, when the buffer is too short).
   */
  writeText(maze: SolvedMaze, rng: Rng, out: Uint8Array, offset?: number): number;
  /** The model's context: the sequence up to and including <PATH_START>. */
  prompt(maze: SolvedMaze, rng: Rng): string[];
  /** Length of the full sequence in tokens (no Rng needed: the order does not change it). */
  seqLength(maze: SolvedMaze): number;
  /** Length of the prompt; `tokenize(m, r).slice(0, promptLength(m))` is the prompt. */
  promptLength(maze: SolvedMaze): number;
  /** Id of the token(s) for cell (r,c): unified formats only (-1 for `split`). */
  coordId(r: number, c: number): number;
}

interface Spec {
  name: TokenizerName;
  describe: string;
  format: TokenFormat;
  /** Tokens between the specials and the coordinates. */
  extra: readonly string[];
}

// Scratch for the edge list: at most 2·64·63 lattice edges, two packed cells each.
const EDGES = new Int32Array(2 * 2 * G * (G - 1));

/**
 * Writes the listed edges (open ones, or walls) as packed cell pairs into EDGES, shuffled and
 * flipped as the module comment specifies; returns the number of edges.
 */
function collectEdges(m: SolvedMaze, rng: Rng, walls: boolean): number {
  const { rows, cols, down, right } = m;
  const want = walls ? 0 : 1;
  let k = 0;
  for (let r = 0, i = 0; r < rows; r++) {
    const p = r * G;
    for (let c = 0; c < cols; c++, i++) {
      if (r < rows - 1 && down[i] === want) {
        EDGES[k++] = p + c;
        EDGES[k++] = p + G + c;
      }
      if (c < cols - 1 && right[i] === want) {
        EDGES[k++] = p + c;
        EDGES[k++] = p + c + 1;
      }
    }
  }
  const n = k >> 1;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const a = EDGES[2 * i],
      b = EDGES[2 * i + 1];
    EDGES[2 * i] = EDGES[2 * j];
    EDGES[2 * i + 1] = EDGES[2 * j + 1];
    EDGES[2 * j] = a;
    EDGES[2 * j + 1] = b;
  }
  let bits = 0;
  for (let e = 0; e < n; e++) {
    if ((e & 31) === 0) bits = rng.u32();
    if (bits & (1 << (e & 31))) {
      const a = EDGES[2 * e];
      EDGES[2 * e] = EDGES[2 * e + 1];
      EDGES[2 * e + 1] = a;
    }
  }
  return n;
}

/** Rejects mazes the formats cannot express, so a bad maze never becomes a plausible sequence. */
function checkMaze(m: SolvedMaze): void {
  const { rows, cols } = m;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows > G || cols > G) {
    throw new MazeError(`cannot tokenize a ${rows}x${cols} maze: sides must be integers in 1..${MAX_GRID}`);
  }
  if (m.down.length !== rows * cols || m.right.length !== rows * cols) {
    throw new MazeError(`maze planes have ${m.down.length}/${m.right.length} cells, expected ${rows * cols}`);
  }
  const path = m.path;
  if (path.length === 0) throw new MazeError('cannot tokenize: the path is empty (it holds at least the origin)');
  // Plain loops, no closures or destructuring: this runs once per maze on the hot path.
  if (!inGrid(m.origin, rows, cols)) throw outside('origin', m.origin, rows, cols);
  if (!inGrid(m.target, rows, cols)) throw outside('target', m.target, rows, cols);
  for (let i = 0; i < path.length; i++) if (!inGrid(path[i], rows, cols)) throw outside(`path[${i}]`, path[i], rows, cols);
}

function inGrid(p: Coord, rows: number, cols: number): boolean {
  const r = p[0],
    c = p[1];
  // (x >>> 0) === x rejects negatives, fractions and NaN in one test.
  return r >>> 0 === r && c >>> 0 === c && r < rows && c < cols;
}

const outside = (what: string, p: Coord, rows: number, cols: number): MazeError =>
  new MazeError(`cannot tokenize: ${what} (${p[0]},${p[1]}) is outside the ${rows}x${cols} grid`);

const latticeEdges = (m: { rows: number; cols: number }): number => m.rows * (m.cols - 1) + (m.rows - 1) * m.cols;

class LatticeTokenizer implements Tokenizer {
  readonly name: TokenizerName;
  readonly describe: string;
  readonly format: TokenFormat;
  private readonly split: boolean;
  private readonly walls: boolean;
  private readonly connectorId: number;
  /** First id after specials and extra tokens: the first coordinate (unified) or integer 0 (split). */
  private readonly base: number;
  /** [MAX_GRID*MAX_GRID] id of packed cell (unified formats). */
  private readonly cellId: Int32Array;
  /** Full vocabulary (grid MAX_GRID) and the same strings with a leading space, for text output. */
  private readonly full: string[];
  private readonly spaced: string[];
  /** ASCII bytes of every token, concatenated; token `id` is textBytes[textStart[id] … textStart[id+1]). */
  private readonly textBytes: Uint8Array;
  private readonly textStart: Int32Array;
  private readonly extra: readonly string[];
  private readonly vocabCache = new Map<number, readonly string[]>();

  constructor(spec: Spec) {
    this.name = spec.name;
    this.describe = spec.describe;
    this.format = spec.format;
    this.split = spec.format.coords === 'split';
    this.walls = spec.format.lists === 'walls';
    const extra = (this.extra = spec.extra);
    this.base = NUM_SPECIALS + extra.length;
    const special = (SPECIAL_TOKENS as readonly string[]).indexOf(spec.format.connector);
    const own = extra.indexOf(spec.format.connector);
    if (special < 0 && own < 0) throw new Error(`${spec.name}: connector ${spec.format.connector} is not in the vocabulary`);
    this.connectorId = special >= 0 ? special : NUM_SPECIALS + own;
    this.cellId = new Int32Array(G * G);
    if (!this.split) for (let p = 0; p < this.cellId.length; p++) this.cellId[p] = this.base + COORD_INDEX[p];
    this.full = this.buildVocab(MAX_GRID);
    this.spaced = this.full.map((t) => ' ' + t);
    // Every token is ASCII, so a char code is a byte (no Buffer: the core also runs in browsers).
    this.textStart = new Int32Array(this.full.length + 1);
    for (let i = 0; i < this.full.length; i++) this.textStart[i + 1] = this.textStart[i] + this.full[i].length;
    this.textBytes = new Uint8Array(this.textStart[this.full.length]);
    for (let i = 0, k = 0; i < this.full.length; i++) for (let j = 0; j < this.full[i].length; j++) this.textBytes[k++] = this.full[i].charCodeAt(j);
  }

  private buildVocab(n: number): string[] {
    const v: string[] = [...SPECIAL_TOKENS, ...this.extra];
    if (this.split) for (let i = 0; i < n; i++) v.push(String(i));
    else for (let i = 0; i < n * n; i++) v.push(COORD_TOKENS[i]);
    return v;
  }

  /** Cached and frozen, so `tokensToIds` can key its token → id map on the array. */
  vocab(gridSize: number): readonly string[] {
    checkGridSize(gridSize);
    let v = this.vocabCache.get(gridSize);
    if (!v) {
      v = Object.freeze(this.buildVocab(gridSize));
      this.vocabCache.set(gridSize, v);
    }
    return v;
  }

  vocabSize(gridSize: number): number {
    checkGridSize(gridSize);
    return this.split ? this.base + gridSize : this.base + gridSize * gridSize;
  }

  coordId(r: number, c: number): number {
    if (this.split) return -1;
    if (!Number.isInteger(r) || !Number.isInteger(c) || r < 0 || c < 0 || r >= G || c >= G) {
      throw new MazeError(`coordinate (${r},${c}) is outside the ${MAX_GRID}x${MAX_GRID} vocabulary`);
    }
    return this.cellId[r * G + c];
  }

  private coordLen(): number {
    return this.split ? 5 : 1;
  }

  private listedEdges(m: SolvedMaze): number {
    let open = 0;
    for (let i = 0; i < m.down.length; i++) open += m.down[i] + m.right[i];
    return this.walls ? latticeEdges(m) - open : open;
  }

  promptLength(m: SolvedMaze): number {
    const w = this.coordLen();
    // <ADJLIST_START> (a CONN b ;)* <ADJLIST_END> <ORIGIN_START> o <ORIGIN_END> <TARGET_START> t <TARGET_END> <PATH_START>
    return 2 + this.listedEdges(m) * (2 * w + 2) + 2 * (w + 2) + 1;
  }

  seqLength(m: SolvedMaze): number {
    return this.promptLength(m) + m.path.length * this.coordLen() + 1;
  }

  /** Writes one cell (packed r*MAX_GRID+c) at `out[k]`; returns the next free index. */
  private putCell(out: Int32Array, k: number, packed: number): number {
    if (!this.split) {
      out[k] = this.cellId[packed];
      return k + 1;
    }
    // `(` `,` `)` are ids 11, 12, 13; integer i is base + i (base = 14).
    out[k] = LPAREN;
    out[k + 1] = this.base + ((packed / G) | 0);
    out[k + 2] = COMMA;
    out[k + 3] = this.base + (packed & (G - 1));
    out[k + 4] = RPAREN;
    return k + 5;
  }

  /** Writes the prompt (and the path when `full`); returns the end index. */
  private emit(m: SolvedMaze, rng: Rng, out: Int32Array, offset: number, full: boolean): number {
    checkMaze(m);
    const need = full ? this.seqLength(m) : this.promptLength(m);
    if (!Number.isInteger(offset) || offset < 0 || out.length - offset < need) {
      throw new MazeError(`output buffer too short: need ${need} ids at offset ${offset}, have ${out.length - offset}`);
    }
    const n = collectEdges(m, rng, this.walls);
    let k = offset;
    out[k++] = ADJ_START;
    for (let e = 0; e < n; e++) {
      k = this.putCell(out, k, EDGES[2 * e]);
      out[k++] = this.connectorId;
      k = this.putCell(out, k, EDGES[2 * e + 1]);
      out[k++] = SEP;
    }
    out[k++] = ADJ_END;
    out[k++] = ORIGIN_START;
    k = this.putCell(out, k, m.origin[0] * G + m.origin[1]);
    out[k++] = ORIGIN_END;
    out[k++] = TARGET_START;
    k = this.putCell(out, k, m.target[0] * G + m.target[1]);
    out[k++] = TARGET_END;
    out[k++] = PATH_START;
    if (full) {
      const path = m.path;
      for (let i = 0; i < path.length; i++) k = this.putCell(out, k, path[i][0] * G + path[i][1]);
      out[k++] = PATH_END;
    }
    return k;
  }

  writeIds(m: SolvedMaze, rng: Rng, out: Int32Array, offset = 0): number {
    return this.emit(m, rng, out, offset, true) - offset;
  }

  tokenizeToIds(m: SolvedMaze, rng: Rng, out?: Int32Array): Int32Array {
    const buf = out ?? new Int32Array(this.seqLength(m));
    const n = this.emit(m, rng, buf, 0, true);
    return n === buf.length ? buf : buf.subarray(0, n);
  }

  private toStrings(ids: Int32Array, n: number): string[] {
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.full[ids[i]];
    return out;
  }

  tokenize(m: SolvedMaze, rng: Rng): string[] {
    const ids = this.tokenizeToIds(m, rng);
    return this.toStrings(ids, ids.length);
  }

  prompt(m: SolvedMaze, rng: Rng): string[] {
    const ids = new Int32Array(this.promptLength(m));
    return this.toStrings(ids, this.emit(m, rng, ids, 0, false));
  }

  tokenizeToText(m: SolvedMaze, rng: Rng): string {
    const ids = textScratch.length >= this.seqLength(m) ? textScratch : new Int32Array(this.seqLength(m));
    const n = this.emit(m, rng, ids, 0, true);
    // Concatenation of interned strings builds a rope; pre-spaced tokens halve the joins.
    let s = this.full[ids[0]];
    for (let i = 1; i < n; i++) s += this.spaced[ids[i]];
    return s;
  }

  writeText(m: SolvedMaze, rng: Rng, out: Uint8Array, offset = 0): number {
    const ids = textScratch.length >= this.seqLength(m) ? textScratch : new Int32Array(this.seqLength(m));
    const n = this.emit(m, rng, ids, 0, true);
    const bytes = this.textBytes,
      start = this.textStart;
    let k = offset;
    for (let i = 0; i < n; i++) {
      const a = start[ids[i]],
        b = start[ids[i] + 1];
      if (k + (b - a) + 1 > out.length) {
        throw new MazeError(`text buffer too short: ${out.length - offset} bytes from offset ${offset} (allow ${MAX_TOKEN_BYTES} per token)`);
      }
      if (i > 0) out[k++] = 32; // ' '
      for (let j = a; j < b; j++) out[k++] = bytes[j];
    }
    return k - offset;
  }
}

/** Longest token in bytes plus its separator ("<ADJLIST_START> "); seqLength·MAX_TOKEN_BYTES bounds writeText. */
export const MAX_TOKEN_BYTES = 16;

// Big enough for a 16×16 sequence in any format; larger mazes allocate.
const textScratch = new Int32Array(8192);

export const TOKENIZERS: Record<TokenizerName, Tokenizer> = {
  'aotp-ut': new LatticeTokenizer({
    name: 'aotp-ut',
    describe:
      'Adjacency list, origin, target, path (the seed post\'s format). Each cell is one token "(row,col)"; ' +
      'the list holds every open connection as "a <--> b ;" in random order with random end order. ' +
      "Vocabulary: 11 special tokens, then the N² coordinates in corner-first order (a small grid's vocabulary is a prefix of a larger one's).",
    format: { connector: '<-->', lists: 'connections', coords: 'unified' },
    extra: [],
  }),
  'aotp-ctt': new LatticeTokenizer({
    name: 'aotp-ctt',
    describe:
      'Like aotp-ut, but each cell is written as five tokens "( row , col )", so the vocabulary grows linearly: ' +
      '11 special tokens, then "(" "," ")", then the integers 0..N-1.',
    format: { connector: '<-->', lists: 'connections', coords: 'split' },
    extra: ['(', ',', ')'],
  }),
  walls: new LatticeTokenizer({
    name: 'walls',
    describe:
      'The dual problem: between <ADJLIST_START> and <ADJLIST_END> the list holds the MISSING lattice edges (walls) ' +
      'as "a <-X-> b ;" in random order; every lattice edge not listed is open. Cells are "(row,col)" tokens. ' +
      'Vocabulary: the 11 special tokens, then the wall marker "<-X->" (id 11), then the coordinates in corner-first order. ' +
      'The grid size is not always recoverable from the walls alone: pass the grid when parsing.',
    format: { connector: WALL_TOKEN, lists: 'walls', coords: 'unified' },
    extra: [WALL_TOKEN],
  }),
};
