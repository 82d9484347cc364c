/**
 * Tokenizer registry and id ↔ token helpers. Tokenizers are looked up by name so a new format
 * plugs in by adding an entry to `TOKENIZERS` (see tokenizer.ts for the formats themselves).
 */
import { MAX_GRID, MazeError } from '../lattice.js';
import { TOKENIZERS, type Tokenizer, type TokenizerName } from './tokenizer.js';

export { MAX_TOKEN_BYTES, TOKENIZERS, type Tokenizer, type TokenizerName, type TokenFormat } from './tokenizer.js';
export * from './vocab.js';

export const DEFAULT_TOKENIZER: TokenizerName = 'aotp-ut';

export function tokenizerNames(): TokenizerName[] {
  return Object.keys(TOKENIZERS) as TokenizerName[];
}

export function isTokenizerName(name: string): name is TokenizerName {
  return Object.hasOwn(TOKENIZERS, name);
}

/** The tokenizer called `name`; a MazeError listing the known names otherwise. */
export function getTokenizer(name: string = DEFAULT_TOKENIZER): Tokenizer {
  if (!isTokenizerName(name)) {
    throw new MazeError(`unknown tokenizer "${name}"; known tokenizers: ${tokenizerNames().join(', ')}`);
  }
  return TOKENIZERS[name];
}

// token → id maps, built once per vocabulary array.
const indexCache = new WeakMap<readonly string[], Map<string, number>>();

function vocabIndex(vocab: readonly string[]): Map<string, number> {
  let m = indexCache.get(vocab);
  if (!m) {
    m = new Map();
    for (let i = 0; i < vocab.length; i++) if (!m.has(vocab[i])) m.set(vocab[i], i);
    indexCache.set(vocab, m);
  }
  return m;
}

/** Ids of `tokens` in `vocab` (e.g. `tok.vocab(n)`); a MazeError naming the first unknown token. */
export function tokensToIds(tokens: readonly string[], vocab: readonly string[]): Int32Array {
  const index = vocabIndex(vocab);
  const out = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const id = index.get(tokens[i]);
    if (id === undefined)
      throw new MazeError(`token ${i}: "${tokens[i]}" is not in the vocabulary (${vocab.length} tokens)`, { code: 'TOKEN_OUTSIDE_VOCABULARY' });
    out[i] = id;
  }
  return out;
}

/** Tokens of `ids` in `vocab`; a MazeError naming the first id outside it. */
export function idsToTokens(ids: ArrayLike<number>, vocab: readonly string[]): string[] {
  const out = new Array<string>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocab.length) {
      throw new MazeError(`position ${i}: id ${id} is outside the vocabulary (0..${vocab.length - 1})`);
    }
    out[i] = vocab[id];
  }
  return out;
}

/**
 * The grid side whose vocabulary has exactly `vocabSize` tokens in this tokenizer, or null.
 * Model files saved by TransformerLens carry no vocabulary; their d_vocab names the grid.
 */
export function gridForVocabSize(tokenizer: string, vocabSize: number): number | null {
  const tok = getTokenizer(tokenizer);
  for (let n = 1; n <= MAX_GRID; n++) if (tok.vocabSize(n) === vocabSize) return n;
  return null;
}

/**
 * The vocabulary a file without one must have, from its size: this tokenizer's vocabulary for the
 * grid whose size is `dVocab`. Refused (MazeError prefixed with `where`) when the size names no grid,
 * or when the guess could silently scramble ids: from 4×4 grids up our aotp-ut coordinate order
 * (corner-first by shell, vocab.ts) differs from maze-dataset's AOTP_UT_uniform order
 * (utils.corner_first_ndindex sorts a shell by (max, alternating)), so a maze-transformer model's
 * ids cannot be read off d_vocab. Up to 3×3 the two orders agree.
 */
export function vocabForSize(tokenizer: string, dVocab: number, where: string): string[] {
  const grid = gridForVocabSize(tokenizer, dVocab);
  if (grid === null)
    throw new MazeError(
      `${where}: the file has no vocab and d_vocab ${dVocab} is not the vocabulary size of tokenizer ${tokenizer} for any grid up to ${MAX_GRID}`,
    );
  if (tokenizer === 'aotp-ut' && grid >= 4)
    throw new MazeError(
      `${where}: the file has no vocab, and for a ${grid}x${grid} grid the token order cannot be assumed (Searchlight's aotp-ut coordinate order differs from maze-dataset's AOTP_UT_uniform from 4x4 up); write the token list into __metadata__.vocab, or import the model's ZANJ archive, which carries it`,
    );
  return [...getTokenizer(tokenizer).vocab(grid)];
}

/** Throws MazeError (prefixed with `where`) when a grid×grid maze needs tokens a d_vocab-token model lacks. */
export function checkGridInVocab(tokenizer: string, dVocab: number, grid: number, where: string): void {
  const need = getTokenizer(tokenizer).vocabSize(grid);
  if (need > dVocab) throw new MazeError(`${where}: a ${grid}x${grid} grid needs ${need} ${tokenizer} tokens, but the model's vocabulary has ${dVocab}`);
}
