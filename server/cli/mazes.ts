/**
 * `searchlight mazes …`: generate, parse, render, run the baseline solver and score predictions.
 * Every command streams line by line, so it runs in constant memory on any input size.
 */
import { readFileSync } from 'node:fs';
import { baselineSolve } from '../maze/baseline.js';
import { mazeStream, type MazeSpec } from '../maze/generate.js';
import { generatorNames } from '../maze/generators/index.js';
import { type Coord, type SolvedMaze, MazeError, edgeList } from '../maze/lattice.js';
import { aggregateMetrics, pathMetrics, type PathMetrics } from '../maze/metrics.js';
import { type ParsedSequence, parseSequence, readPredictedPath, toTokens } from '../maze/parse.js';
import { renderAscii, renderSvg } from '../maze/render.js';
import { Rng } from '../maze/rng.js';
import { shortestPath } from '../maze/solve.js';
import { getTokenizer, SPECIAL, SPECIAL_TOKENS, tokenizerNames } from '../maze/tokenize/index.js';
import { type CommandGroup, type CommandSpec, parseCommand, UsageError } from './args.js';
import { type CliIO, LineWriter, readLines } from './io.js';

const PATH_START = SPECIAL_TOKENS[SPECIAL.PATH_START];
const PATH_END = SPECIAL_TOKENS[SPECIAL.PATH_END];

const tokenizerOption = {
  type: 'string',
  description: 'Token format',
  default: 'aotp-ut',
  choices: tokenizerNames(),
} as const;

const generateSpec = {
  name: 'mazes generate',
  summary: 'Stream seeded mazes, one per line, as token sequences (text) or JSON objects (jsonl).',
  options: {
    generator: { type: 'string', description: `Maze generator: ${generatorNames().join(', ')}`, default: 'dfs', placeholder: 'G' },
    grid: { type: 'integer', description: 'Grid side (square grid)', default: 6, placeholder: 'N' },
    rows: { type: 'integer', description: 'Rows, for a rectangular grid (overrides --grid)', placeholder: 'R' },
    cols: { type: 'integer', description: 'Columns, for a rectangular grid (overrides --grid)', placeholder: 'C' },
    p: { type: 'number', description: 'Edge probability for percolation / dfs_percolation', placeholder: 'P' },
    forkless: { type: 'boolean', description: 'dfs: corridor ("hallway") mazes without forks' },
    count: { type: 'integer', description: 'Number of mazes', default: 1, placeholder: 'C' },
    seed: { type: 'integer', description: 'Seed; maze k of a run is the same whatever --count is', default: 0, placeholder: 'S' },
    tokenizer: tokenizerOption,
    format: { type: 'string', description: 'Output format', default: 'text', choices: ['text', 'jsonl'] },
    'min-path-length': { type: 'integer', description: 'Only endpoints at least this many steps apart', placeholder: 'K' },
    'deadend-endpoints': { type: 'boolean', description: 'Origin and target are dead ends' },
  },
  details: `jsonl objects have: index, grid [rows, cols], origin, target, path, edges (coordinates as
[row, col]) and tokens (the text sequence). Mazes with no valid endpoints are skipped and counted
on stderr.`,
} satisfies CommandSpec;

