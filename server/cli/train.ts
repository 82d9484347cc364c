/**
 * `searchlight train` and `searchlight eval`: train a model on seeded mazes (checkpointed,
 * resumable, with held-out evaluation) and score a model file on fresh mazes beside the baseline
 * solver.
 */
import { type MazeSpec, generateMazes } from '../maze/generate.js';
import { generatorNames } from '../maze/generators/index.js';
import { Rng } from '../maze/rng.js';
import { checkGridInVocab, getTokenizer, gridForVocabSize, tokenizerNames } from '../maze/tokenize/index.js';
import { PRESETS, type ModelConfig, type PresetName } from '../model/config.js';
import { DEFAULT_ADAMW } from '../model/train/adamw.js';
import { loadCheckpoint } from '../model/train/checkpoint.js';
import { LOSS_MODES, type LossMode } from '../model/train/data.js';
import { ENGINE_NAMES, type EngineName } from '../model/train/engine.js';
import { evaluateMazes } from '../model/train/evaluate.js';
import { progressPrinter } from '../model/train/progress.js';
import { CURRICULUM_BY, type CurriculumBy, type SamplingSpec } from '../model/train/sampling.js';
import { train, type RunSpec } from '../model/train/trainer.js';
import { type Command, type CommandSpec, parseCommand, UsageError } from './args.js';
import { INFERENCE_ENGINES, onnxEvalDecoder, openModel, pathOnlyTokens, type InferenceEngineName } from '../model/open.js';
import type { CliIO } from './io.js';
import { loadForCli } from './model.js';

// Run-defining options carry no parser default: with --resume, an option left out is taken from
// the checkpoint and one given must agree with it. Defaults for fresh runs are applied in code.
const trainSpec = {
  name: 'train',
  usage: 'searchlight train (--preset P | --init W) --grid N --steps K --out W [options]',
  summary: 'Train a model on seeded mazes (AdamW, warmup + cosine, checkpoints, held-out evaluation).',
  options: {
    preset: { type: 'string', description: 'Architecture (a new run needs it, unless --init gives one)', choices: Object.keys(PRESETS) },
    generator: { type: 'string', description: `Maze generator: ${generatorNames().join(', ')} (default dfs)`, placeholder: 'G' },
    grid: { type: 'integer', description: "Grid side (default: the --init model's, else 5)", placeholder: 'N' },
    p: { type: 'number', description: 'Edge probability for percolation / dfs_percolation', placeholder: 'P' },
    forkless: { type: 'boolean', description: 'dfs: corridor mazes without forks' },
    tokenizer: { type: 'string', description: 'Token format (default aotp-ut)', choices: tokenizerNames() },
    grids: { type: 'string', description: "Mix grid sides in one run, e.g. 3,4,5 (ascending; the largest is the run's grid)", placeholder: 'N,N,…' },
    balance: { type: 'string', description: 'Balance mazes by the lookahead their forks need (Saparov et al. 2024)', choices: ['lookahead'] },
    queries: { type: 'integer', description: 'Origin/target queries per maze packed after one adjacency list (default 1; onnx engine)', placeholder: 'K' },
    curriculum: {
      type: 'string',
      description: 'grid:F or lookahead:F — allow the smallest grids / shallowest lookaheads first, all by fraction F of the run',
      placeholder: 'BY:F',
    },
    mazes: { type: 'integer', description: 'Distinct training mazes, cycled (default steps × batch: every maze fresh)', placeholder: 'M' },
    steps: { type: 'integer', description: 'Optimizer updates (required for a new run)', placeholder: 'K' },
    seed: { type: 'integer', description: 'Seed of mazes, batches and initial weights (default 0)', placeholder: 'S' },
    batch: { type: 'integer', description: 'Mazes per update (default 32)', placeholder: 'B' },
    lr: { type: 'number', description: 'Peak learning rate (default 1e-3)', placeholder: 'LR' },
    warmup: { type: 'integer', description: 'Linear warmup updates (default min(100, steps/10))', placeholder: 'K' },
    'min-lr-ratio': { type: 'number', description: 'Cosine floor as a fraction of --lr (default 0.1)', placeholder: 'R' },
    'weight-decay': {
      type: 'number',
      description: `AdamW decoupled weight decay on weight matrices (default ${DEFAULT_ADAMW.weightDecay})`,
      placeholder: 'WD',
    },
    clip: { type: 'number', description: 'Global gradient-norm clip, 0 = off (default 1)', placeholder: 'C' },
    loss: { type: 'string', description: 'Loss on the path tokens only, or on the full sequence (default path)', choices: LOSS_MODES },
    engine: { type: 'string', description: 'Training engine (default onnx)', choices: ENGINE_NAMES },
    out: { type: 'string', description: 'Weights file; the optimizer state goes beside it as *.optim.safetensors', required: true, placeholder: 'W' },
    resume: { type: 'boolean', description: 'Continue the run checkpointed at --out exactly where it stopped' },
    init: {
      type: 'string',
      description: "Start a new run from this model file's weights (same architecture and vocabulary) instead of a fresh init",
      placeholder: 'W',
    },
    'eval-every': { type: 'integer', description: 'Evaluate on held-out mazes every N updates, 0 = never (default steps/10)', placeholder: 'N' },
    'eval-count': { type: 'integer', description: 'Held-out mazes per evaluation', default: 200, placeholder: 'C' },
    'checkpoint-every': { type: 'integer', description: 'Checkpoint every N updates (default min(500, steps))', placeholder: 'N' },
    'stop-at': { type: 'integer', description: 'Stop with a checkpoint after update N (continue later with --resume)', placeholder: 'N' },
    'log-every': { type: 'integer', description: 'Without a terminal: one progress line every N updates', default: 10, placeholder: 'N' },
  },
  details: `Held-out evaluation uses mazes from another seed stream ("<seed>/heldout"), decoded greedily and
unconstrained, and prints the exact-path and valid-rollout rates beside the baseline solver's.
Ctrl-C finishes the current update, writes a checkpoint and exits; --resume continues it.`,
} satisfies CommandSpec;

