import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { curveFromLog, describeEval, describeProgress, formatDuration, progressPrinter } from '../../../server/model/train/progress.js';
import type { Progress } from '../../../server/model/train/trainer.js';

const p = (step: number): Progress => ({
  step,
  steps: 20,
  loss: 1.5,
  lr: 1e-3,
  gradNorm: 0.5,
  clipped: false,
  tokensPerSec: 1234.4,
  etaSec: 75,
  elapsedSec: 3,
});

function capture(isTTY: boolean) {
  const s = Object.assign(new PassThrough(), { isTTY, columns: 200 });
  let text = '';
  s.on('data', (d) => (text += d));
  return { s, text: () => text };
}

describe('progressPrinter', () => {
  it('without a terminal, writes one plain line every logEvery updates and at the end, no control codes', () => {
    const c = capture(false);
    const pr = progressPrinter(c.s, { logEvery: 5 });
    for (let k = 1; k <= 20; k++) pr.onProgress({ ...p(k) });
    pr.done();
    const lines = c.text().trim().split('\n');
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['5/20', '10/20', '15/20', '20/20']);
    expect(lines[0]).toContain('1,234 tok/s  ETA 1m15s');
    expect(c.text()).not.toContain('\r');
  });
  it('on a terminal, redraws one bar line in place and ends it with a newline', () => {
    const c = capture(true);
    const pr = progressPrinter(c.s);
    pr.onProgress(p(10));
    pr.onCheckpoint({ step: 10, path: 'w.safetensors' });
    pr.done();
    expect(c.text()).toContain('\r\x1b[2K[████████████░░░░░░░░░░░░] step 10/20');
    expect(c.text()).toContain('checkpoint @10: w.safetensors\n');
    expect(c.text().endsWith('\n')).toBe(true);
  });
  it('formats durations for humans', () => {
    expect([formatDuration(5), formatDuration(75), formatDuration(3725), formatDuration(Infinity)]).toEqual(['5s', '1m15s', '1h02m', '?']);
  });
});

describe('curveFromLog', () => {
  it("reads back what the trainer's lines say (train loss and lr, eval loss and rates), up to a step", () => {
    const ev = {
      step: 20,
      loss: 0.25,
      seconds: 1.5,
      model: { count: 200, exact_path_rate: 0.405, valid_rollout_rate: 0.5, target_reached_rate: 0.99 },
      baseline: { exact_path_rate: 0.3, valid_rollout_rate: 0.3 },
    } as unknown as Parameters<typeof describeEval>[0];
    const log = [describeProgress(p(10)), describeEval(ev), 'checkpoint @20: x', describeProgress({ ...p(30), loss: 0.75 })].join('\n');
    expect(curveFromLog(log)).toEqual([
      [10, 'train/loss', 1.5],
      [10, 'train/lr', 0.001],
      [20, 'eval/loss', 0.25],
      [20, 'eval/exact_path_rate', 0.405],
      [20, 'eval/valid_rollout_rate', 0.5],
      [20, 'baseline/exact_path_rate', 0.3],
      [30, 'train/loss', 0.75],
      [30, 'train/lr', 0.001],
    ]);
    expect(curveFromLog(log, 20).map(([s]) => s)).toEqual([10, 10, 20, 20, 20, 20]);
    // A rate the trainer could not compute ("–") is left out, the others kept.
    const missing = describeEval({ ...ev, baseline: { exact_path_rate: null, valid_rollout_rate: null } } as typeof ev);
    expect(curveFromLog(missing).map(([, n]) => n)).toEqual(['eval/loss', 'eval/exact_path_rate', 'eval/valid_rollout_rate']);
  });
});
