import { describe, expect, it } from 'vitest';
import { baselineSolve, baselineSuccessProbability } from '../../server/maze/baseline.js';
import {
  type Coord,
  type LatticeMaze,
  type SolvedMaze,
  MazeError,
  cellIndex,
  connected,
  edgeCount,
  coordEq,
  coordKey,
  neighborsIdx,
} from '../../server/maze/lattice.js';
import { Rng } from '../../server/maze/rng.js';
import { handSolved, handTree, hallway, openField, randomCyclic, randomEndpoints, randomTree, solved } from './baseline-fixtures.js';

/** Open neighbours of `c` not in `visited`. */
function unvisitedOptions(m: LatticeMaze, c: Coord, visited: Set<string>): Coord[] {
  const nb = new Int32Array(4);
  const k = neighborsIdx(m, cellIndex(m, c), nb);
  const out: Coord[] = [];
  for (let i = 0; i < k; i++) {
    const x: Coord = [Math.floor(nb[i] / m.cols), nb[i] % m.cols];
    if (!visited.has(coordKey(x))) out.push(x);
  }
  return out;
}

/** Asserts the solver's rules on one walk. */
function checkWalk(m: SolvedMaze, walk: { path: Coord[]; reachedTarget: boolean }): void {
  const { path, reachedTarget } = walk;
  expect(path[0]).toEqual(m.origin);
  const visited = new Set<string>();
  path.forEach((c, i) => {
    expect(visited.has(coordKey(c)), `revisit of ${coordKey(c)}`).toBe(false);
    visited.add(coordKey(c));
    if (i > 0) expect(connected(m, path[i - 1], c), `step ${i} crosses a wall`).toBe(true);
    if (i < path.length - 1) expect(coordEq(c, m.target), 'walked past the target').toBe(false);
  });
  const last = path[path.length - 1];
  expect(reachedTarget).toBe(coordEq(last, m.target));
  if (!reachedTarget) expect(unvisitedOptions(m, last, visited)).toEqual([]); // stopped only at a dead end
}

/** Brute force: sum over every no-revisit walk, no memo, no pruning (small grids only). */
function bruteForceProbability(m: LatticeMaze, origin: Coord, target: Coord): number {
  const visited = new Set<string>([coordKey(origin)]);
  const go = (c: Coord): number => {
    if (coordEq(c, target)) return 1;
    const opts = unvisitedOptions(m, c, visited);
    if (opts.length === 0) return 0;
    let s = 0;
    for (const o of opts) {
      visited.add(coordKey(o));
      s += go(o);
      visited.delete(coordKey(o));
    }
    return s / opts.length;
  };
  return go(origin);
}

describe('baselineSolve', () => {
  it('never revisits, uses only open edges, and stops exactly at the target or a dead end (trees and cyclic mazes)', () => {
    const rng = new Rng(11);
    for (let t = 0; t < 300; t++) {
      const size = 2 + rng.int(5);
      const m = t % 2 === 0 ? randomTree(size, size, rng) : randomCyclic(size, size, 0.3, rng);
      const [o, g] = randomEndpoints(m, rng);
      const sm = solved(m, o, g);
      for (const bias of [undefined, 0, 0.5, 1]) checkWalk(sm, baselineSolve(sm, rng, { bias }));
    }
  });

  it('always succeeds on a forkless hallway, whose success probability is 1', () => {
    const m = hallway(5, 6);
    const rng = new Rng(3);
    for (let t = 0; t < 50; t++) {
      const r = baselineSolve(m, rng);
      expect(r.reachedTarget).toBe(true);
      expect(r.path).toEqual(m.path);
    }
    expect(baselineSuccessProbability(m)).toBe(1);
  });

  it('with bias = 1 follows the solution of every tree maze', () => {
    const rng = new Rng(5);
    for (let t = 0; t < 100; t++) {
      const m = randomTree(6, 6, rng);
      const sm = solved(m, ...randomEndpoints(m, rng));
      const r = baselineSolve(sm, rng, { bias: 1 });
      expect(r.reachedTarget).toBe(true);
      expect(r.path).toEqual(sm.path);
    }
  });

  it('with bias = 0 leaves the solution at its first fork and so fails on a tree', () => {
    const m = handSolved(); // first fork at path index 1, cell (0,1): the wrong branch is (0,2)
    const rng = new Rng(9);
    for (let t = 0; t < 20; t++) {
      const r = baselineSolve(m, rng, { bias: 0 });
      expect(r.reachedTarget).toBe(false);
      expect(r.path).toEqual([
        [0, 0],
        [0, 1],
        [0, 2],
        [1, 2],
      ]);
    }
  });

  it('with bias = 0 spreads over all wrong branches, whatever their order among the options', () => {
    // From (1,1) to (0,0): the options at (1,1) are (0,1) (correct, listed first), (1,0) and (2,1).
    const m: SolvedMaze = {
      ...handTree(),
      origin: [1, 1],
      target: [0, 0],
      path: [
        [1, 1],
        [0, 1],
        [0, 0],
      ],
    };
    const rng = new Rng(10);
    const firstSteps = new Set<string>();
    for (let t = 0; t < 60; t++) {
      const r = baselineSolve(m, rng, { bias: 0 });
      expect(r.reachedTarget).toBe(false);
      firstSteps.add(coordKey(r.path[1]));
    }
    expect([...firstSteps].sort()).toEqual(['(1,0)', '(2,1)']);
  });

  it('is deterministic for a seed', () => {
    const m = solved(randomCyclic(6, 6, 0.3, new Rng(1)), [0, 0], [5, 5]);
    expect(baselineSolve(m, new Rng(42))).toEqual(baselineSolve(m, new Rng(42)));
  });

  it('empirical success rate matches the exact probability (tree, cyclic maze, open field)', () => {
    const cases: Array<[string, SolvedMaze]> = [
      ['tree', solved(randomTree(5, 5, new Rng(21)), [0, 0], [4, 4])],
      ['cyclic', solved(randomCyclic(4, 4, 0.35, new Rng(22)), [0, 0], [3, 3])],
      ['open field', solved(openField(3), [0, 0], [2, 2])],
    ];
    const trials = 4000;
    expect(edgeCount(cases[1][1])).toBeGreaterThan(15); // the cyclic case has cycles (a tree has 15 edges)
    for (const [name, m] of cases) {
      const p = baselineSuccessProbability(m) as number;
      expect(p, name).toBeGreaterThan(0.02);
      const rng = new Rng(1234);
      let wins = 0;
      for (let t = 0; t < trials; t++) if (baselineSolve(m, rng).reachedTarget) wins++;
      const sd = Math.sqrt((p * (1 - p)) / trials);
      expect(Math.abs(wins / trials - p), `${name}: p=${p}, observed ${wins / trials}`).toBeLessThan(5 * sd + 1e-9);
    }
  });

  it('with bias b succeeds on a tree with probability b^(forks on the path)', () => {
    const m = handSolved(); // 3 two-way forks on the path
    const rng = new Rng(77);
    const trials = 4000;
    let wins = 0;
    for (let t = 0; t < trials; t++) if (baselineSolve(m, rng, { bias: 0.8 }).reachedTarget) wins++;
    const p = 0.8 ** 3;
    expect(Math.abs(wins / trials - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / trials));
  });

  it('rejects a bias outside [0, 1] and a path that does not match the maze', () => {
    const m = handSolved();
    expect(() => baselineSolve(m, new Rng(1), { bias: 1.5 })).toThrow(MazeError);
    expect(() => baselineSolve(m, new Rng(1), { bias: Number.NaN })).toThrow(/bias/);
    expect(() =>
      baselineSolve(
        {
          ...m,
          path: [
            [0, 0],
            [1, 0],
          ],
        },
        new Rng(1),
      ),
    ).toThrow(/not an open connection/);
    expect(() => baselineSolve({ ...m, origin: [0, 1] }, new Rng(1))).toThrow(/expected the origin/);
  });
});

