/**
 * The ONNX engine inside the engine-independent trainer (server/model/train/trainer.ts):
 *  - a short run of the tiny preset follows the tfjs engine's loss curve on the same run (same
 *    mazes, batches, initial weights, AdamW, schedule): step by step within a small margin, and
 *    both fall — close, not identical, since float32 sums differ in order;
 *  - `createTrainEngine('onnx')` gives a TrainEngine whose optimizer state round-trips, so a
 *    resumed run continues the uninterrupted one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../../server/model/config.js';
import { getTokenizer } from '../../../server/maze/tokenize/index.js';
import { initTfjs } from '../../../server/model/tfjs/backend.js';
import { DEFAULT_ADAMW } from '../../../server/model/train/adamw.js';
import { MazeBatcher } from '../../../server/model/train/data.js';
import { createTrainEngine } from '../../../server/model/train/engine.js';
import { initRng, train, type RunSpec } from '../../../server/model/train/trainer.js';
import { initWeights } from '../../../server/model/weights.js';

let dir: string;
beforeAll(async () => {
  await initTfjs();
  dir = await mkdtemp(join(tmpdir(), 'searchlight-onnx-train-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The tiny preset (d_model 32, 4 layers, 2 heads) on 3×3 DFS mazes. */
const tinyRun = (over: Partial<RunSpec> = {}): RunSpec => ({
  model: { ...PRESETS.tiny, n_ctx: 64, d_vocab: getTokenizer('aotp-ut').vocabSize(3), tokenizer: 'aotp-ut' },
  maze: { generator: 'dfs', rows: 3 },
  seed: 3,
  mazes: 256,
  batch: 8,
  steps: 25,
  lr: 3e-3,
  warmup: 3,
  minLrRatio: 0.1,
  adamw: DEFAULT_ADAMW,
  clip: 1,
  loss: 'path',
  engine: 'onnx',
  ...over,
});

describe('training on the ONNX engine', () => {
  it('follows the tfjs loss curve on the same tiny-preset run, and both fall', async () => {
    const curves: Record<string, number[]> = { onnx: [], tfjs: [] };
    for (const engine of ['onnx', 'tfjs'] as const) {
      await train({ run: tinyRun({ engine }), out: join(dir, `${engine}.safetensors`), onProgress: (p) => curves[engine].push(p.loss) });
    }
    const { onnx, tfjs } = curves;
    expect(onnx).toHaveLength(25);
    expect(tfjs).toHaveLength(25);
    // The first update sees identical weights: the losses agree to float32 rounding.
    expect(Math.abs(onnx[0] - tfjs[0])).toBeLessThan(1e-5 * tfjs[0]);
    const maxGap = Math.max(...onnx.map((l, i) => Math.abs(l - tfjs[i]) / tfjs[i]));
    expect(maxGap).toBeLessThan(0.02); // relative, every step
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    for (const c of [onnx, tfjs]) expect(mean(c.slice(-5))).toBeLessThan(0.85 * mean(c.slice(0, 5)));
  }, 300_000);

  it('createTrainEngine("onnx") steps, and its optimizer state round-trips: a resumed run matches the straight one', async () => {
    const run = tinyRun({ steps: 6 });
    const cfg = run.model;
    const data = new MazeBatcher({ spec: run.maze, seed: run.seed, mazes: run.mazes, tokenizer: cfg.tokenizer, nCtx: cfg.n_ctx, loss: run.loss });
    const w0 = initWeights(cfg, initRng(run.seed));
    const hyper = { lr: 1e-3, clip: 1, adamw: run.adamw };
    const a = await createTrainEngine('onnx', cfg, w0);
    const b = await createTrainEngine('onnx', cfg, w0);
    try {
      expect(a.name).toBe('onnx-cpu');
      for (let s = 0; s < 3; s++) await a.step(data.batch(s * 8, s, 8), hyper);
      // b: take 3 steps' state from a, then both take 3 more.
      await b.setWeights(await a.getWeights());
      await b.setOptimizerState(await a.getOptimizerState());
      for (let s = 3; s < 6; s++) {
        const batch = data.batch(s * 8, s, 8);
        const ra = await a.step(batch, hyper);
        const rb = await b.step(batch, hyper);
        expect(rb.loss).toBe(ra.loss);
      }
      const wa = await a.getWeights(),
        wb = await b.getWeights();
      for (const [name, v] of wa) expect(wb.get(name), name).toEqual(v);
      expect((await a.getOptimizerState()).step).toBe(6);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});
