/**
 * Training a sparse autoencoder (sae.ts) on ONNX Runtime: one small generated graph computes the
 * loss and the hand-derived gradients of a batch (no autograd needed for four tensors), the shared
 * host AdamW (model/train/adamw.ts) updates, and the decoder rows are kept at unit norm with the
 * gradient component along each row removed first (SAELens' `remove_gradient_parallel_to_decoder_directions`).
 *
 * Forward, for rows x [B, d_in]:
 *   xc  = x − b_dec                         [B, d_in]
 *   pre = xc · W_enc + b_enc                [B, S]       S = d_sae
 *   z   = relu: ReLU(pre) | topk: ScatterElements(0, TopK_k(pre).indices, ReLU(values))
 *   x̂   = z · W_dec + b_dec                 [B, d_in]
 *   L   = Σ‖x̂ − x‖² / B  (+ l1 · Σ z / B for relu; z ≥ 0)
 * Backward (m = [z > 0], the rows and latents the output depends on):
 *   dx̂ = 2(x̂ − x)/B;  ∂W_dec = zᵀ·dx̂;  dz = dx̂·W_decᵀ (+ l1/B);  dpre = dz ⊙ m
 *   ∂W_enc = xcᵀ·dpre;  ∂b_enc = Σ_rows dpre;  ∂b_dec = Σ_rows dx̂ − (∂b_enc)·W_encᵀ
 * (sae.ts `loss` is the reference these are checked against, by finite differences).
 *
 * JumpReLU (Rajamanoharan et al. 2024, "Jumping Ahead", arXiv:2407.14435, §3–4) trains a threshold
 * θ = exp(log θ) per latent with an L0 penalty: z = pre·H(pre − θ), L = Σ‖x̂ − x‖²/B + λ·ΣH(pre − θ)/B.
 * H has no useful derivative, so θ learns through the paper's straight-through pseudo-derivatives
 * with a rectangle kernel K(u) = [|u| < ½] of bandwidth ε:
 *   ∂z/∂θ = −(θ/ε)·K((pre − θ)/ε),  ∂H/∂θ = −(1/ε)·K((pre − θ)/ε),  ∂z/∂pre = H(pre − θ)
 *   so ∂L/∂θ = −(1/ε)·Σ_rows K ⊙ (θ·dz + λ/B),  and ∂L/∂log θ = θ ⊙ ∂L/∂θ.
 * The other parameters' gradients are the true ones (the L0 term has none for them).
 *
 * Dead latents (no activation over a window of rows) are resampled as in Bricken et al. 2023
 * ("Towards Monosemanticity", appendix "Neuron resampling"): each gets the direction of an input
 * it reconstructs badly (drawn ∝ squared error), the encoder column that direction scaled to 0.2 ×
 * the mean live encoder norm, b_enc 0, and its Adam moments reset.
 */
import type { Rng } from '../../maze/rng.js';
import { type AdamWOptions, adamwUpdate, loadGraphRuntime, type OptimizerState } from '../../model/engine.js';
import { jumpThreshold, SAE_PARAMS, type SaeShape, type SaeWeights, normalizeDecoder, saeParamShape } from './sae.js';

/** JumpReLU's initial threshold: SAELens' default (jumprelu_init_threshold), on inputs scaled to E‖x‖ = √d_in. */
export const JUMPRELU_INIT_THRESHOLD = 0.001;
/**
 * The sparsity defaults the `sae` kind (and its bench) train with: relu's L1 coefficient; jumprelu's
 * L0 coefficient λ and kernel bandwidth ε (SAELens' ε is 0.001, at which our measured runs stayed
 * dense: kind.ts gives the figures).
 */
export const RELU_L1 = 5;
export const JUMPRELU_L0 = 10;
export const JUMPRELU_BANDWIDTH = 0.01;

