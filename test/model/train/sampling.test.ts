import { describe, expect, it } from 'vitest';
import { generateMazes, mazeRng, generateMaze } from '../../../server/maze/generate.js';
import { parseSequence } from '../../../server/maze/parse.js';
import { MazeBatcher } from '../../../server/model/train/data.js';
import { lookaheadTop, MazeSampler, mazeLookahead } from '../../../server/model/train/sampling.js';
import { checkRun, type RunSpec } from '../../../server/model/train/trainer.js';
import { PRESETS } from '../../../server/model/config.js';
import { DEFAULT_ADAMW } from '../../../server/model/train/adamw.js';

const dfs5 = { generator: 'dfs', rows: 5, cols: 5 };
const histogram = (xs: number[]): Map<number, number> => {
  const h = new Map<number, number>();
  for (const x of xs) h.set(x, (h.get(x) ?? 0) + 1);
  return h;
};

describe('mazeLookahead', () => {
  it("is the deepest lookahead among the solution's forks: 0 on a corridor, min(steps left, wrong depth) at a fork", () => {
    // A 1×4 corridor: no forks.
    const corridor = generateMaze({ generator: 'dfs', rows: 1, cols: 4, endpoints: { origin: [0, 0], target: [0, 3] } }, mazeRng(1, 0));
    expect(mazeLookahead(corridor)).toBe(0);
    // Origin (1,0) of a 3-wide comb: the way up to (0,0) is a 1-deep dead end; the target is 2 steps right.
    const p = parseSequence(
      '<ADJLIST_START> (0,0) <--> (1,0) ; (1,0) <--> (1,1) ; (1,1) <--> (1,2) ; (0,1) <--> (0,2) ; (0,2) <--> (1,2) ; ' +
        '(2,0) <--> (2,1) ; (2,1) <--> (2,2) ; (2,2) <--> (1,2) ; <ADJLIST_END> <ORIGIN_START> (1,0) <ORIGIN_END> <TARGET_START> (1,2) <TARGET_END> ' +
        '<PATH_START> (1,0) (1,1) (1,2) <PATH_END>',
      { grid: 3 },
    );
    expect(mazeLookahead({ ...p.maze, origin: p.origin, target: p.target, path: p.path })).toBe(1);
    // Target at the end of the 3-step branch (0,1): from (1,2) both wrong ways, (1,1)… and (2,2)…, are 3 deep and 2 steps remain.
    const q = parseSequence(
      '<ADJLIST_START> (0,0) <--> (1,0) ; (1,0) <--> (1,1) ; (1,1) <--> (1,2) ; (0,1) <--> (0,2) ; (0,2) <--> (1,2) ; ' +
        '(2,0) <--> (2,1) ; (2,1) <--> (2,2) ; (2,2) <--> (1,2) ; <ADJLIST_END> <ORIGIN_START> (1,2) <ORIGIN_END> <TARGET_START> (0,1) <TARGET_END> ' +
        '<PATH_START> (1,2) (0,2) (0,1) <PATH_END>',
      { grid: 3 },
    );
    expect(mazeLookahead({ ...q.maze, origin: q.origin, target: q.target, path: q.path })).toBe(2);
  });
});

