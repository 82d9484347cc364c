/**
 * Building an ExperimentContext and the pieces every kind shares: the model handle with lazily
 * created engines, the default grid inferred from the vocabulary, the maze source, and encoding
 * mazes into the model's token ids (checked against n_ctx and the model's vocabulary).
 */
import { UserError } from '../errors.js';
import { type MazeSpec, generateMazes, validateSpec } from '../maze/generate.js';
import { generatorNames } from '../maze/generators/index.js';
import { MAX_GRID, type SolvedMaze } from '../maze/lattice.js';
import type { Rng } from '../maze/rng.js';
import { getTokenizer, parseCoordToken, parseIntToken, SPECIAL_TOKENS, type Tokenizer } from '../maze/tokenize/index.js';
import type { ModelConfig, Weights } from '../model/config.js';
import { createEngine, createGradEngine, type EngineOptions, type OnnxEngine, type OnnxGradEngine } from '../model/engine.js';
import type { FieldSpec, ModelInfo, ParamsOf } from './params.js';
import type { ExperimentContext, InterpModel } from './types.js';

export class InterpError extends UserError {
  override name = 'InterpError';
}

/** An InterpModel whose engines are created on first use and released by `dispose`. */
export function createInterpModel(
  m: { cfg: ModelConfig; weights: Weights; vocab: readonly string[] },
  opts: EngineOptions = {},
): InterpModel & { dispose(): Promise<void> } {
  if (m.vocab.length !== m.cfg.d_vocab) throw new InterpError(`vocab has ${m.vocab.length} tokens but config.d_vocab is ${m.cfg.d_vocab}`);
  // Decoding, padding and position maps use the special tokens' standard ids (maze-dataset's order).
  SPECIAL_TOKENS.forEach((t, i) => {
    if (m.vocab[i] !== t)
      throw new InterpError(`vocab[${i}] is ${JSON.stringify(m.vocab[i])}; experiments need the special tokens first, in maze-dataset's order (${t} at ${i})`);
  });
  let engine: Promise<OnnxEngine> | undefined;
  let grad: Promise<OnnxGradEngine> | undefined;
  return {
    cfg: m.cfg,
    weights: m.weights,
    vocab: m.vocab,
    engine: () => (engine ??= createEngine(m.cfg, m.weights, opts)),
    gradEngine: () => (grad ??= createGradEngine(m.cfg, m.weights, opts)),
    async dispose() {
      const all = [engine, grad].filter((e): e is Promise<OnnxEngine> | Promise<OnnxGradEngine> => e !== undefined);
      engine = grad = undefined;
      await Promise.all(all.map(async (e) => (await e.catch(() => null))?.dispose()));
    },
  };
}

/** Tokens of the longest sequence a spanning-tree maze on an n×n grid can have (path through every cell). */
function worstSeqLength(tok: Tokenizer, n: number): number {
  const w = tok.format.coords === 'split' ? 5 : 1;
  const listed = tok.format.lists === 'walls' ? 2 * n * (n - 1) - (n * n - 1) : n * n - 1;
  return 2 + listed * (2 * w + 2) + 2 * (w + 2) + 1 + n * n * w + 1;
}

/**
 * The largest n such that the vocabulary holds every cell of an n×n grid and a spanning-tree
 * maze's sequence fits n_ctx; 5 when the vocabulary names no usable grid.
 */
export function defaultGrid(cfg: ModelConfig, vocab: readonly string[]): number {
  const tok = getTokenizer(cfg.tokenizer);
  let n = 0;
  if (tok.format.coords === 'split') {
    const ints = new Set(vocab.map(parseIntToken).filter((v) => v >= 0));
    while (n < MAX_GRID && ints.has(n)) n++;
  } else {
    const cells = new Set(vocab.map(parseCoordToken).filter((v) => v >= 0));
    const covers = (k: number): boolean => {
      for (let i = 0; i < k; i++) if (!cells.has(i * MAX_GRID + k - 1) || !cells.has((k - 1) * MAX_GRID + i)) return false;
      return true;
    };
    while (n < MAX_GRID && covers(n + 1)) n++;
  }
  while (n >= 2 && worstSeqLength(tok, n) > cfg.n_ctx) n--;
  return n >= 2 ? n : 5;
}

export function modelInfo(model: InterpModel): ModelInfo {
  return { cfg: model.cfg, grid: defaultGrid(model.cfg, model.vocab) };
}

// ---- mazes -------------------------------------------------------------------------------------

