/**
 * An independent, readable reference forward pass in plain TypeScript loops, with TransformerLens
 * HookedTransformer semantics (transformer_lens/components.py: Embed, PosEmbed, LayerNorm,
 * Attention, MLP, TransformerBlock, Unembed). It is the ground truth the ONNX and tfjs engines are
 * checked against, so it favours clarity over speed: all sums accumulate in float64 and each
 * activation is rounded to float32 once, when stored.
 *
 * Semantics worth stating (each as in TL):
 * - LayerNorm: x ← x − mean(x); hook_scale = sqrt(mean(x²) + eps) (biased variance);
 *   hook_normalized = x / scale · w + b (the hook sees the value after w and b).
 * - Causal mask before hook_attn_scores: masked entries (key_pos > query_pos) hold −Infinity, TL's
 *   IGNORE buffer in current versions (older TL used −1e5). The cache stores −Infinity there.
 * - pattern = softmax over the whole key row; a row that is all −Infinity gives zeros (TL replaces
 *   the NaNs softmax returns with zeros).
 * - hook_result (per-head output, TL's use_attn_result) is always computed; attn_out = Σ_h result + b_O.
 * - Normalization (normalization_type): LN's hook_normalized is after w and b; LNPre's is the
 *   centred, scaled x; RMS's is x/scale BEFORE the gain w (TL's RMSNorm multiplies by w after its
 *   hook); RMSPre is x/scale; null has no norm and no ln hooks.
 * - Rotary: q and k rotate after hook_q/hook_k (rotary.ts), hook_rot_q/hook_rot_k see the rotated
 *   values, which the scores use; there is no pos_embed.
 * - attn_only: resid_post = resid_pre + attn_out. parallel_attn_mlp: resid_post = resid_pre +
 *   attn_out + mlp_out with the MLP reading ln2(resid_pre). Neither has hook_resid_mid.
 * - `logits` (hookShapes' last entry) is treated as a hook point too.
 */
import { architecture, hookShapes, type ActFn, type ModelConfig, type Weights } from './config.js';
import { flipSource, rotaryTables } from './rotary.js';
import { checkWeights } from './weights.js';

export class ForwardError extends Error {
  override name = 'ForwardError';
}

/** A TL-style hook: mutate `value` (row-major, of `shape`) in place; downstream reads the result. */
export type HookFn = (value: Float32Array, shape: number[]) => void;

export interface Activation {
  shape: number[];
  data: Float32Array;
}

/** A batch of equal-length rows, or a flat row-major [B, T] array. */
export type TokenBatch = Int32Array[] | { B: number; T: number; data: Int32Array };

export interface ReferenceOptions {
  /** Hook names to return in the cache, or 'all' (every name of hookShapes). Default: none. */
  hooks?: Set<string> | string[] | 'all';
  /** Interventions by hook name, applied where the value is produced, before any downstream use. */
  interventions?: Record<string, HookFn> | Map<string, HookFn>;
}

// ---- activations -------------------------------------------------------------------------------

/**
 * erf by the everywhere-convergent series of Abramowitz & Stegun 7.1.6,
 *   erf x = 2/√π · e^(−x²) · Σ_{n≥0} 2ⁿ x^(2n+1) / (1·3·5···(2n+1)),
 * whose terms are all positive (no cancellation), so it is accurate to ~1e-15. |x| > 6 returns ±1
 * (erfc 6 ≈ 2e-17, below double resolution near 1).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 1000 && term > sum * 1e-17; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

/** GPT-2's tanh approximation (TL utils.gelu_new). */
export const geluNew = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
/** Exact GELU, x·Φ(x) (torch.nn.functional.gelu). */
export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const relu = (x: number): number => (x > 0 ? x : 0);
/** SiLU, x·σ(x) (torch.nn.functional.silu). */
export const silu = (x: number): number => x / (1 + Math.exp(-x));
/** TL utils.gelu_fast: the tanh approximation with the constant written 0.7978845608 (√(2/π) to 10 digits). */
export const geluFast = (x: number): number => 0.5 * x * (1 + Math.tanh(x * 0.7978845608 * (1 + 0.044715 * x * x)));
export const ACTIVATIONS: Record<ActFn, (x: number) => number> = { gelu_new: geluNew, gelu, relu, silu, gelu_fast: geluFast, gelu_pytorch_tanh: geluNew };

// ---- building blocks (x is [N, K] row-major unless stated) -----------------------------------------