describe('MazeSampler', () => {
  it('mixes grids: every listed side is drawn about equally often, and maze k is the same on every call', () => {
    const s = new MazeSampler(dfs5, { grids: [3, 4, 5] }, 7);
    const sides = Array.from({ length: 600 }, (_, k) => s.at(k, 0.5).rows);
    const h = histogram(sides);
    expect([...h.keys()].sort()).toEqual([3, 4, 5]);
    for (const n of h.values()) expect(n).toBeGreaterThan(150); // 200 expected each
    expect(s.at(17, 0.5)).toEqual(s.at(17, 0.5));
    expect(new MazeSampler(dfs5, { grids: [3, 4, 5] }, 7).at(17, 0.9)).toEqual(s.at(17, 0.5)); // no curriculum: progress is ignored
  });

  it('balances by lookahead: bins 0…top come out about uniformly, unlike the natural stream', () => {
    const top = lookaheadTop(dfs5);
    expect(top).toBeGreaterThanOrEqual(8); // 5×5 DFS: ≥ 2% of mazes need lookahead ≥ 9
    const s = new MazeSampler(dfs5, { balance: 'lookahead' }, 7);
    const N = 1100;
    const balanced = histogram(Array.from({ length: N }, (_, k) => Math.min(mazeLookahead(s.at(k, 0)), top)));
    const natural = histogram([...generateMazes(dfs5, N, 7)].map((m) => Math.min(mazeLookahead(m), top)));
    const expected = N / (top + 1);
    for (let b = 0; b <= top; b++) {
      expect(balanced.get(b) ?? 0, `bin ${b}`).toBeGreaterThan(0.6 * expected);
      expect(balanced.get(b) ?? 0, `bin ${b}`).toBeLessThan(1.4 * expected);
    }
    // The deepest bin is rare in the natural stream (~2.6%) and a full share when balanced.
    expect((natural.get(top) ?? 0) / N).toBeLessThan(0.06);
    expect((balanced.get(top) ?? 0) / N).toBeGreaterThan(0.06);
  });

  it('a grid curriculum starts on the smallest grid and adds one size per share of its fraction', () => {
    const s = new MazeSampler(dfs5, { grids: [3, 4, 5], curriculum: { by: 'grid', fraction: 0.6 } }, 7);
    const sidesAt = (progress: number) => new Set(Array.from({ length: 200 }, (_, k) => s.at(k, progress).rows));
    expect([...sidesAt(0)]).toEqual([3]);
    expect([...sidesAt(0.19)]).toEqual([3]);
    expect([...sidesAt(0.3)].sort()).toEqual([3, 4]);
    expect([...sidesAt(0.61)].sort()).toEqual([3, 4, 5]);
  });

  it('a lookahead curriculum starts with lookahead ≤ 1 and reaches the deepest mazes by its fraction', () => {
    const s = new MazeSampler(dfs5, { curriculum: { by: 'lookahead', fraction: 0.5 } }, 7);
    const most = (progress: number) => Math.max(...Array.from({ length: 300 }, (_, k) => mazeLookahead(s.at(k, progress))));
    expect(most(0)).toBeLessThanOrEqual(1);
    expect(most(0.25)).toBeLessThan(most(0.5));
    expect(most(0.5)).toBeGreaterThanOrEqual(8);
  });

  it('refuses what it cannot sample, naming the field', () => {
    expect(() => new MazeSampler(dfs5, { grids: [3, 4] }, 1)).toThrow(/largest of grids \(4\) must be the run's grid \(5\)/);
    expect(() => new MazeSampler(dfs5, { grids: [5, 3] }, 1)).toThrow(/strictly ascending/);
    expect(() => new MazeSampler(dfs5, { curriculum: { by: 'grid', fraction: 0.5 } }, 1)).toThrow(/at least two grids/);
    expect(() => new MazeSampler(dfs5, { curriculum: { by: 'lookahead', fraction: 0 } }, 1)).toThrow(/fraction must be in \(0, 1\]/);
  });
});

describe('training data with sampling', () => {
  const opts = { spec: dfs5, seed: 3, mazes: 640, tokenizer: 'aotp-ut', nCtx: 256, loss: 'path' as const, steps: 20 };

  it('changes what a batch holds, not how it is built: 3×3 and 4×4 sequences appear only with grids, the same batch twice', () => {
    const plain = new MazeBatcher(opts);
    const mixed = new MazeBatcher({ ...opts, sampling: { grids: [3, 4, 5] } });
    const lengths = (d: MazeBatcher) => Array.from({ length: 32 }, (_, i) => d.maze(i, 0).rows);
    expect(new Set(lengths(plain))).toEqual(new Set([5]));
    expect(new Set(lengths(mixed))).toEqual(new Set([3, 4, 5]));
    // A 3×3 DFS maze's sequence is far shorter than any 5×5 one's.
    const a = mixed.batch(0, 0, 32);
    const b = new MazeBatcher({ ...opts, sampling: { grids: [3, 4, 5] } }).batch(0, 0, 32);
    expect(a.tokens).toEqual(b.tokens);
    expect(a.realTokens).toBeLessThan(plain.batch(0, 0, 32).realTokens * 0.85);
  });

  it('a curriculum needs fresh mazes', () => {
    const run: RunSpec = {
      model: { ...PRESETS.nano, d_vocab: 36, tokenizer: 'aotp-ut' },
      maze: dfs5,
      seed: 1,
      mazes: 10,
      batch: 4,
      steps: 10,
      lr: 1e-3,
      warmup: 1,
      minLrRatio: 0.1,
      adamw: DEFAULT_ADAMW,
      clip: 1,
      loss: 'path',
      engine: 'onnx',
      sampling: { curriculum: { by: 'lookahead', fraction: 0.5 } },
    };
    expect(() => checkRun(run)).toThrow(/curriculum needs fresh mazes \(40 = steps × batch\), but the run cycles 10/);
    expect(() => checkRun({ ...run, mazes: 40 })).not.toThrow();
    // Packed rows carry path losses only: a full-sequence loss is refused, not silently narrowed.
    expect(() => checkRun({ ...run, mazes: 40, queries: 4, loss: 'full' })).toThrow(/packed rows \(queries 4\) train with loss "path" only, not "full"/);
  });
});