/** The maze-source fields every kind accepts (used when the context brings no maze source). */
export function mazeFields(countDefault: number, countMax = 100_000) {
  return {
    generator: { type: 'string', doc: 'maze generator (when the context brings no mazes)', choices: generatorNames(), enum: 'MazeGenerator', default: 'dfs' },
    grid: {
      type: 'int',
      doc: 'grid side of generated mazes',
      min: 2,
      max: MAX_GRID,
      default: (m) => m.grid,
      defaultDoc: 'largest grid the vocabulary covers (and n_ctx fits), or 5',
    },
    count: { type: 'int', doc: "number of mazes (the first `count` of the context's mazes, or generated)", min: 1, max: countMax, default: countDefault },
    p: { type: 'number', doc: 'edge probability for percolation / dfs_percolation', min: 0, max: 1 },
  } satisfies Record<string, FieldSpec>;
}

/** The maze params every kind has (generator names are checked against the registry at run time). */
export type MazeParams = ParamsOf<ReturnType<typeof mazeFields>>;

/** The MazeSpec of a kind's maze params. */
export function specOf(p: MazeParams): MazeSpec {
  const spec: MazeSpec = { generator: p.generator, rows: p.grid };
  if (p.p !== undefined) spec.p = p.p;
  try {
    validateSpec(spec);
  } catch (e) {
    throw new InterpError(`params: ${(e as Error).message}`);
  }
  return spec;
}

/** The mazes an experiment runs on: the context's source, else generated from the params with ctx.seed. */
export function loadMazes(ctx: ExperimentContext, p: MazeParams): SolvedMaze[] {
  const src = ctx.mazes;
  if (src && 'mazes' in src) {
    if (src.mazes.length === 0) throw new InterpError('the maze source is empty');
    return src.mazes.slice(0, p.count);
  }
  const [spec, count, seed] = src ? [src.spec, Math.min(src.count, p.count), src.seed] : [specOf(p), p.count, ctx.seed];
  return [...generateMazes(spec, count, seed)];
}

// ---- encoding ----------------------------------------------------------------------------------

export interface Encoder {
  tokenizer: Tokenizer;
  /** Full sequence (prompt, path, <PATH_END>) in the model's ids; edge order drawn from `rng`. */
  encode(maze: SolvedMaze, rng: Rng, where?: string): Int32Array;
  /** The prompt only (through <PATH_START>); n_ctx is checked for the prompt plus `extra` tokens. */
  encodePrompt(maze: SolvedMaze, rng: Rng, where?: string, extra?: number): Int32Array;
  promptLength(maze: SolvedMaze): number;
  /** Model id of cell (r, c), or -1 when the vocabulary lacks it (unified formats only). */
  cellId(r: number, c: number): number;
}

/**
 * Encodes mazes with the model's tokenizer, mapping the tokenizer's ids to the model's vocabulary
 * by token string (identical for models made here; a TL import may order its vocab differently).
 */
export function encoder(model: InterpModel): Encoder {
  const tok = getTokenizer(model.cfg.tokenizer);
  const full = tok.vocab(MAX_GRID);
  const index = new Map(model.vocab.map((t, i): [string, number] => [t, i]));
  const remap = Int32Array.from(full, (t) => index.get(t) ?? -1);
  const scratch = new Int32Array(1 << 15);
  /** The first `n` ids of a sequence just written to `scratch`, in the model's vocabulary. */
  const toModel = (n: number, extra: number, maze: SolvedMaze, where: string): Int32Array => {
    if (n + extra > model.cfg.n_ctx)
      throw new InterpError(`${where}: its sequence has ${n + extra} tokens but the model's n_ctx is ${model.cfg.n_ctx}; use a smaller grid`);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const id = remap[scratch[i]];
      if (id < 0)
        throw new InterpError(
          `${where}: token ${full[scratch[i]]} is not in the model's vocabulary (a ${maze.rows}x${maze.cols} maze needs a vocabulary covering that grid)`,
        );
      out[i] = id;
    }
    return out;
  };
  return {
    tokenizer: tok,
    promptLength: (m) => tok.promptLength(m),
    cellId: (r, c) => (tok.format.coords === 'split' ? -1 : remap[tok.coordId(r, c)]),
    encodePrompt(maze, rng, where = 'maze', extra = 0) {
      tok.writeIds(maze, rng, scratch);
      return toModel(tok.promptLength(maze), extra, maze, where);
    },
    encode(maze, rng, where = 'maze') {
      return toModel(tok.writeIds(maze, rng, scratch), 0, maze, where);
    },
  };
}

/** Kinds that address cells by single tokens need a unified-coordinate tokenizer. */
export function requireUnified(model: InterpModel, kind: string): void {
  const tok = getTokenizer(model.cfg.tokenizer);
  if (tok.format.coords !== 'unified')
    throw new InterpError(`${kind} needs a tokenizer with one token per cell (aotp-ut or walls); this model uses ${tok.name}`);
}

/** Splits `n` items into consecutive chunks of at most `size`. */
export function chunks(n: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i += size) out.push([i, Math.min(n, i + size)]);
  return out;
}
