/**
 * The ONNX training graph of our GPT: forward with TransformerLens semantics (identical to
 * ../reference.ts and ../onnx/graph.ts), masked cross-entropy, and a hand-derived backward that
 * yields the gradient of every parameter and, on request, of any hook activation.
 *
 * Every parameter is a graph INPUT named by its TL state_dict name, so the weights live in host
 * Float32Arrays the optimizer updates in place and one compiled session serves the whole run.
 *
 * Inputs   tokens [B, T] int32;  every parameter (TL name, TL shape);
 *          objective 'loss':   targets [B, T] int32 (next tokens), loss_mask [B, T] float (1 = counts);
 *          objective 'logits': logits_grad [B, T, d_vocab] float, the seed d(metric)/d(logits) — any
 *                              metric linear in the logits (logit difference) gets exact gradients.
 * Outputs  loss [] (objective 'loss'): Σ mask·CE / Σ mask;  logits [B, T, d_vocab] (opt-in);
 *          grad.<param> (TL shape) when paramGrads;  <hook>_grad (the hook's TL shape) per hookGrads.
 *
 * The backward, per op (dX is ∂objective/∂X; N = B·T rows):
 *   cross-entropy   dlogits = (softmax − onehot(target)) · mask / Σ mask
 *   unembed         dW_U = xfᵀ·dlogits, db_U = Σ dlogits, dxf = dlogits·W_Uᵀ   (every linear layer alike)
 *   LayerNorm       folded into the linear map it feeds (z = x̂·diag(w)W + (bW + bias)); the
 *                   backward, with the mean-subtraction folded into a centred weight, is in
 *                   Ops.lnLinear / Ops.lnLinearBackward
 *   MLP             dpre = dpost ⊙ act′(pre)
 *   attention       z = P·V, P = softmax(S), S = α·Q·Kᵀ + causal (α = 1/√d_head):
 *                   dP = dZ·Vᵀ, dV = Pᵀ·dZ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = α·dS·K, dK = α·dSᵀ·Q,
 *                   with rowsum(dP ⊙ P) = rowsum(dZ ⊙ Z) (cheaper: [.., T, d_head] not [.., T, T];
 *                   the identity FlashAttention's backward uses, Dao et al. 2022, eq. for D_i).
 *                   Masked scores have P = 0, so dS is 0 there.
 *   residual        the gradient of a sum flows unchanged into both terms
 *   embeddings      dW_E = scatter-add of d resid_0 rows by token id: onehot(tokens)ᵀ·d resid_0, one
 *                   small Gemm, for maze-sized vocabularies (measured faster than ORT's single-threaded
 *                   ScatterElements); ScatterElements with reduction 'add' (opset 16+) above
 *                   ONE_HOT_MAX_VOCAB, where the [N, d_vocab] one-hot would be large.
 *                   dW_pos[t] = Σ_b d resid_0[b, t] for t < T and 0 beyond.
 *   rotary          q, k rotate after their projections (../rotary.ts): rot(x) = x ⊙ cos + (x·F) ⊙ sin
 *                   on the first R dims, so d x = d rot ⊙ cos + (d rot ⊙ sin)·Fᵀ there, the rest passes.
 *   normalizations  LN, LNPre, RMS, RMSPre and none share one folded form (Ops.lnLinear).
 *   attn_only       blocks end at resid_post = resid_pre + attn_out; parallel_attn_mlp blocks send
 *                   d resid_post to attention, the MLP (through ln2 of resid_pre) and resid_pre alike.
 * Layout: row-wise activations are 2-D [N, F] (N = B·T) so each linear layer is one Gemm with its
 * bias; Q, K, V come from one Gemm against [d_model, 3·H·d_head] assembled in-graph from
 * W_Q/W_K/W_V; attention runs batched over [B, H, T, d_head]; W_O as [H·d_head, d_model]. Hook
 * gradients are reshaped to TL's shapes only when requested.
 */
import { architecture, paramShapes, type ModelConfig } from '../config.js';
import { flipMatrix, rotaryTables } from '../rotary.js';
import { GraphBuilder } from '../onnx/builder.js';
import { hookGeometry } from '../hooks.js';
import { hookSymDims } from '../onnx/hooks.js';
import { Ops, type LnLinear } from './ops.js';
import { UserError } from '../../errors.js';

