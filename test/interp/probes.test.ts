/**
 * probes kind: shapes by class × layer × target, labels that are rare get a majority baseline,
 * the shuffled-label control sits at chance (balanced accuracy ≈ 0.5), and the run is deterministic.
 */
import { describe, expect, it } from 'vitest';
import { modelInfo } from '../../server/interp/context.js';
import { latticeEdges, probes, PROBE_CLASSES, PROBE_TARGETS } from '../../server/interp/probes.js';
import { ctxOf, noProgress, randomModel, tensorOf } from './helpers.js';

const model = randomModel('nano', 4, 31);
const info = modelInfo(model);

describe('probes', () => {
  it('fits every class × layer × target; controls sit at chance; selectivity = accuracy − control', async () => {
    const p = probes.paramsSchema.parse({ count: 160, iters: 100 }, info);
    const r = await probes.run(ctxOf(model, 5), p, noProgress);
    const L = model.cfg.n_layers + 1;
    const shape = [PROBE_CLASSES.length, L, PROBE_TARGETS.length];
    const acc = tensorOf(r, 'accuracy'),
      ctrl = tensorOf(r, 'control_accuracy'),
      cbal = tensorOf(r, 'control_balanced_accuracy'),
      sel = tensorOf(r, 'selectivity');
    expect(acc.shape).toEqual(shape);
    for (let i = 0; i < acc.data.length; i++) {
      expect(acc.data[i]).toBeGreaterThanOrEqual(0);
      expect(acc.data[i]).toBeLessThanOrEqual(1);
      expect(sel.data[i]).toBeCloseTo(acc.data[i] - ctrl.data[i], 6);
    }
    // Shuffled labels carry no information: balanced accuracy near 0.5 on average.
    const meanCtrl = cbal.data.reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0) / cbal.data.filter((b) => !Number.isNaN(b)).length;
    expect(Math.abs(meanCtrl - 0.5)).toBeLessThan(0.06);
    // future = solution at the non-path classes (the same columns, fitted once).
    const ti = (t: string) => PROBE_TARGETS.indexOf(t as (typeof PROBE_TARGETS)[number]);
    for (let c = 0; c < 3; c++)
      for (let l = 0; l < L; l++) {
        const at = (c * L + l) * PROBE_TARGETS.length;
        expect(acc.data[at + ti('future')]).toBe(acc.data[at + ti('solution')]);
      }
    expect(r.summary.label_columns).toEqual({ edge: latticeEdges(4, 4).length, solution: 16, future: 16, target: 16 });
    expect(latticeEdges(4, 4)).toHaveLength(24);

    // The first test maze, probe by probe (the drill-down's): its truth is its own maze's (one target
    // cell, the solution's cells, the future a part of them), its predictions are probabilities.
    const nC = PROBE_CLASSES.length,
      nT = PROBE_TARGETS.length,
      n = 16;
    const tokens = Array.from(tensorOf(r, 'detail.tokens').data, (id) => model.vocab[id]);
    const cellsOf = (from: number) =>
      tokens
        .slice(from)
        .map((t) => /^\((\d+),(\d+)\)$/.exec(t))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]) * 4 + Number(m[2]));
    const pathStart = tokens.indexOf('<PATH_START>');
    const solution = new Set(cellsOf(pathStart + 1));
    const targetCell = cellsOf(tokens.indexOf('<TARGET_START>'))[0];
    const truth = tensorOf(r, 'detail.truth'); // [class, target, cell]
    const cellsAt = (c: number, t: string) => Array.from(truth.data.subarray((c * nT + ti(t)) * n, (c * nT + ti(t) + 1) * n));
    for (let c = 0; c < nC; c++) {
      expect(cellsAt(c, 'target').flatMap((v, k) => (v === 1 ? [k] : []))).toEqual([targetCell]);
      expect(new Set(cellsAt(c, 'solution').flatMap((v, k) => (v === 1 ? [k] : [])))).toEqual(solution);
      for (const [k, v] of cellsAt(c, 'future').entries()) if (v === 1) expect(solution.has(k)).toBe(true);
      expect(cellsAt(c, 'edge').every(Number.isNaN)).toBe(true);
    }
    const pred = tensorOf(r, 'detail.cells'); // [class, layer, target, cell]
    expect(pred.shape).toEqual([nC, L, nT, n]);
    for (let i = 0; i < pred.data.length; i++) {
      if (i % (nT * n) >= ti('edge') * n && i % (nT * n) < (ti('edge') + 1) * n) expect(pred.data[i]).toBeNaN();
      else expect(pred.data[i] >= 0 && pred.data[i] <= 1).toBe(true);
    }
    expect(Array.from(tensorOf(r, 'detail.position').data)).toHaveLength(nC);
  });

  it('is deterministic given the seed', async () => {
    const p = probes.paramsSchema.parse({ count: 40, classes: ['path'], targets: ['target'], iters: 30 }, info);
    const a = await probes.run(ctxOf(model, 9), p, noProgress),
      b = await probes.run(ctxOf(model, 9), p, noProgress);
    expect(Array.from(tensorOf(a, 'accuracy').data)).toEqual(Array.from(tensorOf(b, 'accuracy').data));
  });

  it('too few mazes is an error naming params.count', async () => {
    await expect(probes.run(ctxOf(model), probes.paramsSchema.parse({ count: 5 }, info), noProgress)).rejects.toThrow(/params\.count/);
  });
});

describe('top1Accuracy (which cell is the target, as one choice)', () => {
  it('counts rows whose most probable column in the block is labelled 1, skipping rows without a label there', async () => {
    const { top1Accuracy } = await import('../../server/interp/probes.js');
    // 3 rows × K = 4 columns; the block is columns 1..3.
    const P = [0.9, 0.1, 0.7, 0.2, /* row 1 */ 0.0, 0.6, 0.3, 0.1, /* row 2 */ 0.5, 0.2, 0.2, 0.9];
    const Y = [1, 0, 1, 0, /* */ 0, 0, 1, 0, /* */ 0, 0, 0, 0];
    // row 0: best in block col 2 (0.7), labelled 1 → right; row 1: best col 1, label at 2 → wrong; row 2: no label in the block → skipped.
    expect(top1Accuracy(P, Y, 3, 4, 1, 3)).toBe(0.5);
    expect(
      top1Accuracy(
        P,
        Y.map(() => 0),
        3,
        4,
        1,
        3,
      ),
    ).toBeNaN();
  });
});
