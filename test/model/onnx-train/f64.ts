/**
 * A float64 forward pass and masked cross-entropy of our GPT, for finite-difference gradient checks:
 * in float32 a central difference of the loss loses ~7 digits to rounding, in float64 it keeps
 * ~10 at ε = 1e-5, so FD is an exact-enough ground truth for a 1e-3 relative tolerance.
 *
 * Same TransformerLens semantics as server/model/reference.ts (checked against it in the tests),
 * written compactly (exact GELU via reference.ts' erf, accurate to ~1e-15); `add` perturbs any hook activation (value += add[hook]) so FD can also check
 * gradients with respect to activations. Every architecture variant (normalization_type, rotary,
 * attn_only, parallel_attn_mlp, d_vocab_out) as TL defines it; rotary angles in float64.
 */
import { ACTIVATIONS } from '../../../server/model/reference.js';
import { architecture, type ModelConfig, type Weights } from '../../../server/model/config.js';
import { flipSource } from '../../../server/model/rotary.js';

export type Weights64 = Map<string, Float64Array>;

export const toF64 = (w: Weights): Weights64 => new Map([...w].map(([k, v]) => [k, Float64Array.from(v)]));

export interface F64Batch {
  B: number;
  T: number;
  tokens: Int32Array;
  targets?: Int32Array;
  mask?: Float32Array;
}

/**
 * logits [B, T, V] (float64) and, when targets/mask are given, the masked mean CE.
 * `add`: hook name → values of the hook's TL shape, added where the hook's value is produced.
 */
