/**
 * `npm run bench -- train`: training tokens/s of our engines beside PyTorch on the same shapes.
 *
 * One step = what the trainer does per update: forward, masked cross-entropy, backward,
 * global-norm clipping and AdamW (engine.step). Cases:
 *   demo-mazes     the demo preset on real 5×5 DFS batches of 32 (right-padded, path-only loss);
 *                  PyTorch gets the same batch size and the mean padded length.
 *   demo-32x128    d_model 64, 4 layers (the demo preset) on 32 × 128 random tokens, full loss —
 *                  the shape issue 4 quotes PyTorch at (0.42 s/step, 9,800 tokens/s).
 *   hallway-32x256 the 1.24M-parameter hallway preset on 32 × 256 (opt-in: slow on tfjs-wasm).
 *   deep-mazes     the deep preset (8 layers) on 5×5 DFS batches of 32, lookahead-balanced: the long
 *                  run's data without packing (issue 13).
 *   deep-mazes-q8  the same mazes, 16 per update, each packed with 8 queries (--queries 8, onnx only,
 *                  no PyTorch equivalent): what the long run trains on. Compare path_predictions_per_s
 *                  with deep-mazes — the loss positions per second, which packing is for.
 * Anchor: bench/torch_train.py, an independent PyTorch GPT of the same shape and the same step,
 * run with /usr/bin/python3 when `import torch` works; otherwise its figure is null with the reason.
 * Figures are wall-clock on this machine; ratios are ours / PyTorch's from the same run.
 */
import { PYTHON_OPTION } from './model.js';
import { runTorchScript } from './torch.js';
import { parseCommand, UsageError } from '../server/cli/args.js';
import { Rng } from '../server/maze/rng.js';
import { getTokenizer } from '../server/maze/tokenize/index.js';
import { PRESETS, parameterCount, type ModelConfig } from '../server/model/config.js';
import { DEFAULT_ADAMW } from '../server/model/train/adamw.js';
import { MazeBatcher, type TrainBatch } from '../server/model/train/data.js';
import { createTrainEngine, ENGINE_NAMES, type EngineName, type TrainEngine } from '../server/model/train/engine.js';
import { initWeights } from '../server/model/weights.js';

const spec = {
  name: 'bench train',
  summary: 'Training tokens/s per engine and shape, beside PyTorch.',
  options: {
    steps: { type: 'integer', description: 'Timed steps per case (after one warm-up step)', default: 3 },
    shapes: {
      type: 'string',
      description: 'Comma-separated cases: demo-mazes, demo-32x128, hallway-32x256, deep-mazes, deep-mazes-q8',
      default: 'demo-mazes,demo-32x128',
    },
    engines: { type: 'string', description: `Comma-separated engines (${ENGINE_NAMES.join(', ')})`, default: 'tfjs' },
    python: PYTHON_OPTION,
  },
} as const;

interface Case {
  name: string;
  cfg: ModelConfig;
  /** Batch b of the case (inputs, targets, mask). */
  batch: (b: number) => TrainBatch;
  B: number;
  /** The sequence length PyTorch gets: the mean padded T of the timed batches 1..steps for maze batches. */
  T: (steps: number) => number;
  /** Why PyTorch has no anchor for this case (packed rows), when it has none. */
  noTorch?: string;
}

const vocab5 = getTokenizer('aotp-ut').vocabSize(5);

function randomBatch(B: number, T: number, V: number, seed: number): TrainBatch {
  const rng = new Rng(seed);
  const tokens = Int32Array.from({ length: B * T }, () => rng.int(V)); // [B, T]
  const targets = Int32Array.from({ length: B * T }, () => rng.int(V)); // [B, T]
  return { B, T, tokens, targets, mask: new Float32Array(B * T).fill(1), realTokens: B * T, predicted: B * T };
}

