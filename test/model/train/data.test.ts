import { describe, expect, it } from 'vitest';
import { MazeError } from '../../../server/maze/lattice.js';
import { Rng } from '../../../server/maze/rng.js';
import { getTokenizer, SPECIAL } from '../../../server/maze/tokenize/index.js';
import { buildBatch, MazeBatcher } from '../../../server/model/train/data.js';

const opts = (over = {}) => ({ spec: { generator: 'dfs', rows: 4 }, seed: 3, mazes: 10, tokenizer: 'aotp-ut', nCtx: 128, loss: 'path' as const, ...over });

describe('MazeBatcher', () => {
  it('path loss mask selects exactly the predictions of the tokens after <PATH_START> through <PATH_END>', () => {
    const data = new MazeBatcher(opts());
    const batch = data.batch(0, 0, 6);
    const tok = getTokenizer('aotp-ut');
    const rng = new Rng('3/batch/0'); // the batch's own stream, documented in data.ts
    for (let b = 0; b < batch.B; b++) {
      const maze = data.maze(b);
      const seq = tok.tokenizeToIds(maze, rng);
      const p = tok.promptLength(maze);
      const row = (a: ArrayLike<number>) => Array.from(a).slice(b * batch.T, (b + 1) * batch.T);
      const masked = row(batch.mask).flatMap((m, t) => (m === 1 ? [t] : []));
      // Predicted targets = the path cells and <PATH_END>, nothing else.
      expect(masked.map((t) => row(batch.targets)[t])).toEqual(Array.from(seq.slice(p)));
      expect(row(batch.tokens)[masked[0]]).toBe(SPECIAL.PATH_START);
      expect(row(batch.targets)[masked[masked.length - 1]]).toBe(SPECIAL.PATH_END);
      // Inputs are the sequence shifted by one, right-padded with <PADDING>.
      expect(row(batch.tokens).slice(0, seq.length - 1)).toEqual(Array.from(seq.slice(0, -1)));
      expect(
        row(batch.tokens)
          .slice(seq.length - 1)
          .every((t) => t === SPECIAL.PADDING),
      ).toBe(true);
    }
    expect(batch.T).toBe(Math.max(...Array.from({ length: 6 }, (_, b) => tok.seqLength(data.maze(b)))) - 1);
  });

  it('full loss mask covers every real next-token prediction and no padding', () => {
    const batch = new MazeBatcher(opts({ loss: 'full' })).batch(0, 0, 5);
    let real = 0;
    for (let i = 0; i < batch.B * batch.T; i++)
      if (batch.mask[i] === 1) {
        real++;
        expect(batch.tokens[i]).not.toBe(SPECIAL.PADDING);
      }
    expect(real).toBe(batch.realTokens);
    expect(batch.predicted).toBe(batch.realTokens);
  });

  it('re-shuffles the adjacency list every batch: the same maze gets a new edge order, the same path', () => {
    const data = new MazeBatcher(opts({ mazes: 2 }));
    const a = data.batch(0, 0, 2); // mazes 0, 1
    const b = data.batch(2, 1, 2); // mazes 0, 1 again (the set has 2), next batch
    const row0 = (x: typeof a) => Array.from(x.tokens.slice(0, x.T));
    expect(row0(a)).not.toEqual(row0(b));
    expect([...row0(a)].sort()).toEqual([...row0(b)].sort()); // same multiset of tokens
    const path = (x: typeof a) => Array.from(x.targets.slice(0, x.T)).filter((_, t) => x.mask[t] === 1);
    expect(path(a)).toEqual(path(b));
    // And the same batch number reproduces the same batch.
    expect(data.batch(0, 0, 2)).toEqual(a);
  });

  it('rejects sequences longer than n_ctx + 1 with the sizes in the message', () => {
    expect(() => new MazeBatcher(opts({ nCtx: 20 })).batch(0, 0, 1)).toThrow(/tokenizes to \d+ tokens, but the model's n_ctx = 20/);
    expect(() => buildBatch([Int32Array.from([0, 1, 6, 7])], [2], 'path', 8)).toThrow(MazeError);
  });
});