/** Adam as SAELens trains SAEs (β2 0.999, no weight decay). */
export const SAE_ADAM: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export interface StepResult {
  /** Mean over rows of ‖x̂ − x‖². */
  mse: number;
  /** The sparsity term's value: relu mean over rows of Σ z; jumprelu mean active latents (its L0); 0 for topk. */
  l1: number;
  /** [S] rows of the batch each latent fired on. */
  fired: Float32Array;
  /** Mean active latents per row. */
  l0: number;
}

type Runtime = Awaited<ReturnType<typeof loadGraphRuntime>>;
type Session = Awaited<ReturnType<Runtime['OrtSession']['create']>>;

/** The step graph (`grads` true) or the forward graph (x̂ and z), for shape `s`. */
function buildGraph(rt: Runtime, s: SaeShape, grads: boolean): Uint8Array {
  const g = new rt.GraphBuilder();
  const { d_in, d_sae: S } = s;
  const x = g.input('x', 'float', ['B', d_in]);
  const W_enc = g.input('W_enc', 'float', [d_in, S]);
  const b_enc = g.input('b_enc', 'float', [S]);
  const W_dec = g.input('W_dec', 'float', [S, d_in]);
  const b_dec = g.input('b_dec', 'float', [d_in]);
  const xc = g.op('Sub', [x, b_dec]); // [B, d_in]
  const pre = g.op('Gemm', [xc, W_enc, b_enc]); // [B, S]
  let z: string; // [B, S]
  let th = ''; // jumprelu: θ [S]
  let gate = ''; // jumprelu: H(pre − θ) [B, S] as float
  if (s.architecture === 'jumprelu') {
    th = g.input('threshold', 'float', [S]);
    gate = g.op('Cast', [g.op('Greater', [pre, g.op('Max', [th, g.f32([0], [])])])], { to: 1 }); // [pre > max(θ, 0)]
    z = g.op('Mul', [pre, gate]); // ReLU(pre)·[pre > θ]
  } else if (s.architecture === 'relu') z = g.op('Relu', [pre]);
  else {
    const [values, indices] = g.node('TopK', [pre, g.i64([s.k])], 2, { axis: -1, largest: 1, sorted: 0 }); // [B, k] each
    const zeros = g.op('ConstantOfShape', [g.op('Shape', [pre])]); // [B, S] of 0.0 (the default value is float 0)
    z = g.op('ScatterElements', [zeros, indices, g.op('Relu', [values])], { axis: 1 });
  }
  const xh = g.op('Gemm', [z, W_dec, b_dec]); // [B, d_in]
  const mask = g.op('Cast', [g.op('Greater', [z, g.f32([0], [])])], { to: 1 }); // [B, S] float
  if (!grads) {
    g.rename(xh, 'x_hat');
    g.output('x_hat', 'float', ['B', d_in]);
    g.rename(z, 'z');
    g.output('z', 'float', ['B', S]);
    return g.encode('sae_forward');
  }
  const invB = g.input('inv_b', 'float', [1]);
  const e = g.op('Sub', [xh, x]); // [B, d_in]
  g.rename(g.op('ReduceSum', [g.op('Mul', [e, e])], { keepdims: 0 }), 'sse');
  g.output('sse', 'float', []);
  const dxh = g.op('Mul', [e, g.op('Mul', [invB, g.f32([2], [])])]); // [B, d_in]
  g.rename(g.op('Gemm', [z, dxh], { transA: 1 }), 'grad.W_dec'); // [S, d_in]
  let dz = g.op('Gemm', [dxh, W_dec], { transB: 1 }); // [B, S]
  if (s.architecture === 'relu') {
    const l1 = g.input('l1', 'float', [1]);
    dz = g.op('Add', [dz, g.op('Mul', [l1, invB])]);
    g.rename(g.op('ReduceSum', [z], { keepdims: 0 }), 'z_sum');
    g.output('z_sum', 'float', []);
  }
  if (s.architecture === 'jumprelu') {
    // The threshold's straight-through gradient (module comment), taken before dz is masked.
    const lam = g.input('l1', 'float', [1]); // the L0 coefficient λ
    const eps = g.input('bandwidth', 'float', [1]);
    const inside = g.op('Cast', [g.op('Less', [g.op('Abs', [g.op('Sub', [pre, th])]), g.op('Mul', [eps, g.f32([0.5], [])])])], { to: 1 }); // K [B, S]
    const perRow = g.op('Mul', [inside, g.op('Add', [g.op('Mul', [dz, th]), g.op('Mul', [lam, invB])])]); // K ⊙ (θ·dz + λ/B)
    const dTh = g.op('Div', [g.op('Neg', [g.op('ReduceSum', [perRow, g.i64([0])], { keepdims: 0 })]), eps]); // [S]
    g.rename(g.op('Mul', [dTh, th]), 'grad.log_threshold'); // [S]
    g.output('grad.log_threshold', 'float', [S]);
    g.rename(g.op('ReduceSum', [gate], { keepdims: 0 }), 'gate_sum'); // Σ H: the L0 term's value × B
    g.output('gate_sum', 'float', []);
  }
  const dpre = g.op('Mul', [dz, s.architecture === 'jumprelu' ? gate : mask]); // [B, S]
  g.rename(g.op('Gemm', [xc, dpre], { transA: 1 }), 'grad.W_enc'); // [d_in, S]
  const dbEnc = g.rename(g.op('ReduceSum', [dpre, g.i64([0])], { keepdims: 0 }), 'grad.b_enc'); // [S]
  const back = g.op('Gemm', [g.op('Unsqueeze', [dbEnc, g.i64([0])]), W_enc], { transB: 1 }); // [1, d_in]
  const dbDecOut = g.op('ReduceSum', [dxh, g.i64([0])], { keepdims: 0 }); // [d_in]
  g.rename(g.op('Sub', [dbDecOut, g.op('Reshape', [back, g.i64([d_in])])]), 'grad.b_dec'); // [d_in]
  g.rename(g.op('ReduceSum', [mask, g.i64([0])], { keepdims: 0 }), 'fired'); // [S]
  for (const p of SAE_PARAMS) g.output(`grad.${p}`, 'float', saeParamShape(s, p));
  g.output('fired', 'float', [S]);
  return g.encode('sae_step');
}

