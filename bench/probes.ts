/**
 * `npm run bench -- probes`: wall time of the `probes` experiment over 1,000 6×6 DFS mazes on the
 * hallway preset with its default parameters (4 token classes × 7 lens layers, targets edge /
 * solution / future / target, shuffled-label controls): split into the forward passes that collect
 * the residual streams and the logistic fits. Weights: TL init or `--weights W` (timing does not
 * depend on values).
 */
import { benchModel } from './model.js';
import os from 'node:os';
import { parseCommand } from '../server/cli/args.js';
import { createInterpModel, runExperiment } from '../server/interp/index.js';

const spec = {
  name: 'bench probes',
  summary: 'The probes experiment over 1,000 mazes.',
  options: {
    weights: { type: 'string', description: 'Model file (default: hallway preset, TL init, 6×6 vocabulary)', placeholder: 'W' },
    count: { type: 'integer', description: 'Mazes', default: 1000 },
    params: { type: 'string', description: 'Extra probes params (JSON), merged over {count}', default: '{}' },
  },
} as const;

export async function run(argv: string[]): Promise<unknown> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return {};
  const o = parsed.options;
  const { cfg, weights, vocab } = await benchModel(o.weights, 6);
  const model = createInterpModel({ cfg, weights, vocab });
  const load0 = os.loadavg();
  try {
    await model.engine(); // session creation is not part of the experiment's cost
    const marks: Array<[number, number]> = [];
    const t0 = performance.now();
    const r = await runExperiment('probes', { model, seed: 0 }, { ...JSON.parse(o.params), count: o.count }, (f) => marks.push([f, performance.now()]));
    const total = (performance.now() - t0) / 1000;
    // The experiment reports 0.2 when every residual stream is collected (probes.ts).
    const collected = marks.find(([f]) => f >= 0.2)?.[1] ?? t0;
    const s = r.summary as {
      mazes: number;
      train: number;
      test: number;
      classes: string[];
      layers: string[];
      targets: string[];
      label_columns: Record<string, number>;
    };
    return {
      what: 'probes experiment, hallway preset, 6x6 DFS mazes, default params',
      mazes: s.mazes,
      train: s.train,
      test: s.test,
      fits: s.classes.length * s.layers.length * 2,
      label_columns: s.label_columns,
      d_model: cfg.d_model,
      total_s: +total.toFixed(2),
      collect_s: +((collected - t0) / 1000).toFixed(2),
      fit_s: +((t0 + total * 1000 - collected) / 1000).toFixed(2),
      params: r.params,
      loadavg_before: load0.map((x) => +x.toFixed(2)),
      loadavg_after: os.loadavg().map((x) => +x.toFixed(2)),
    };
  } finally {
    await model.dispose();
  }
}
