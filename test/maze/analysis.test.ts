import { describe, expect, it } from 'vitest';
import { deadEnds, forkLookahead, forksAlongPath, mazeStats } from '../../server/maze/analysis.js';
import { baselineSuccessProbability } from '../../server/maze/baseline.js';
import { type Coord, MazeError, degreeIdx } from '../../server/maze/lattice.js';
import { Rng } from '../../server/maze/rng.js';
import { handSolved, handTree, hallway, mazeFromEdges, openField, randomEndpoints, randomTree, solved } from './baseline-fixtures.js';

describe('forkLookahead', () => {
  it('is min(steps left, deepest wrong branch) at each hand-counted fork of the hand tree', () => {
    const m = handSolved(); // (0,0) (0,1) (1,1) (2,1) (2,2)
    // (0,1): the wrong way (0,2) → (1,2) is 2 deep, the target 3 steps on; (1,1): (1,0) is a
    // 1-deep dead end, 2 left; (2,1): (2,0) 1 deep, the target next.
    expect(forksAlongPath(m, m.path).map((f) => forkLookahead(m, f))).toEqual([
      { remaining: 3, wrongDepth: 2, lookahead: 2 },
      { remaining: 2, wrongDepth: 1, lookahead: 1 },
      { remaining: 1, wrongDepth: 1, lookahead: 1 },
    ]);
  });

  it('is null where a wrong branch reaches the target too (cycles)', () => {
    const m = {
      ...openField(2, 3),
      origin: [0, 0] as Coord,
      target: [0, 2] as Coord,
      path: [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
        [0, 2],
      ] as Coord[],
    };
    expect(forksAlongPath(m, m.path).map((f) => forkLookahead(m, f))).toEqual([null, null]);
  });

  it('measures a loop joining two wrong ways from the nearer one (cycles)', () => {
    // (1,1) is the origin and a 3-way fork; (0,1) and (1,0) are wrong ways joined through (0,0),
    // 2 steps from the fork either way; the target (2,1) is next.
    const m = {
      ...mazeFromEdges(3, 3, [
        [
          [1, 1],
          [1, 0],
        ],
        [
          [1, 0],
          [0, 0],
        ],
        [
          [0, 0],
          [0, 1],
        ],
        [
          [0, 1],
          [1, 1],
        ],
        [
          [1, 1],
          [2, 1],
        ],
      ]),
      origin: [1, 1] as Coord,
      target: [2, 1] as Coord,
      path: [
        [1, 1],
        [2, 1],
      ] as Coord[],
    };
    const [fork] = forksAlongPath(m, m.path);
    expect(fork.options).toBe(3);
    expect(forkLookahead(m, fork)).toEqual({ remaining: 1, wrongDepth: 2, lookahead: 1 });
  });

  it('on random trees never exceeds the steps left, and the deepest wrong branch is a dead end that deep', () => {
    const rng = new Rng(21);
    for (let t = 0; t < 40; t++) {
      const tree = randomTree(5, 5, rng);
      const m = solved(tree, ...randomEndpoints(tree, rng));
      for (const f of forksAlongPath(m, m.path)) {
        const l = forkLookahead(m, f)!;
        expect(l.remaining).toBe(m.path.length - 1 - f.index);
        expect(l.lookahead).toBe(Math.min(l.remaining, l.wrongDepth));
        // Independent check: the farthest cell from the fork among wrong choices' subtrees, by BFS.
        const wrong = f.choices.filter((c) => c[0] !== f.next[0] || c[1] !== f.next[1]);
        const depths = wrong.map((c) => Math.max(...dead(m, f.cell, c)));
        expect(l.wrongDepth).toBe(Math.max(...depths));
      }
    }
  });
});

/** Distances from `fork` of every cell in the subtree entered through `child` (a tree maze). */
function dead(m: ReturnType<typeof solved>, fork: Coord, child: Coord): number[] {
  const out: number[] = [];
  const walk = (c: Coord, from: Coord, d: number): void => {
    out.push(d);
    for (const n of [
      [c[0] - 1, c[1]],
      [c[0] + 1, c[1]],
      [c[0], c[1] - 1],
      [c[0], c[1] + 1],
    ] as Coord[]) {
      if (n[0] === from[0] && n[1] === from[1]) continue;
      if (n[0] < 0 || n[1] < 0 || n[0] >= m.rows || n[1] >= m.cols) continue;
      const open = n[0] === c[0] ? m.right[c[0] * m.cols + Math.min(c[1], n[1])] : m.down[Math.min(c[0], n[0]) * m.cols + c[1]];
      if (open) walk(n, c, d + 1);
    }
  };
  walk(child, fork, 1);
  return out;
}

