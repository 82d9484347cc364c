import { describe, expect, it } from 'vitest';
import { MAX_GRID, MazeError, type SolvedMaze, emptyMaze } from '../../server/maze/lattice.js';
import { Rng } from '../../server/maze/rng.js';
import {
  COORD_TOKENS,
  MAX_TOKEN_BYTES,
  SPECIAL_TOKENS,
  cornerFirstCoord,
  cornerFirstIndex,
  getTokenizer,
  gridSide,
  idsToTokens,
  tokenizerNames,
  tokensToIds,
  vocabForSize,
} from '../../server/maze/tokenize/index.js';
import { SEED_EXAMPLE, randomMazes, randomTree, withTask } from './tokenize-helpers.js';

const NAMES = ['aotp-ut', 'aotp-ctt', 'walls'] as const;
const EXACT_SPECIALS = '<ADJLIST_START> <ADJLIST_END> <TARGET_START> <TARGET_END> <ORIGIN_START> <ORIGIN_END> <PATH_START> <PATH_END> <--> ; <PADDING>'.split(
  ' ',
);

/** Edges listed between <ADJLIST_START> and <ADJLIST_END> of a unified-format sequence, as "a|b" keys. */
function listedEdges(tokens: string[], connector: string): string[] {
  const out: string[] = [];
  for (let i = 1; tokens[i] !== '<ADJLIST_END>'; i += 4) {
    expect(tokens[i + 1]).toBe(connector);
    expect(tokens[i + 3]).toBe(';');
    out.push(`${tokens[i]}|${tokens[i + 2]}`);
  }
  return out;
}

const sortedPair = (k: string): string => k.split('|').sort().join('|');

function sixBySix(seed: number): SolvedMaze {
  const rng = new Rng(seed);
  return withTask(randomTree(6, 6, rng), rng);
}

describe('vocabulary', () => {
  it('puts the 11 special tokens first, in the exact order, in every tokenizer (ids 0..10)', () => {
    expect([...SPECIAL_TOKENS]).toEqual(EXACT_SPECIALS);
    for (const name of NAMES) expect(getTokenizer(name).vocab(4).slice(0, 11)).toEqual(EXACT_SPECIALS);
  });

  it('lists coordinates corner-first: the first 16 aotp-ut coordinate tokens are literally these', () => {
    const first16 = '(0,0) (0,1) (1,0) (1,1) (0,2) (2,0) (1,2) (2,1) (2,2) (0,3) (3,0) (1,3) (3,1) (2,3) (3,2) (3,3)'.split(' ');
    expect(getTokenizer('aotp-ut').vocab(4).slice(11)).toEqual(first16);
    expect(getTokenizer('aotp-ut').vocab(5).slice(11, 27)).toEqual(first16);
  });

  it('corner-first index is a bijection whose first N² entries are exactly the cells of an N×N grid', () => {
    for (let i = 0; i < MAX_GRID * MAX_GRID; i++) {
      const [r, c] = cornerFirstCoord(i);
      expect(cornerFirstIndex(r, c)).toBe(i);
      expect(Math.max(r, c)).toBe(Math.floor(Math.sqrt(i))); // shell k = max(r,c) starts at k²
    }
    for (const n of [1, 2, 3, 6, 13]) {
      const cells = COORD_TOKENS.slice(0, n * n);
      const expected = [];
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) expected.push(`(${r},${c})`);
      expect([...cells].sort()).toEqual(expected.sort());
    }
  });

  it("is a prefix of the next grid size's vocabulary and has the documented size", () => {
    for (const name of NAMES) {
      const tok = getTokenizer(name);
      for (let n = 1; n < MAX_GRID; n++) {
        const small = tok.vocab(n);
        const big = tok.vocab(n + 1);
        expect(big.slice(0, small.length)).toEqual(small);
        expect(new Set(big).size).toBe(big.length); // no duplicates
        expect(tok.vocabSize(n)).toBe(small.length);
      }
      const size6 = { 'aotp-ut': 11 + 36, 'aotp-ctt': 11 + 3 + 6, walls: 11 + 1 + 36 }[name];
      expect(tok.vocab(6).length).toBe(size6);
    }
  });

  it('writes aotp-ctt as specials, "(" "," ")", then the integers (linear growth)', () => {
    expect(getTokenizer('aotp-ctt').vocab(4)).toEqual([...EXACT_SPECIALS, '(', ',', ')', '0', '1', '2', '3']);
  });

  it('appends the wall marker <-X-> after the standard specials in the walls vocabulary only', () => {
    expect(getTokenizer('walls').vocab(2)).toEqual([...EXACT_SPECIALS, '<-X->', '(0,0)', '(0,1)', '(1,0)', '(1,1)']);
    expect(getTokenizer('aotp-ut').vocab(MAX_GRID)).not.toContain('<-X->');
    expect(getTokenizer('walls').describe).toContain('<-X->');
  });

  it('coordId agrees with the vocabulary position of "(r,c)"', () => {
    for (const name of ['aotp-ut', 'walls'] as const) {
      const tok = getTokenizer(name);
      const v = tok.vocab(8);
      for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) expect(v[tok.coordId(r, c)]).toBe(`(${r},${c})`);
    }
    expect(() => getTokenizer('aotp-ut').coordId(64, 0)).toThrow(MazeError);
  });
});

