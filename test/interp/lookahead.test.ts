/**
 * lookahead: teacher-forced fork decisions grouped by the lookahead each fork needs; checked against
 * an independent recount with the pure-TypeScript reference forward on the same sequences.
 */
import { describe, expect, it } from 'vitest';
import { encoder, modelInfo } from '../../server/interp/context.js';
import { lookahead } from '../../server/interp/lookahead.js';
import { forkLookahead, forksAlongPath } from '../../server/maze/analysis.js';
import { Rng } from '../../server/maze/rng.js';
import { referenceForward } from '../../server/model/reference.js';
import { ctxOf, mazes, noProgress, randomModel, tensorOf } from './helpers.js';

describe('lookahead', () => {
  const model = randomModel('nano', 4, 17);

  it("counts every fork of the true paths once, by lookahead, with the reference forward's decisions", async () => {
    const list = mazes(4, 12, 5);
    const p = lookahead.paramsSchema.parse({ count: 12, batch: 5 }, modelInfo(model));
    const r = await lookahead.run(ctxOf(model, 3, list), p, noProgress);

    // The recount: same encoder and edge-order stream as the kind, one maze at a time.
    const enc = encoder(model);
    const rng = new Rng('lookahead/3');
    const forks: number[] = [],
      correct: number[] = [],
      chosen: number[] = [],
      chance: number[] = [];
    for (const m of list) {
      const seq = enc.encode(m, rng);
      const { logits } = referenceForward(model.cfg, model.weights, [seq]);
      const V = model.cfg.d_vocab;
      for (const f of forksAlongPath(m, m.path)) {
        const h = forkLookahead(m, f)!.lookahead - 1; // trees: never null
        const at = (enc.promptLength(m) + f.index) * V;
        const row = Array.from(logits.subarray(at, at + V));
        while (forks.length <= h) forks.push(0), correct.push(0), chosen.push(0), chance.push(0);
        forks[h]++;
        if (row.indexOf(Math.max(...row)) === enc.cellId(...f.next)) correct[h]++;
        const scores = f.choices.map((c) => row[enc.cellId(...c)]);
        const rightWay = f.choices.findIndex((c) => c[0] === f.next[0] && c[1] === f.next[1]);
        if (scores.indexOf(Math.max(...scores)) === rightWay) chosen[h]++;
        chance[h] += 1 / f.options;
      }
    }
    expect(Array.from(tensorOf(r, 'forks').data)).toEqual(forks);
    const acc = tensorOf(r, 'accuracy').data;
    forks.forEach((n, h) => (n > 0 ? expect(acc[h]).toBeCloseTo(correct[h] / n, 6) : expect(acc[h]).toBeNaN()));
    const choice = tensorOf(r, 'choice_accuracy').data;
    forks.forEach((n, h) => (n > 0 ? expect(choice[h]).toBeCloseTo(chosen[h] / n, 6) : expect(choice[h]).toBeNaN()));
    // A random model chooses among the open ways now and then, though it rarely names them first.
    expect(chosen.reduce((a, b) => a + b, 0)).toBeGreaterThan(correct.reduce((a, b) => a + b, 0));
    expect(r.summary).toMatchObject({ mazes: 12, forks: forks.reduce((a, b) => a + b, 0), ambiguous_forks: 0 });
    const rows = r.summary.by_lookahead as Array<{ lookahead: number; forks: number; correct: number; chance: number }>;
    expect(rows.map((x) => x.lookahead)).toEqual(forks.flatMap((n, h) => (n > 0 ? [h + 1] : [])));
    for (const row of rows) {
      expect(row.correct).toBe(correct[row.lookahead - 1]);
      expect(row.chance).toBeCloseTo(chance[row.lookahead - 1] / row.forks, 5);
    }

    // Each fork on its own (what a bin's drill-down draws): the same counts, and each names its maze's
    // fork token and the right next cell in the stored sequences.
    const F = forks.reduce((a, b) => a + b, 0);
    const [maze, position, need, right, best, pick] = ['maze', 'position', 'lookahead', 'right', 'argmax', 'choice'].map((n) =>
      Array.from(tensorOf(r, `fork.${n}`).data),
    );
    expect(maze).toHaveLength(F);
    forks.forEach((n, h) => expect(need.filter((x) => x === h + 1)).toHaveLength(n));
    forks.forEach((_, h) => expect(need.filter((x, i) => x === h + 1 && best[i] === right[i])).toHaveLength(correct[h]));
    forks.forEach((_, h) => expect(need.filter((x, i) => x === h + 1 && pick[i] === right[i])).toHaveLength(chosen[h]));
    const ids = tensorOf(r, 'mazes.tokens');
    const T = ids.shape[1];
    expect(ids.shape[0]).toBe(list.length);
    const rng2 = new Rng('lookahead/3');
    const seqs = list.map((m) => enc.encode(m, rng2));
    for (let i = 0; i < F; i++) {
      const seq = seqs[maze[i]];
      expect(Array.from(ids.data.subarray(maze[i] * T, maze[i] * T + seq.length))).toEqual(Array.from(seq));
      expect(seq[position[i] + 1]).toBe(right[i]); // the true path's next cell follows the fork's token
    }
  });

  it('leaves out forks whose wrong branch also reaches the target (mazes with cycles), and says how many', async () => {
    const open = mazes(4, 6, 2, 'open_field');
    const p = lookahead.paramsSchema.parse({ count: 6 }, modelInfo(model));
    const r = await lookahead.run(ctxOf(model, 1, open), p, noProgress);
    const expected = open.reduce((s, m) => s + forksAlongPath(m, m.path).filter((f) => forkLookahead(m, f) === null).length, 0);
    expect(expected).toBeGreaterThan(0);
    expect(r.summary.ambiguous_forks).toBe(expected);
  });
});
