import { describe, expect, it } from 'vitest';
import { type Coord, type SolvedMaze, connected, edgeCount, emptyMaze, isSpanningTree, mazesEqual, setEdge } from '../../server/maze/lattice.js';
import { ParseError, type ParseOptions, parseSequence, readPredictedPath } from '../../server/maze/parse.js';
import { Rng } from '../../server/maze/rng.js';
import { shortestPath } from '../../server/maze/solve.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { SEED_EXAMPLE, randomMazes, randomTree, withTask } from './tokenize-helpers.js';

const NAMES = ['aotp-ut', 'aotp-ctt', 'walls'] as const;

function expectSame(parsed: ReturnType<typeof parseSequence>, m: SolvedMaze): void {
  expect([parsed.rows, parsed.cols]).toEqual([m.rows, m.cols]);
  expect(mazesEqual(parsed.maze, m)).toBe(true);
  expect(parsed.origin).toEqual([...m.origin]);
  expect(parsed.target).toEqual([...m.target]);
  expect(parsed.path).toEqual(m.path.map((c) => [...c]));
  expect(parsed.complete).toBe(true);
}

describe('round trip parse(tokenize(m)) == m', () => {
  it('restores planes, origin, target and path in all three formats (grid given)', () => {
    const rng = new Rng(99);
    for (const m of randomMazes(300, 21)) {
      for (const name of NAMES) {
        const text = getTokenizer(name).tokenizeToText(m, rng);
        expectSame(parseSequence(text, { tokenizer: name, grid: { rows: m.rows, cols: m.cols } }), m);
        // token arrays parse the same as text
        expectSame(parseSequence(text.split(' '), { tokenizer: getTokenizer(name), grid: { rows: m.rows, cols: m.cols } }), m);
      }
    }
  });

  it('infers the exact grid for spanning trees in aotp-ut and aotp-ctt (every cell is in some edge)', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 150; i++) {
      const rows = 1 + rng.int(10),
        cols = 1 + rng.int(10);
      const m = withTask(randomTree(rows, cols, rng), rng);
      for (const name of ['aotp-ut', 'aotp-ctt'] as const) {
        const p = parseSequence(getTokenizer(name).tokenize(m, rng), { tokenizer: name });
        expect(p.gridInferred).toBe(true);
        expectSame(p, m);
      }
    }
  });

  it('walls: an inferred grid is only a lower bound, so the grid must be passed when a last row/column has no walls', () => {
    // 2×2 tree whose only wall is (0,0)-(0,1): nothing in the walls list mentions row 1.
    const m = emptyMaze(2, 2);
    setEdge(m, [0, 0], [1, 0], true);
    setEdge(m, [1, 0], [1, 1], true);
    setEdge(m, [0, 1], [1, 1], true);
    const sm: SolvedMaze = {
      ...m,
      origin: [0, 0],
      target: [0, 1],
      path: [
        [0, 0],
        [0, 1],
      ],
    };
    const text = getTokenizer('walls').tokenizeToText(sm, new Rng(1));
    expect(text).toMatch(/^<ADJLIST_START> \(0,[01]\) <-X-> \(0,[01]\) ; <ADJLIST_END>/);
    const inferred = parseSequence(text, { tokenizer: 'walls' });
    expect([inferred.rows, inferred.cols, inferred.gridInferred]).toEqual([1, 2, true]);
    expectSame(parseSequence(text, { tokenizer: 'walls', grid: 2 }), sm);
  });
});

describe('the seed post example', () => {
  it('parses to a 6×6 spanning tree, origin (0,0), target (3,2), whose 24-cell path is the shortest', () => {
    const p = parseSequence(SEED_EXAMPLE, { checkPath: true });
    expect([p.rows, p.cols]).toEqual([6, 6]);
    expect(edgeCount(p.maze)).toBe(35);
    expect(isSpanningTree(p.maze)).toBe(true);
    expect(p.origin).toEqual([0, 0]);
    expect(p.target).toEqual([3, 2]);
    expect(p.path).toHaveLength(24);
    expect(p.path[0]).toEqual([0, 0]);
    expect(p.path[23]).toEqual([3, 2]);
    for (let i = 1; i < p.path.length; i++) expect(connected(p.maze, p.path[i - 1], p.path[i])).toBe(true);
    // On a tree the shortest path is unique, so it must equal BFS's.
    expect(shortestPath(p.maze, p.origin, p.target)).toEqual(p.path);
  });

  it('re-tokenizes to a sequence with the same multiset of tokens', () => {
    const p = parseSequence(SEED_EXAMPLE);
    const again = getTokenizer('aotp-ut').tokenize({ ...p.maze, origin: p.origin, target: p.target, path: p.path }, new Rng(0));
    const canon = (t: string[]): string[] => [...t].sort();
    // Edge end order is random, so compare edges as unordered pairs and everything else as tokens.
    const edges = (t: string[]): string[] => {
      const out: string[] = [];
      for (let i = 1; t[i] !== '<ADJLIST_END>'; i += 4) out.push([t[i], t[i + 2]].sort().join('-'));
      return out.sort();
    };
    const seedTokens = SEED_EXAMPLE.split(' ');
    expect(edges(again)).toEqual(edges(seedTokens));
    expect(canon(again)).toEqual(canon(seedTokens));
  });
});

