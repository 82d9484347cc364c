/**
 * `npm run bench -- forward` and `-- cache`: one forward pass of a GPT on ONNX Runtime, and
 * run-with-cache of every TransformerLens hook, on the hallway preset at batch 32 × 256.
 *
 * Anchors, measured in the same run: `forward` — an independent PyTorch GPT of the same shape
 * (bench/torch_forward.py, /usr/bin/python3 with Debian's python3-torch; null with the reason when
 * unavailable), goal ≥ 3× its tokens/s; `cache` — our own plain forward on the same binding, goal
 * ≤ 1.5× its time. `cache` also times both on onnxruntime-node when the engine runs on our direct
 * binding (runtime.ts), to show what the binding changes. Figures are medians of --reps timed runs
 * after --warmup untimed ones, reported apart (PyTorch gets as many). The first run compiles the
 * session; on the direct binding outputs stay in ORT's arena until the GC collects them, so the
 * arena grows for the first runs of a cache (it measured up to three to settle).
 */
import { PYTHON_OPTION } from './model.js';
import { runTorchScript } from './torch.js';
import { timed } from './timing.js';
import { setImmediate as tick } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseCommand, UsageError } from '../server/cli/args.js';
import { Rng } from '../server/maze/rng.js';
import { getTokenizer } from '../server/maze/tokenize/index.js';
import { PRESETS, type ModelConfig, type PresetName } from '../server/model/config.js';
import { OnnxEngine } from '../server/model/onnx/engine.js';
import type { Binding } from '../server/model/onnx/runtime.js';
import { allHookNames, hookDims, hookGeometry } from '../server/model/onnx/hooks.js';
import { initWeights } from '../server/model/weights.js';

const spec = {
  name: 'bench forward',
  summary: 'Forward and run-with-cache timings on ONNX Runtime, beside PyTorch.',
  options: {
    preset: { type: 'string', description: 'Model preset', default: 'hallway', choices: Object.keys(PRESETS) },
    batch: { type: 'integer', description: 'Batch size', default: 32 },
    seq: { type: 'integer', description: 'Sequence length (≤ n_ctx)', default: 256 },
    reps: { type: 'integer', description: 'Timed repetitions', default: 5 },
    warmup: { type: 'integer', description: 'Untimed runs before the timed ones', default: 3 },
    mode: {
      type: 'string',
      description: 'forward: beside PyTorch; cache: every hook beside a plain forward',
      default: 'forward',
      choices: ['forward', 'cache'],
    },
    python: PYTHON_OPTION,
    binding: {
      type: 'string',
      description: 'ORT binding for CPU sessions (runtime.ts); default SEARCHLIGHT_ORT, else auto',
      choices: ['auto', 'direct', 'node'],
    },
  },
} as const;

/**
 * Resident memory once nothing is held (after full GCs; external-buffer finalizers run on a later
 * tick, hence the waits) and the process's peak so far, MiB. What the binding's memory pool kept.
 */
async function memoryAfterGc(): Promise<{ rss_after_gc_mib: number; peak_rss_mib: number }> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 2; i++) {
    gc();
    await tick();
  }
  return { rss_after_gc_mib: Math.round(process.memoryUsage().rss / 2 ** 20), peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024) };
}

function torchForward(python: string, cfg: ModelConfig, B: number, T: number, reps: number, warmup: number): { result: unknown; reason?: string } {
  return runTorchScript(python, 'torch_forward.py', { ...cfg, batch: B, seq: T, reps, warmup });
}