describe('registry', () => {
  it('knows the three formats and rejects an unknown name with a MazeError listing them', () => {
    expect(tokenizerNames()).toEqual([...NAMES]);
    expect(getTokenizer().name).toBe('aotp-ut');
    expect(() => getTokenizer('bpe')).toThrow(MazeError);
    expect(() => getTokenizer('bpe')).toThrow(/unknown tokenizer "bpe".*aotp-ut, aotp-ctt, walls/);
  });
});

describe('tokenize', () => {
  it("reproduces the seed post's token shapes: every seed token is in the 6×6 aotp-ut vocabulary", () => {
    const tokens = SEED_EXAMPLE.split(' ');
    const ids = tokensToIds(tokens, getTokenizer('aotp-ut').vocab(6));
    expect(idsToTokens(ids, getTokenizer('aotp-ut').vocab(6))).toEqual(tokens);
  });

  it('is deterministic by seed and re-draws the edge order on every call', () => {
    const m = sixBySix(1);
    for (const name of NAMES) {
      const tok = getTokenizer(name);
      expect(tok.tokenize(m, new Rng(42))).toEqual(tok.tokenize(m, new Rng(42)));
      const rng = new Rng(42);
      const a = tok.tokenize(m, rng);
      const b = tok.tokenize(m, rng);
      expect(a).not.toEqual(b); // ≥ 25 edges: a repeated order has probability < 1/25!
      expect([...a].sort()).toEqual([...b].sort()); // same tokens, different order
    }
  });

  it('lists each open connection exactly once (aotp-ut) and each missing lattice edge exactly once (walls)', () => {
    for (const m of randomMazes(60, 7)) {
      const open: string[] = [],
        closed: string[] = [];
      for (let r = 0; r < m.rows; r++) {
        for (let c = 0; c < m.cols; c++) {
          const i = r * m.cols + c;
          if (r < m.rows - 1) (m.down[i] ? open : closed).push(sortedPair(`(${r},${c})|(${r + 1},${c})`));
          if (c < m.cols - 1) (m.right[i] ? open : closed).push(sortedPair(`(${r},${c})|(${r},${c + 1})`));
        }
      }
      const ut = listedEdges(getTokenizer('aotp-ut').tokenize(m, new Rng(3)), '<-->').map(sortedPair);
      const walls = listedEdges(getTokenizer('walls').tokenize(m, new Rng(3)), '<-X->').map(sortedPair);
      expect(ut.sort()).toEqual(open.sort());
      expect(walls.sort()).toEqual(closed.sort());
    }
  });

  it("writes each edge's two ends in random order (both orders occur)", () => {
    const m = sixBySix(2);
    const rng = new Rng(5);
    const firstEnds = new Map<string, Set<string>>();
    for (let t = 0; t < 20; t++) {
      for (const e of listedEdges(getTokenizer('aotp-ut').tokenize(m, rng), '<-->')) {
        const key = sortedPair(e);
        if (!firstEnds.has(key)) firstEnds.set(key, new Set());
        firstEnds.get(key)!.add(e.split('|')[0]);
      }
    }
    expect(firstEnds.size).toBe(35);
    for (const ends of firstEnds.values()) expect(ends.size).toBe(2); // miss prob per edge 2^-19
  });

  it('ids, strings, text and bytes agree for identically seeded Rngs (tokenizeToIds == tokensToIds(tokenize), …)', () => {
    for (const m of randomMazes(90, 11)) {
      for (const name of NAMES) {
        const tok = getTokenizer(name);
        const tokens = tok.tokenize(m, new Rng(9));
        const ids = tok.tokenizeToIds(m, new Rng(9));
        expect(Array.from(ids)).toEqual(Array.from(tokensToIds(tokens, tok.vocab(gridSide(m)))));
        expect(tokens.length).toBe(tok.seqLength(m));
        expect(tok.tokenizeToText(m, new Rng(9))).toBe(tokens.join(' '));
        const bytes = new Uint8Array(tok.seqLength(m) * MAX_TOKEN_BYTES + 3);
        const len = tok.writeText(m, new Rng(9), bytes, 3);
        expect(new TextDecoder().decode(bytes.subarray(3, 3 + len))).toBe(tokens.join(' '));
      }
    }
  });

  it('prompt is the sequence up to and including <PATH_START>, of length promptLength', () => {
    for (const m of randomMazes(30, 12)) {
      for (const name of NAMES) {
        const tok = getTokenizer(name);
        const full = tok.tokenize(m, new Rng(4));
        const prompt = tok.prompt(m, new Rng(4));
        expect(prompt.length).toBe(tok.promptLength(m));
        expect(prompt[prompt.length - 1]).toBe('<PATH_START>');
        expect(full.slice(0, prompt.length)).toEqual(prompt);
      }
    }
  });

  it('writeIds fills a caller buffer at an offset and refuses a buffer that is too short', () => {
    const m = sixBySix(3);
    for (const name of NAMES) {
      const tok = getTokenizer(name);
      const n = tok.seqLength(m);
      const buf = new Int32Array(n + 10).fill(-7);
      expect(tok.writeIds(m, new Rng(1), buf, 4)).toBe(n);
      expect(Array.from(buf.subarray(4, 4 + n))).toEqual(Array.from(tok.tokenizeToIds(m, new Rng(1))));
      expect(buf[3]).toBe(-7);
      expect(buf[4 + n]).toBe(-7);
      expect(Array.from(tok.tokenizeToIds(m, new Rng(1), new Int32Array(n + 3)))).toHaveLength(n);
      expect(() => tok.tokenizeToIds(m, new Rng(1), new Int32Array(n - 1))).toThrow(/too short/);
      expect(() => tok.writeText(m, new Rng(1), new Uint8Array(20))).toThrow(/text buffer too short/);
    }
  });

  it('refuses a maze whose task lies outside its grid', () => {
    const m: SolvedMaze = {
      ...emptyMaze(3, 3),
      origin: [0, 0],
      target: [2, 2],
      path: [
        [0, 0],
        [3, 0],
      ],
    };
    for (const name of NAMES) expect(() => getTokenizer(name).tokenize(m, new Rng(1))).toThrow(/path\[1\] \(3,0\) is outside the 3x3 grid/);
    expect(() => getTokenizer('aotp-ut').tokenize({ ...m, path: [] }, new Rng(1))).toThrow(/path is empty/);
  });
});

