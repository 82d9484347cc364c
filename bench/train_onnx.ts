/**
 * Issue 4's training benchmark: tokens/s of one full training step (forward, masked cross-entropy,
 * backward, clipping, AdamW) for the onnx and tfjs engines beside PyTorch, on the d_model 64,
 * 4-layer, 32 × 128 shape and on the hallway shape (32 × 256), with each engine's peak RSS and the
 * issue's goals checked (onnx ≥ 2× PyTorch, ≥ 20,000 tokens/s on the small shape).
 *
 * The measurement itself is bench/train.ts (cases, timing loop, the bench/torch_train.py anchor);
 * this module runs it once per (engine, shape) in a child process of its own, so each peak RSS
 * belongs to one engine on one shape (plus Node's baseline), not to everything run before it.
 *
 *   node --import tsx bench/train_onnx.ts [--shapes a,b] [--engines onnx,tfjs] [--steps N]
 *        [--tfjs-steps N] [--python /usr/bin/python3]
 * or, once registered in bench/main.ts, `npm run bench -- train-onnx …`.
 */
import { PYTHON_OPTION } from './model.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseCommand, UsageError } from '../server/cli/args.js';

const spec = {
  name: 'bench train-onnx',
  summary: 'Training tokens/s of the onnx and tfjs engines beside PyTorch, peak RSS per engine.',
  options: {
    shapes: { type: 'string', description: 'Cases of bench/train.ts', default: 'demo-32x128,hallway-32x256' },
    engines: { type: 'string', description: 'Engines, each timed in its own process', default: 'onnx,tfjs' },
    steps: { type: 'integer', description: 'Timed steps per case for onnx and PyTorch (after one warm-up)', default: 5 },
    'tfjs-steps': { type: 'integer', description: 'Timed steps for tfjs (seconds per step on wasm)', default: 2 },
    python: PYTHON_OPTION,
  },
} as const;

type Row = Record<string, unknown> & { shape: string };
interface TrainReport {
  cases: Row[];
  peak_rss_mib: number;
}

const self = fileURLToPath(import.meta.url);

/** bench/train.ts's report for `argv`, in a fresh Node process. */
function child(argv: string[]): TrainReport {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify(argv)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench child (${argv.join(' ')}) failed: ${(r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout) as TrainReport;
}

export async function run(argv: string[]): Promise<unknown> {
  const parsed = parseCommand(spec, argv, (s) => process.stderr.write(s));
  if (!parsed) return {};
  const o = parsed.options;
  if (o.steps < 1 || o['tfjs-steps'] < 1) throw new UsageError('bench train-onnx: --steps and --tfjs-steps must be ≥ 1');
  const engines = o.engines
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const rows = new Map<string, Row>();
  const merge = (r: TrainReport, key: string | null, rss: number) => {
    for (const c of r.cases) {
      const row = rows.get(c.shape) ?? { shape: c.shape, params: c.params, batch: c.batch, seq: c.seq };
      if (key) {
        const { peak_rss_mib_so_far: _, ...rest } = c[key] as Record<string, unknown>;
        row[key] = { ...rest, peak_rss_mib: rss };
      } else row.torch = c.torch;
      rows.set(c.shape, row);
    }
  };
  const shapes = o.shapes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const shape of shapes) {
    for (const e of engines) {
      const steps = e === 'tfjs' ? o['tfjs-steps'] : o.steps;
      const r = child(['--engines', e, '--shapes', shape, '--steps', String(steps), '--python', '']);
      merge(r, e, r.peak_rss_mib);
    }
  }
  if (o.python) merge(child(['--engines', '', '--shapes', o.shapes, '--steps', String(o.steps), '--python', o.python]), null, 0);

  const cases = [...rows.values()].map((row) => {
    const torch = (row.torch as { tokens_per_s?: number | null } | undefined)?.tokens_per_s ?? null;
    const tps = (e: string) => (row[e] as { tokens_per_s?: number } | undefined)?.tokens_per_s ?? null;
    for (const e of engines) row[`${e}_vs_torch`] = torch && tps(e) ? +(tps(e)! / torch).toFixed(2) : null;
    if (engines.includes('onnx') && engines.includes('tfjs')) row.onnx_vs_tfjs = tps('onnx') && tps('tfjs') ? +(tps('onnx')! / tps('tfjs')!).toFixed(1) : null;
    return row;
  });
  const small = cases.find((c) => c.shape === 'demo-32x128');
  const onnxSmall = (small?.onnx as { tokens_per_s?: number } | undefined)?.tokens_per_s ?? null;
  return {
    cases,
    goals: small
      ? {
          onnx_at_least_2x_torch: small.onnx_vs_torch === null ? null : (small.onnx_vs_torch as number) >= 2,
          onnx_at_least_20k_tokens_per_s: onnxSmall === null ? null : onnxSmall >= 20_000,
        }
      : null,
    note: 'tokens/s of whole training steps (forward, loss, backward, clip, AdamW); wall-clock on this machine, which may be shared',
  };
}

// Child mode: run bench/train.ts with the given argv and print its report.
if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--child') {
  const { run: trainRun } = await import('./train.js');
  process.stdout.write(JSON.stringify(await trainRun(JSON.parse(process.argv[3]) as string[])));
}
