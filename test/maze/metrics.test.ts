import { describe, expect, it } from 'vitest';
import { type Coord, MazeError } from '../../server/maze/lattice.js';
import { type PathMetrics, aggregateMetrics, pathMetrics } from '../../server/maze/metrics.js';
import { handSolved, openField } from './baseline-fixtures.js';

// handSolved: 3×3 tree, solution (0,0) (0,1) (1,1) (2,1) (2,2), 2-way forks at path indices 1, 2, 3;
// the wrong branches there are (0,2)→(1,2), (1,0) and (2,0).
const m = handSolved();

/** No metric may ever be NaN. */
function expectNoNaN(r: PathMetrics): void {
  for (const [k, v] of Object.entries(r)) if (typeof v === 'number') expect(Number.isNaN(v), k).toBe(false);
}

describe('pathMetrics', () => {
  it('gives perfect scores to the exact solution', () => {
    expect(pathMetrics(m, m.path)).toEqual({
      exact_path: true,
      node_overlap: 1,
      frac_connected_steps: 1,
      frac_adjacent_steps: 1,
      corner_jumps: 0,
      backtracks: 0,
      target_reached: true,
      valid_rollout: true,
      invalid_tokens: 0,
      fork_decisions: { correct: 3, total: 3 },
      frac_correct_forks: 1,
      path_length_ratio: 1,
      predicted_length: 5,
      steps: 4,
      ended: true,
    });
  });

  it('counts a diagonal step as a corner jump that is neither adjacent nor connected', () => {
    const r = pathMetrics(m, [
      [0, 0],
      [1, 1],
      [2, 1],
      [2, 2],
    ]);
    expect(r.corner_jumps).toBe(1);
    expect(r.frac_adjacent_steps).toBeCloseTo(2 / 3, 15);
    expect(r.frac_connected_steps).toBeCloseTo(2 / 3, 15);
    expect(r.valid_rollout).toBe(false);
    expect(r.exact_path).toBe(false);
    expect(r.target_reached).toBe(true);
    expect(r.node_overlap).toBeCloseTo(4 / 5, 15); // (0,1) skipped
    // It left the solution before the first fork (at index 1), so no fork was reached.
    expect(r.fork_decisions).toEqual({ correct: 0, total: 0 });
    expect(r.frac_correct_forks).toBeNull();
  });

  it('counts a long jump as non-adjacent but not as a corner jump', () => {
    const r = pathMetrics(m, [
      [0, 0],
      [2, 2],
    ]);
    expect(r).toMatchObject({ corner_jumps: 0, frac_adjacent_steps: 0, frac_connected_steps: 0, valid_rollout: false });
  });

  it('counts a step back to a visited cell as a backtrack (an immediate reversal and its return)', () => {
    // (0,1)→(0,0) reverses, then (0,0)→(0,1) returns to a visited cell: 2 backtracks.
    const r = pathMetrics(m, [
      [0, 0],
      [0, 1],
      [0, 0],
      [0, 1],
      [1, 1],
      [2, 1],
      [2, 2],
    ]);
    expect(r.backtracks).toBe(2);
    expect(r.frac_connected_steps).toBe(1);
    expect(r.valid_rollout).toBe(true); // every step is a real connection and it ends at the target
    expect(r.exact_path).toBe(false);
    // At the fork (0,1) it went back instead of to (1,1): a wrong decision, and later forks are unreached.
    expect(r.fork_decisions).toEqual({ correct: 0, total: 1 });
    expect(r.path_length_ratio).toBeCloseTo(7 / 5, 15);
    expect(
      pathMetrics(m, [
        [0, 0],
        [0, 0],
      ]).backtracks,
    ).toBe(1); // staying in place revisits too
  });

  it('scores a wrong branch at the first fork as 0 of 1 fork decisions', () => {
    const r = pathMetrics(m, [
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    expect(r.fork_decisions).toEqual({ correct: 0, total: 1 });
    expect(r.frac_correct_forks).toBe(0);
    expect(r).toMatchObject({ target_reached: false, valid_rollout: false, frac_connected_steps: 1, backtracks: 0 });
    expect(r.node_overlap).toBeCloseTo(2 / 5, 15);
    expect(r.path_length_ratio).toBeCloseTo(4 / 5, 15);
  });

  it('scores a wrong branch at the last fork as 2 of 3', () => {
    const r = pathMetrics(m, [
      [0, 0],
      [0, 1],
      [1, 1],
      [2, 1],
      [2, 0],
    ]);
    expect(r.fork_decisions).toEqual({ correct: 2, total: 3 });
  });

  it('counts null and off-grid entries as invalid tokens and computes steps over the valid ones', () => {
    const r = pathMetrics(m, [[0, 0], null, [0, 1], [9, 9], [1, 1], [2, 1], [2, 2]]);
    expect(r.invalid_tokens).toBe(2);
    expect(r.exact_path).toBe(false);
    expect(r.valid_rollout).toBe(false);
    expect(r.frac_connected_steps).toBe(1); // (0,0)→(0,1)→(1,1)→(2,1)→(2,2) once invalid entries are dropped
    expect(r.node_overlap).toBe(1);
    expect(r.predicted_length).toBe(5);
    // The null at raw position 1 ends the prefix agreement before the fork at index 1.
    expect(r.fork_decisions).toEqual({ correct: 0, total: 0 });
  });

  it('returns nulls, not NaN, for an empty prediction', () => {
    const r = pathMetrics(m, []);
    expectNoNaN(r);
    expect(r).toMatchObject({
      exact_path: false,
      node_overlap: 0,
      frac_connected_steps: null,
      frac_adjacent_steps: null,
      corner_jumps: 0,
      backtracks: 0,
      target_reached: false,
      valid_rollout: false,
      invalid_tokens: 0,
      frac_correct_forks: null,
      path_length_ratio: 0,
      steps: 0,
    });
    expectNoNaN(pathMetrics(m, [null, null]));
    expect(pathMetrics(m, [null, null]).invalid_tokens).toBe(2);
  });

  it('treats a truncated prediction (ended: false) as not exact and skips the fork it stopped at', () => {
    expect(pathMetrics(m, m.path, { ended: false })).toMatchObject({ exact_path: false, valid_rollout: false, fork_decisions: { correct: 3, total: 3 } });
    expect(
      pathMetrics(
        m,
        [
          [0, 0],
          [0, 1],
        ],
        { ended: false },
      ).fork_decisions,
    ).toEqual({ correct: 0, total: 0 });
    expect(
      pathMetrics(
        m,
        [
          [0, 0],
          [0, 1],
        ],
        { ended: true },
      ).fork_decisions,
    ).toEqual({ correct: 0, total: 1 });
  });

  it('handles a one-cell solution (origin = target)', () => {
    const one = { ...openField(2), origin: [1, 1] as Coord, target: [1, 1] as Coord, path: [[1, 1]] as Coord[] };
    const r = pathMetrics(one, [[1, 1]]);
    expectNoNaN(r);
    expect(r).toMatchObject({ exact_path: true, valid_rollout: true, frac_connected_steps: null, path_length_ratio: 1, frac_correct_forks: null });
  });

  it('rejects malformed entries with their index', () => {
    expect(() => pathMetrics(m, [[0, 0], [0.5, 1] as unknown as Coord])).toThrow(/predicted\[1\]/);
    expect(() => pathMetrics(m, 'oops' as unknown as Coord[])).toThrow(MazeError);
  });
});

describe('aggregateMetrics', () => {
  it('pools fork decisions, averages per-row metrics over defined rows and reports rates', () => {
    const rows = [
      pathMetrics(m, m.path), // forks 3/3
      pathMetrics(m, [
        [0, 0],
        [0, 1],
        [0, 2],
        [1, 2],
      ]), // forks 0/1, overlap 2/5
      pathMetrics(m, [
        [0, 0],
        [1, 1],
        [2, 1],
        [2, 2],
      ]), // forks 0/0 (null), overlap 4/5
    ];
    const a = aggregateMetrics(rows);
    expect(a.count).toBe(3);
    expect(a.fork_decisions).toEqual({ correct: 3, total: 4 });
    expect(a.frac_correct_forks_pooled).toBeCloseTo(3 / 4, 15);
    expect(a.means.frac_correct_forks).toBeCloseTo(1 / 2, 15); // mean of 1 and 0; the null row is skipped
    expect(a.defined.frac_correct_forks).toBe(2);
    expect(a.means.node_overlap).toBeCloseTo((1 + 2 / 5 + 4 / 5) / 3, 15);
    expect(a.means.corner_jumps).toBeCloseTo(1 / 3, 15);
    expect(a.exact_path_rate).toBeCloseTo(1 / 3, 15);
    expect(a.valid_rollout_rate).toBeCloseTo(1 / 3, 15);
    expect(a.target_reached_rate).toBeCloseTo(2 / 3, 15);
  });

  it('returns nulls, not NaN, for no rows', () => {
    const a = aggregateMetrics([]);
    expect(a.count).toBe(0);
    expect(a.exact_path_rate).toBeNull();
    expect(a.frac_correct_forks_pooled).toBeNull();
    expect(Object.values(a.means).every((v) => v === null)).toBe(true);
  });

  it('rejects a row whose metric is NaN', () => {
    const bad = { ...pathMetrics(m, m.path), node_overlap: Number.NaN };
    expect(() => aggregateMetrics([bad])).toThrow(/rows\[0\]\.node_overlap/);
  });
});
