/** positions.ts: every position of an aotp-ut sequence is classified and mapped to its cell exactly. */
import { describe, expect, it } from 'vitest';
import { cellIndex, connectedIdx, edgeCount } from '../../server/maze/lattice.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { InterpError } from '../../server/interp/context.js';
import { aggregateOnCells, mapPositions, positionsOfCell } from '../../server/interp/positions.js';
import { mazes } from './helpers.js';

const tok = getTokenizer('aotp-ut');

describe('mapPositions (aotp-ut)', () => {
  for (const [i, m] of mazes(5, 4, 11).entries()) {
    it(`maze ${i}: landmarks, edges, cells and path positions match the maze`, () => {
      const vocab = tok.vocab(5);
      const ids = tok.tokenizeToIds(m, new Rng(i));
      const sp = mapPositions(ids, vocab, m);
      const text = tok.tokenize(m, new Rng(i));
      expect(sp.length).toBe(ids.length);
      expect(text[sp.adjlistEnd]).toBe('<ADJLIST_END>');
      expect(text[sp.pathStart]).toBe('<PATH_START>');
      expect(text[sp.pathEnd]).toBe('<PATH_END>');
      expect(sp.cell[sp.origin]).toBe(cellIndex(m, m.origin));
      expect(sp.cell[sp.target]).toBe(cellIndex(m, m.target));
      expect(sp.edges.length).toBe(edgeCount(m));
      expect(sp.seps.every((p) => text[p] === ';')).toBe(true);
      for (const e of sp.edges) expect(connectedIdx(m, e.a, e.b)).toBe(true);
      expect(sp.path.map((p) => sp.cell[p])).toEqual(m.path.map((c) => cellIndex(m, c)));
      // Every coordinate token maps to the cell its text names.
      sp.cell.forEach((c, p) => {
        if (c >= 0) expect(text[p]).toBe(`(${Math.floor(c / 5)},${c % 5})`);
      });
      expect(positionsOfCell(sp, cellIndex(m, m.target))).toContain(sp.target);
    });
  }

  it('maps a prompt (no path) and a prompt with a partial path', () => {
    const [m] = mazes(4, 1, 5);
    const ids = tok.tokenizeToIds(m, new Rng(1));
    const P = tok.promptLength(m);
    expect(mapPositions(ids.subarray(0, P), tok.vocab(4), m).path).toEqual([]);
    const sp = mapPositions(ids.subarray(0, P + 2), tok.vocab(4), m);
    expect(sp.path).toEqual([P, P + 1]);
    expect(sp.pathEnd).toBe(-1);
  });

  it('a malformed sequence is an error naming the position and what was expected', () => {
    const [m] = mazes(4, 1, 5);
    const ids = tok.tokenizeToIds(m, new Rng(1)).slice();
    ids[4] = 1; // a ';' slot now holds <ADJLIST_END>
    expect(() => mapPositions(ids, tok.vocab(4), m)).toThrow(InterpError);
    expect(() => mapPositions(ids, tok.vocab(4), m)).toThrow(/token position 4: expected ;, found "<ADJLIST_END>"/);
  });

  it('aggregateOnCells conserves mass: Σ cells + other = Σ weights', () => {
    const [m] = mazes(4, 1, 8);
    const ids = tok.tokenizeToIds(m, new Rng(2));
    const sp = mapPositions(ids, tok.vocab(4), m);
    const rng = new Rng(3);
    const w = Float64Array.from({ length: ids.length }, () => rng.float());
    const { cells, other } = aggregateOnCells(sp, w);
    expect(cells.reduce((a, b) => a + b, 0) + other).toBeCloseTo(
      w.reduce((a, b) => a + b, 0),
      10,
    );
    // The origin cell collects the weight of every position naming it.
    const o = cellIndex(m, m.origin);
    expect(cells[o]).toBeCloseTo(
      positionsOfCell(sp, o).reduce((s, p) => s + w[p], 0),
      12,
    );
  });
});
