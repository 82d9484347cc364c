/**
 * `evaluateModel`: greedy, unconstrained decoding of a model's latest checkpoint on a dataset's
 * test split (or on freshly generated mazes), scored with the maze metrics beside the baseline
 * solver on the same mazes (server/model/train/evaluate.ts, the same scoring as `searchlight eval`).
 * The result is stored as an `evaluate` experiment (Model.evals) when the job completes.
 */
import { UserError } from '../../errors.js';
import { insertEvaluation, splitMazes } from '../../services/experiments.js';
import { findLatestCheckpoint } from '../../services/models.js';
import { baselineSolve } from '../../maze/baseline.js';
import { type MazeSpec, generateMazes, validateSpec } from '../../maze/generate.js';
import { generatorNames } from '../../maze/generators/index.js';
import type { SolvedMaze } from '../../maze/lattice.js';
import { MAX_GRID } from '../../maze/lattice.js';
import { aggregateMetrics, pathMetrics, type PathMetrics } from '../../maze/metrics.js';
import { Rng } from '../../maze/rng.js';
import { checkGridInVocab, getTokenizer } from '../../maze/tokenize/index.js';
import type { ModelConfig } from '../../model/config.js';
import type { JobHandler } from '../types.js';
import { existingModel, idNum, int, readyDataset } from './common.js';

export const MAX_EVAL_MAZES = 100_000;
const CHUNK = 200;

export interface EvaluateParams {
  modelId: number;
  datasetId?: number;
  generator?: string;
  grid?: number;
  count: number;
  seed: number;
}

export const evaluateModel: JobHandler<EvaluateParams> = {
  kind: 'evaluateModel',
  recovery: 'retry',
  maxAttempts: 2,

  async validate(raw, db) {
    const r = raw as Record<string, unknown>;
    const modelId = idNum(r.modelId, 'Model', 'evaluateModel: modelId');
    await existingModel(db, modelId, 'evaluateModel: modelId');
    if (!(await findLatestCheckpoint(db, modelId))) {
      throw new UserError(`evaluateModel: Model:${modelId} has no checkpoint yet`);
    }
    if (r.datasetId !== undefined && r.datasetId !== null) {
      const datasetId = idNum(r.datasetId, 'Dataset', 'evaluateModel: datasetId');
      const ds = await readyDataset(db, datasetId, 'evaluateModel: datasetId');
      const [a, b] = (ds.splits as { test: [number, number] }).test;
      if (b <= a) throw new UserError(`evaluateModel: Dataset:${datasetId} has an empty test split (testFraction 0); evaluate on generated mazes instead`);
      return { modelId, datasetId, count: int(r.count, 'evaluateModel: count', 1, MAX_EVAL_MAZES, Math.min(b - a, MAX_EVAL_MAZES)), seed: 0 };
    }
    if (typeof r.generator !== 'string' || !generatorNames().includes(r.generator)) {
      throw new UserError(
        `evaluateModel: give datasetId, or generator (one of ${generatorNames().join(', ')}) with grid, count and seed; got generator ${JSON.stringify(r.generator)}`,
      );
    }
    const p = {
      modelId,
      generator: r.generator,
      grid: int(r.grid, 'evaluateModel: grid', 2, MAX_GRID),
      count: int(r.count, 'evaluateModel: count', 1, MAX_EVAL_MAZES),
      seed: int(r.seed, 'evaluateModel: seed', 0, 0xffffffff),
    };
    validateSpec({ generator: p.generator, rows: p.grid });
    return p;
  },

  async run(ctx, p) {
    const { db } = ctx;
    const model = await existingModel(db, p.modelId, 'evaluateModel: modelId');
    const ckpt = await findLatestCheckpoint(db, model.id);
    if (!ckpt) throw new UserError(`evaluateModel: Model:${model.id} has no checkpoint`);
    const cfg = model.config as ModelConfig;
    const vocab = model.vocab as string[];
    const tok = getTokenizer(cfg.tokenizer);
    let mazes: SolvedMaze[];
    let source: Record<string, unknown>;
    if (p.datasetId !== undefined) {
      mazes = await splitMazes(db, p.datasetId, 'test', p.count);
      source = { datasetId: `Dataset:${p.datasetId}`, split: 'test' };
    } else {
      const spec: MazeSpec = { generator: p.generator!, rows: p.grid! };
      mazes = [...generateMazes(spec, p.count, p.seed)];
      source = { generator: p.generator, grid: p.grid, seed: p.seed };
    }
    const grid = Math.max(...mazes.map((m) => Math.max(m.rows, m.cols)));
    checkGridInVocab(cfg.tokenizer, cfg.d_vocab, grid, 'evaluateModel');
    const tooLong = mazes.findIndex((m) => tok.promptLength(m) >= cfg.n_ctx);
    if (tooLong >= 0)
      throw new UserError(`evaluateModel: maze ${tooLong}'s prompt has ${tok.promptLength(mazes[tooLong])} tokens; the model's n_ctx is ${cfg.n_ctx}`);

    const { loadModel } = await import('../../model/weights.js');
    const { evaluateMazes } = await import('../../model/train/evaluate.js');
    const { openModel } = await import('../../model/open.js');
    const loaded = await loadModel(await ctx.handle.store.localPath(ckpt.path, ckpt.sha256));
    const engine = await openModel('onnx', loaded.cfg, loaded.weights);
    const modelRows: PathMetrics[] = [];
    const baseRows: PathMetrics[] = [];
    try {
      const decode = engine.decoder();
      const tokRng = new Rng(`${p.seed}/eval-tokens`);
      const baseRng = new Rng(`${p.seed}/baseline`);
      for (let i = 0; i < mazes.length; i += CHUNK) {
        ctx.checkCancelled();
        const chunk = mazes.slice(i, i + CHUNK);
        await evaluateMazes(decode, chunk, tok, vocab, tokRng, new Rng(0), { rows: modelRows });
        for (const m of chunk) baseRows.push(pathMetrics(m, baselineSolve(m, baseRng).path, { ended: true }));
        ctx.progress({ phase: 'evaluating', done: Math.min(i + CHUNK, mazes.length), total: mazes.length, modelId: `Model:${model.id}` });
      }
    } finally {
      await engine.dispose();
    }
    const summary = {
      ...source,
      count: mazes.length,
      checkpointStep: ckpt.step,
      engine: engine.engine,
      model: aggregateMetrics(modelRows),
      baseline: aggregateMetrics(baseRows),
    };
    return ctx.complete(async (tx) => {
      const evaluationId = await insertEvaluation(tx, {
        modelId: model.id,
        params: { ...source, count: p.count, checkpointId: ckpt.id },
        jobId: ctx.jobId,
        summary,
      });
      return {
        modelId: `Model:${model.id}`,
        evaluationId: `Evaluation:${evaluationId}`,
        exact_path_rate: summary.model.exact_path_rate,
        baseline_exact_path_rate: summary.baseline.exact_path_rate,
      };
    });
  },

  async cleanup() {
    // Nothing is written before the evaluation completes (its experiment row commits with COMPLETED).
  },
};