export class SaeTrainer {
  readonly state: OptimizerState;
  /** jumprelu: log θ [d_sae], the trained parameter (shape.threshold is kept at exp of it). */
  readonly logThreshold: Float32Array | undefined;

  private constructor(
    readonly shape: SaeShape,
    readonly weights: SaeWeights,
    private readonly rt: Runtime,
    private readonly opts: Parameters<Runtime['OrtSession']['create']>[1],
    private stepSession: Session | undefined,
    private forwardSession: Session | undefined,
    private readonly adam: AdamWOptions,
    /** jumprelu: the pseudo-derivative's bandwidth ε. */
    private readonly bandwidth: number,
  ) {
    this.logThreshold = shape.architecture === 'jumprelu' ? Float32Array.from(jumpThreshold(shape), (t) => Math.log(Math.max(t, 1e-12))) : undefined;
    const zeros = (): Map<string, Float32Array> =>
      new Map([
        ...SAE_PARAMS.map((p): [string, Float32Array] => [p, new Float32Array(weights[p].length)]),
        ...(this.logThreshold ? [['log_threshold', new Float32Array(shape.d_sae)] as [string, Float32Array]] : []),
      ]);
    this.state = { step: 0, m: zeros(), v: zeros() };
  }

  /**
   * A trainer of `weights` (in place) for `shape`; each graph (step, forward) is compiled on first
   * use, so weights that are only encoded (an evaluation, with the input scale folded in: kind.ts
   * foldScale) never compile the step. The decoder rows are kept at unit norm from the first step
   * on (initSae starts them there).
   */
  static async create(shape: SaeShape, weights: SaeWeights, opts: { adam?: AdamWOptions; threads?: number; bandwidth?: number } = {}): Promise<SaeTrainer> {
    const rt = await loadGraphRuntime();
    const runtime = { ...rt.runtimeOptionsFromEnv(), ...(opts.threads ? { threads: opts.threads } : {}) };
    return new SaeTrainer(shape, weights, rt, runtime, undefined, undefined, opts.adam ?? SAE_ADAM, opts.bandwidth ?? JUMPRELU_BANDWIDTH);
  }