function makeCase(name: string): Case {
  const demo: ModelConfig = { ...PRESETS.demo, d_vocab: vocab5, tokenizer: 'aotp-ut' };
  switch (name) {
    case 'demo-mazes': {
      const data = new MazeBatcher({ spec: { generator: 'dfs', rows: 5 }, seed: 0, mazes: 1 << 20, tokenizer: 'aotp-ut', nCtx: demo.n_ctx, loss: 'path' });
      const batch = (b: number): TrainBatch => data.batch(b * 32, b, 32);
      return {
        name,
        cfg: demo,
        B: 32,
        batch,
        // Batches are seeded, so the parent process (which runs PyTorch) recomputes the lengths the
        // engines saw in their own processes.
        T: (steps) => Math.round(Array.from({ length: steps }, (_, i) => batch(i + 1).T).reduce((a, c) => a + c, 0) / steps),
      };
    }
    case 'deep-mazes':
    case 'deep-mazes-q8': {
      const cfg: ModelConfig = { ...PRESETS.deep, d_vocab: vocab5, tokenizer: 'aotp-ut' };
      const packed = name === 'deep-mazes-q8';
      const B = packed ? 16 : 32;
      const data = new MazeBatcher({
        spec: { generator: 'dfs', rows: 5 },
        seed: 0,
        mazes: 1 << 20,
        tokenizer: 'aotp-ut',
        nCtx: cfg.n_ctx,
        loss: 'path',
        sampling: { balance: 'lookahead' },
        steps: 1 << 20,
        ...(packed ? { queries: 8 } : {}),
      });
      const batch = (b: number): TrainBatch => data.batch(b * B, b, B);
      return {
        name,
        cfg,
        B,
        batch,
        T: (steps) => Math.round(Array.from({ length: steps }, (_, i) => batch(i + 1).T).reduce((a, c) => a + c, 0) / steps),
        ...(packed ? { noTorch: 'packed rows (shared-prefix attention) have no PyTorch counterpart here' } : {}),
      };
    }
    case 'demo-32x128':
      return { name, cfg: demo, B: 32, batch: (b) => randomBatch(32, 128, vocab5, b), T: () => 128 };
    case 'hallway-32x256': {
      const cfg: ModelConfig = { ...PRESETS.hallway, d_vocab: vocab5, tokenizer: 'aotp-ut' };
      return { name, cfg, B: 32, batch: (b) => randomBatch(32, 256, vocab5, b), T: () => 256 };
    }
    default:
      throw new UsageError(`bench train: unknown shape "${name}"; known: demo-mazes, demo-32x128, hallway-32x256, deep-mazes, deep-mazes-q8`);
  }
}

async function timeEngine(engine: TrainEngine, c: Case, steps: number): Promise<Record<string, unknown>> {
  const hyper = { lr: 1e-3, clip: 1, adamw: DEFAULT_ADAMW };
  await engine.step(c.batch(0), hyper); // warm-up: kernel setup, graph compilation
  let tokens = 0;
  let predicted = 0;
  let ms = 0;
  for (let s = 1; s <= steps; s++) {
    const batch = c.batch(s);
    const t0 = performance.now();
    await engine.step(batch, hyper);
    ms += performance.now() - t0;
    tokens += batch.realTokens;
    predicted += batch.predicted;
  }
  return {
    tokens_per_s: Math.round(tokens / (ms / 1000)),
    path_predictions_per_s: Math.round(predicted / (ms / 1000)),
    step_ms: Math.round(ms / steps),
    peak_rss_mib_so_far: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function torchAnchor(python: string, c: Case, steps: number): { result: Record<string, unknown> | null; reason?: string } {
  if (!python) return { result: null, reason: 'skipped (--python "")' };
  if (c.noTorch) return { result: null, reason: c.noTorch };
  const { d_model, n_layers, n_heads, d_head, d_mlp, d_vocab, n_ctx } = c.cfg;
  return runTorchScript(python, 'torch_train.py', {
    d_model,
    n_layers,
    n_heads,
    d_head,
    d_mlp,
    d_vocab,
    n_ctx,
    batch: c.B,
    seq: c.T(steps),
    steps,
    warmup_steps: 1,
  }) as {
    result: Record<string, unknown> | null;
    reason?: string;
  };
}

export async function run(argv: string[]): Promise<unknown> {
  const parsed = parseCommand(spec, argv, (s) => process.stderr.write(s));
  if (!parsed) return {};
  const o = parsed.options;
  if (o.steps < 1) throw new UsageError(`bench train: --steps must be ≥ 1, got ${o.steps}`);
  const engines = o.engines
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as EngineName[];
  for (const e of engines) if (!ENGINE_NAMES.includes(e)) throw new UsageError(`bench train: unknown engine "${e}"; known: ${ENGINE_NAMES.join(', ')}`);
  const cases = [];
  for (const name of o.shapes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const c = makeCase(name);
    const row: Record<string, unknown> = { shape: name, params: parameterCount(c.cfg), batch: c.B };
    for (const e of engines) {
      let engine: TrainEngine | null = null;
      try {
        engine = await createTrainEngine(e, c.cfg, initWeights(c.cfg, new Rng(0)));
        row[e] = { engine: engine.name, ...(await timeEngine(engine, c, o.steps)) };
      } catch (err) {
        row[e] = { error: (err as Error).message };
      } finally {
        await engine?.dispose();
      }
    }
    row.seq = c.T(o.steps);
    const torch = torchAnchor(o.python, c, o.steps);
    row.torch = torch.result ?? { tokens_per_s: null, reason: torch.reason };
    const anchor = torch.result?.tokens_per_s as number | undefined;
    for (const e of engines) {
      const ours = (row[e] as { tokens_per_s?: number }).tokens_per_s;
      row[`${e}_vs_torch`] = anchor && ours ? +(ours / anchor).toFixed(3) : null;
    }
    cases.push(row);
  }
  return { steps: o.steps, cases, peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024) };
}
