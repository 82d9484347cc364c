/**
 * `npm run bench -- maze`: mazes/s for the whole per-maze pipeline a dataset or training batch
 * needs — generate, choose endpoints, BFS-solve, tokenize to ids — per generator at 6×6 and 16×16,
 * on one core (this thread). Also the CLI's end-to-end text rate (`mazes generate --count N` into a
 * pipe), process start included.
 *
 * Anchor: maze-dataset (Python) generates ~63 6×6 DFS mazes/s in its own notebook (figure quoted
 * by the issue; PyPI is unreachable here, so it cannot run in the same process). Goals: ≥ 50,000
 * 6×6 DFS/s, ≥ 10,000 6×6 Wilson/s, ≥ 20,000 text mazes/s from the CLI.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseCommand } from '../server/cli/args.js';
import { generateMazes, type MazeSpec } from '../server/maze/generate.js';
import { generatorNames } from '../server/maze/generators/index.js';
import { Rng } from '../server/maze/rng.js';
import { getTokenizer } from '../server/maze/tokenize/index.js';

const MAZE_DATASET_DFS_6X6_PER_S = 63;

const spec = {
  name: 'bench maze',
  summary: 'Maze pipeline throughput.',
  options: {
    seconds: { type: 'number', description: 'Measuring time per case', default: 1 },
    'cli-count': { type: 'integer', description: 'Mazes for the CLI text-output case (0 skips it)', default: 100000 },
    generators: { type: 'string', description: 'Comma-separated generators (default: all)' },
  },
} as const;

function specFor(generator: string, grid: number): MazeSpec {
  const s: MazeSpec = { generator, rows: grid };
  if (generator === 'percolation' || generator === 'dfs_percolation') s.p = generator === 'percolation' ? 0.6 : 0.1;
  return s;
}

/** Runs batches of the pipeline until `seconds` pass; returns mazes/s and mean tokens per maze. */
function measure(mazeSpec: MazeSpec, seconds: number): { mazes_per_s: number; tokens_per_maze: number; mazes: number } {
  const tokenizer = getTokenizer('aotp-ut');
  const rng = new Rng(1);
  const ids = new Int32Array(8192);
  let mazes = 0;
  let tokens = 0;
  let seed = 0;
  // Warm up the JIT on a small batch first, then time whole batches.
  for (const m of generateMazes(mazeSpec, 2000, 'warmup')) tokenizer.writeIds(m, rng, ids);
  const t0 = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  for (;;) {
    for (const m of generateMazes(mazeSpec, 1000, seed++)) tokens += tokenizer.writeIds(m, rng, ids);
    mazes += 1000;
    const dt = process.hrtime.bigint() - t0;
    if (dt >= limit) return { mazes_per_s: Math.round(mazes / (Number(dt) / 1e9)), tokens_per_maze: +(tokens / mazes).toFixed(1), mazes };
  }
}

async function cliRate(count: number): Promise<{ count: number; seconds: number; mazes_per_s: number; bytes: number }> {
  const bin = fileURLToPath(new URL('../bin/searchlight.js', import.meta.url));
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, 'mazes', 'generate', '--generator', 'dfs', '--grid', '6', '--count', String(count), '--seed', '7'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let bytes = 0;
  child.stdout.on('data', (b: Buffer) => (bytes += b.length));
  const code: number = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`mazes generate exited with ${code}`);
  const seconds = (performance.now() - t0) / 1000;
  return { count, seconds: +seconds.toFixed(3), mazes_per_s: Math.round(count / seconds), bytes };
}

export async function run(argv: string[]): Promise<unknown> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return {};
  const { seconds } = parsed.options;
  const gens = parsed.options.generators?.split(',') ?? generatorNames();
  const pipeline: Record<string, Record<string, unknown>> = {};
  for (const g of gens) {
    pipeline[g] = {};
    for (const grid of [6, 16]) pipeline[g][`${grid}x${grid}`] = measure(specFor(g, grid), seconds);
  }
  const dfs6 = (pipeline.dfs?.['6x6'] as { mazes_per_s: number } | undefined)?.mazes_per_s;
  const cli = parsed.options['cli-count'] > 0 ? await cliRate(parsed.options['cli-count']) : null;
  return {
    what: 'generate + endpoints + BFS solve + tokenize-to-ids (aotp-ut), one core',
    pipeline,
    cli_text_output: cli,
    anchor: {
      name: 'maze-dataset, 6x6 DFS, figure quoted in the issue (not run here: PyPI unreachable)',
      mazes_per_s: MAZE_DATASET_DFS_6X6_PER_S,
      ratio_dfs_6x6: dfs6 ? Math.round(dfs6 / MAZE_DATASET_DFS_6X6_PER_S) : null,
    },
    goals: { dfs_6x6: 50000, wilson_6x6: 10000, cli_text: 20000 },
  };
}
