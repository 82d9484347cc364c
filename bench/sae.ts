/**
 * `npm run bench -- sae`: sparse autoencoder training steps per second on ONNX Runtime
 * (server/interp/sae/train.ts: the step graph, host Adam, decoder renormalisation) beside the same
 * SAE, batch and optimiser in PyTorch (bench/torch_sae.py, /usr/bin/python3 with Debian's
 * python3-torch), in the same run. Rows are standard normal; the timing does not depend on values
 * beyond which latents TopK keeps. JumpReLU trains its thresholds with the L0 penalty and the
 * rectangle-kernel straight-through estimator on both sides (λ and ε as the sae kind's defaults).
 */
import { PYTHON_OPTION } from './model.js';
import { runTorchScript } from './torch.js';
import { timed } from './timing.js';
import { parseCommand, UsageError } from '../server/cli/args.js';
import { Rng } from '../server/maze/rng.js';
import { initSae, type SaeShape } from '../server/interp/sae/sae.js';
import { JUMPRELU_BANDWIDTH, JUMPRELU_INIT_THRESHOLD, JUMPRELU_L0, RELU_L1, SaeTrainer } from '../server/interp/sae/train.js';

const spec = {
  name: 'bench sae',
  summary: 'SAE training steps/s on ONNX Runtime beside PyTorch.',
  options: {
    dIn: { type: 'integer', description: 'Input width (d_model of the hook)', default: 64 },
    expansion: { type: 'integer', description: 'd_sae = expansion × d_in', default: 8 },
    architecture: { type: 'string', description: 'topk, relu or jumprelu', default: 'topk', choices: ['topk', 'relu', 'jumprelu'] },
    k: { type: 'integer', description: 'TopK latents per row', default: 16 },
    batch: { type: 'integer', description: 'Rows per step', default: 4096 },
    steps: { type: 'integer', description: 'Timed steps', default: 40 },
    warmup: { type: 'integer', description: 'Untimed steps first', default: 5 },
    python: PYTHON_OPTION,
  },
} as const;

function torchSae(python: string, args: Record<string, unknown>): { result: { steps_per_s: number; median_ms: number } | null; reason?: string } {
  return runTorchScript(python, 'torch_sae.py', args) as { result: { steps_per_s: number; median_ms: number } | null; reason?: string };
}

export async function run(argv: string[]): Promise<unknown> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return {};
  const o = parsed.options;
  if (o.steps < 3 || o.warmup < 1) throw new UsageError('bench sae: --steps must be at least 3 and --warmup at least 1');
  const architecture = o.architecture as SaeShape['architecture'];
  const shape: SaeShape = {
    d_in: o.dIn,
    d_sae: o.expansion * o.dIn,
    architecture,
    k: o.k,
    ...(architecture === 'jumprelu' ? { threshold: new Float32Array(o.expansion * o.dIn).fill(JUMPRELU_INIT_THRESHOLD) } : {}),
  };
  const rng = new Rng(0);
  const B = o.batch;
  const data = Array.from({ length: 8 }, () => Float32Array.from({ length: B * shape.d_in }, () => rng.normal())); // [B, d_in] each
  // The sparsity coefficient as the sae kind trains by default: relu's L1, jumprelu's L0 λ (unused by topk).
  const l1 = architecture === 'jumprelu' ? JUMPRELU_L0 : RELU_L1;
  const bandwidth = JUMPRELU_BANDWIDTH;
  const lr = 1e-3;
  const trainer = await SaeTrainer.create(shape, initSae(shape, rng), { bandwidth });
  let ours: { steps_per_s: number; median_ms: number; mse: number };
  try {
    let i = 0;
    let mse = NaN;
    const t = await timed(o.warmup, o.steps, async () => {
      mse = (await trainer.step(data[i++ % 8], B, lr, l1)).mse; // the last step's, after the timed ones
    });
    ours = { steps_per_s: +(1000 / t.medianMs).toFixed(2), median_ms: +t.medianMs.toFixed(2), mse: +mse.toFixed(4) };
  } finally {
    await trainer.dispose();
  }
  const torch = torchSae(o.python, {
    d_in: shape.d_in,
    d_sae: shape.d_sae,
    architecture: shape.architecture,
    k: shape.k,
    l1,
    threshold: JUMPRELU_INIT_THRESHOLD,
    bandwidth,
    batch: B,
    steps: o.steps,
    warmup: o.warmup,
    lr,
  });
  return {
    what: `SAE training steps/s, ${shape.architecture}${shape.architecture === 'topk' ? ` k=${shape.k}` : ''}, d_in ${shape.d_in} → d_sae ${shape.d_sae}, batch ${B}`,
    ours,
    torch: torch.result ?? torch.reason,
    speedup_vs_torch: torch.result ? +(ours.steps_per_s / torch.result.steps_per_s).toFixed(2) : null,
  };
}