describe('baselineSuccessProbability', () => {
  it('on the hand tree is the product of 1/options over forks on the path', () => {
    // (0,0)→(2,2): three 2-way forks ⇒ 1/8. (1,1)→(0,0): origin has 3 ways, (0,1) has 2 ⇒ 1/6.
    expect(baselineSuccessProbability(handSolved())).toBeCloseTo(1 / 8, 15);
    expect(baselineSuccessProbability({ ...handTree(), origin: [1, 1], target: [0, 0] })).toBeCloseTo(1 / 6, 15);
  });

  it('equals brute-force enumeration of all no-revisit walks on small cyclic mazes and open fields', () => {
    // Open fields matter: there different walks reach the same unvisited region from different
    // cells, which is what the memo key must tell apart.
    const rng = new Rng(5);
    for (let t = 0; t < 120; t++) {
      const rows = 3 + rng.int(2);
      const cols = 3 + rng.int(3);
      const m = t % 4 === 0 ? openField(rows, cols) : randomCyclic(rows, cols, 0.6, rng);
      const [o, g] = randomEndpoints(m, rng);
      expect(baselineSuccessProbability({ ...m, origin: o, target: g })).toBeCloseTo(bruteForceProbability(m, o, g), 12);
    }
  });

  it('matches hand values on open fields: 2×2 corner to corner is 1, 3×3 is 37/48', () => {
    // 3×3 by hand. By symmetry say the first step is to (0,1); options there: (0,2) or (1,1).
    //   (0,2) → forced (1,2) → target ½, or (1,1) ½: then (1,0) → (2,0) → (2,1) → target (1),
    //     or (2,1): target ½ / (2,0)→(1,0) dead end ½  ⇒ (1,1) = ¾ ⇒ branch = ½ + ½·¾ = 7/8.
    //   (1,1) → three options, ⅓ each: (1,2): target ½ / (0,2) dead ½ ⇒ ½; (2,1): likewise ½;
    //     (1,0) → (2,0) → (2,1) → target ⇒ 1  ⇒ branch = 2/3.
    //   Total ½·7/8 + ½·2/3 = 37/48.
    expect(baselineSuccessProbability({ ...openField(2), origin: [0, 0], target: [1, 1] })).toBe(1);
    expect(baselineSuccessProbability({ ...openField(3), origin: [0, 0], target: [2, 2] })).toBeCloseTo(37 / 48, 15);
  });

  it('handles degenerate endpoints: same cell ⇒ 1, different components ⇒ 0', () => {
    const m = handTree();
    expect(baselineSuccessProbability({ ...m, origin: [1, 1], target: [1, 1] })).toBe(1);
    const split = { ...openField(2, 3), origin: [0, 0] as Coord, target: [1, 2] as Coord };
    split.right[1] = 0; // cut (0,1)-(0,2)
    split.right[4] = 0; // cut (1,1)-(1,2)
    expect(baselineSuccessProbability(split)).toBe(0);
  });

  it('returns null instead of a guess when the exact count exceeds its work budget', () => {
    const m = { ...openField(7), origin: [0, 0] as Coord, target: [6, 6] as Coord };
    expect(baselineSuccessProbability(m, { maxWork: 1000 })).toBeNull();
    expect(() => baselineSuccessProbability(m, { maxWork: -1 })).toThrow(MazeError);
  });
});