describe('prompts and partial paths', () => {
  it('parses a prompt ending at <PATH_START> with partial: true (empty, incomplete path)', () => {
    const rng = new Rng(8);
    for (const m of randomMazes(40, 3)) {
      for (const name of NAMES) {
        const tok = getTokenizer(name);
        const grid = { rows: m.rows, cols: m.cols };
        const prompt = tok.prompt(m, rng);
        const p = parseSequence(prompt, { tokenizer: name, grid, partial: true });
        expect(p.complete).toBe(false);
        expect(p.path).toEqual([]);
        expect(mazesEqual(p.maze, m)).toBe(true);
        expect(() => parseSequence(prompt, { tokenizer: name, grid })).toThrow(ParseError);
        // a prompt plus the first cell of the path
        const full = tok.tokenize(m, new Rng(1));
        const w = name === 'aotp-ctt' ? 5 : 1;
        const cut = full.slice(0, tok.promptLength(m) + w);
        expect(parseSequence(cut, { tokenizer: name, grid, partial: true }).path).toEqual([[...m.path[0]]]);
        expect(parseSequence(full, { tokenizer: name, grid, partial: true }).complete).toBe(true);
      }
    }
  });
});

// Indices:      0               1     2    3     4 5     6    7     8 9     10   11    12 13
const BASE =
  '<ADJLIST_START> (0,0) <--> (0,1) ; (0,1) <--> (1,1) ; (1,0) <--> (1,1) ; <ADJLIST_END> ' +
  // 14            15    16           17             18    19           20           21    22    23    24    25
  '<ORIGIN_START> (0,0) <ORIGIN_END> <TARGET_START> (1,0) <TARGET_END> <PATH_START> (0,0) (0,1) (1,1) (1,0) <PATH_END>';
const toks = (): string[] => BASE.split(' ');
const replace = (i: number, t: string): string[] => {
  const a = toks();
  a[i] = t;
  return a;
};
const remove = (i: number, n = 1): string[] => {
  const a = toks();
  a.splice(i, n);
  return a;
};