/** out [N, M] = x [N, K] · W [K, M] + bias [M]. */
function linear(x: Float32Array, N: number, K: number, W: Float32Array, M: number, bias: Float32Array): Float32Array {
  const out = new Float32Array(N * M);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      let s = bias[m];
      for (let k = 0; k < K; k++) s += x[n * K + k] * W[k * M + m];
      out[n * M + m] = s;
    }
  }
  return out;
}

/** TL LayerNorm, part 1: centred rows of x [N, D] and hook_scale [N, 1] = sqrt(mean(c²) + eps). */
function centerAndScale(x: Float32Array, N: number, D: number, eps: number) {
  const centered = new Float64Array(N * D);
  const scale = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let mean = 0;
    for (let d = 0; d < D; d++) mean += x[n * D + d];
    mean /= D;
    let variance = 0;
    for (let d = 0; d < D; d++) {
      const c = x[n * D + d] - mean;
      centered[n * D + d] = c;
      variance += c * c;
    }
    scale[n] = Math.sqrt(variance / D + eps); // biased variance, as torch's .mean()
  }
  return { centered, scale };
}

/** Per-head projection: out [N, H, E] = x [N, D] · W [H, D, E] + bias [H, E] (einsum 'nd,hde->nhe'). */
function headProject(x: Float32Array, N: number, D: number, W: Float32Array, bias: Float32Array, H: number, E: number): Float32Array {
  const out = new Float32Array(N * H * E);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      for (let e = 0; e < E; e++) {
        let s = bias[h * E + e];
        for (let d = 0; d < D; d++) s += x[n * D + d] * W[(h * D + d) * E + e];
        out[(n * H + h) * E + e] = s;
      }
    }
  }
  return out;
}

const add = (a: Float32Array, b: Float32Array): Float32Array => a.map((v, i) => v + b[i]);

function toBatch(cfg: ModelConfig, tokens: TokenBatch): { B: number; T: number; data: Int32Array } {
  let B: number, T: number, data: Int32Array;
  if (Array.isArray(tokens)) {
    B = tokens.length;
    T = B > 0 ? tokens[0].length : 0;
    data = new Int32Array(B * T);
    tokens.forEach((row, b) => {
      if (row.length !== T) throw new ForwardError(`token row ${b} has length ${row.length}, row 0 has ${T}; rows must be equal length`);
      data.set(row, b * T);
    });
  } else {
    ({ B, T, data } = tokens);
    if (data.length !== B * T) throw new ForwardError(`tokens.data has ${data.length} entries but B×T = ${B}×${T}`);
  }
  if (B < 1 || T < 1) throw new ForwardError(`empty batch: B=${B}, T=${T}`);
  if (T > cfg.n_ctx) throw new ForwardError(`sequence length ${T} exceeds n_ctx ${cfg.n_ctx}`);
  for (let i = 0; i < data.length; i++) {
    if (!(data[i] >= 0 && data[i] < cfg.d_vocab)) {
      throw new ForwardError(`token ${data[i]} at row ${Math.floor(i / T)}, position ${i % T} is outside the vocabulary [0, ${cfg.d_vocab})`);
    }
  }
  return { B, T, data };
}

// ---- the forward pass ------------------------------------------------------------------------------

