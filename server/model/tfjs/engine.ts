/**
 * The tfjs GradEngine (see server/model/train/engine.ts): TfGpt's autodiff behind the
 * engine-independent interface the trainer drives.
 */
import type { ModelConfig, Weights } from '../config.js';
import { TrainError, type GradEngine } from '../train/engine.js';
import { initTfjs, type TfjsBackendInfo, type TfjsBackendName } from './backend.js';
import { TfGpt, type LossBatch, type TokenGrid } from './gpt.js';

export interface TfjsGradEngine extends GradEngine {
  readonly backend: TfjsBackendInfo;
  readonly model: TfGpt;
}

export async function createTfjsGradEngine(cfg: ModelConfig, weights: Weights, opts: { backend?: TfjsBackendName } = {}): Promise<TfjsGradEngine> {
  const backend = await initTfjs(opts.backend);
  const model = new TfGpt(cfg, weights);
  // Packed rows (shared-prefix attention masks, packing.ts) exist only in the ONNX training graph.
  const unpacked = <G extends TokenGrid>(g: G): G => {
    if (g.positions || g.segments) throw new TrainError('packed batches (--queries above 1) train on --engine onnx only');
    return g;
  };
  return {
    name: `tfjs-${backend.backend}`,
    cfg,
    backend,
    model,
    setWeights: async (w: Weights) => model.setWeights(w),
    lossAndGrads: async (batch: LossBatch) => model.lossAndGrads(unpacked(batch)),
    loss: async (batch: LossBatch) => model.loss(unpacked(batch)),
    logits: async (grid: TokenGrid) => model.forward(unpacked(grid)).logits,
    dispose: async () => model.dispose(),
  };
}