export async function run(argv: string[], defaults: { mode?: 'forward' | 'cache' } = {}): Promise<unknown> {
  const parsed = parseCommand(spec, defaults.mode ? ['--mode', defaults.mode, ...argv] : argv);
  if (!parsed) return {};
  const o = parsed.options;
  if (o.warmup < 1) throw new UsageError(`bench forward: --warmup must be at least 1 (the first run compiles the session), got ${o.warmup}`);
  const time = async (fn: () => Promise<unknown>): Promise<{ median: number; cold: number[] }> => {
    const t = await timed(o.warmup, o.reps, fn);
    return { median: t.medianMs, cold: t.coldMs };
  };
  const preset = PRESETS[o.preset as PresetName];
  if (o.seq > preset.n_ctx) throw new UsageError(`bench forward: --seq ${o.seq} exceeds n_ctx ${preset.n_ctx} of ${o.preset}`);
  const cfg: ModelConfig = { ...preset, d_vocab: getTokenizer('aotp-ut').vocabSize(6), tokenizer: 'aotp-ut' };
  const weights = initWeights(cfg, new Rng(0));
  // --binding when given, else SEARCHLIGHT_ORT (the engine reads it), else auto.
  const engine = await OnnxEngine.create(cfg, weights, o.binding ? { binding: o.binding as Binding } : {});
  const rng = new Rng(1);
  const B = o.batch,
    T = o.seq;
  const tokens = Int32Array.from({ length: B * T }, () => rng.int(cfg.d_vocab)); // [B, T]
  try {
    const fwd = await time(() => engine.forward(tokens, B, T));
    const forwardMs = fwd.median;
    const ours = { binding: engine.binding, median_ms: +forwardMs.toFixed(1), tokens_per_s: Math.round((B * T) / (forwardMs / 1000)), warmup_ms: fwd.cold };
    const shape = { preset: o.preset, batch: B, seq: T, d_vocab: cfg.d_vocab };
    if (o.mode === 'cache') {
      const cache = await time(() => engine.runWithCache(tokens, B, T));
      const last = await time(() => engine.runWithCache(tokens, B, T, { positions: [T - 1] }));
      // Two graph variants (every position, last position) have run: what stays resident for them.
      const memory = await memoryAfterGc();
      // onnxruntime-node copies every fetched output into a fresh ArrayBuffer (a preallocated output
      // is copied too, checked with 1.30), so on it the cache pays for allocating and writing its
      // bytes once more; the floor of that is JS allocating and filling the same arrays. The direct
      // binding hands ORT's own output memory over instead.
      const count = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);
      const sizes = [B * T * cfg.d_vocab, ...allHookNames(cfg).map((n) => count(hookDims(cfg, hookGeometry(cfg, n), B, T)))];
      const outputMiB = (sizes.reduce((a, b) => a + b, 0) * 4) / 2 ** 20;
      const fill = await time(async () => sizes.map((n) => new Float32Array(n).fill(1)));
      let onnxruntimeNode: unknown = 'same as above (the engine runs on onnxruntime-node)';
      if (engine.binding === 'direct') {
        const other = await OnnxEngine.create(cfg, weights, { binding: 'node' });
        try {
          const f = await time(() => other.forward(tokens, B, T));
          const c = await time(() => other.runWithCache(tokens, B, T));
          onnxruntimeNode = {
            forward_ms: +f.median.toFixed(1),
            cache_all_hooks_ms: +c.median.toFixed(1),
            ratio_to_forward: +(c.median / f.median).toFixed(2),
            cache_warmup_ms: c.cold,
          };
        } finally {
          await other.dispose();
        }
      }
      return {
        shape,
        forward: ours,
        cache_all_hooks: {
          median_ms: +cache.median.toFixed(1),
          ratio_to_forward: +(cache.median / forwardMs).toFixed(2),
          warmup_ms: cache.cold,
          output_mib: Math.round(outputMiB),
          js_alloc_and_fill_same_bytes_ms: +fill.median.toFixed(1),
        },
        cache_all_hooks_last_position: { median_ms: +last.median.toFixed(1), ratio_to_forward: +(last.median / forwardMs).toFixed(2), warmup_ms: last.cold },
        memory_after_both_caches: { binding: engine.binding, ...memory },
        onnxruntime_node_binding: onnxruntimeNode,
        goal: 'cache of every hook ≤ 1.5× a plain forward (same binding)',
      };
    }
    const torch = torchForward(o.python, cfg, B, T, o.reps, o.warmup);
    const t = torch.result as { tokens_per_s: number } | null;
    return {
      shape,
      onnxruntime: ours,
      pytorch: torch.result ?? { unavailable: torch.reason },
      ratio_tokens_per_s: t ? +(ours.tokens_per_s / t.tokens_per_s).toFixed(2) : null,
      goal: '≥ 3× PyTorch CPU',
    };
  } finally {
    await engine.dispose();
  }
}
