/**
 * Builds the ONNX graph of our GPT with TransformerLens HookedTransformer semantics
 * (transformer_lens/components.py), from a config and TL-named weights.
 *
 * One builder makes every variant the engine needs, described by a GraphSpec:
 * - `outputs`: hook points exposed as graph outputs, each named exactly as TL names it;
 * - `patch`: hooks that get inputs `<hook>__patch_value` (the hook's shape) and `<hook>__patch_mask`
 *   (bool, the hook's shape with the last axis 1): out = mask ? value : orig, per element. (Where,
 *   rather than mask·value + (1−mask)·orig, so −∞ in masked attention scores cannot make NaN.)
 * - `add`: hooks that get `<hook>__add` (the hook's shape), added after any patch (steering);
 * - `startLayer` s (with `residIn`, implied by s > 0): the graph starts at block s from input
 *   `resid_in` [B, T, d_model] (the value of blocks.s.hook_resid_pre, before its own patch),
 *   skipping the embeddings and earlier blocks;
 * - `past`: a KV cache for blocks ≥ s: `past_key.{l}` [Bp, H, d_head, P] (keys stored transposed,
 *   ready for q·kᵀ) and `past_value.{l}` [Bp, H, P, d_head], Bp ∈ {1, B} (1 broadcasts one cache
 *   to every row); the T new tokens sit at positions P..P+T-1 and see all P cached positions;
 * - `kvBuffer` (decoding): like `past`, but the caches are fixed-capacity buffers [B, H, d_head, C] /
 *   [B, H, C, d_head] of which the first `past_len` (int64 [1] input) positions are valid (the rest
 *   is masked with −∞);
 * - `newKV`: outputs `new_key.{l}` [B, H, d_head, T] / `new_value.{l}` [B, H, T, d_head], the new
 *   tokens' keys/values only: the caller writes them into its buffers, so no decoding step copies
 *   the whole cache in or out (ORT reads input buffers in place);
 * - `lastOnly`: unembed only the last position (logits [B, 1, d_vocab]).
 * - `cachePositions`: hook outputs keep only the (query) positions listed in input
 *   `cache_positions` (int64 [N]), gathered in the graph so ORT hands back only those bytes.
 * Hook outputs have the hook's TL shape, except attn.hook_q/k/v that are output but neither patched
 * nor added to (`flatHeadOutput`): those are the [B, T, H·E] projections, the same bytes as
 * [B, T, H, E] — a Reshape whose result is a graph output is a copy in ORT (ORT's profiler listed
 * these copies in a cache of every hook; `npm run bench -- cache` times it). runWithCache restores
 * the head axes.
 *
 * Layout for speed (2-core CPU): projections are single MatMuls against weights precomputed as
 * [d_model, H·d_head]; attention is batched MatMul over [B, H, T, d_head]; 1/sqrt(d_head) scales q
 * (the smaller tensor) rather than the scores; the causal mask is one additive [n_ctx, n_ctx]
 * initializer, −∞ above the diagonal (TL's IGNORE is −∞ in current versions), sliced to [T, T].
 * The per-head result [B, T, H, d_model] is only materialised when it is requested or intervened
 * on; then attn_out = Σ_h result + b_O as in TL, else attn_out = z_flat · W_O_flat + b_O. The MLP
 * activation uses ORT's fused CPU kernels (com.microsoft FastGelu / BiasGelu). ORT's fused
 * com.microsoft Attention op was measured no faster here (T = 256) and would hide q/k/v/scores/
 * pattern, so attention stays in plain ops. With `lastOnly`, the last block runs its query, MLP
 * and unembedding for the last position only (its keys/values still cover every position).
 * In cached graphs, attn_scores/pattern have P + T key columns (cache first, then the new tokens).
 *
 * Architectures (config.ts `architecture`): normalization LN uses ORT's LayerNormalization, LNPre
 * the same op with unit gain and zero bias, RMS/RMSPre are spelled out (TL hooks RMS's normalized
 * value before its gain), null has no norm. Rotary positions (../rotary.ts) rotate q and k after
 * hook_q/hook_k by [n_ctx, rotary_dim] sin/cos tables sliced at the tokens' positions P..P+T−1, the
 * flip as one MatMul against an [R, R] signed permutation; a KV cache therefore holds rotated keys.
 * attn_only blocks end at resid_post = resid_pre + attn_out; parallel_attn_mlp blocks feed ln2
 * from resid_pre and add both outputs to it.
 */
