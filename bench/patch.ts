/**
 * `npm run bench -- patch`: wall time of a full resid_pre activation-patching sweep (every layer ×
 * every position) of one 6×6 DFS maze (the full aotp-ut sequence; the first maze of the seed's
 * stream with ≥ 170 tokens, as the issue's ~174) on the hallway
 * preset, beside the TransformerLens-style naive cost — one full forward per patch
 * (runWithInterventions replacing one position of one layer's resid_pre), measured on the same
 * engine in the same run. The naive cost is measured on `--naive` patches spread evenly over the
 * grid (0 = all of them) and extrapolated per patch; its values are checked against the sweep's.
 * Weights: TL init (timing does not depend on values) or `--weights W`. Goal (issue 3): ≤ 5 s.
 */
import { benchModel } from './model.js';
import os from 'node:os';
import { parseCommand } from '../server/cli/args.js';
import { generateMazes } from '../server/maze/generate.js';
import { Rng } from '../server/maze/rng.js';
import { getTokenizer } from '../server/maze/tokenize/index.js';
import { OnnxEngine } from '../server/model/onnx/engine.js';
import { actPatchResidPre } from '../server/model/onnx/patching.js';

const spec = {
  name: 'bench patch',
  summary: 'Full resid_pre patching sweep of one 6×6 maze vs one forward per patch.',
  options: {
    weights: { type: 'string', description: 'Model file (default: hallway preset, TL init, 6×6 vocabulary)', placeholder: 'W' },
    reps: { type: 'integer', description: 'Timed sweeps (after one warm-up)', default: 2 },
    naive: { type: 'integer', description: 'Naive patches timed (0 = every one)', default: 120 },
    'rows-per-run': { type: 'integer', description: 'Patched runs per ORT call in the sweep', default: 8 },
    seed: { type: 'integer', description: 'Maze seed', default: 1 },
  },
} as const;

const seconds = (t0: number) => (performance.now() - t0) / 1000;

export async function run(argv: string[]): Promise<unknown> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return {};
  const o = parsed.options;
  const tok = getTokenizer('aotp-ut');
  const { cfg, weights } = await benchModel(o.weights, 6);
  // The first maze of the seed's stream whose sequence has ≥ 170 tokens (the "~174").
  const pool = [...generateMazes({ generator: 'dfs', rows: 6 }, 200, o.seed)];
  const maze = pool.find((m) => tok.seqLength(m) >= 170) ?? pool.reduce((a, b) => (tok.seqLength(b) > tok.seqLength(a) ? b : a));
  const clean = tok.tokenizeToIds(maze, new Rng(o.seed));
  const T = clean.length;
  // Corrupted: the same sequence with another target token (equal length, positions aligned).
  const corrupt = clean.slice();
  const targetPos = tok.promptLength(maze) - 3;
  corrupt[targetPos] = tok.coordId(maze.target[0] === 0 ? 5 : 0, maze.target[1]);
  const good = clean[T - 1],
    bad = tok.coordId(0, 0);
  const metric = (l: Float32Array) => l[good] - l[bad];
  const L = cfg.n_layers,
    D = cfg.d_model;
  const load0 = os.loadavg();

  const engine = await OnnxEngine.create(cfg, weights);
  try {
    const o8 = { rowsPerRun: o['rows-per-run'] };
    let t0 = performance.now();
    const sweep = await actPatchResidPre(engine, clean, corrupt, metric, o8); // warm-up: compiles the graph variants
    const warm = seconds(t0);
    const times: number[] = [];
    for (let r = 0; r < o.reps; r++) {
      t0 = performance.now();
      await actPatchResidPre(engine, clean, corrupt, metric, o8);
      times.push(seconds(t0));
    }
    const fast = Math.min(...times);

    // Naive: one full forward per patch (TransformerLens' get_act_patch_resid_pre loop).
    const cleanCache = (await engine.runWithCache(clean, 1, T, { names: Array.from({ length: L }, (_, l) => `blocks.${l}.hook_resid_pre`) })).cache;
    const all = L * T;
    const n = o.naive <= 0 || o.naive >= all ? all : o.naive;
    const picks = Array.from({ length: n }, (_, i) => Math.floor((i * all) / n));
    const one = async (k: number) => {
      const l = Math.floor(k / T),
        p = k % T;
      const value = cleanCache.get(`blocks.${l}.hook_resid_pre`)!.data.subarray(p * D, (p + 1) * D); // one cell [D]
      const r = await engine.runWithInterventions(corrupt, 1, T, [{ hook: `blocks.${l}.hook_resid_pre`, kind: 'replace', positions: [p], value }], {
        names: [],
      });
      return metric(r.logits.subarray((T - 1) * cfg.d_vocab, T * cfg.d_vocab));
    };
    await one(picks[0]); // warm-up: compiles the patched graph
    let maxDiff = 0;
    t0 = performance.now();
    for (const k of picks) maxDiff = Math.max(maxDiff, Math.abs((await one(k)) - sweep.data[k]));
    const naivePer = seconds(t0) / n;
    const naiveTotal = naivePer * all;
    return {
      what: 'resid_pre activation-patching sweep, every layer × every position, one 6x6 DFS maze, hallway preset',
      tokens: T,
      layers: L,
      patches: all,
      provider: engine.provider,
      threads: process.env.SEARCHLIGHT_THREADS ?? 'ORT default',
      sweep_s: +fast.toFixed(3),
      sweep_runs_s: times.map((x) => +x.toFixed(3)),
      sweep_first_s_incl_compile: +warm.toFixed(3),
      naive: {
        patches_timed: n,
        per_patch_ms: +(naivePer * 1000).toFixed(2),
        total_s: +naiveTotal.toFixed(2),
        extrapolated: n < all,
        max_abs_diff_vs_sweep: +maxDiff.toExponential(2),
      },
      speedup_vs_naive: +(naiveTotal / fast).toFixed(1),
      goal_s: 5,
      loadavg_before: load0.map((x) => +x.toFixed(2)),
      loadavg_after: os.loadavg().map((x) => +x.toFixed(2)),
    };
  } finally {
    await engine.dispose();
  }
}