describe('forksAlongPath', () => {
  it('finds the hand-counted forks of the hand tree', () => {
    const m = handSolved(); // (0,0) (0,1) (1,1) (2,1) (2,2)
    expect(forksAlongPath(m, m.path)).toEqual([
      {
        index: 1,
        cell: [0, 1],
        options: 2,
        choices: [
          [0, 2],
          [1, 1],
        ],
        next: [1, 1],
      },
      {
        index: 2,
        cell: [1, 1],
        options: 2,
        choices: [
          [1, 0],
          [2, 1],
        ],
        next: [2, 1],
      },
      {
        index: 3,
        cell: [2, 1],
        options: 2,
        choices: [
          [2, 0],
          [2, 2],
        ],
        next: [2, 2],
      },
    ]);
  });

  it('counts all open neighbours at the origin (a 3-way fork at (1,1)) and none at the target', () => {
    const m = handTree();
    const forks = forksAlongPath(m, [
      [1, 1],
      [0, 1],
      [0, 0],
    ]);
    expect(forks.map((f) => [f.index, f.options])).toEqual([
      [0, 3],
      [1, 2],
    ]);
    expect(forksAlongPath(m, [[1, 1]])).toEqual([]); // a one-cell path has no decision
  });

  it('excludes every earlier path cell, not only the previous one (cyclic maze)', () => {
    // 2×3 open field, path (0,0) (1,0) (1,1) (0,1) (0,2). At (0,1) the open neighbours are (0,0)
    // (visited two steps earlier), (1,1) (previous) and (0,2): one way on, so no fork there,
    // although degree − 1 would say 2. At (1,1): (1,0) previous, (0,1) and (1,2) open ⇒ a 2-way fork.
    const m = openField(2, 3);
    const path: Coord[] = [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
      [0, 2],
    ];
    expect(forksAlongPath(m, path).map((f) => [f.index, f.options])).toEqual([
      [0, 2],
      [2, 2],
    ]);
  });

  it('on a tree equals "degree at the origin, degree − 1 elsewhere ≥ 2" for random paths', () => {
    const rng = new Rng(8);
    for (let t = 0; t < 50; t++) {
      const tree = randomTree(6, 6, rng);
      const m = solved(tree, ...randomEndpoints(tree, rng));
      const expected = m.path.slice(0, -1).flatMap((c, i) => {
        const k = degreeIdx(m, c[0] * m.cols + c[1]) - (i === 0 ? 0 : 1);
        return k >= 2 ? [[i, k]] : [];
      });
      expect(forksAlongPath(m, m.path).map((f) => [f.index, f.options])).toEqual(expected);
    }
  });

  it('a forkless hallway has no forks', () => {
    const m = hallway(4, 4);
    expect(forksAlongPath(m, m.path)).toEqual([]);
  });

  it('rejects a path that crosses a wall, leaves the grid or revisits a cell, naming the position', () => {
    const m = handTree();
    expect(() =>
      forksAlongPath(m, [
        [0, 0],
        [1, 0],
      ]),
    ).toThrow(/step 0→1 \(0,0\)→\(1,0\) is not an open connection/);
    expect(() =>
      forksAlongPath(m, [
        [0, 0],
        [0, 3],
      ]),
    ).toThrow(/path\[1\] \(0,3\) is outside the 3x3 grid/);
    expect(() =>
      forksAlongPath(m, [
        [0, 0],
        [0, 1],
        [0, 0],
      ]),
    ).toThrow(/path\[2\] \(0,0\) revisits a cell/);
    expect(() => forksAlongPath(m, [])).toThrow(MazeError);
  });
});

describe('deadEnds', () => {
  it('lists the degree-1 cells of the hand tree in row-major order', () => {
    expect(deadEnds(handTree())).toEqual([
      [0, 0],
      [1, 0],
      [1, 2],
      [2, 0],
      [2, 2],
    ]);
  });

  it('does not count isolated cells or cycle cells', () => {
    expect(deadEnds(openField(3))).toEqual([]);
    expect(
      deadEnds(
        mazeFromEdges(2, 2, [
          [
            [0, 0],
            [0, 1],
          ],
        ]),
      ),
    ).toEqual([
      [0, 0],
      [0, 1],
    ]);
  });
});

describe('mazeStats', () => {
  it('matches hand counts on the hand tree', () => {
    expect(mazeStats(handSolved())).toEqual({
      rows: 3,
      cols: 3,
      cells: 9,
      edges: 8,
      deadEnds: 5,
      forks: 3,
      isTree: true,
      components: 1,
      cyclomatic: 0,
      pathLength: 4,
      forksOnPath: 3,
      l1Distance: 4,
      baselineSuccessProbability: 1 / 8,
    });
  });

  it('reports components and cycles of a disconnected cyclic maze', () => {
    // 2×3: the left 2×2 block is a 4-cycle; (0,2) and (1,2) are isolated.
    const m = mazeFromEdges(2, 3, [
      [
        [0, 0],
        [0, 1],
      ],
      [
        [0, 1],
        [1, 1],
      ],
      [
        [1, 1],
        [1, 0],
      ],
      [
        [1, 0],
        [0, 0],
      ],
    ]);
    const s = mazeStats({
      ...m,
      origin: [0, 0],
      target: [1, 1],
      path: [
        [0, 0],
        [0, 1],
        [1, 1],
      ],
    });
    expect(s).toMatchObject({
      cells: 6,
      edges: 4,
      deadEnds: 0,
      forks: 0,
      isTree: false,
      components: 3,
      cyclomatic: 1,
      pathLength: 2,
      forksOnPath: 1,
      l1Distance: 2,
    });
    expect(s.baselineSuccessProbability).toBe(1); // both ways round the cycle arrive
  });

  it('agrees with baselineSuccessProbability and forksAlongPath on random trees', () => {
    const rng = new Rng(4);
    for (let t = 0; t < 30; t++) {
      const tree = randomTree(5, 7, rng);
      const m = solved(tree, ...randomEndpoints(tree, rng));
      const s = mazeStats(m);
      expect(s.isTree).toBe(true);
      expect(s.edges).toBe(34);
      const product = forksAlongPath(m, m.path).reduce((p, f) => p / f.options, 1);
      expect(s.baselineSuccessProbability).toBeCloseTo(product, 15);
      expect(s.baselineSuccessProbability).toBe(baselineSuccessProbability(m));
    }
  });
});