export function referenceForward(
  cfg: ModelConfig,
  weights: Weights,
  tokens: TokenBatch,
  opts: ReferenceOptions = {},
): { logits: Float32Array; cache: Map<string, Activation> } {
  checkWeights(cfg, weights);
  const { B, T, data: tok } = toBatch(cfg, tokens);
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M, eps } = cfg;
  const arch = architecture(cfg);
  const V = arch.d_vocab_out;
  const N = B * T; // rows of every [B, T, ·] activation
  const act = ACTIVATIONS[cfg.act_fn];
  const W = (name: string): Float32Array => weights.get(name)!;

  // Hook bookkeeping: names must be TL's (hookShapes), or we fail loudly rather than ignore a typo.
  const shapes = new Map(hookShapes(cfg, B, T));
  const interventions = new Map(opts.interventions instanceof Map ? opts.interventions : Object.entries(opts.interventions ?? {}));
  const wanted = opts.hooks === 'all' ? new Set(shapes.keys()) : new Set(opts.hooks ?? []);
  for (const name of [...wanted, ...interventions.keys()]) {
    if (!shapes.has(name)) throw new ForwardError(`unknown hook point "${name}" (names follow TransformerLens, e.g. blocks.0.hook_resid_pre)`);
  }
  const cache = new Map<string, Activation>();
  const hook = (name: string, value: Float32Array): Float32Array => {
    const shape = shapes.get(name)!;
    interventions.get(name)?.(value, shape);
    if (wanted.has(name)) cache.set(name, { shape, data: value });
    return value;
  };

  /**
   * The normalization `prefix` (ln1, ln2, ln_final) on x [B, T, D], per normalization_type; a
   * hook_scale intervention reaches normalized.
   */
  const layerNorm = (prefix: string, x: Float32Array): Float32Array => {
    const norm = arch.normalization;
    if (norm === null) return x;
    const rms = norm === 'RMS' || norm === 'RMSPre';
    let centered: Float64Array;
    let scale: Float32Array;
    if (rms) {
      centered = Float64Array.from(x);
      scale = new Float32Array(N);
      for (let n = 0; n < N; n++) {
        let ms = 0;
        for (let d = 0; d < D; d++) ms += x[n * D + d] * x[n * D + d];
        scale[n] = Math.sqrt(ms / D + eps);
      }
    } else ({ centered, scale } = centerAndScale(x, N, D, eps));
    hook(`${prefix}.hook_scale`, scale); // [B, T, 1]
    const w = norm === 'LN' || norm === 'RMS' ? W(`${prefix}.w`) : null;
    const b = norm === 'LN' ? W(`${prefix}.b`) : null;
    const normalized = new Float32Array(N * D);
    for (let n = 0; n < N; n++) {
      for (let d = 0; d < D; d++) {
        const v = centered[n * D + d] / scale[n];
        normalized[n * D + d] = norm === 'LN' ? v * w![d] + b![d] : v; // RMS applies w after its hook
      }
    }
    hook(`${prefix}.hook_normalized`, normalized); // [B, T, D]
    return norm === 'RMS' ? normalized.map((v, i) => v * w![i % D]) : normalized;
  };

  // Rotary (rotary.ts): rot(x) = x ⊙ cos + flip(x) ⊙ sin on each head's first R dims, by position.
  const R = arch.rotary_dim;
  const tables = arch.positional === 'rotary' ? rotaryTables(arch, T) : null;
  const rotate = (x: Float32Array): Float32Array => {
    const out = x.slice(); // [B, T, H, E]
    const { sin, cos } = tables!;
    for (let n = 0; n < N; n++) {
      const t = n % T;
      for (let h = 0; h < H; h++) {
        const o = (n * H + h) * E;
        for (let j = 0; j < R; j++) {
          const { source, sign } = flipSource(R, arch.rotary_adjacent_pairs, j);
          out[o + j] = x[o + j] * cos[t * R + j] + sign * x[o + source] * sin[t * R + j];
        }
      }
    }
    return out;
  };

  // Embeddings: embed [B, T, D] = W_E[token]; pos_embed [B, T, D] = W_pos[position].
  const embed = new Float32Array(N * D);
  for (let n = 0; n < N; n++) embed.set(W('embed.W_E').subarray(tok[n] * D, tok[n] * D + D), n * D);
  let resid = hook('hook_embed', embed); // [B, T, D]
  if (arch.positional === 'standard') {
    const posEmbed = new Float32Array(N * D);
    for (let n = 0; n < N; n++) posEmbed.set(W('pos_embed.W_pos').subarray((n % T) * D, (n % T) * D + D), n * D);
    resid = add(resid, hook('hook_pos_embed', posEmbed));
  } else resid = resid.slice(); // rotary: resid_0 is the embedding alone

  for (let l = 0; l < cfg.n_layers; l++) {
    const p = `blocks.${l}`;
    // A copy, so an intervention here cannot reach the cached resid_post of the previous block.
    const residPre = hook(`${p}.hook_resid_pre`, resid.slice()); // [B, T, D]

    // ---- attention ----
    const x1 = layerNorm(`${p}.ln1`, residPre); // [B, T, D]
    let q = hook(`${p}.attn.hook_q`, headProject(x1, N, D, W(`${p}.attn.W_Q`), W(`${p}.attn.b_Q`), H, E)); // [B, T, H, E]
    let k = hook(`${p}.attn.hook_k`, headProject(x1, N, D, W(`${p}.attn.W_K`), W(`${p}.attn.b_K`), H, E)); // [B, T, H, E]
    const v = hook(`${p}.attn.hook_v`, headProject(x1, N, D, W(`${p}.attn.W_V`), W(`${p}.attn.b_V`), H, E)); // [B, T, H, E]
    if (tables) {
      q = hook(`${p}.attn.hook_rot_q`, rotate(q)); // [B, T, H, E]
      k = hook(`${p}.attn.hook_rot_k`, rotate(k)); // [B, T, H, E]
    }

    // attn_scores [B, H, T(query), T(key)] = q·k / sqrt(d_head), then the causal mask.
    const scores = new Float32Array(B * H * T * T);
    const at = (b: number, t: number, h: number): number => ((b * T + t) * H + h) * E; // offset into [B, T, H, E]
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < T; i++) {
          for (let j = 0; j < T; j++) {
            let s = -Infinity;
            if (j <= i) {
              s = 0;
              for (let e = 0; e < E; e++) s += q[at(b, i, h) + e] * k[at(b, j, h) + e];
              s /= Math.sqrt(E);
            }
            scores[((b * H + h) * T + i) * T + j] = s;
          }
        }
      }
    }
    hook(`${p}.attn.hook_attn_scores`, scores);

    // pattern [B, H, T, T] = softmax over key positions (max-subtracted; an all −∞ row → zeros).
    const pattern = new Float32Array(B * H * T * T);
    for (let r = 0; r < B * H * T; r++) {
      const row = scores.subarray(r * T, r * T + T);
      let max = -Infinity;
      for (const s of row) if (s > max) max = s;
      if (max === -Infinity) continue;
      let sum = 0;
      for (const s of row) sum += Math.exp(s - max);
      for (let j = 0; j < T; j++) pattern[r * T + j] = Math.exp(row[j] - max) / sum;
    }
    hook(`${p}.attn.hook_pattern`, pattern);

    // z [B, T(query), H, E] = Σ_key pattern · v
    const z = new Float32Array(N * H * E);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < T; i++) {
          for (let e = 0; e < E; e++) {
            let s = 0;
            for (let j = 0; j < T; j++) s += pattern[((b * H + h) * T + i) * T + j] * v[at(b, j, h) + e];
            z[at(b, i, h) + e] = s;
          }
        }
      }
    }
    hook(`${p}.attn.hook_z`, z);

    // result [B, T, H, D] = z[h] · W_O[h]; attn_out [B, T, D] = Σ_h result + b_O.
    const W_O = W(`${p}.attn.W_O`); // [H, E, D]
    const result = new Float32Array(N * H * D);
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < H; h++) {
        for (let d = 0; d < D; d++) {
          let s = 0;
          for (let e = 0; e < E; e++) s += z[(n * H + h) * E + e] * W_O[(h * E + e) * D + d];
          result[(n * H + h) * D + d] = s;
        }
      }
    }
    hook(`${p}.attn.hook_result`, result);
    const b_O = W(`${p}.attn.b_O`);
    const attnOut = new Float32Array(N * D);
    for (let n = 0; n < N; n++) {
      for (let d = 0; d < D; d++) {
        let s = b_O[d];
        for (let h = 0; h < H; h++) s += result[(n * H + h) * D + d];
        attnOut[n * D + d] = s;
      }
    }
    hook(`${p}.hook_attn_out`, attnOut);
    if (arch.attn_only) {
      resid = hook(`${p}.hook_resid_post`, add(residPre, attnOut)); // [B, T, D]
      continue;
    }
    // TL's parallel block feeds ln2 resid_pre and has no resid_mid.
    const residMid = arch.parallel_attn_mlp ? residPre : hook(`${p}.hook_resid_mid`, add(residPre, attnOut)); // [B, T, D]

    // ---- MLP ----
    const x2 = layerNorm(`${p}.ln2`, residMid); // [B, T, D]
    const pre = hook(`${p}.mlp.hook_pre`, linear(x2, N, D, W(`${p}.mlp.W_in`), M, W(`${p}.mlp.b_in`))); // [B, T, d_mlp]
    const post = hook(`${p}.mlp.hook_post`, pre.map(act)); // [B, T, d_mlp]
    const mlpOut = hook(`${p}.hook_mlp_out`, linear(post, N, M, W(`${p}.mlp.W_out`), D, W(`${p}.mlp.b_out`))); // [B, T, D]
    resid = hook(`${p}.hook_resid_post`, arch.parallel_attn_mlp ? add(add(residPre, attnOut), mlpOut) : add(residMid, mlpOut)); // [B, T, D]
  }

  const xf = layerNorm('ln_final', resid); // [B, T, D]
  const logits = hook('logits', linear(xf, N, D, W('unembed.W_U'), V, W('unembed.b_U'))); // [B, T, d_vocab]
  return { logits, cache };
}