type TrainOpts = NonNullable<ReturnType<typeof parseCommand<typeof trainSpec.options>>>['options'];

function mazeSpecOf(o: TrainOpts, base?: MazeSpec): MazeSpec {
  const grid = o.grid ?? base?.rows ?? 5;
  return {
    generator: o.generator ?? base?.generator ?? 'dfs',
    rows: grid,
    cols: grid,
    ...(o.p !== undefined ? { p: o.p } : base?.p !== undefined ? { p: base.p } : {}),
    ...(o.forkless || base?.forkless ? { forkless: true } : {}),
  };
}

/** --grids, --balance and --curriculum as a SamplingSpec (undefined when none is given). */
function samplingOf(o: TrainOpts): SamplingSpec | undefined {
  const s: SamplingSpec = {};
  if (o.grids !== undefined) {
    s.grids = o.grids.split(',').map((x) => {
      const n = Number(x.trim());
      if (!/^\s*\d+\s*$/.test(x) || !Number.isInteger(n))
        throw new UsageError(`train: --grids takes grid sides separated by commas (e.g. 3,4,5); "${x}" is not one`);
      return n;
    });
  }
  if (o.balance !== undefined) s.balance = o.balance as 'lookahead';
  if (o.curriculum !== undefined) {
    const m = /^(\w+):([0-9.]+)$/.exec(o.curriculum);
    if (!m || !CURRICULUM_BY.includes(m[1] as CurriculumBy) || !(Number(m[2]) > 0 && Number(m[2]) <= 1)) {
      throw new UsageError(
        `train: --curriculum takes ${CURRICULUM_BY.map((b) => `${b}:F`).join(' or ')} with F in (0, 1] (the fraction of the run it rises over); got ${JSON.stringify(o.curriculum)}`,
      );
    }
    s.curriculum = { by: m[1] as CurriculumBy, fraction: Number(m[2]) };
  }
  return Object.keys(s).length > 0 ? s : undefined;
}

