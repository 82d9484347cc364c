import { describe, expect, it } from 'vitest';
import { getGenerator } from '../../server/maze/generators/index.js';
import { MazeError, connected, emptyMaze, setEdge, type Coord, type LatticeMaze } from '../../server/maze/lattice.js';
import { Rng } from '../../server/maze/rng.js';
import { bfsDistances, countShortestPaths, countShortestPathsIdx, shortestPath, shortestPathIdx } from '../../server/maze/solve.js';

/** Every simple path from a to b, by exhaustive DFS over open edges: [min steps, how many of that length]. */
function bruteForce(m: LatticeMaze, a: Coord, b: Coord): { min: number; count: number } {
  let min = Infinity;
  let count = 0;
  const seen = new Set<string>();
  const walk = (c: Coord, steps: number): void => {
    if (c[0] === b[0] && c[1] === b[1]) {
      if (steps < min) {
        min = steps;
        count = 0;
      }
      if (steps === min) count++;
      return;
    }
    seen.add(`${c}`);
    for (const [dr, dc] of [
      [-1, 0],
      [0, -1],
      [0, 1],
      [1, 0],
    ]) {
      const n: Coord = [c[0] + dr, c[1] + dc];
      if (!seen.has(`${n}`) && connected(m, c, n)) walk(n, steps + 1);
    }
    seen.delete(`${c}`);
  };
  walk(a, 0);
  return { min, count };
}

function cells(m: LatticeMaze): Coord[] {
  const out: Coord[] = [];
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) out.push([r, c]);
  return out;
}

function binomial(n: number, k: number): number {
  let x = 1;
  for (let i = 1; i <= k; i++) x = (x * (n - k + i)) / i;
  return Math.round(x);
}

describe('BFS against brute force', () => {
  it('shortestPath is a valid shortest path and countShortestPaths the exact count, on random percolation grids', () => {
    const rng = new Rng(5);
    const perc = getGenerator('percolation');
    let pairsWithTies = 0;
    let unreachable = 0;
    for (const [rows, cols] of [
      [3, 3],
      [4, 3],
      [3, 4],
    ] as const) {
      for (let trial = 0; trial < 25; trial++) {
        const m = perc({ rows, cols, p: 0.65, rng });
        for (const a of cells(m)) {
          for (const b of cells(m)) {
            const truth = bruteForce(m, a, b);
            const path = shortestPath(m, a, b);
            const count = countShortestPaths(m, a, b);
            if (truth.min === Infinity) {
              expect(path).toBeNull();
              expect(count).toBe(0);
              unreachable++;
              continue;
            }
            expect(path).not.toBeNull();
            expect(path!.length - 1).toBe(truth.min);
            expect(path![0]).toEqual(a);
            expect(path![path!.length - 1]).toEqual(b);
            for (let i = 1; i < path!.length; i++) expect(connected(m, path![i - 1], path![i])).toBe(true);
            expect(count).toBe(truth.count);
            if (truth.count > 1) pairsWithTies++;
          }
        }
      }
    }
    // The sample must exercise both ties and disconnection, or the check above proves little.
    expect(pairsWithTies).toBeGreaterThan(50);
    expect(unreachable).toBeGreaterThan(50);
  });

  it('bfsDistances equals brute-force shortest lengths, -1 where unreachable', () => {
    const rng = new Rng(8);
    for (let trial = 0; trial < 20; trial++) {
      const m = getGenerator('percolation')({ rows: 4, cols: 3, p: 0.5, rng });
      for (let from = 0; from < 12; from++) {
        const dist = bfsDistances(m, from);
        expect(dist).toHaveLength(12);
        for (let c = 0; c < 12; c++) {
          const { min } = bruteForce(m, [Math.floor(from / 3), from % 3], [Math.floor(c / 3), c % 3]);
          expect(dist[c]).toBe(min === Infinity ? -1 : min);
        }
      }
    }
  });
});

describe('shortest-path counts', () => {
  it('an open r×c field has C(r+c-2, r-1) corner-to-corner shortest paths', () => {
    for (const [r, c] of [
      [2, 2],
      [3, 3],
      [4, 7],
      [10, 10],
    ] as const) {
      const m = getGenerator('open_field')({ rows: r, cols: c, rng: new Rng(0) });
      expect(countShortestPaths(m, [0, 0], [r - 1, c - 1])).toBe(binomial(r + c - 2, r - 1));
    }
  });

  it('saturates at Number.MAX_SAFE_INTEGER (64×64 open field has C(126,63) ≈ 6e36)', () => {
    const m = getGenerator('open_field')({ rows: 64, cols: 64, rng: new Rng(0) });
    expect(countShortestPathsIdx(m, 0, 64 * 64 - 1)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a tree has exactly one shortest path between any two cells', () => {
    const m = getGenerator('wilson')({ rows: 5, cols: 6, rng: new Rng(1) });
    for (const a of cells(m)) for (const b of cells(m)) expect(countShortestPaths(m, a, b)).toBe(1);
  });
});

describe('tie-breaking and edge cases', () => {
  it('ties break deterministically by BFS from the origin scanning up, left, right, down', () => {
    const m = getGenerator('open_field')({ rows: 2, cols: 2, rng: new Rng(0) });
    expect(shortestPath(m, [0, 0], [1, 1])).toEqual([
      [0, 0],
      [0, 1],
      [1, 1],
    ]); // right before down
    expect(shortestPath(m, [1, 1], [0, 0])).toEqual([
      [1, 1],
      [0, 1],
      [0, 0],
    ]); // up before left
    const idx = shortestPathIdx(m, 3, 0);
    expect(Array.from(idx!)).toEqual([3, 1, 0]);
  });

  it('origin = target is a one-cell path with one shortest path', () => {
    const m = emptyMaze(3, 3);
    expect(shortestPath(m, [1, 1], [1, 1])).toEqual([[1, 1]]);
    expect(countShortestPaths(m, [1, 1], [1, 1])).toBe(1);
  });

  it('walls are respected: a closed edge is never crossed', () => {
    const m = emptyMaze(1, 3);
    setEdge(m, [0, 0], [0, 1], true);
    expect(shortestPath(m, [0, 0], [0, 2])).toBeNull();
    setEdge(m, [0, 1], [0, 2], true);
    expect(shortestPath(m, [0, 0], [0, 2])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
    ]);
  });

  it('rejects cells off the grid with a MazeError naming the argument', () => {
    const m = emptyMaze(3, 4);
    expect(() => shortestPath(m, [3, 0], [0, 0])).toThrow(/origin must be \[row, col\] inside the 3x4 grid/);
    expect(() => countShortestPaths(m, [0, 0], [0, 4])).toThrow(/target must be/);
    expect(() => bfsDistances(m, 12)).toThrow(MazeError);
    expect(() => bfsDistances(m, -1)).toThrow(/from must be a cell index/);
  });
});
