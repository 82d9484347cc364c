/**
 * Rotary position embeddings with TransformerLens' semantics (components/abstract_attention.py:
 * calculate_sin_cos_rotary, rotate_every_two, apply_rotary), shared by the reference forward and
 * the ONNX graphs so every engine rotates by the same tables.
 *
 * For rotary_dim R and base b, pair i < R/2 turns at frequency f_i = b^(i/(R/2)); position p turns
 * it by p/f_i radians. TL lays the R angles of a position out as (2 d) — [f_0 … f_{R/2−1}, f_0 …],
 * pairing dimension i with i + R/2 (GPT-NeoX, the default) — or as (d 2) — [f_0, f_0, f_1, f_1 …],
 * pairing 2i with 2i+1 (rotary_adjacent_pairs, GPT-J). Then, on the first R dimensions of a head,
 *   rot(x) = x ⊙ cos + flip(x) ⊙ sin,   flip(x) = [−x_{i+R/2}, x_i] (halves) or [−x_{2i+1}, x_{2i}] (adjacent),
 * and dimensions ≥ R pass through. Keys rotate at their own positions, so a KV cache stores rotated
 * keys and each new token rotates at its absolute position.
 */
import type { Architecture } from './config.js';

/** sin and cos tables, each [n_ctx, R] row-major float32 (angles computed in float64). */
export function rotaryTables(
  arch: Pick<Architecture, 'rotary_dim' | 'rotary_base' | 'rotary_adjacent_pairs'>,
  n_ctx: number,
): { sin: Float32Array; cos: Float32Array } {
  const R = arch.rotary_dim;
  const half = R / 2;
  const freq = new Float64Array(R); // [R] frequency of each dimension
  for (let j = 0; j < R; j++) {
    const i = arch.rotary_adjacent_pairs ? Math.floor(j / 2) : j % half;
    freq[j] = arch.rotary_base ** (i / half);
  }
  const sin = new Float32Array(n_ctx * R);
  const cos = new Float32Array(n_ctx * R);
  for (let p = 0; p < n_ctx; p++) {
    for (let j = 0; j < R; j++) {
      const angle = p / freq[j];
      sin[p * R + j] = Math.sin(angle);
      cos[p * R + j] = Math.cos(angle);
    }
  }
  return { sin, cos };
}

/** The dimension flip(x)[j] reads, and its sign: flip(x)[j] = sign · x[source]. */
export function flipSource(R: number, adjacent: boolean, j: number): { source: number; sign: 1 | -1 } {
  if (adjacent) return j % 2 === 0 ? { source: j + 1, sign: -1 } : { source: j - 1, sign: 1 };
  const half = R / 2;
  return j < half ? { source: j + half, sign: -1 } : { source: j - half, sign: 1 };
}

/** flip as an [R, R] matrix F with flip(x) = x·F (row vector x), for graphs that rotate by MatMul. */
export function flipMatrix(R: number, adjacent: boolean): Float32Array {
  const F = new Float32Array(R * R); // [R (in), R (out)]
  for (let j = 0; j < R; j++) {
    const { source, sign } = flipSource(R, adjacent, j);
    F[source * R + j] = sign;
  }
  return F;
}