/** A fresh run from the options and the documented defaults. */
function freshRun(o: TrainOpts, initCfg?: ModelConfig): RunSpec {
  if (!o.preset && !initCfg) throw new UsageError('train: a new run needs --preset (or --init, whose file gives the architecture)');
  if (o.steps === undefined) throw new UsageError('train: --steps is required for a new run');
  // Without --grid, an --init model's vocabulary names the grid it was made for.
  const sampling = samplingOf(o);
  const initGrid = initCfg && o.grid === undefined ? gridForVocabSize(initCfg.tokenizer, initCfg.d_vocab) : null;
  // --grids without --grid: the largest side is the run's grid (its vocabulary, its held-out mazes).
  const mixGrid = sampling?.grids && o.grid === undefined ? sampling.grids[sampling.grids.length - 1] : null;
  const maze = mazeSpecOf(initGrid !== null ? { ...o, grid: initGrid } : mixGrid !== null ? { ...o, grid: mixGrid } : o);
  const tokenizer = o.tokenizer ?? initCfg?.tokenizer ?? 'aotp-ut';
  const d_vocab = getTokenizer(tokenizer).vocabSize(maze.rows);
  const model: ModelConfig = o.preset ? { ...PRESETS[o.preset as PresetName], d_vocab, tokenizer } : { ...initCfg!, d_vocab, tokenizer };
  const batch = o.batch ?? 32;
  return {
    model,
    maze,
    batch,
    seed: o.seed ?? 0,
    mazes: o.mazes ?? Math.min(o.steps * batch, 0x100000000),
    steps: o.steps,
    lr: o.lr ?? 1e-3,
    warmup: o.warmup ?? Math.min(100, Math.floor(o.steps / 10)),
    minLrRatio: o['min-lr-ratio'] ?? 0.1,
    adamw: { ...DEFAULT_ADAMW, ...(o['weight-decay'] !== undefined ? { weightDecay: o['weight-decay'] } : {}) },
    clip: o.clip ?? 1,
    loss: (o.loss ?? 'path') as LossMode,
    engine: (o.engine ?? 'onnx') as EngineName,
    ...(sampling ? { sampling } : {}),
    ...(o.queries !== undefined && o.queries !== 1 ? { queries: o.queries } : {}),
  };
}

/** The checkpoint's run; every option given must agree with it. */
function resumedRun(o: TrainOpts, run: RunSpec): RunSpec {
  const checks: Array<[string, unknown, unknown]> = [
    ['steps', o.steps, run.steps],
    ['seed', o.seed, run.seed],
    ['mazes', o.mazes, run.mazes],
    ['batch', o.batch, run.batch],
    ['lr', o.lr, run.lr],
    ['warmup', o.warmup, run.warmup],
    ['min-lr-ratio', o['min-lr-ratio'], run.minLrRatio],
    ['weight-decay', o['weight-decay'], run.adamw.weightDecay],
    ['clip', o.clip, run.clip],
    ['loss', o.loss, run.loss],
    ['engine', o.engine, run.engine],
    ['generator', o.generator, run.maze.generator],
    ['grid', o.grid, run.maze.rows],
    ['p', o.p, run.maze.p],
    ['tokenizer', o.tokenizer, run.model.tokenizer],
    ['queries', o.queries, run.queries ?? 1],
  ];
  if (o.forkless) checks.push(['forkless', true, run.maze.forkless ?? false]);
  const sampling = samplingOf(o);
  if (sampling?.grids) checks.push(['grids', sampling.grids.join(','), run.sampling?.grids?.join(',')]);
  if (sampling?.balance) checks.push(['balance', sampling.balance, run.sampling?.balance]);
  if (sampling?.curriculum)
    checks.push(['curriculum', o.curriculum, run.sampling?.curriculum && `${run.sampling.curriculum.by}:${run.sampling.curriculum.fraction}`]);
  if (o.preset) {
    const p = PRESETS[o.preset as PresetName];
    const same = (Object.keys(p) as Array<keyof typeof p>).every((k) => p[k] === run.model[k]);
    checks.push(['preset', o.preset, same ? o.preset : `a different architecture (${JSON.stringify(run.model)})`]);
  }
  for (const [name, given, had] of checks) {
    if (given !== undefined && given !== had) {
      throw new UsageError(
        `train --resume: --${name} ${JSON.stringify(given)} differs from the checkpoint's ${JSON.stringify(had)}; a resumed run keeps its settings (leave the option out)`,
      );
    }
  }
  return run;
}

