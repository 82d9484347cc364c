/**
 * Packed training rows: one maze's adjacency list followed by several queries on it (origin,
 * target, path), each query seeing the list and itself only.
 *
 * Why: with the loss on the path tokens, a 5×5 DFS sequence spends ~98 of its ~115 input tokens on
 * the adjacency list and predicts ~10. The list is the same for every origin/target pair of the
 * maze, so K queries can share it: a row of 98 + K·~17 tokens carries K times the predictions.
 *
 * Exactness: row = prefix ‖ q₁ ‖ … ‖ q_K, where prefix = <ADJLIST_START> … <ADJLIST_END> and
 * q_j = <ORIGIN_START> … <PATH_END>. Each token of q_j gets segment j (the prefix segment 0) and
 * the position it would have in prefix ‖ q_j alone; the training graph lets a token attend only to
 * earlier tokens of its own segment and of the prefix (onnx-train/graph.ts, `packed`). Every query
 * therefore computes exactly the activations and loss of its own unpacked sequence — the seed
 * format the model is evaluated on — and the row's loss is the mean over all of its path tokens
 * (tested against the unpacked batch: test/model/train/packing.test.ts).
 */
import { MazeError } from '../../maze/lattice.js';
import { SPECIAL } from '../../maze/tokenize/index.js';
import type { TrainBatch } from './data.js';

/** One packed row: the shared prefix and the queries, each a full unpacked sequence's tail. */
export interface PackedRow {
  /** <ADJLIST_START> … <ADJLIST_END>. */
  prefix: Int32Array;
  /** Each <ORIGIN_START> … <PATH_END>. */
  queries: Int32Array[];
}

/** Splits a full sequence (prefix ‖ query) after its <ADJLIST_END>. */
export function splitSequence(seq: Int32Array): { prefix: Int32Array; query: Int32Array } {
  const end = seq.indexOf(SPECIAL.ADJLIST_END);
  if (end < 0) throw new MazeError('a sequence to pack has no <ADJLIST_END>');
  return { prefix: seq.subarray(0, end + 1), query: seq.subarray(end + 1) };
}

export interface PackedBatch extends TrainBatch {
  /** [B·T] W_pos row of each input token. */
  positions: Int32Array;
  /** [B·T] 0 = prefix, j = query j (1-based); pads carry the last query's segment. */
  segments: Int32Array;
}

/**
 * Inputs, targets, loss mask, positions and segments of packed rows, right-padded to the longest.
 * The input of a row is its tokens but the last; the loss covers each query's predictions of its
 * path cells and <PATH_END>, made from inside that query. A query's tokens must fit n_ctx at their
 * own positions (prefix + query ≤ n_ctx: unlike an unpacked sequence its <PATH_END> may be an
 * input, the one predicting the next query's <ORIGIN_START>, which the mask ignores).
 */
export function buildPackedBatch(rows: readonly PackedRow[], nCtx: number): PackedBatch {
  const B = rows.length;
  if (B === 0) throw new MazeError('a batch needs at least one row');
  let T = 0;
  rows.forEach((r, i) => {
    if (r.queries.length === 0) throw new MazeError(`packed row ${i} has no query`);
    if (r.prefix[0] !== SPECIAL.ADJLIST_START || r.prefix[r.prefix.length - 1] !== SPECIAL.ADJLIST_END) {
      throw new MazeError(`packed row ${i}: the prefix must run from <ADJLIST_START> to <ADJLIST_END>`);
    }
    let L = r.prefix.length;
    r.queries.forEach((q, j) => {
      if (q[0] !== SPECIAL.ORIGIN_START || q[q.length - 1] !== SPECIAL.PATH_END || q.indexOf(SPECIAL.PATH_START) < 0) {
        throw new MazeError(`packed row ${i}, query ${j}: a query runs from <ORIGIN_START> through <PATH_START> to <PATH_END>`);
      }
      if (r.prefix.length + q.length > nCtx) {
        throw new MazeError(
          `packed row ${i}, query ${j}: prefix + query = ${r.prefix.length + q.length} tokens exceed the model's n_ctx ${nCtx}; use a smaller grid or a larger n_ctx`,
        );
      }
      L += q.length;
    });
    T = Math.max(T, L - 1);
  });
  const tokens = new Int32Array(B * T).fill(SPECIAL.PADDING); // [B, T]
  const targets = new Int32Array(B * T).fill(SPECIAL.PADDING); // [B, T]
  const mask = new Float32Array(B * T); // [B, T]
  const positions = new Int32Array(B * T); // [B, T]
  const segments = new Int32Array(B * T); // [B, T]
  let realTokens = 0;
  let predicted = 0;
  rows.forEach((r, b) => {
    const row = b * T;
    const P = r.prefix.length;
    const seq = new Int32Array(P + r.queries.reduce((n, q) => n + q.length, 0));
    seq.set(r.prefix, 0);
    for (let t = 0; t < P; t++) positions[row + t] = t; // segment 0
    let at = P;
    r.queries.forEach((q, j) => {
      seq.set(q, at);
      const pathStart = q.indexOf(SPECIAL.PATH_START);
      for (let o = 0; o < q.length; o++) {
        const t = at + o;
        if (t >= seq.length - 1) break; // the row's last token is only a target
        positions[row + t] = P + o;
        segments[row + t] = j + 1;
        // Input t predicts seq[t + 1]: from <PATH_START> through the last path cell (→ <PATH_END>).
        if (o >= pathStart && o <= q.length - 2) {
          mask[row + t] = 1;
          predicted++;
        }
      }
      at += q.length;
    });
    const L = seq.length;
    tokens.set(seq.subarray(0, L - 1), row);
    targets.set(seq.subarray(1, L), row);
    realTokens += L - 1;
    // Pads: the last query's segment and position 0 of W_pos; they are never attended to by real
    // tokens (they come last) and carry no loss.
    segments.fill(r.queries.length, row + L - 1, row + T);
  });
  return { B, T, tokens, targets, mask, positions, segments, realTokens, predicted };
}
