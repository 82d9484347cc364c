import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../server/maze/rng.js';
import { decodeSafetensors, readSafetensorsFile } from '../../../server/model/safetensors.js';
import { initTfjs } from '../../../server/model/tfjs/backend.js';
import { TfGpt } from '../../../server/model/tfjs/gpt.js';
import { loadCheckpoint, optimizerPath } from '../../../server/model/train/checkpoint.js';
import { MazeBatcher } from '../../../server/model/train/data.js';
import { train, type RunSpec } from '../../../server/model/train/trainer.js';
import { initWeights, loadModel } from '../../../server/model/weights.js';
import { nanoFor, smallRun } from './helpers.js';

let dir: string;
beforeAll(async () => {
  await initTfjs();
  dir = await mkdtemp(join(tmpdir(), 'searchlight-train-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The step a checkpoint on disk holds (its optimizer state's metadata), read synchronously. */
const loadedStep = (path: string): string => decodeSafetensors(readFileSync(optimizerPath(path))).metadata.step;

describe('TfGpt gradients', () => {
  it('agree with central finite differences of the loss (nano, every kind of parameter)', () => {
    const cfg = nanoFor(3);
    const w = initWeights(cfg, new Rng(7));
    const m = new TfGpt(cfg, w);
    const batch = new MazeBatcher({ spec: { generator: 'dfs', rows: 3 }, seed: 1, mazes: 4, tokenizer: 'aotp-ut', nCtx: cfg.n_ctx, loss: 'full' }).batch(
      0,
      0,
      2,
    );
    const { grads } = m.lossAndGrads(batch);
    const h = 3e-3;
    for (const name of [
      'embed.W_E',
      'pos_embed.W_pos',
      'blocks.0.ln1.w',
      'blocks.0.attn.W_Q',
      'blocks.0.attn.W_K',
      'blocks.1.attn.W_V',
      'blocks.1.attn.b_V',
      'blocks.1.attn.W_O',
      'blocks.0.mlp.W_in',
      'blocks.1.mlp.W_out',
      'ln_final.b',
      'unembed.W_U',
    ]) {
      const g = grads.get(name)!;
      // The entry with the largest gradient: finite differences in float32 are meaningful there.
      let i = 0;
      for (let j = 1; j < g.length; j++) if (Math.abs(g[j]) > Math.abs(g[i])) i = j;
      const at = (delta: number) => {
        const p = new Map(w);
        const a = w.get(name)!.slice();
        a[i] += delta;
        p.set(name, a);
        m.setWeights(p);
        return m.loss(batch);
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(fd - g[i]) / Math.abs(g[i]), `${name}[${i}]: autodiff ${g[i]}, finite difference ${fd}`).toBeLessThan(2e-2);
    }
    m.dispose();
  });
});

describe('train', () => {
  it('overfits a handful of fixed mazes: the loss falls by more than half within 60 updates', async () => {
    const losses: number[] = [];
    const r = await train({
      run: smallRun({ mazes: 4, batch: 4, steps: 60, lr: 2e-2, warmup: 5, clip: 1 }),
      out: join(dir, 'overfit.safetensors'),
      onProgress: (p) => losses.push(p.loss),
    });
    expect(losses).toHaveLength(60);
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(first / 2);
    expect(r.step).toBe(60);
    expect(r.stopped).toBe(false);
  });

  it('resumes exactly: 30 updates straight equal 15 + resume + 15, weights and optimizer state bit for bit', async () => {
    const run: RunSpec = smallRun({ steps: 30 });
    const a = join(dir, 'straight.safetensors');
    const b = join(dir, 'resumed.safetensors');
    const evalsA: number[] = [];
    await train({ run, out: a, checkpointEvery: 10, evalEvery: 10, evalCount: 3, onEval: (e) => evalsA.push(e.loss) });
    const half = await train({ run, out: b, checkpointEvery: 10, evalEvery: 10, evalCount: 3, stopAt: 15 });
    expect(half).toMatchObject({ step: 15, stopped: true });
    const ck = await loadCheckpoint<RunSpec>(b);
    expect(ck).toMatchObject({ dataPosition: 15 * run.batch, nextBatch: 15, optimizer: { step: 15 } });
    const evalsB: number[] = [];
    const rest = await train({ run, out: b, resume: true, checkpointEvery: 10, evalEvery: 10, evalCount: 3, onEval: (e) => evalsB.push(e.loss) });
    expect(rest).toMatchObject({ step: 30, stopped: false });
    const [wa, wb] = [await loadModel(a), await loadModel(b)];
    for (const [name, data] of wa.weights) expect(wb.weights.get(name), name).toEqual(data);
    const [sa, sb] = [await readSafetensorsFile(optimizerPath(a)), await readSafetensorsFile(optimizerPath(b))];
    for (const [name, t] of sa.tensors) expect(sb.tensors.get(name)!.data, name).toEqual(t.data);
    expect(sb.metadata.step).toBe('30');
    expect(evalsB).toEqual(evalsA.slice(1)); // evaluations at 20 and 30 agree as well
  });

  it('refuses to resume with a different run, naming the field', async () => {
    const out = join(dir, 'other.safetensors');
    await train({ run: smallRun({ steps: 3, warmup: 1 }), out });
    await expect(train({ run: smallRun({ steps: 3, warmup: 1, lr: 5e-3 }), out, resume: true })).rejects.toThrow(
      /differs from the checkpoint's in lr \(checkpoint 0.01, now 0.005\)/,
    );
    await expect(train({ run: smallRun(), out: join(dir, 'missing.safetensors'), resume: true })).rejects.toMatchObject({
      code: 'CHECKPOINT_MISSING',
      message: expect.stringMatching(/does not exist/),
    });
    // Weights and optimizer state from different saves (an interrupted save): CHECKPOINT_TORN, which the trainModel job restarts on.
    const torn = join(dir, 'torn.safetensors');
    await train({ run: smallRun({ steps: 2, warmup: 1 }), out: torn });
    copyFileSync(optimizerPath(out), optimizerPath(torn));
    await expect(train({ run: smallRun({ steps: 2, warmup: 1 }), out: torn, resume: true })).rejects.toMatchObject({
      code: 'CHECKPOINT_TORN',
      message: expect.stringMatching(/are not from the same checkpoint; the last save was interrupted$/),
    });
  });

  it('calls beforeCheckpoint with the step before that checkpoint exists on disk, then onCheckpoint', async () => {
    const out = join(dir, 'order.safetensors');
    const calls: string[] = [];
    await train({
      run: smallRun({ steps: 6, warmup: 1 }),
      out,
      checkpointEvery: 3,
      beforeCheckpoint: (step) => {
        calls.push(`before ${step} ${existsSync(out) ? loadedStep(out) : 'none'}`);
      },
      onCheckpoint: (c) => {
        calls.push(`after ${c.step} ${loadedStep(c.path)}`);
      },
    });
    // Before step 6's checkpoint the file still holds step 3: what the caller stores then is never
    // older than the checkpoint a crash would resume from.
    expect(calls).toEqual(['before 3 none', 'after 3 3', 'before 6 3', 'after 6 6']);
  });
});
