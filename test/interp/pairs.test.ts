/**
 * Pair builders: clean and corrupted sequences have equal length and differ only where the
 * documented change is; each sequence lists exactly its maze's connections; answers are the
 * clean/corrupted next moves.
 */
import { describe, expect, it } from 'vitest';
import { cellIndex, connectedIdx, edgeCount, type LatticeMaze } from '../../server/maze/lattice.js';
import { Rng } from '../../server/maze/rng.js';
import { shortestPathIdx } from '../../server/maze/solve.js';
import { encoder } from '../../server/interp/context.js';
import { buildPair, buildPairs, PAIR_KINDS, resolveBad } from '../../server/interp/pairs.js';
import { mapPositions } from '../../server/interp/positions.js';
import { mazes, randomModel } from './helpers.js';

const model = randomModel('nano', 5);
const enc = encoder(model);
const list = mazes(5, 30, 21);

/** The set of connections a sequence lists, as "a-b" keys (lower cell first). */
function listed(ids: Int32Array, m: LatticeMaze): Set<string> {
  const sp = mapPositions(ids, model.vocab, m);
  return new Set(sp.edges.map((e) => `${Math.min(e.a, e.b)}-${Math.max(e.a, e.b)}`));
}
function openEdges(m: LatticeMaze): Set<string> {
  const out = new Set<string>();
  for (let a = 0; a < m.rows * m.cols; a++) for (const b of [a + 1, a + m.cols]) if (b < m.rows * m.cols && connectedIdx(m, a, b)) out.add(`${a}-${b}`);
  return out;
}

describe('buildPair', () => {
  for (const kind of PAIR_KINDS) {
    it(`${kind}: aligned sequences that encode the clean and corrupted mazes`, () => {
      const { pairs } = buildPairs(kind, list, enc, 7, 30);
      expect(pairs.length).toBeGreaterThan(3);
      for (const pr of pairs) {
        const m = pr.cleanMaze;
        expect(pr.corrupt.length).toBe(pr.clean.length);
        const sp = mapPositions(pr.clean, model.vocab, m);
        const csp = mapPositions(pr.corrupt, model.vocab, m);
        // The clean prefix ends at the decision cell of the clean path; good is the next cell.
        const path = m.path.map((c) => cellIndex(m, c));
        expect(sp.path.map((p) => sp.cell[p])).toEqual(path.slice(0, pr.decision + 1));
        expect(pr.good).toBe(enc.cellId(...m.path[pr.decision + 1]));
        if (pr.bad !== null) expect(pr.bad).not.toBe(pr.good);
        expect(listed(pr.clean, m)).toEqual(openEdges(m));
        expect(listed(pr.corrupt, m)).toEqual(openEdges(pr.corruptMaze));
        expect(csp.cell[csp.origin]).toBe(cellIndex(m, pr.corruptMaze.origin));
        expect(csp.cell[csp.target]).toBe(cellIndex(m, pr.corruptMaze.target));
        const T = pr.clean.length;
        if (kind === 'target') {
          expect(pr.changed).toEqual([sp.target]);
          const alt = shortestPathIdx(m, cellIndex(m, m.origin), cellIndex(m, pr.corruptMaze.target))!;
          expect(pr.bad).toBe(enc.cellId(Math.floor(alt[pr.decision + 1] / 5), alt[pr.decision + 1] % 5));
        } else if (kind === 'origin') {
          expect(pr.changed).toEqual([sp.origin, T - 1]); // the origin token and the first path token
          expect(pr.decision).toBe(0);
        } else {
          // One edge differs; only the two cell tokens of one adjacency slot differ.
          const diff =
            [...openEdges(m)].filter((e) => !openEdges(pr.corruptMaze).has(e)).length +
            [...openEdges(pr.corruptMaze)].filter((e) => !openEdges(m).has(e)).length;
          expect(diff).toBe(1);
          expect(Math.abs(edgeCount(m) - edgeCount(pr.corruptMaze))).toBe(1);
          expect(pr.changed.length).toBeGreaterThan(0);
          expect(pr.changed.length).toBeLessThanOrEqual(2);
          expect(pr.changed.every((p) => sp.classes[p] === 'adj_cell')).toBe(true);
          expect(Math.max(...pr.changed) - Math.min(...pr.changed)).toBeLessThanOrEqual(2);
          const alt = shortestPathIdx(pr.corruptMaze, cellIndex(m, m.origin), cellIndex(m, m.target));
          const same = !!alt && alt.length === path.length && alt.every((c, i) => c === path[i]);
          expect(same).toBe(kind.endsWith('-off'));
          if (kind.endsWith('-off')) expect(pr.bad).toBeNull();
        }
      }
    });
  }

  it('is deterministic given the rng, and resolveBad picks the best wrong token', () => {
    const a = buildPair('target', list[0], enc, new Rng(5))!;
    const b = buildPair('target', list[0], enc, new Rng(5))!;
    expect(Array.from(a.corrupt)).toEqual(Array.from(b.corrupt));
    const logits = Float32Array.from({ length: model.cfg.d_vocab }, (_, v) => (v === a.good ? 10 : v === 3 ? 9 : 0));
    expect(resolveBad({ ...a, bad: null }, logits)).toBe(3);
    expect(resolveBad(a, logits)).toBe(a.bad);
  });
});
