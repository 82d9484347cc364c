import { describe, expect, it } from 'vitest';
import { generateMaze, generateMazes, mazeRng, mazeSource, mazeStream, validateSpec, type MazeSpec } from '../../server/maze/generate.js';
import { MazeError, connected, isSpanningTree, mazesEqual, type SolvedMaze } from '../../server/maze/lattice.js';
import { Rng } from '../../server/maze/rng.js';
import { bfsDistances } from '../../server/maze/solve.js';

/** The properties every SolvedMaze must have: path from origin to target along open edges, and shortest. */
function expectSolved(m: SolvedMaze): void {
  expect(m.path[0]).toEqual(m.origin);
  expect(m.path[m.path.length - 1]).toEqual(m.target);
  expect(m.origin).not.toEqual(m.target);
  for (let i = 1; i < m.path.length; i++) expect(connected(m, m.path[i - 1], m.path[i])).toBe(true);
  const dist = bfsDistances(m, m.origin[0] * m.cols + m.origin[1]);
  expect(m.path.length - 1).toBe(dist[m.target[0] * m.cols + m.target[1]]);
}

describe('generateMaze', () => {
  it('returns a solved maze with a shortest path, for every generator', () => {
    for (const generator of ['dfs', 'wilson', 'kruskal', 'prim', 'recursive_division', 'percolation', 'dfs_percolation', 'open_field']) {
      const rng = new Rng(3);
      for (let i = 0; i < 20; i++) expectSolved(generateMaze({ generator, rows: 5, cols: 7 }, rng));
    }
  });

  it('passes generator and endpoint options through (square by default)', () => {
    const m = generateMaze({ generator: 'dfs', rows: 6, forkless: true, endpoints: { min_path_length: 5, deadend_origin: true } }, new Rng(1));
    expect([m.rows, m.cols]).toEqual([6, 6]);
    expect(m.path.length - 1).toBeGreaterThanOrEqual(5);
    expectSolved(m);
  });

  it('regenerates mazes that admit no endpoints and counts them as skipped', () => {
    // Sparse percolation often leaves a fixed corner isolated; those mazes are redrawn.
    const stats = { generated: 0, skipped: 0 };
    const rng = new Rng(4);
    for (let i = 0; i < 50; i++) {
      const m = generateMaze({ generator: 'percolation', rows: 4, p: 0.3, endpoints: { origin: [0, 0] } }, rng, stats);
      expect(m.origin).toEqual([0, 0]);
    }
    expect(stats.generated).toBe(50);
    expect(stats.skipped).toBeGreaterThan(10);
  });

  it('throws a MazeError explaining why after maxRetries failed regenerations', () => {
    // p = 0 percolation never opens an edge, so no maze it makes has two connected cells.
    expect(() => generateMaze({ generator: 'percolation', rows: 3, p: 0, maxRetries: 5 }, new Rng(0))).toThrow(
      /no valid endpoints in 6 mazes from generator percolation/,
    );
  });
});

