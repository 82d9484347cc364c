/**
 * `npm run bench -- path-patch [--weights W] [--pairs 4] [--rows-per-run 16] [--receivers logits|heads]`
 *
 * Path patching (server/interp/path-patching.ts) of every sender head on `--pairs` target pairs of
 * 5×5 DFS mazes, batched (`--rows-per-run` patched paths per ONNX call, per-row interventions),
 * beside the naive cost measured in the same run on the same engine: one forward per patched path
 * (rows-per-run 1; with receivers = heads, two forwards per path as in Wang et al.). Both give the
 * same values (checked). Default weights: the searcher (data/demo/search-5x5.safetensors).
 */
import { fileURLToPath } from 'node:url';
import { parseCommand } from '../server/cli/args.js';
import { loadForCli } from '../server/cli/model.js';
import { createInterpModel } from '../server/interp/context.js';
import { preparePairs } from '../server/interp/patch-common.js';
import { paramsSchema, pathPatchPair } from '../server/interp/path-patching.js';
import { modelInfo } from '../server/interp/context.js';

const SEARCHER = fileURLToPath(new URL('../data/demo/search-5x5.safetensors', import.meta.url));

const spec = {
  name: 'bench path-patch',
  summary: 'Path patching of every sender head, batched vs one forward per patched path.',
  options: {
    weights: { type: 'string', description: 'Model file (default: the searcher)', placeholder: 'W' },
    pairs: { type: 'integer', description: 'Target pairs', default: 4 },
    'rows-per-run': { type: 'integer', description: 'Patched paths per ONNX call in the batched run', default: 16 },
    receivers: { type: 'string', description: 'logits or heads (the last layer’s q/k/v)', choices: ['logits', 'heads'], default: 'logits' },
  },
} as const;

export async function run(argv: string[]): Promise<unknown> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return {};
  const o = parsed.options;
  const loaded = await loadForCli(o.weights ?? SEARCHER);
  const model = createInterpModel({ cfg: loaded.cfg, weights: loaded.weights, vocab: loaded.vocab! });
  try {
    const engine = await model.engine();
    const base = { count: o.pairs, pair: 'target', receivers: o.receivers, receiverLayer: loaded.cfg.n_layers - 1 };
    const batched = paramsSchema.parse({ ...base, rowsPerRun: o['rows-per-run'] }, modelInfo(model));
    const naive = paramsSchema.parse({ ...base, rowsPerRun: 1 }, modelInfo(model));
    const { prepared } = await preparePairs({ model, seed: 12345 }, { ...batched, sites: ['head_all_pos'] }, engine);
    await pathPatchPair(engine, prepared[0], batched); // warm-up: compile the graph variants
    await pathPatchPair(engine, prepared[0], naive);
    const time = async (p: typeof batched) => {
      const t0 = performance.now();
      const out = [];
      for (const pp of prepared) out.push(await pathPatchPair(engine, pp, p));
      return { seconds: (performance.now() - t0) / 1000, out };
    };
    const a = await time(batched);
    const b = await time(naive);
    let maxDiff = 0;
    a.out.forEach((r, i) => r.forEach((v, j) => Number.isFinite(v) && (maxDiff = Math.max(maxDiff, Math.abs(v - b.out[i][j])))));
    const { n_layers: L, n_heads: H } = loaded.cfg;
    const paths = prepared.length * (o.receivers === 'logits' ? L : L - 1) * H;
    return {
      model: o.weights ?? 'data/demo/search-5x5.safetensors',
      config: { n_layers: L, n_heads: H, d_model: loaded.cfg.d_model },
      pairs: prepared.length,
      receivers: o.receivers,
      paths,
      batched: { rowsPerRun: o['rows-per-run'], seconds: Number(a.seconds.toFixed(3)) },
      naive: { rowsPerRun: 1, seconds: Number(b.seconds.toFixed(3)) },
      speedup: Number((b.seconds / a.seconds).toFixed(2)),
      maxAbsDiff: maxDiff,
    };
  } finally {
    await model.dispose();
  }
}