import { architecture, type ModelConfig, type Weights } from '../config.js';
import { flipMatrix, rotaryTables } from '../rotary.js';
import { GraphBuilder, type Dim } from './builder.js';
import { blockHookNames, hookGeometry } from '../hooks.js';
import { hookSymDims, maskSymDims } from './hooks.js';

export interface GraphSpec {
  outputs?: readonly string[];
  patch?: readonly string[];
  add?: readonly string[];
  startLayer?: number;
  residIn?: boolean;
  past?: boolean;
  kvBuffer?: boolean;
  newKV?: boolean;
  cachePositions?: boolean;
  lastOnly?: boolean;
}

/** Whether hook `name` leaves graph `spec` as a [B, T, H·E] projection instead of [B, T, H, E]. */
export function flatHeadOutput(spec: GraphSpec, name: string): boolean {
  return /\.attn\.hook_[qkv]$/.test(name) && !!spec.outputs?.includes(name) && !spec.patch?.includes(name) && !spec.add?.includes(name);
}

export class GraphError extends Error {
  override name = 'GraphError';
}

const BIG = Number.MAX_SAFE_INTEGER; // "to the end" for Slice

/** Canonical string of a spec (sorted name lists), to key compiled sessions. */
export function specKey(spec: GraphSpec): string {
  const s = (a?: readonly string[]) => [...(a ?? [])].sort().join(',');
  return `o=${s(spec.outputs)};p=${s(spec.patch)};a=${s(spec.add)};s=${spec.startLayer ?? 0};r=${!!spec.residIn || (spec.startLayer ?? 0) > 0};past=${!!spec.past};kvb=${!!spec.kvBuffer};nkv=${!!spec.newKV};last=${!!spec.lastOnly};cp=${!!spec.cachePositions}`;
}