export class TrainGraphError extends UserError {
  override name = 'TrainGraphError';
}

export type Objective = 'loss' | 'logits' | 'none';

export interface TrainGraphSpec {
  /** What the backward differentiates: the masked CE loss, a seed on the logits, or nothing (forward only). */
  objective: Objective;
  /** Output grad.<param> for every parameter (default: true unless objective is 'none'). */
  paramGrads?: boolean;
  /** Hook points whose gradient to output as `<hook>_grad` (TL names). */
  hookGrads?: readonly string[];
  /** Output the logits (default: true only when objective is 'none'). */
  logits?: boolean;
  /**
   * Packed rows (several sequences sharing one prefix, see ../train/packing.ts): two more inputs,
   * `positions` [B, T] int32 (the W_pos row of each token) and `segments` [B, T] int32 (0 = the
   * shared prefix, k ≥ 1 = sequence k); a token attends to earlier tokens of its own segment and of
   * the prefix only. Each sequence then computes exactly what it would alone.
   */
  packed?: boolean;
}

/** Output name of a parameter's gradient. */
export const gradName = (param: string): string => `grad.${param}`;
/** Output name of a hook's gradient. */
export const hookGradName = (hook: string): string => `${hook}_grad`;

export function trainSpecKey(s: TrainGraphSpec): string {
  return `${s.objective};p=${s.paramGrads ?? s.objective !== 'none'};h=${[...(s.hookGrads ?? [])].sort().join(',')};l=${s.logits ?? s.objective === 'none'}${s.packed ? ';packed' : ''}`;
}

/** Above this vocabulary size dW_E is a ScatterElements add instead of a one-hot Gemm ([N, d_vocab] floats). */
const ONE_HOT_MAX_VOCAB = 256;