async function runTrain(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(trainSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  if (o.init && o.resume) throw new UsageError('train: --init starts a new run; it cannot be combined with --resume');
  const initModel = o.init ? await loadForCli(o.init) : undefined;
  const run = o.resume ? resumedRun(o, (await loadCheckpoint<RunSpec>(o.out)).run) : freshRun(o, initModel?.cfg);
  const evalEvery = o['eval-every'] ?? Math.max(1, Math.ceil(run.steps / 10));
  const checkpointEvery = o['checkpoint-every'] ?? Math.min(500, run.steps);
  for (const [k, v] of [
    ['eval-every', evalEvery],
    ['checkpoint-every', checkpointEvery],
    ['eval-count', o['eval-count']],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new UsageError(`train: --${k} must be a non-negative integer, got ${v}`);
  }
  if (initModel) {
    const m = initModel.cfg;
    const differs = (Object.keys(run.model) as Array<keyof ModelConfig>).filter((k) => m[k] !== run.model[k]);
    if (differs.length > 0)
      throw new UsageError(`train: --init ${o.init} differs from this run's model in ${differs.map((k) => `${k} (${m[k]} vs ${run.model[k]})`).join(', ')}`);
  }
  const printer = progressPrinter(io.stderr as NodeJS.WriteStream, { logEvery: o['log-every'] });
  const abort = new AbortController();
  const onSigint = (): void => {
    io.stderr.write('\ninterrupt: finishing this update and writing a checkpoint (Ctrl-C again to quit at once)\n');
    abort.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const mix = run.sampling
    ? ` (${[
        run.sampling.grids && `grids ${run.sampling.grids.join(',')}`,
        run.sampling.balance && `balanced by ${run.sampling.balance}`,
        run.sampling.curriculum && `curriculum by ${run.sampling.curriculum.by} over ${run.sampling.curriculum.fraction} of the run`,
        (run.queries ?? 1) > 1 && `${run.queries} queries per maze`,
      ]
        .filter(Boolean)
        .join(', ')})`
    : (run.queries ?? 1) > 1
      ? ` (${run.queries} queries per maze)`
      : '';
  io.stderr.write(
    `train: ${o.resume ? 'resuming' : 'starting'} ${run.steps} updates of ${run.batch} ${run.maze.rows}x${run.maze.cols} ${run.maze.generator} mazes${mix} on ${run.engine}\n`,
  );
  try {
    const r = await train({
      run,
      out: o.out,
      resume: o.resume ?? false,
      init: initModel?.weights,
      evalEvery,
      checkpointEvery,
      evalCount: o['eval-count'],
      stopAt: o['stop-at'],
      signal: abort.signal,
      decoder: onnxEvalDecoder,
      onProgress: (p) => printer.onProgress(p),
      onEval: (e) => printer.onEval(e),
      onCheckpoint: (c) => printer.onCheckpoint(c),
    });
    printer.done();
    const last = r.evals[r.evals.length - 1];
    io.stdout.write(
      JSON.stringify({
        out: r.weightsPath,
        state: r.statePath,
        step: r.step,
        steps: run.steps,
        stopped: r.stopped,
        loss: r.loss,
        tokens_per_s: Math.round(r.tokensPerSec),
        ...(last
          ? {
              eval: {
                step: last.step,
                loss: last.loss,
                exact_path_rate: last.model.exact_path_rate,
                valid_rollout_rate: last.model.valid_rollout_rate,
                baseline_exact_path_rate: last.baseline.exact_path_rate,
              },
            }
          : {}),
      }) + '\n',
    );
  } finally {
    printer.done();
    process.removeListener('SIGINT', onSigint);
  }
}

export const trainCommand: Command = { summary: trainSpec.summary, run: runTrain };

const evalSpec = {
  name: 'eval',
  usage: 'searchlight eval --weights W --generator G --grid N --count C --seed S',
  summary: 'Score greedy decoding of a model on seeded mazes with the maze metrics, beside the baseline solver (JSON).',
  options: {
    weights: { type: 'string', description: 'Model file', required: true, placeholder: 'W' },
    generator: { type: 'string', description: `Maze generator: ${generatorNames().join(', ')}`, default: 'dfs', placeholder: 'G' },
    grid: { type: 'integer', description: 'Grid side', default: 5, placeholder: 'N' },
    p: { type: 'number', description: 'Edge probability for percolation / dfs_percolation', placeholder: 'P' },
    forkless: { type: 'boolean', description: 'dfs: corridor mazes without forks' },
    count: { type: 'integer', description: 'Mazes', default: 1000, placeholder: 'C' },
    seed: { type: 'integer', description: 'Maze seed (use one the model was not trained on)', default: 1, placeholder: 'S' },
    engine: { type: 'string', description: 'Inference engine', default: 'onnx', choices: INFERENCE_ENGINES },
    constrained: { type: 'boolean', description: 'Only allow coordinates and <PATH_END> when decoding' },
  },
} satisfies CommandSpec;

async function runEval(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(evalSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  if (!(o.count >= 1)) throw new UsageError(`eval: --count must be ≥ 1, got ${o.count}`);
  const { cfg, weights, vocab } = await loadForCli(o.weights);
  const tok = getTokenizer(cfg.tokenizer);
  checkGridInVocab(cfg.tokenizer, cfg.d_vocab, o.grid, 'eval');
  const spec: MazeSpec = { generator: o.generator, rows: o.grid, ...(o.p !== undefined ? { p: o.p } : {}), ...(o.forkless ? { forkless: true } : {}) };
  const mazes = [...generateMazes(spec, o.count, o.seed)];
  const tooLong = mazes.findIndex((m) => tok.promptLength(m) > cfg.n_ctx);
  if (tooLong >= 0)
    throw new UsageError(`eval: maze ${tooLong}'s prompt has ${tok.promptLength(mazes[tooLong])} tokens, more than the model's n_ctx ${cfg.n_ctx}`);
  const model = await openModel(o.engine as InferenceEngineName, cfg, weights);
  try {
    const t0 = performance.now();
    const decode = model.decoder(o.constrained ? pathOnlyTokens(vocab) : undefined);
    const report = await evaluateMazes(decode, mazes, tok, vocab, new Rng(`${o.seed}/eval-tokens`), new Rng(`${o.seed}/baseline`));
    io.stdout.write(
      JSON.stringify(
        {
          weights: o.weights,
          engine: model.engine,
          maze: spec,
          count: o.count,
          seed: o.seed,
          constrained: o.constrained ?? false,
          seconds: +((performance.now() - t0) / 1000).toFixed(2),
          model: report.model,
          baseline: report.baseline,
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await model.dispose();
  }
}

export const evalCommand: Command = { summary: evalSpec.summary, run: runEval };