async function generate(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(generateSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  if (o.count < 0) throw new UsageError(`mazes generate: --count must be ≥ 0, got ${o.count}`);
  const spec: MazeSpec = {
    generator: o.generator,
    rows: o.rows ?? o.grid,
    cols: o.cols ?? o.rows ?? o.grid,
    ...(o.p !== undefined ? { p: o.p } : {}),
    ...(o.forkless ? { forkless: true } : {}),
    endpoints: {
      ...(o['min-path-length'] !== undefined ? { min_path_length: o['min-path-length'] } : {}),
      ...(o['deadend-endpoints'] ? { deadend_origin: true, deadend_target: true } : {}),
    },
  };
  const tokenizer = getTokenizer(o.tokenizer);
  // The edge order of each sequence is drawn from its own stream, so tokens do not perturb mazes.
  const tokRng = new Rng(`${o.seed}/tokens`);
  const out = new LineWriter(io.stdout);
  const { mazes, stats } = mazeStream(spec, o.count, o.seed);
  let index = 0;
  for (const maze of mazes) {
    const text = tokenizer.tokenizeToText(maze, tokRng);
    await out.line(o.format === 'text' ? text : JSON.stringify({ index: index++, ...mazeJson(maze), tokens: text }));
  }
  await out.flush();
  if (stats.skipped > 0) io.stderr.write(`mazes generate: regenerated ${stats.skipped} mazes that had no valid endpoints\n`);
}

function mazeJson(m: SolvedMaze | ParsedSequence): Record<string, unknown> {
  const maze = 'maze' in m ? m.maze : m;
  return {
    grid: [maze.rows, maze.cols],
    origin: m.origin,
    target: m.target,
    path: m.path,
    edges: edgeList(maze),
  };
}

/**
 * A `walls` sequence lists only missing edges, so a last row or column without walls never shows
 * up in it: the grid cannot be inferred, and guessing would give a silently wrong maze.
 */
function requireGridForWalls(opts: { tokenizer: string; grid?: number }): void {
  if (opts.tokenizer === 'walls' && opts.grid === undefined) {
    throw new UsageError('walls sequences do not determine the grid size; pass --grid N');
  }
}

/** Reads stdin lines as sequences and hands each parsed one on; errors name the line. */
async function forEachSequence(
  io: CliIO,
  opts: { tokenizer: string; grid?: number; partial?: boolean },
  fn: (seq: ParsedSequence, tokens: readonly string[], lineNo: number) => Promise<void>,
): Promise<void> {
  requireGridForWalls(opts);
  for await (const { line, lineNo } of readLines(io.stdin)) {
    const tokens = toTokens(line);
    let seq: ParsedSequence;
    try {
      seq = parseSequence(tokens, { tokenizer: opts.tokenizer, ...(opts.grid ? { grid: opts.grid } : {}), partial: opts.partial ?? false });
    } catch (e) {
      if (e instanceof MazeError) throw new MazeError(`line ${lineNo}: ${e.message}`);
      throw e;
    }
    await fn(seq, tokens, lineNo);
  }
}

const parseSpec = {
  name: 'mazes parse',
  summary: 'Read token sequences on stdin; print one JSON object per line with grid, origin, target, path and edges.',
  options: {
    tokenizer: tokenizerOption,
    grid: { type: 'integer', description: 'Grid side; inferred from the coordinates when absent', placeholder: 'N' },
    partial: { type: 'boolean', description: 'Accept prompts and unfinished paths' },
  },
} satisfies CommandSpec;

async function parse(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(parseSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const out = new LineWriter(io.stdout);
  await forEachSequence(io, parsed.options, async (seq) => out.line(JSON.stringify(mazeJson(seq))));
  await out.flush();
}

const renderSpec = {
  name: 'mazes render',
  summary: 'Draw each sequence on stdin as ASCII art or SVG (solution path marked).',
  options: {
    ascii: { type: 'boolean', description: 'ASCII art (default)' },
    svg: { type: 'boolean', description: 'SVG document' },
    tokenizer: tokenizerOption,
    grid: { type: 'integer', description: 'Grid side; inferred when absent', placeholder: 'N' },
  },
} satisfies CommandSpec;

async function render(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(renderSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const { ascii, svg } = parsed.options;
  if (ascii && svg) throw new UsageError('mazes render: choose one of --ascii and --svg');
  const out = new LineWriter(io.stdout);
  await forEachSequence(io, { ...parsed.options, partial: true }, async (seq) => {
    const opts = { origin: seq.origin, target: seq.target, ...(seq.path.length ? { path: seq.path } : {}) };
    await out.line(svg ? renderSvg(seq.maze, opts) : renderAscii(seq.maze, opts) + '\n');
  });
  await out.flush();
}

const baselineSpec = {
  name: 'mazes baseline',
  summary: 'Run the baseline solver (no backtracking, uniform choice at forks) on prompts or sequences on stdin; print completed sequences.',
  options: {
    tokenizer: tokenizerOption,
    seed: { type: 'integer', description: 'Seed for the choices at forks', default: 0, placeholder: 'S' },
    bias: { type: 'number', description: 'Probability of taking the correct branch at a fork on the solution', placeholder: 'B' },
    grid: { type: 'integer', description: 'Grid side; inferred when absent', placeholder: 'N' },
  },
  details: 'Output lines are the prompt followed by the solver path and <PATH_END>; feed them to `mazes metrics`.',
} satisfies CommandSpec;

async function baseline(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(baselineSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const tokenizer = getTokenizer(o.tokenizer);
  const rng = new Rng(o.seed);
  const out = new LineWriter(io.stdout);
  await forEachSequence(io, { ...o, partial: true }, async (seq, tokens) => {
    const solved = solvedFrom(seq);
    const { path } = baselineSolve(solved, rng, o.bias !== undefined ? { bias: o.bias } : {});
    const prompt = tokens.slice(0, tokens.indexOf(PATH_START) + 1);
    await out.line([...prompt, ...path.flatMap((c) => coordTokens(tokenizer.name, c)), PATH_END].join(' '));
  });
  await out.flush();
}

function coordTokens(tokenizer: string, [r, c]: Coord): string[] {
  return tokenizer === 'aotp-ctt' ? ['(', String(r), ',', String(c), ')'] : [`(${r},${c})`];
}

/** The maze of a parsed sequence with its BFS shortest solution (the prompt's path is not trusted). */
function solvedFrom(seq: ParsedSequence): SolvedMaze {
  const path = shortestPath(seq.maze, seq.origin, seq.target);
  if (!path) throw new MazeError(`target ${JSON.stringify(seq.target)} is not reachable from origin ${JSON.stringify(seq.origin)}`);
  return { ...seq.maze, origin: seq.origin, target: seq.target, path };
}

const metricsSpec = {
  name: 'mazes metrics',
  summary: 'Score predicted sequences (prompt + predicted path) against the true solutions; print metrics JSON.',
  options: {
    tokenizer: tokenizerOption,
    true: {
      type: 'string',
      description: 'File of true sequences, line-aligned with the predictions; default: BFS shortest path of each prompt',
      placeholder: 'FILE',
    },
    'per-sequence': { type: 'boolean', description: 'Also print one JSON line of metrics per sequence before the aggregate' },
    grid: { type: 'integer', description: 'Grid side; inferred when absent', placeholder: 'N' },
  },
  details: 'Predictions are read on stdin. Only the part after <PATH_START> is scored, tolerantly: junk tokens count as invalid_tokens.',
} satisfies CommandSpec;

async function metrics(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(metricsSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  requireGridForWalls(o);
  const truth = o.true !== undefined ? readTrueFile(o.true) : null;
  const rows: PathMetrics[] = [];
  const out = new LineWriter(io.stdout);
  for await (const { line, lineNo } of readLines(io.stdin)) {
    const tokens = toTokens(line);
    const start = tokens.indexOf(PATH_START);
    if (start < 0) throw new MazeError(`line ${lineNo}: no <PATH_START> token; a prediction is a prompt followed by a path`);
    let seq: ParsedSequence;
    try {
      seq = parseSequence(tokens.slice(0, start + 1), { tokenizer: o.tokenizer, partial: true, ...(o.grid ? { grid: o.grid } : {}) });
    } catch (e) {
      throw e instanceof MazeError ? new MazeError(`line ${lineNo}: ${e.message}`) : e;
    }
    let solved = solvedFrom(seq);
    if (truth) {
      const t = truth[rows.length];
      if (!t) throw new MazeError(`line ${lineNo}: --true has only ${truth.length} sequences`);
      solved = { ...solved, path: parseTrue(t, o.tokenizer, lineNo).path };
    }
    const pred = readPredictedPath(tokens.slice(start + 1), o.tokenizer, { grid: { rows: seq.rows, cols: seq.cols } });
    const m = pathMetrics(solved, pred.path, { ended: pred.ended });
    rows.push(m);
    if (o['per-sequence']) await out.line(JSON.stringify({ line: lineNo, ...m }));
  }
  await out.line(JSON.stringify(aggregateMetrics(rows), null, 2));
  await out.flush();
}

function readTrueFile(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch (e) {
    throw new UsageError(`mazes metrics: cannot read --true file "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function parseTrue(text: string, tokenizer: string, lineNo: number): ParsedSequence {
  try {
    return parseSequence(text, { tokenizer, checkPath: true });
  } catch (e) {
    throw e instanceof MazeError ? new MazeError(`--true line ${lineNo}: ${e.message}`) : e;
  }
}

const cmd = (spec: CommandSpec, run: (argv: string[], io: CliIO) => Promise<void>) => ({ summary: spec.summary, run });

export const mazeCommands: CommandGroup = {
  generate: cmd(generateSpec, generate),
  parse: cmd(parseSpec, parse),
  render: cmd(renderSpec, render),
  baseline: cmd(baselineSpec, baseline),
  metrics: cmd(metricsSpec, metrics),
};