function parseError(input: string | string[], opts: ParseOptions = {}): ParseError {
  try {
    parseSequence(input, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error('expected a ParseError');
}

describe('malformed input', () => {
  it('accepts the well-formed base sequence', () => {
    expect(parseSequence(BASE, { checkPath: true }).path).toHaveLength(4);
  });

  const cases: Array<[string, string[], ParseOptions, number, RegExp]> = [
    ['wrong token where the connector belongs', replace(2, '(3,4)'), {}, 2, /^token 2: expected "<-->" but found "\(3,4\)"$/],
    ['unknown token', replace(6, 'foo'), {}, 6, /^token 6: unknown token "foo" for aotp-ut \(expected "<-->"\)$/],
    ['coordinate outside the given grid', replace(7, '(2,1)'), { grid: 2 }, 7, /^token 7: coordinate \(2,1\) is outside the 2x2 grid$/],
    ['edge between non-adjacent cells', replace(11, '(0,1)'), {}, 9, /^token 9: edge \(1,0\) <--> \(0,1\) joins cells that are not lattice neighbours$/],
    ['edge that wraps around a row end', replace(1, '(0,63)').map((t, i) => (i === 3 ? '(1,0)' : t)), {}, 1, /not lattice neighbours/],
    ['edge listed twice', replace(5, '(0,0)').map((t, i) => (i === 7 ? '(0,1)' : t)), {}, 5, /listed twice \(first at token 1\)/],
    ['missing ";"', remove(4), {}, 4, /^token 4: expected ";" but found "\(0,1\)"$/],
    ['missing <ADJLIST_END>', remove(13), {}, 13, /expected a coordinate or "<ADJLIST_END>" but found "<ORIGIN_START>"/],
    ['missing section', remove(14, 3), {}, 14, /^token 14: missing section: expected "<ORIGIN_START>" but found "<TARGET_START>"$/],
    [
      'duplicate section',
      [...toks().slice(0, 17), '<ORIGIN_START>', '(0,0)', '<ORIGIN_END>', ...toks().slice(17)],
      {},
      17,
      /duplicate section "<ORIGIN_START>" \(first at token 14\)/,
    ],
    ['duplicate adjacency list after the path', [...toks(), '<ADJLIST_START>'], {}, 26, /duplicate section "<ADJLIST_START>" \(first at token 0\)/],
    ['trailing token', [...toks(), '(0,0)'], {}, 26, /^token 26: unexpected trailing token "\(0,0\)" after "<PATH_END>"$/],
    ['unterminated path', remove(25), {}, 25, /^token 25: expected a coordinate or "<PATH_END>" but found end of input$/],
    ['empty path', remove(21, 4), {}, 21, /a path holds at least the origin/],
    ['empty input', [], {}, 0, /^token 0: expected "<ADJLIST_START>" but found end of input$/],
    ['missing adjacency list', toks().slice(14), {}, 0, /missing section: expected "<ADJLIST_START>" but found "<ORIGIN_START>"/],
    ['origin with two cells', [...toks().slice(0, 16), '(0,1)', ...toks().slice(16)], {}, 16, /expected "<ORIGIN_END>" but found "\(0,1\)"/],
    ['malformed coordinate token', replace(18, '(1, 0)'), {}, 18, /^token 18: unknown token "\(1, 0\)" for aotp-ut \(expected a coordinate\)$/],
    ['walls marker in aotp-ut', replace(2, '<-X->'), {}, 2, /unknown token "<-X->" for aotp-ut \(expected "<-->"\)/],
    ['checkPath: a diagonal jump', replace(23, '(1,0)'), { checkPath: true }, 23, /^token 23: path step \(0,1\) → \(1,0\) does not follow an open connection$/],
    ['checkPath: wrong start', replace(21, '(1,1)'), { checkPath: true }, 21, /path starts at \(1,1\), not at the origin \(0,0\)/],
  ];
  for (const [what, input, opts, index, message] of cases) {
    it(`rejects ${what} with a ParseError at token ${index}`, () => {
      const e = parseError(input, opts);
      expect(e.tokenIndex).toBe(index);
      expect(e.message).toMatch(message);
    });
  }

  it('points inside a split coordinate in aotp-ctt', () => {
    const text = getTokenizer('aotp-ctt').tokenizeToText(withTask(randomTree(3, 3, new Rng(1)), new Rng(2)), new Rng(3));
    const t = text.split(' ');
    t[4] = ')'; // <ADJLIST_START> ( r , c ) → ( r , )
    const e = parseError(t, { tokenizer: 'aotp-ctt' });
    expect(e.tokenIndex).toBe(4);
    expect(e.message).toMatch(/^token 4: expected a column number but found "\)"$/);
    t[4] = '07';
    expect(parseError(t, { tokenizer: 'aotp-ctt' }).message).toMatch(/^token 4: unknown token "07" for aotp-ctt/);
    t[4] = '9';
    expect(parseError(t, { tokenizer: 'aotp-ctt', grid: 3 }).message).toMatch(/^token 1: coordinate \(\d,9\) is outside the 3x3 grid$/);
  });

  it('walls text is only valid for the walls tokenizer', () => {
    const m = withTask(randomTree(4, 4, new Rng(3)), new Rng(4));
    const text = getTokenizer('walls').tokenizeToText(m, new Rng(5));
    expect(parseError(text, { tokenizer: 'aotp-ut' }).tokenIndex).toBe(2);
    expect(parseError(getTokenizer('aotp-ut').tokenizeToText(m, new Rng(5)), { tokenizer: 'walls' }).message).toMatch(
      /^token 2: expected "<-X->" but found "<-->"$/,
    );
  });
});

describe('readPredictedPath', () => {
  it("returns the path and ended=true for every tokenizer's own sequences", () => {
    for (const m of randomMazes(30, 17)) {
      for (const name of NAMES) {
        const tok = getTokenizer(name);
        const after = tok.tokenize(m, new Rng(2)).slice(tok.promptLength(m));
        expect(readPredictedPath(after, name)).toEqual({ path: m.path.map((c) => [...c]), ended: true });
      }
    }
  });

  it('maps specials, junk and off-grid cells to null and stops at <PATH_END> (aotp-ut)', () => {
    const tokens = ['(0,0)', '(0,1)', '<PADDING>', '(9,9)', 'junk', '(1,1)', '<PATH_END>', '(2,2)'];
    const expected: Array<Coord | null> = [[0, 0], [0, 1], null, null, null, [1, 1]];
    expect(readPredictedPath(tokens, 'aotp-ut', { grid: 6 })).toEqual({ path: expected, ended: true });
    expect(readPredictedPath(tokens, 'aotp-ut').path[3]).toEqual([9, 9]); // without a grid only MAX_GRID bounds
    expect(readPredictedPath('(0,0) (1,0)', 'walls')).toEqual({
      path: [
        [0, 0],
        [1, 0],
      ],
      ended: false,
    });
  });

  it('counts one garbled aotp-ctt coordinate as one null and resynchronises at the next "("', () => {
    const text = '( 0 , 0 ) ( 1 , x ) ( 1 , 1 ) <PADDING> ( 2';
    expect(readPredictedPath(text, 'aotp-ctt')).toEqual({ path: [[0, 0], null, [1, 1], null, null], ended: false });
    expect(readPredictedPath('( 0 , 1 ) <PATH_END> ( 0 , 0 )', 'aotp-ctt')).toEqual({ path: [[0, 1]], ended: true });
  });
});