export function forward64(cfg: ModelConfig, W: Weights64, batch: F64Batch, add: Map<string, Float64Array> = new Map()): { logits: Float64Array; loss: number } {
  const { B, T, tokens } = batch;
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M, eps } = cfg;
  const arch = architecture(cfg);
  const V = arch.d_vocab_out;
  const N = B * T;
  const act = ACTIVATIONS[cfg.act_fn];
  const w = (n: string): Float64Array => W.get(n)!;
  const hook = (name: string, v: Float64Array): Float64Array => {
    const a = add.get(name);
    if (a) for (let i = 0; i < v.length; i++) v[i] += a[i];
    return v;
  };
  const linear = (x: Float64Array, K: number, Wm: Float64Array, Mo: number, b: Float64Array): Float64Array => {
    const out = new Float64Array(N * Mo);
    for (let n = 0; n < N; n++)
      for (let m = 0; m < Mo; m++) {
        let s = b[m];
        for (let k = 0; k < K; k++) s += x[n * K + k] * Wm[k * Mo + m];
        out[n * Mo + m] = s;
      }
    return out;
  };
  const layerNorm = (p: string, x: Float64Array): Float64Array => {
    const kind = arch.normalization;
    if (kind === null) return x;
    const center = kind === 'LN' || kind === 'LNPre';
    const centered = new Float64Array(N * D);
    const scale = new Float64Array(N);
    for (let n = 0; n < N; n++) {
      let mean = 0;
      if (center) for (let d = 0; d < D; d++) mean += x[n * D + d] / D;
      let v = 0;
      for (let d = 0; d < D; d++) v += (centered[n * D + d] = x[n * D + d] - mean) ** 2;
      scale[n] = Math.sqrt(v / D + eps);
    }
    hook(`${p}.hook_scale`, scale);
    const out = new Float64Array(N * D);
    for (let n = 0; n < N; n++)
      for (let d = 0; d < D; d++) {
        const y = centered[n * D + d] / scale[n];
        out[n * D + d] = kind === 'LN' ? y * w(`${p}.w`)[d] + w(`${p}.b`)[d] : y;
      }
    hook(`${p}.hook_normalized`, out);
    return kind === 'RMS' ? out.map((v, i) => v * w(`${p}.w`)[i % D]) : out; // RMS's gain follows its hook
  };
  const R = arch.rotary_dim;
  /** TL's rotary on [B, T, H, E] in float64 (angle p / base^(i/(R/2)), see server/model/rotary.ts). */
  const rotate = (x: Float64Array): Float64Array => {
    const out = x.slice();
    for (let n = 0; n < N; n++)
      for (let h = 0; h < H; h++)
        for (let j = 0; j < R; j++) {
          const i = arch.rotary_adjacent_pairs ? Math.floor(j / 2) : j % (R / 2);
          const angle = (n % T) / arch.rotary_base ** (i / (R / 2));
          const { source, sign } = flipSource(R, arch.rotary_adjacent_pairs, j);
          const o = (n * H + h) * E;
          out[o + j] = x[o + j] * Math.cos(angle) + sign * x[o + source] * Math.sin(angle);
        }
    return out;
  };
  const plus = (a: Float64Array, b: Float64Array): Float64Array => Float64Array.from(a, (v, i) => v + b[i]);

  const embed = new Float64Array(N * D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) embed[n * D + d] = w('embed.W_E')[tokens[n] * D + d];
  let resid: Float64Array = hook('hook_embed', embed).slice();
  if (arch.positional === 'standard') {
    const posEmbed = new Float64Array(N * D);
    for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) posEmbed[n * D + d] = w('pos_embed.W_pos')[(n % T) * D + d];
    resid = plus(resid, hook('hook_pos_embed', posEmbed));
  }
  const at = (b: number, t: number, h: number): number => ((b * T + t) * H + h) * E;
  for (let l = 0; l < cfg.n_layers; l++) {
    const p = `blocks.${l}`;
    const pre0 = hook(`${p}.hook_resid_pre`, resid.slice());
    const x1 = layerNorm(`${p}.ln1`, pre0);
    const proj = (s: 'q' | 'k' | 'v'): Float64Array => {
      const Wp = w(`${p}.attn.W_${s.toUpperCase()}`); // [H, D, E]
      const bp = w(`${p}.attn.b_${s.toUpperCase()}`); // [H, E]
      const out = new Float64Array(N * H * E);
      for (let n = 0; n < N; n++)
        for (let h = 0; h < H; h++)
          for (let e = 0; e < E; e++) {
            let acc = bp[h * E + e];
            for (let d = 0; d < D; d++) acc += x1[n * D + d] * Wp[(h * D + d) * E + e];
            out[(n * H + h) * E + e] = acc;
          }
      return hook(`${p}.attn.hook_${s}`, out);
    };
    let q = proj('q'),
      k = proj('k');
    const v = proj('v');
    if (arch.positional === 'rotary') {
      q = hook(`${p}.attn.hook_rot_q`, rotate(q));
      k = hook(`${p}.attn.hook_rot_k`, rotate(k));
    }
    const scores = new Float64Array(B * H * T * T);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < T; i++)
          for (let j = 0; j < T; j++) {
            let s = -Infinity;
            if (j <= i) {
              s = 0;
              for (let e = 0; e < E; e++) s += q[at(b, i, h) + e] * k[at(b, j, h) + e];
              s /= Math.sqrt(E);
            }
            scores[((b * H + h) * T + i) * T + j] = s;
          }
    hook(`${p}.attn.hook_attn_scores`, scores);
    const pattern = new Float64Array(B * H * T * T);
    for (let r = 0; r < B * H * T; r++) {
      let mx = -Infinity;
      for (let j = 0; j < T; j++) mx = Math.max(mx, scores[r * T + j]);
      let sum = 0;
      for (let j = 0; j < T; j++) sum += Math.exp(scores[r * T + j] - mx);
      for (let j = 0; j < T; j++) pattern[r * T + j] = Math.exp(scores[r * T + j] - mx) / sum;
    }
    hook(`${p}.attn.hook_pattern`, pattern);
    const z = new Float64Array(N * H * E);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < T; i++)
          for (let e = 0; e < E; e++) {
            let s = 0;
            for (let j = 0; j < T; j++) s += pattern[((b * H + h) * T + i) * T + j] * v[at(b, j, h) + e];
            z[at(b, i, h) + e] = s;
          }
    hook(`${p}.attn.hook_z`, z);
    const WO = w(`${p}.attn.W_O`); // [H, E, D]
    const result = new Float64Array(N * H * D);
    for (let n = 0; n < N; n++)
      for (let h = 0; h < H; h++)
        for (let d = 0; d < D; d++) {
          let s = 0;
          for (let e = 0; e < E; e++) s += z[(n * H + h) * E + e] * WO[(h * E + e) * D + d];
          result[(n * H + h) * D + d] = s;
        }
    hook(`${p}.attn.hook_result`, result);
    const attnOut = new Float64Array(N * D);
    for (let n = 0; n < N; n++)
      for (let d = 0; d < D; d++) {
        let s = w(`${p}.attn.b_O`)[d];
        for (let h = 0; h < H; h++) s += result[(n * H + h) * D + d];
        attnOut[n * D + d] = s;
      }
    const attn = hook(`${p}.hook_attn_out`, attnOut);
    if (arch.attn_only) {
      resid = hook(`${p}.hook_resid_post`, plus(pre0, attn));
      continue;
    }
    const mid = arch.parallel_attn_mlp ? pre0 : hook(`${p}.hook_resid_mid`, plus(pre0, attn));
    const x2 = layerNorm(`${p}.ln2`, mid);
    const preAct = hook(`${p}.mlp.hook_pre`, linear(x2, D, w(`${p}.mlp.W_in`), M, w(`${p}.mlp.b_in`)));
    const post = hook(`${p}.mlp.hook_post`, preAct.map(act));
    const mlpOut = hook(`${p}.hook_mlp_out`, linear(post, M, w(`${p}.mlp.W_out`), D, w(`${p}.mlp.b_out`)));
    resid = hook(`${p}.hook_resid_post`, arch.parallel_attn_mlp ? plus(plus(pre0, attn), mlpOut) : plus(mid, mlpOut));
  }
  const xf = layerNorm('ln_final', resid);
  const logits = linear(xf, D, w('unembed.W_U'), V, w('unembed.b_U'));
  let loss = NaN;
  if (batch.targets && batch.mask) {
    let s = 0,
      c = 0;
    for (let n = 0; n < N; n++) {
      const m = batch.mask[n];
      if (!m) continue;
      let mx = -Infinity;
      for (let u = 0; u < V; u++) mx = Math.max(mx, logits[n * V + u]);
      let z = 0;
      for (let u = 0; u < V; u++) z += Math.exp(logits[n * V + u] - mx);
      s += m * (mx + Math.log(z) - logits[n * V + batch.targets[n]]);
      c += m;
    }
    loss = s / c;
  }
  return { logits, loss };
}