  private feeds(x: Float32Array, B: number) {
    const { feedF32 } = this.rt;
    const s = this.shape;
    return {
      x: feedF32(x, [B, s.d_in]),
      W_enc: feedF32(this.weights.W_enc, saeParamShape(s, 'W_enc')),
      b_enc: feedF32(this.weights.b_enc, saeParamShape(s, 'b_enc')),
      W_dec: feedF32(this.weights.W_dec, saeParamShape(s, 'W_dec')),
      b_dec: feedF32(this.weights.b_dec, saeParamShape(s, 'b_dec')),
      ...(s.architecture === 'jumprelu' ? { threshold: feedF32(jumpThreshold(s), [s.d_sae]) } : {}),
    };
  }

  /**
   * Loss and gradients of rows x [B, d_in] without updating (for gradient checks). `l1` is the
   * sparsity coefficient: L1 for relu, L0 (λ) for jumprelu, unused for topk.
   */
  async gradients(x: Float32Array, B: number, l1: number): Promise<{ loss: number; grads: Map<string, Float32Array>; result: StepResult }> {
    const { feedF32 } = this.rt;
    const relu = this.shape.architecture === 'relu';
    const jump = this.shape.architecture === 'jumprelu';
    const fetch = ['sse', 'fired', ...SAE_PARAMS.map((p) => `grad.${p}`), ...(relu ? ['z_sum'] : []), ...(jump ? ['grad.log_threshold', 'gate_sum'] : [])];
    this.stepSession ??= await this.rt.OrtSession.create(buildGraph(this.rt, this.shape, true), this.opts);
    const out = await this.stepSession.run(
      {
        ...this.feeds(x, B),
        inv_b: feedF32(Float32Array.of(1 / B), [1]),
        ...(relu || jump ? { l1: feedF32(Float32Array.of(l1), [1]) } : {}),
        ...(jump ? { bandwidth: feedF32(Float32Array.of(this.bandwidth), [1]) } : {}),
      },
      fetch,
    );
    const mse = out.sse.data[0] / B;
    const sparsity = relu ? out.z_sum.data[0] / B : jump ? out.gate_sum.data[0] / B : 0;
    const fired = out.fired.data;
    let active = 0;
    for (const f of fired) active += f;
    const grads = new Map<string, Float32Array>(SAE_PARAMS.map((p) => [p, out[`grad.${p}`].data]));
    if (jump) grads.set('log_threshold', out['grad.log_threshold'].data);
    return { loss: mse + l1 * sparsity, grads, result: { mse, l1: sparsity, fired, l0: active / B } };
  }

  /** One update on rows x [B, d_in] with learning rate `lr`. */
  async step(x: Float32Array, B: number, lr: number, l1: number): Promise<StepResult> {
    const { grads, result } = await this.gradients(x, B, l1);
    // The part of each decoder row's gradient along the row would only change its norm, which the
    // renormalisation below undoes; removing it keeps Adam's moments about the directions.
    const { d_in, d_sae } = this.shape;
    const W = this.weights.W_dec;
    const G = grads.get('W_dec') as Float32Array;
    for (let i = 0; i < d_sae; i++) {
      let dot = 0;
      for (let d = 0; d < d_in; d++) dot += G[i * d_in + d] * W[i * d_in + d];
      for (let d = 0; d < d_in; d++) G[i * d_in + d] -= dot * W[i * d_in + d];
    }
    const params = new Map<string, Float32Array>(SAE_PARAMS.map((p) => [p, this.weights[p]]));
    if (this.logThreshold) params.set('log_threshold', this.logThreshold);
    adamwUpdate(params, grads, this.state, lr, this.adam);
    normalizeDecoder(this.shape, this.weights);
    this.syncThreshold();
    return result;
  }