describe('tokensToIds / idsToTokens', () => {
  it('name the first token or id outside the vocabulary', () => {
    const v = getTokenizer('aotp-ut').vocab(2);
    expect(() => tokensToIds(['<ADJLIST_START>', '(2,0)'], v)).toThrow(/token 1: "\(2,0\)" is not in the vocabulary/);
    expect(() => idsToTokens([0, 15], v)).toThrow(/position 1: id 15 is outside the vocabulary \(0\.\.14\)/);
  });
});

describe('vocabForSize (files without a vocabulary)', () => {
  it('reads the grid off d_vocab where the order is unambiguous, and refuses aotp-ut from 4x4 up (maze-dataset orders those cells differently)', () => {
    const ut = getTokenizer('aotp-ut');
    expect(vocabForSize('aotp-ut', ut.vocabSize(3), 'x')).toEqual([...ut.vocab(3)]);
    expect(() => vocabForSize('aotp-ut', ut.vocabSize(5), 'importModel')).toThrow(
      "importModel: the file has no vocab, and for a 5x5 grid the token order cannot be assumed (Searchlight's aotp-ut coordinate order differs from maze-dataset's AOTP_UT_uniform from 4x4 up)",
    );
    expect(() => vocabForSize('aotp-ut', 1000, 'x')).toThrow('x: the file has no vocab and d_vocab 1000 is not the vocabulary size of tokenizer aotp-ut');
    const ctt = getTokenizer('aotp-ctt');
    expect(vocabForSize('aotp-ctt', ctt.vocabSize(6), 'x')).toEqual([...ctt.vocab(6)]);
  });
});