/** Serialized ONNX model for `spec`. */
export function buildTrainGraph(cfg: ModelConfig, spec: TrainGraphSpec): Uint8Array {
  const { d_model: D, n_heads: H, d_head: E, d_vocab, n_ctx, n_layers: L, eps } = cfg;
  const arch = architecture(cfg);
  const V = arch.d_vocab_out; // logits width; d_vocab indexes W_E
  const norm = arch.normalization;
  /** The gain and bias parameter names of norm `prefix` ('' where the normalization has none). */
  const nw = (prefix: string): [string, string] => [norm === 'LN' || norm === 'RMS' ? `${prefix}.w` : '', norm === 'LN' ? `${prefix}.b` : ''];
  const HE = H * E;
  const backward = spec.objective !== 'none';
  const wantParams = backward && (spec.paramGrads ?? true);
  const hookGrads = new Set(spec.hookGrads ?? []);
  if (!backward && hookGrads.size > 0) throw new TrainGraphError('hook gradients need an objective (loss or logits)');
  if (hookGrads.has('logits')) throw new TrainGraphError('"logits" has no hook gradient output: with objective "logits" its gradient is the seed itself');
  let lowest = L; // lowest block whose backward is needed when only hook gradients are asked for
  for (const h of hookGrads) lowest = Math.min(lowest, hookGeometry(cfg, h).layer); // throws on names TL does not have
  if (wantParams) lowest = -1;

  const g = new GraphBuilder();
  const o = new Ops(g);
  const shapes = new Map(paramShapes(cfg));
  for (const [name, shape] of shapes) g.input(name, 'float', shape); // parameters are inputs under their TL names

  // ---- inputs, embeddings ----
  const tokens = g.input('tokens', 'int32', ['B', 'T']);
  const BT = g.op('Shape', [tokens]); // [2] = (B, T)
  const Tn = g.op('Shape', [tokens], { start: 1, end: 2 }); // [1] = T
  const dimsBT = (...rest: number[]): string => g.op('Concat', [BT, g.i64(rest)], { axis: 0 });

  /** Declares `value` ([N, F] or already TL-shaped) as the gradient output of hook `name` when asked for. */
  const hookGrad = (name: string, value: () => string): void => {
    if (!hookGrads.has(name)) return;
    const geo = hookGeometry(cfg, name);
    let v = value();
    if (geo.layout === 'btf') v = o.reshape(v, dimsBT(geo.feature));
    else if (geo.layout === 'bthf') v = o.reshape(v, dimsBT(H, geo.feature));
    // Identity, not g.rename: the backward still reads `v` after this point.
    const out = g.node('Identity', [v], [hookGradName(name)])[0];
    g.output(out, 'float', hookSymDims(cfg, geo));
  };
  const paramGrad = (name: string, value: string | undefined): void => {
    if (!wantParams || value === undefined) return;
    g.rename(value, gradName(name));
    g.output(gradName(name), 'float', shapes.get(name)!);
  };

  const packed = spec.packed ?? false;
  const positions = packed ? g.input('positions', 'int32', ['B', 'T']) : null;
  const segments = packed ? g.input('segments', 'int32', ['B', 'T']) : null;
  const embed = g.op('Gather', ['embed.W_E', tokens], { axis: 0 }); // [B, T, D]
  let resid: string; // [N, D]
  if (arch.positional === 'standard') {
    const pos = positions
      ? g.op('Gather', ['pos_embed.W_pos', positions], { axis: 0 }) // [B, T, D]
      : g.op('Slice', ['pos_embed.W_pos', g.i64([0]), Tn, g.i64([0])]); // [T, D]
    resid = o.reshape(o.add(embed, pos), [-1, D]);
  } else resid = o.reshape(embed, [-1, D]); // rotary: positions enter through q and k
  o.setRows(resid);

  // Rotary tables at each token's position: [T, R] (broadcast over [B, H, T, R]) or, packed, [B, 1, T, R].
  const R = arch.rotary_dim;
  let rot: { sin: string; cos: string; flip: string; flipT: string } | null = null;
  if (arch.positional === 'rotary') {
    const { sin, cos } = rotaryTables(arch, n_ctx);
    const F = flipMatrix(R, arch.rotary_adjacent_pairs); // [R, R]
    const FT = new Float32Array(R * R);
    for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) FT[j * R + i] = F[i * R + j];
    const at = (name: string, data: Float32Array) => {
      const table = g.initF32(name, [n_ctx, R], data);
      return positions ? o.unsqueeze(g.op('Gather', [table, positions], { axis: 0 }), [1]) : g.op('Slice', [table, g.i64([0]), Tn, g.i64([0])]);
    };
    rot = { sin: at('rotary_sin', sin), cos: at('rotary_cos', cos), flip: g.initF32('rotary_flip', [R, R], F), flipT: g.initF32('rotary_flip_t', [R, R], FT) };
  }
  /** Split [B, H, T, E] into its rotating first R dims and the rest (null when R = E). */
  const splitRot = (x: string): [string, string | null] =>
    R === E ? [x, null] : (g.node('Split', [x, g.i64([R, E - R])], 2, { axis: 3 }) as [string, string]);
  /** rot(x) on x [B, H, T, E]. */
  const rotate = (x: string): string => {
    const r = rot!;
    const [xr, xp] = splitRot(x);
    const y = o.add(o.mul(xr, r.cos), o.mul(o.matmul(xr, r.flip), r.sin));
    return xp ? g.op('Concat', [y, xp], { axis: 3 }) : y;
  };
  /** Backward of rotate: d x from d rot(x), both [B, H, T, E]. */
  const unrotate = (dy: string): string => {
    const r = rot!;
    const [dr, dp] = splitRot(dy);
    const dx = o.add(o.mul(dr, r.cos), o.matmul(o.mul(dr, r.sin), r.flipT));
    return dp ? g.op('Concat', [dx, dp], { axis: 3 }) : dx;
  };

  let causal: string; // additive attention bias: [T, T], or [B, 1, T, T] for packed rows
  if (segments) {
    // Key j is visible from query i when j ≤ i and j is in the prefix (segment 0) or in i's segment.
    // Position 0 is always prefix, so no row is all −∞ (padding rows included): softmax stays finite.
    // Built from column indices, not the [n_ctx, n_ctx] table: a packed row may be longer than n_ctx.
    const cols = g.op('Cast', [g.op('Range', [g.i64([0], []), o.reshape(Tn, []), g.i64([1], [])])], { to: 1 }); // [T] float
    const past = g.op('LessOrEqual', [o.unsqueeze(cols, [0]), o.unsqueeze(cols, [1])]); // [T, T] bool: key ≤ query
    const seg = g.op('Cast', [segments], { to: 1 }); // [B, T] float (ids exact below 2²⁴)
    const segQ = o.unsqueeze(seg, [2]); // [B, T, 1]
    const segK = o.unsqueeze(seg, [1]); // [B, 1, T]
    const sameOrPrefix = g.op('Or', [g.op('Equal', [segQ, segK]), g.op('Equal', [segK, o.c(0)])]); // [B, T, T] bool
    const visible = g.op('And', [sameOrPrefix, past]); // [B, T, T]
    causal = o.unsqueeze(g.op('Where', [visible, o.c(0), o.c(-Infinity)]), [1]); // [B, 1, T, T]
  } else {
    const bias = new Float32Array(n_ctx * n_ctx); // [n_ctx, n_ctx] 0 where key ≤ query, −∞ above
    for (let i = 0; i < n_ctx; i++) for (let j = i + 1; j < n_ctx; j++) bias[i * n_ctx + j] = -Infinity;
    causal = g.op('Slice', [g.initF32('causal_mask', [n_ctx, n_ctx], bias), g.i64([0, 0]), g.op('Concat', [Tn, Tn], { axis: 0 }), g.i64([0, 1])]); // [T, T]
  }
  const alpha = 1 / Math.sqrt(E);
  const qkvShape = dimsBT(3, H, E); // [5]

  interface BlockSaved {
    ln1: LnLinear;
    /** null in attn_only blocks */
    ln2: LnLinear | null;
    qh: string;
    kh: string;
    vh: string;
    pattern: string;
    zh: string;
    zflat: string;
    wo: string;
    post: string;
    dact: () => string;
  }
  const saved: BlockSaved[] = [];
  for (let l = 0; l < L; l++) {
    const p = `blocks.${l}`;
    // [3, H, D, E] → [D, 3, H, E] → [D, 3·H·E]: column (s·H + h)·E + e is head h of Q/K/V (s = 0/1/2).
    const stackW = g.op(
      'Concat',
      ['W_Q', 'W_K', 'W_V'].map((w) => o.unsqueeze(`${p}.attn.${w}`, [0])),
      { axis: 0 },
    );
    const wqkv = o.reshape(o.transpose(stackW, [2, 0, 1, 3]), [D, 3 * HE]);
    const bqkv = o.reshape(g.op('Concat', [`${p}.attn.b_Q`, `${p}.attn.b_K`, `${p}.attn.b_V`], { axis: 0 }), [3 * HE]);
    const ln1 = o.lnLinear(norm, resid, ...nw(`${p}.ln1`), wqkv, bqkv, D, eps); // z: qkv [N, 3·H·E]
    const heads = o.transpose(o.reshape(ln1.z, qkvShape), [2, 0, 3, 1, 4]); // [3, B, H, T, E]
    let [qh, kh, vh] = g.node('Split', [heads], 3, { axis: 0 }).map((t) => o.squeeze(t, [0])); // [B, H, T, E] each
    if (rot) [qh, kh] = [rotate(qh), rotate(kh)]; // the rotated q, k the scores (and their backward) use
    const scores = o.add(o.matmulBT(qh, kh, alpha), causal); // [B, H, T, T]
    const pattern = g.op('Softmax', [scores], { axis: -1 }); // [B, H, T, T]
    const zh = o.matmul(pattern, vh); // [B, H, T, E]
    const zflat = o.reshape(o.transpose(zh, [0, 2, 1, 3]), [-1, HE]); // [N, H·E]
    const wo = o.reshape(`${p}.attn.W_O`, [HE, D]); // [H, E, D] is [H·E, D] row-major
    const attnOut = o.linear(zflat, wo, `${p}.attn.b_O`); // [N, D]
    if (arch.attn_only) {
      resid = o.add(resid, attnOut); // resid_post [N, D]
      saved.push({ ln1, ln2: null, qh, kh, vh, pattern, zh, zflat, wo, post: '', dact: () => '' });
      continue;
    }
    // Sequential: the MLP reads resid_mid; parallel: it reads resid_pre and both outputs add to it.
    const mlpIn = arch.parallel_attn_mlp ? resid : o.add(resid, attnOut); // [N, D]
    const ln2 = o.lnLinear(norm, mlpIn, ...nw(`${p}.ln2`), `${p}.mlp.W_in`, `${p}.mlp.b_in`, D, eps); // z: pre [N, M]
    const act = o.activation(cfg.act_fn, ln2.z);
    const mlpOut = o.linear(act.y, `${p}.mlp.W_out`, `${p}.mlp.b_out`); // [N, D]
    resid = arch.parallel_attn_mlp ? o.add(o.add(resid, attnOut), mlpOut) : o.add(mlpIn, mlpOut); // [N, D]
    saved.push({ ln1, ln2, qh, kh, vh, pattern, zh, zflat, wo, post: act.y, dact: act.dydx });
  }
  const lnf = o.lnLinear(norm, resid, ...nw('ln_final'), 'unembed.W_U', 'unembed.b_U', D, eps);
  const logits = lnf.z; // [N, V]
  if (spec.logits ?? !backward) {
    g.rename(o.reshape(logits, dimsBT(V)), 'logits');
    g.output('logits', 'float', ['B', 'T', V]);
  }
  if (!backward) return g.encode('searchlight_gpt_forward', trainSpecKey(spec));

  // ---- objective --------------------------------------------------------------------------------
  // Created on first use: graphs that never one-hot (activation grads only) must not carry it.
  const vocabIdNames = new Map<number, string>();
  /** [n] float ids 0..n−1, one initializer per size (d_vocab for W_E, d_vocab_out for targets). */
  const vocabIds = (n: number): string => {
    let name = vocabIdNames.get(n);
    if (!name)
      vocabIdNames.set(
        n,
        (name = g.initF32(
          vocabIdNames.size === 0 ? 'vocab_ids' : `vocab_ids_${n}`,
          [n],
          Float32Array.from({ length: n }, (_, i) => i),
        )),
      );
    return name;
  };
  /** [N, n] float one-hot rows of int32 ids [B, T] (ids are exact in float32 below 2²⁴). */
  const oneHot = (ids: string, n: number): string =>
    g.op('Cast', [g.op('Equal', [g.op('Cast', [o.reshape(ids, [-1, 1])], { to: 1 }), vocabIds(n)])], { to: 1 });
  let dlogits: string; // [N, V]
  if (spec.objective === 'loss') {
    const targets = g.input('targets', 'int32', ['B', 'T']);
    const mask = o.reshape(g.input('loss_mask', 'float', ['B', 'T']), [-1]); // [N]
    const logp = g.op('LogSoftmax', [logits], { axis: -1 }); // [N, V]
    const picked = o.reshape(g.op('GatherElements', [logp, o.reshape(targets, [-1, 1])], { axis: 1 }), [-1]); // [N]
    const count = g.op('ReduceSum', [mask], { keepdims: 0 }); // []
    const loss = g.op('Neg', [o.div(g.op('ReduceSum', [o.mul(picked, mask)], { keepdims: 0 }), count)]); // []
    g.rename(loss, 'loss');
    g.output('loss', 'float', []);
    const weight = o.unsqueeze(o.div(mask, count), [1]); // [N, 1]
    dlogits = o.mul(o.sub(g.op('Exp', [logp]), oneHot(targets, V)), weight);
  } else {
    dlogits = o.reshape(g.input('logits_grad', 'float', ['B', 'T', V]), [-1, V]);
  }

  // ---- backward ---------------------------------------------------------------------------------
  /** Backward through a folded LayerNorm + linear map, emitting its hooks' and parameters' gradients. */
  const lnBack = (s: LnLinear, dz: string, ln: string, Wname: string | null, biasName: string | null): string => {
    const r = o.lnLinearBackward(s, dz, D, wantParams);
    if (norm !== null) {
      hookGrad(`${ln}.hook_normalized`, r.normalizedGrad);
      hookGrad(`${ln}.hook_scale`, r.scaleGrad);
    }
    paramGrad(`${ln}.w`, r.params?.dw);
    paramGrad(`${ln}.b`, r.params?.db);
    if (Wname) paramGrad(Wname, r.params?.dW);
    if (biasName) paramGrad(biasName, r.params?.dbias);
    return r.dx;
  };
  let dresid = lnBack(lnf, dlogits, 'ln_final', 'unembed.W_U', 'unembed.b_U'); // [N, D]

  for (let l = L - 1; l >= Math.max(lowest, 0); l--) {
    const p = `blocks.${l}`;
    const s = saved[l];
    hookGrad(`${p}.hook_resid_post`, () => dresid);
    // d resid_post reaches attn_out directly in attn_only and parallel blocks, through resid_mid otherwise.
    let dattn = dresid;
    if (s.ln2) {
      // MLP: mlp_out = post·W_out + b_out, post = act(pre), pre = ln2(mlp_in)·W_in + b_in.
      hookGrad(`${p}.hook_mlp_out`, () => dresid);
      paramGrad(`${p}.mlp.W_out`, wantParams ? o.weightGrad(s.post, dresid) : undefined);
      paramGrad(`${p}.mlp.b_out`, wantParams ? o.sumRows(dresid) : undefined);
      const dpost = o.linearBack(dresid, `${p}.mlp.W_out`); // [N, M]
      hookGrad(`${p}.mlp.hook_post`, () => dpost);
      const dpre = o.mul(dpost, s.dact()); // [N, M]
      hookGrad(`${p}.mlp.hook_pre`, () => dpre);
      const dmlpIn = lnBack(s.ln2, dpre, `${p}.ln2`, `${p}.mlp.W_in`, `${p}.mlp.b_in`); // [N, D]
      if (arch.parallel_attn_mlp)
        dresid = o.add(dresid, dmlpIn); // d resid_pre, so far (attention's part below)
      else {
        dresid = o.add(dresid, dmlpIn); // d resid_mid
        hookGrad(`${p}.hook_resid_mid`, () => dresid);
        dattn = dresid;
      }
    }

    // Attention output: attn_out = z_flat·W_O + b_O (= Σ_h result_h + b_O).
    hookGrad(`${p}.hook_attn_out`, () => dattn);
    hookGrad(`${p}.attn.hook_result`, () => g.op('Expand', [o.reshape(dattn, dimsBT(1, D)), g.i64([1, 1, H, 1])])); // [B, T, H, D]
    paramGrad(`${p}.attn.W_O`, wantParams ? o.reshape(o.weightGrad(s.zflat, dattn), [H, E, D]) : undefined);
    paramGrad(`${p}.attn.b_O`, wantParams ? o.sumRows(dattn) : undefined);
    const dz = o.linearBack(dattn, s.wo); // [N, H·E]
    hookGrad(`${p}.attn.hook_z`, () => dz);
    const dzh = o.transpose(o.reshape(dz, dimsBT(H, E)), [0, 2, 1, 3]); // [B, H, T, E]
    const dP = o.matmulBT(dzh, s.vh); // [B, H, T, T]
    hookGrad(`${p}.attn.hook_pattern`, () => dP);
    const dvh = o.matmulAT(s.pattern, dzh); // [B, H, T, E]
    const rowdot = g.op('ReduceSum', [o.mul(dzh, s.zh), g.i64([-1])], { keepdims: 1 }); // [B, H, T, 1] = rowsum(dP ⊙ P)
    const dS = o.mul(s.pattern, o.sub(dP, rowdot)); // [B, H, T, T]
    hookGrad(`${p}.attn.hook_attn_scores`, () => dS);
    const dq = o.matmul(dS, s.kh); // [B, H, T, E], α applied below
    let dkh = o.matmulAT(dS, s.qh, alpha); // [B, H, T, E]
    let dqh = o.mul(dq, o.c(alpha));
    if (rot) {
      const [dqRot, dkRot] = [dqh, dkh];
      hookGrad(`${p}.attn.hook_rot_q`, () => o.transpose(dqRot, [0, 2, 1, 3]));
      hookGrad(`${p}.attn.hook_rot_k`, () => o.transpose(dkRot, [0, 2, 1, 3]));
      [dqh, dkh] = [unrotate(dqh), unrotate(dkh)];
    }
    hookGrad(`${p}.attn.hook_q`, () => o.transpose(dqh, [0, 2, 1, 3]));
    hookGrad(`${p}.attn.hook_k`, () => o.transpose(dkh, [0, 2, 1, 3]));
    hookGrad(`${p}.attn.hook_v`, () => o.transpose(dvh, [0, 2, 1, 3]));
    // [3, B, H, T, E] → [B, T, 3, H, E] → [N, 3·H·E], the layout of the fused projection.
    const dheads = g.op(
      'Concat',
      [dqh, dkh, dvh].map((t) => o.unsqueeze(t, [0])),
      { axis: 0 },
    );
    const dqkv = o.reshape(o.transpose(dheads, [1, 3, 0, 2, 4]), [-1, 3 * HE]);
    const r = o.lnLinearBackward(s.ln1, dqkv, D, wantParams);
    if (norm !== null) {
      hookGrad(`${p}.ln1.hook_normalized`, r.normalizedGrad);
      hookGrad(`${p}.ln1.hook_scale`, r.scaleGrad);
    }
    if (r.params) {
      paramGrad(`${p}.ln1.w`, r.params.dw);
      paramGrad(`${p}.ln1.b`, r.params.db);
      // [D, 3·H·E] → [D, 3, H, E] → [3, H, D, E]: W_Q, W_K, W_V in TL layout; biases [3, H, E].
      const dW = o.transpose(o.reshape(r.params.dW, [D, 3, H, E]), [1, 2, 0, 3]);
      const dWs = g.node('Split', [dW], 3, { axis: 0 }).map((t) => o.squeeze(t, [0]));
      const dbs = g.node('Split', [o.reshape(r.params.dbias, [3, H, E])], 3, { axis: 0 }).map((t) => o.squeeze(t, [0]));
      ['Q', 'K', 'V'].forEach((w, i) => {
        paramGrad(`${p}.attn.W_${w}`, dWs[i]);
        paramGrad(`${p}.attn.b_${w}`, dbs[i]);
      });
    }
    dresid = o.add(dresid, r.dx); // d resid_pre [N, D]
    hookGrad(`${p}.hook_resid_pre`, () => dresid);
  }

  // Embeddings: resid_0 = W_E[token] + W_pos[position].
  hookGrad('hook_embed', () => dresid);
  if (arch.positional === 'standard') hookGrad('hook_pos_embed', () => dresid);
  if (wantParams) {
    let dWE: string; // [V, D]
    if (d_vocab <= ONE_HOT_MAX_VOCAB)
      dWE = o.weightGrad(oneHot(tokens, d_vocab), dresid); // onehotᵀ·d: one small Gemm
    else {
      const idx = g.op('Expand', [o.reshape(tokens, [-1, 1]), g.i64([1, D])]); // [N, D] token id per element
      dWE = g.op('ScatterElements', [g.initF32('zeros_vocab', [d_vocab, D], new Float32Array(d_vocab * D)), idx, dresid], { axis: 0, reduction: 'add' });
    }
    paramGrad('embed.W_E', dWE);
    if (arch.positional !== 'standard') {
      // rotary: no learned positions
    } else if (positions) {
      // dW_pos = onehot(positions)ᵀ·d resid_0, as for W_E (n_ctx ≤ a few hundred rows).
      const posIds = g.initF32(
        'position_ids',
        [n_ctx],
        Float32Array.from({ length: n_ctx }, (_, i) => i),
      ); // [n_ctx]
      const posHot = g.op('Cast', [g.op('Equal', [g.op('Cast', [o.reshape(positions, [-1, 1])], { to: 1 }), posIds])], { to: 1 }); // [N, n_ctx]
      paramGrad('pos_embed.W_pos', o.weightGrad(posHot, dresid)); // [n_ctx, D]
    } else {
      const dpos = g.op('ReduceSum', [o.reshape(dresid, dimsBT(D)), g.i64([0])], { keepdims: 0 }); // [T, D]
      const pads = g.op('Concat', [g.i64([0, 0]), g.op('Sub', [g.i64([n_ctx]), Tn]), g.i64([0])], { axis: 0 }); // [4]
      paramGrad('pos_embed.W_pos', g.op('Pad', [dpos, pads])); // [n_ctx, D]
    }
  }
  return g.encode('searchlight_gpt_train', trainSpecKey(spec));
}