/** Serialized ONNX model for `spec`. */
export function buildGraph(cfg: ModelConfig, weights: Weights, spec: GraphSpec = {}): Uint8Array {
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M, d_vocab, n_ctx, n_layers: L, eps } = cfg;
  const arch = architecture(cfg);
  const V = arch.d_vocab_out;
  const s0 = spec.startLayer ?? 0;
  if (!Number.isInteger(s0) || s0 < 0 || s0 >= L) throw new GraphError(`startLayer must be an integer in [0, ${L}), got ${s0}`);
  const fromResid = s0 > 0 || !!spec.residIn;
  const want = new Set(spec.outputs ?? []);
  const patch = new Set(spec.patch ?? []);
  const add = new Set(spec.add ?? []);
  for (const name of [...want, ...patch, ...add]) {
    const geo = hookGeometry(cfg, name); // throws on unknown names
    if (fromResid && geo.layer < s0) throw new GraphError(`hook ${name} lies before the graph's input, blocks.${s0}.hook_resid_pre`);
    if (spec.lastOnly && geo.layer === L) throw new GraphError(`hook ${name} is not available in a lastOnly graph`);
  }
  const touched = (n: string) => want.has(n) || patch.has(n) || add.has(n);
  const W = (name: string): Float32Array => {
    const w = weights.get(name);
    if (!w) throw new GraphError(`missing weight "${name}"`);
    return w;
  };

  const g = new GraphBuilder();
  let cachePosInput: string | undefined;
  const cachePos = () => (cachePosInput ??= g.input('cache_positions', 'int64', ['N']));
  const init = (name: string, dims: number[], data = W(name)) => g.initF32(name, dims, data);

  /**
   * Applies patch / add / output of hook `name` to value v; returns the value downstream reads.
   * `outSym` declares the output's dims when v is laid out differently from the hook (same bytes).
   */
  const hook = (name: string, v: string, outSym?: Dim[]): string => {
    const geo = hookGeometry(cfg, name);
    const sym = hookSymDims(cfg, geo);
    const out = outSym ?? sym;
    let x = v;
    if (patch.has(name)) {
      const mask = g.input(`${name}__patch_mask`, 'bool', maskSymDims(cfg, geo));
      const val = g.input(`${name}__patch_value`, 'float', sym);
      x = g.op('Where', [mask, val, x]);
    }
    if (add.has(name)) x = g.op('Add', [x, g.input(`${name}__add`, 'float', sym)]);
    if (want.has(name)) {
      if (spec.cachePositions) {
        const axis = geo.layout === 'bhqk' ? 2 : 1; // the (query) position axis
        g.node('Gather', [x, cachePos()], [name], { axis });
        g.output(
          name,
          'float',
          out.map((d, i) => (i === axis ? 'N' : d)),
        );
      } else {
        x = g.rename(x, name);
        g.output(name, 'float', out);
      }
    }
    return x;
  };

  /** LNPre's unit gain and zero bias for ORT's LayerNormalization, made once. */
  const unitAffine = (() => {
    let v: [string, string] | undefined;
    return () => (v ??= [g.initF32('norm_ones', [D], new Float32Array(D).fill(1)), g.initF32('norm_zeros', [D], new Float32Array(D))]);
  })();

  /** RMS / RMSPre (TL RMSNorm): hook_scale = sqrt(mean(x²) + eps), hook_normalized = x / scale, then × w for RMS. */
  const rmsNorm = (prefix: string, x: string): string => {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 }); // [B, T, 1]
    const scale = hook(`${prefix}.hook_scale`, g.op('Sqrt', [g.op('Add', [ms, g.f32([eps], [])])])); // [B, T, 1]
    const y = hook(`${prefix}.hook_normalized`, g.op('Div', [x, scale])); // [B, T, D]
    return arch.normalization === 'RMS' ? g.op('Mul', [y, init(`${prefix}.w`, [D])]) : y;
  };

  /** The block's normalization on x [B, T, D] (TL LayerNorm: hook_scale = sqrt(var + eps); hook_normalized = x̂·w + b). */
  const layerNorm = (prefix: string, x: string): string => {
    if (arch.normalization === null) return x;
    if (arch.normalization === 'RMS' || arch.normalization === 'RMSPre') return rmsNorm(prefix, x);
    const sName = `${prefix}.hook_scale`;
    const [w, b] = arch.normalization === 'LN' ? [init(`${prefix}.w`, [D]), init(`${prefix}.b`, [D])] : unitAffine();
    let y: string;
    if (patch.has(sName) || add.has(sName)) {
      // Spelled out so an intervention on the scale reaches the normalized output, as in TL.
      const xc = g.op('Sub', [x, g.op('ReduceMean', [x], { axes: [-1], keepdims: 1 })]); // [B, T, D]
      const variance = g.op('ReduceMean', [g.op('Mul', [xc, xc])], { axes: [-1], keepdims: 1 }); // [B, T, 1]
      const scale = hook(sName, g.op('Sqrt', [g.op('Add', [variance, g.f32([eps], [])])])); // [B, T, 1]
      y = g.op('Add', [g.op('Mul', [g.op('Div', [xc, scale]), w]), b]);
    } else if (want.has(sName)) {
      const [out, , invStd] = g.node('LayerNormalization', [x, w, b], 3, { axis: -1, epsilon: { f: eps } });
      hook(sName, g.op('Reciprocal', [invStd])); // [B, T, 1]
      y = out;
    } else {
      y = g.op('LayerNormalization', [x, w, b], { axis: -1, epsilon: { f: eps } });
    }
    return hook(`${prefix}.hook_normalized`, y); // [B, T, D]
  };

  /**
   * MLP activation of (x + bias): ORT's fused CPU kernels (com.microsoft FastGelu = GPT-2's tanh
   * approximation, BiasGelu = exact erf GELU; ~30% of a forward pass faster than the ~8 elementwise
   * ops they replace). `bias` is "" when x already includes b_in.
   */
  const activation = (x: string, bias: string): string => {
    switch (cfg.act_fn) {
      case 'relu':
        return g.op('Relu', [bias ? g.op('Add', [x, bias]) : x]);
      case 'gelu': // 0.5·x·(1 + erf(x/√2)), torch's exact GELU
        return bias ? g.op('BiasGelu', [x, bias], {}, 'com.microsoft') : g.op('Gelu', [x], {}, 'com.microsoft');
      case 'gelu_new': // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), GPT-2's approximation (TL utils.gelu_new)
      case 'gelu_fast': // the same function, its constant written 0.7978845608 (differs below float32 resolution)
      case 'gelu_pytorch_tanh': // F.gelu(approximate="tanh"): the same function
        return g.op('FastGelu', bias ? [x, bias] : [x], {}, 'com.microsoft');
      case 'silu': {
        // x·σ(x)
        const xb = bias ? g.op('Add', [x, bias]) : x;
        return g.op('Mul', [xb, g.op('Sigmoid', [xb])]);
      }
    }
  };

  // ---- inputs, embeddings ----
  let resid: string; // [B, T, D]
  const pastK: string[] = [];
  const pastV: string[] = [];
  const cached = !!spec.past || !!spec.kvBuffer;
  if (spec.past && spec.kvBuffer) throw new GraphError('a graph has either past or kvBuffer, not both');
  if (cached) {
    for (let l = s0; l < L; l++) {
      pastK[l] = g.input(`past_key.${l}`, 'float', ['Bp', H, E, 'P']);
      pastV[l] = g.input(`past_value.${l}`, 'float', ['Bp', H, 'P', E]);
    }
  }
  // Values built on first use, so a variant never carries unused initializers (ORT warns about them).
  const once = <X>(f: () => X): (() => X) => {
    let v: X | undefined;
    return () => (v ??= f());
  };
  const pastCols = once(() => g.op('Shape', [pastV[s0]], { start: 2, end: 3 })); // [1] key columns in the cache
  const pastLen = once(() => g.input('past_len', 'int64', [1]));
  // [1] position of the first new token
  const P = once(() => (spec.kvBuffer ? pastLen() : spec.past ? pastCols() : g.i64([0])));
  // kvBuffer: additive mask over cache columns, 0 for the first past_len, −∞ for unused capacity.
  const bufferMask = once(() => {
    const cols = g.op('Range', [g.i64([0], []), g.op('Squeeze', [pastCols(), g.i64([0])]), g.i64([1], [])]); // [C]
    return g.op('Where', [g.op('Less', [cols, pastLen()]), g.f32([0], []), g.f32([-Infinity], [])]); // [C]
  });
  if (!fromResid) {
    const tokens = g.input('tokens', 'int32', ['B', 'T']);
    const embed = hook('hook_embed', g.op('Gather', [init('embed.W_E', [d_vocab, D]), tokens], { axis: 0 })); // [B, T, D]
    if (arch.positional === 'standard') {
      const T = g.op('Shape', [tokens], { start: 1, end: 2 }); // [1]
      let pos = g.op('Slice', [init('pos_embed.W_pos', [n_ctx, D]), P(), g.op('Add', [P(), T]), g.i64([0])]); // [T, D]
      if (touched('hook_pos_embed')) pos = hook('hook_pos_embed', g.op('Expand', [pos, g.op('Shape', [embed])])); // [B, T, D]
      resid = g.op('Add', [embed, pos]);
    } else resid = embed; // rotary: positions enter through q and k
  } else {
    resid = g.input('resid_in', 'float', ['B', 'T', D]);
  }

  // Rotary tables at the new tokens' positions P..P+T−1, as [T, 1, R] to broadcast over [B, T, H, R].
  const R = arch.rotary_dim;
  const rotTables = once(() => {
    const { sin, cos } = rotaryTables(arch, n_ctx);
    const Tn = g.op('Shape', [resid], { start: 1, end: 2 }); // [1]
    const at = (name: string, data: Float32Array) =>
      g.op('Unsqueeze', [g.op('Slice', [g.initF32(name, [n_ctx, R], data), P(), g.op('Add', [P(), Tn]), g.i64([0])]), g.i64([1])]); // [T, 1, R]
    return { sin: at('rotary_sin', sin), cos: at('rotary_cos', cos), flip: g.initF32('rotary_flip', [R, R], flipMatrix(R, arch.rotary_adjacent_pairs)) };
  });
  /** rot(x) on x [B, T', H, E] (T' = T, or 1 for the last position when `last`): x ⊙ cos + flip(x) ⊙ sin on the first R dims. */
  const rotate = (x: string, last: boolean): string => {
    const t = rotTables();
    const [sin, cos] = last ? [t.sin, t.cos].map((v) => g.op('Slice', [v, g.i64([-1]), g.i64([BIG]), g.i64([0])])) : [t.sin, t.cos];
    const xr = R === E ? x : g.op('Slice', [x, g.i64([0]), g.i64([R]), g.i64([3])]); // [B, T', H, R]
    const rot = g.op('Add', [g.op('Mul', [xr, cos]), g.op('Mul', [g.op('MatMul', [xr, t.flip]), sin])]);
    return R === E ? rot : g.op('Concat', [rot, g.op('Slice', [x, g.i64([R]), g.i64([BIG]), g.i64([3])])], { axis: 3 });
  };

  // Causal mask [T, T]: 0 where key ≤ query, −∞ above the diagonal.
  const bias = new Float32Array(n_ctx * n_ctx);
  for (let i = 0; i < n_ctx; i++) for (let j = i + 1; j < n_ctx; j++) bias[i * n_ctx + j] = -Infinity;
  const causal = once(() => {
    const Tn = g.op('Shape', [resid], { start: 1, end: 2 }); // [1]
    const TT = g.op('Concat', [Tn, Tn], { axis: 0 });
    return g.op('Slice', [g.initF32('causal_mask', [n_ctx, n_ctx], bias), g.i64([0, 0]), TT, g.i64([0, 1])]); // [T, T]
  });
  const qScale = g.f32([1 / Math.sqrt(E)], []);
  const headsShape = g.i64([0, 0, H, E]);
  const flatShape = once(() => g.i64([0, 0, H * E]));
  const lastPos = (x: string) => g.op('Slice', [x, g.i64([-1]), g.i64([BIG]), g.i64([1])]); // [B, T, ·] → [B, 1, ·]
  // lastOnly: the last block only needs its last query position (keys/values still cover all), so
  // it is computed for that position alone, unless one of its query-position hooks (the hook
  // table's `queryOnly`, ../hooks.ts) is requested or intervened on.
  const lastBlockHooks = blockHookNames(L - 1, (e) => !!e.queryOnly);
  const pruneLast = !!spec.lastOnly && !lastBlockHooks.some(touched);

  /** [H, D, E] per-head weights → [D, H·E] so one MatMul projects every head. */
  const flatHeads = (w: Float32Array): Float32Array => {
    const out = new Float32Array(D * H * E);
    for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) for (let e = 0; e < E; e++) out[d * H * E + h * E + e] = w[(h * D + d) * E + e];
    return out;
  };

  for (let l = s0; l < L; l++) {
    const p = `blocks.${l}`;
    resid = hook(`${p}.hook_resid_pre`, resid); // [B, T, D]
    const x1 = layerNorm(`${p}.ln1`, resid);
    const proj = (w: 'Q' | 'K' | 'V', x: string): string => {
      const W2 = g.initF32(`${p}.attn.W_${w}.flat`, [D, H * E], flatHeads(W(`${p}.attn.W_${w}`)));
      const b = init(`${p}.attn.b_${w}`, [H * E]);
      const flat = g.op('Add', [g.op('MatMul', [x, W2]), b]); // [B, T, H·E]
      const name = `${p}.attn.hook_${w.toLowerCase()}`;
      if (flatHeadOutput(spec, name)) return g.op('Reshape', [hook(name, flat, ['B', 'T', H * E]), headsShape]); // see the header
      return hook(name, g.op('Reshape', [flat, headsShape])); // [B, T, H, E]
    };
    let k = proj('K', x1);
    const v = proj('V', x1);
    const pruned = pruneLast && l === L - 1;
    if (pruned) resid = lastPos(resid); // [B, 1, D]; from here on the block sees one query position
    let q = proj('Q', pruned ? lastPos(x1) : x1);
    if (arch.positional === 'rotary') {
      k = hook(`${p}.attn.hook_rot_k`, rotate(k, false)); // [B, T, H, E]
      q = hook(`${p}.attn.hook_rot_q`, rotate(q, pruned)); // [B, T, H, E] ([B, 1, H, E] pruned)
    }
    const qh = g.op('Mul', [g.op('Transpose', [q], { perm: [0, 2, 1, 3] }), qScale]); // [B, H, T, E], scaled
    const kT = g.op('Transpose', [k], { perm: [0, 2, 3, 1] }); // [B, H, E, T]
    const vh = g.op('Transpose', [v], { perm: [0, 2, 1, 3] }); // [B, H, T, E]
    let scores = g.op('MatMul', [qh, kT]); // [B, H, T, T]
    if (!pruned) scores = g.op('Add', [scores, causal()]); // (the last position sees every key)
    if (cached) {
      let old = g.op('MatMul', [qh, pastK[l]]); // [B, H, T, P]
      if (spec.kvBuffer) old = g.op('Add', [old, bufferMask()]);
      scores = g.op('Concat', [old, scores], { axis: -1 }); // [B, H, T, P+T]
    }
    scores = hook(`${p}.attn.hook_attn_scores`, scores);
    const pattern = hook(`${p}.attn.hook_pattern`, g.op('Softmax', [scores], { axis: -1 })); // [B, H, T, K]
    let zh: string; // [B, H, T, E]
    if (cached) {
      const pPast = g.op('Slice', [pattern, g.i64([0]), pastCols(), g.i64([3])]); // [B, H, T, P]
      const pNew = g.op('Slice', [pattern, pastCols(), g.i64([BIG]), g.i64([3])]); // [B, H, T, T]
      zh = g.op('Add', [g.op('MatMul', [pPast, pastV[l]]), g.op('MatMul', [pNew, vh])]);
    } else {
      zh = g.op('MatMul', [pattern, vh]);
    }
    const zName = `${p}.attn.hook_z`;
    const z = hook(zName, g.op('Transpose', [zh], { perm: [0, 2, 1, 3] })); // [B, T, H, E]
    if (spec.newKV) {
      g.output(g.rename(kT, `new_key.${l}`), 'float', ['B', H, E, 'T']);
      g.output(g.rename(vh, `new_value.${l}`), 'float', ['B', H, 'T', E]);
    }

    const rName = `${p}.attn.hook_result`;
    const bO = init(`${p}.attn.b_O`, [D]);
    let attnOut: string | undefined;
    if (touched(rName)) {
      const zz = patch.has(zName) || add.has(zName) ? g.op('Transpose', [z], { perm: [0, 2, 1, 3] }) : zh; // [B, H, T, E]
      const perHead = g.op('MatMul', [zz, init(`${p}.attn.W_O`, [H, E, D])]); // [B, H, T, D]
      const result = hook(rName, g.op('Transpose', [perHead], { perm: [0, 2, 1, 3] })); // [B, T, H, D]
      if (patch.has(rName) || add.has(rName)) attnOut = g.op('Add', [g.op('ReduceSum', [result, g.i64([2])], { keepdims: 0 }), bO]);
    }
    // W_O [H, E, D] is already [H·E, D] in row-major order.
    attnOut ??= g.op('Add', [g.op('MatMul', [g.op('Reshape', [z, flatShape()]), g.initF32(`${p}.attn.W_O.flat`, [H * E, D], W(`${p}.attn.W_O`))]), bO]);
    attnOut = hook(`${p}.hook_attn_out`, attnOut); // [B, T, D]
    if (arch.attn_only) {
      resid = hook(`${p}.hook_resid_post`, g.op('Add', [resid, attnOut])); // [B, T, D]
      continue;
    }
    const residPre = resid;
    if (!arch.parallel_attn_mlp) resid = hook(`${p}.hook_resid_mid`, g.op('Add', [resid, attnOut]));

    const x2 = layerNorm(`${p}.ln2`, resid); // parallel: ln2 reads resid_pre
    const xW = g.op('MatMul', [x2, init(`${p}.mlp.W_in`, [D, M])]); // [B, T, M]
    const bIn = init(`${p}.mlp.b_in`, [M]);
    const preName = `${p}.mlp.hook_pre`;
    // Without a hook on mlp.hook_pre, b_in is added inside the fused activation.
    const post = hook(`${p}.mlp.hook_post`, touched(preName) ? activation(hook(preName, g.op('Add', [xW, bIn])), '') : activation(xW, bIn)); // [B, T, M]
    const mlpOut = hook(`${p}.hook_mlp_out`, g.op('Add', [g.op('MatMul', [post, init(`${p}.mlp.W_out`, [M, D])]), init(`${p}.mlp.b_out`, [D])]));
    const sum = arch.parallel_attn_mlp ? g.op('Add', [g.op('Add', [residPre, attnOut]), mlpOut]) : g.op('Add', [resid, mlpOut]);
    resid = hook(`${p}.hook_resid_post`, sum); // [B, T, D]
  }

  if (spec.lastOnly && !pruneLast) resid = lastPos(resid); // [B, 1, D]
  const xf = layerNorm('ln_final', resid);
  const logits = g.op('Add', [g.op('MatMul', [xf, init('unembed.W_U', [D, V])]), init('unembed.b_U', [V])]); // [B, T, V]
  g.rename(logits, 'logits');
  g.output('logits', 'float', ['B', spec.lastOnly ? 1 : 'T', V]);
  return g.encode('searchlight_gpt', specKey(spec));
}