  /** jumprelu: shape.threshold = exp(log θ), what the graphs are fed and the result stores. */
  private syncThreshold(): void {
    const th = this.shape.threshold;
    if (!this.logThreshold || !th) return;
    for (let i = 0; i < th.length; i++) th[i] = Math.exp(this.logThreshold[i]);
  }

  /** x̂ [B, d_in] and z [B, S] of rows x [B, d_in]. */
  async forward(x: Float32Array, B: number): Promise<{ x_hat: Float32Array; z: Float32Array }> {
    this.forwardSession ??= await this.rt.OrtSession.create(buildGraph(this.rt, this.shape, false), this.opts);
    const out = await this.forwardSession.run(this.feeds(x, B), ['x_hat', 'z']);
    return { x_hat: out.x_hat.data, z: out.z.data };
  }

  /**
   * Resamples latents `dead` (see the module comment) from rows x [B, d_in] and their
   * reconstructions x̂; returns how many were resampled (0 when nothing is reconstructed badly).
   */
  resample(dead: readonly number[], x: Float32Array, xh: Float32Array, B: number, rng: Rng): number {
    if (dead.length === 0) return 0;
    const { d_in, d_sae } = this.shape;
    const err = new Float64Array(B);
    let total = 0;
    for (let b = 0; b < B; b++) {
      let e = 0;
      for (let d = 0; d < d_in; d++) e += (x[b * d_in + d] - xh[b * d_in + d]) ** 2;
      err[b] = e * e; // ∝ squared loss
      total += err[b];
    }
    if (!(total > 0)) return 0;
    const deadSet = new Set(dead);
    let liveNorm = 0;
    let live = 0;
    for (let i = 0; i < d_sae; i++) {
      if (deadSet.has(i)) continue;
      let n = 0;
      for (let d = 0; d < d_in; d++) n += this.weights.W_enc[d * d_sae + i] ** 2;
      liveNorm += Math.sqrt(n);
      live++;
    }
    const encNorm = 0.2 * (live > 0 ? liveNorm / live : 1);
    for (const i of dead) {
      let u = rng.float() * total;
      let b = 0;
      while (b < B - 1 && u >= err[b]) u -= err[b++];
      const dir = new Float64Array(d_in);
      let n = 0;
      for (let d = 0; d < d_in; d++) {
        dir[d] = x[b * d_in + d] - xh[b * d_in + d];
        n += dir[d] ** 2;
      }
      n = Math.sqrt(n) || 1;
      for (let d = 0; d < d_in; d++) {
        this.weights.W_dec[i * d_in + d] = dir[d] / n;
        this.weights.W_enc[d * d_sae + i] = (dir[d] / n) * encNorm;
      }
      this.weights.b_enc[i] = 0;
      if (this.logThreshold) {
        // A fresh latent starts at the initial threshold, its moments cleared.
        this.logThreshold[i] = Math.log(JUMPRELU_INIT_THRESHOLD);
        (this.state.m.get('log_threshold') as Float32Array)[i] = 0;
        (this.state.v.get('log_threshold') as Float32Array)[i] = 0;
      }
      for (const p of ['W_enc', 'W_dec', 'b_enc'] as const) {
        const m = this.state.m.get(p) as Float32Array;
        const v = this.state.v.get(p) as Float32Array;
        if (p === 'b_enc') m[i] = v[i] = 0;
        else
          for (let d = 0; d < d_in; d++) {
            const j = p === 'W_enc' ? d * d_sae + i : i * d_in + d;
            m[j] = v[j] = 0;
          }
      }
    }
    this.syncThreshold();
    return dead.length;
  }

  async dispose(): Promise<void> {
    // Both, even when the first fails.
    await Promise.allSettled([this.stepSession?.dispose(), this.forwardSession?.dispose()]);
  }
}