describe('validateSpec', () => {
  const bad: Array<[MazeSpec, RegExp]> = [
    [{ generator: 'nope', rows: 4 }, /unknown generator "nope"; known generators: dfs/],
    [{ generator: 'dfs', rows: 0 }, /rows must be an integer between 1 and 64/],
    [{ generator: 'dfs', rows: 4, cols: 65 }, /cols must be an integer between 1 and 64/],
    [{ generator: 'percolation', rows: 4, p: -0.1 }, /p must be a number in \[0, 1\]/],
    [{ generator: 'wilson', rows: 4, p: 0.5 }, /wilson does not accept option p/],
    [{ generator: 'dfs', rows: 4, accessible_cells: 1 }, /accessible_cells must be an integer in \[2, 16\]/],
    [{ generator: 'dfs', rows: 4, max_tree_depth: 0 }, /max_tree_depth must be a positive integer/],
    [{ generator: 'dfs', rows: 4, start: [0, 4] }, /start must be \[row, col\] inside the 4x4 grid/],
    [{ generator: 'dfs', rows: 1 }, /single cell/],
    [{ generator: 'dfs', rows: 3, endpoints: { min_path_length: 9 } }, /min_path_length 9 exceeds 8/],
    [{ generator: 'dfs', rows: 3, endpoints: { min_l1_distance: 5 } }, /min_l1_distance 5 exceeds 4/],
    [{ generator: 'dfs', rows: 3, endpoints: { origin: [0, 0], target: [0, 1], min_l1_distance: 2 } }, /closer than/],
    [{ generator: 'dfs', rows: 3, maxRetries: -1 }, /maxRetries must be a non-negative integer/],
    [{ generator: 'dfs', rows: 3, grid: 3 } as unknown as MazeSpec, /unknown field grid/],
  ];
  for (const [spec, message] of bad) {
    it(`rejects ${JSON.stringify(spec)}`, () => {
      expect(() => validateSpec(spec)).toThrow(MazeError);
      expect(() => validateSpec(spec)).toThrow(message);
    });
  }

  it('accepts valid specs', () => {
    expect(() => validateSpec({ generator: 'dfs_percolation', rows: 6, cols: 9, p: 0.2, start: [5, 8], endpoints: { deadend_target: true } })).not.toThrow();
  });
});

describe('generateMazes', () => {
  const spec: MazeSpec = { generator: 'wilson', rows: 6 };

  it('yields exactly count solved mazes, reproducibly from the seed', () => {
    const a = [...generateMazes(spec, 30, 'run-1')];
    const b = [...generateMazes(spec, 30, 'run-1')];
    expect(a).toHaveLength(30);
    for (let k = 0; k < 30; k++) {
      expectSolved(a[k]);
      expect(isSpanningTree(a[k])).toBe(true);
      expect(mazesEqual(a[k], b[k])).toBe(true);
      expect(a[k].path).toEqual(b[k].path);
    }
    const c = [...generateMazes(spec, 30, 'run-2')];
    expect(c.filter((m, k) => mazesEqual(m, a[k])).length).toBeLessThan(3);
  });

  it('maze k is reproducible on its own from mazeRng(seed, k)', () => {
    const all = [...generateMazes(spec, 12, 77)];
    for (const k of [0, 5, 11]) {
      const alone = generateMaze(spec, mazeRng(77, k));
      expect(mazesEqual(alone, all[k])).toBe(true);
      expect(alone.path).toEqual(all[k].path);
    }
  });

  it('mazeSource.at(k) is maze k of the run, in any order of access', () => {
    const all = [...generateMazes(spec, 12, 'src')];
    const source = mazeSource(spec, 'src');
    for (const k of [11, 0, 7, 7, 3]) {
      const m = source.at(k);
      expect(mazesEqual(m, all[k])).toBe(true);
      expect(m.path).toEqual(generateMaze(spec, mazeRng('src', k)).path);
    }
    expect(() => mazeSource({ generator: 'nope', rows: 3 }, 0)).toThrow(MazeError);
  });

  it('validates eagerly: a bad spec or count throws at the call, not at the first next()', () => {
    expect(() => generateMazes({ generator: 'nope', rows: 3 }, 1, 0)).toThrow(MazeError);
    expect(() => generateMazes(spec, -1, 0)).toThrow(/count must be an integer/);
  });

  it('mazeStream reports generated and skipped counts as it goes', () => {
    const { mazes, stats } = mazeStream({ generator: 'percolation', rows: 4, p: 0.3, endpoints: { min_path_length: 3 } }, 40, 9);
    let n = 0;
    for (const m of mazes) {
      expect(m.path.length - 1).toBeGreaterThanOrEqual(3);
      n++;
    }
    expect(n).toBe(40);
    expect(stats.generated).toBe(40);
    expect(stats.skipped).toBeGreaterThan(0);
  });
});
