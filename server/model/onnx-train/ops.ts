/**
 * Forward and hand-derived backward building blocks for the ONNX training graph (graph.ts), on top
 * of the shared GraphBuilder (../onnx/builder.ts). Row-wise activations are kept 2-D, [N, F] with
 * N = B·T, so every linear layer is one Gemm with its bias fused in.
 *
 * Speed notes (onnxruntime CPU, 2 cores): weight gradients are Gemm with transA = 1 and input
 * gradients Gemm with transB = 1 (MLAS reads the transposed operand in place, no copy); batched
 * products with a transposed operand use com.microsoft FusedMatMul (transA/transB and a scale
 * `alpha` in one MLAS call), which onnxruntime's CPU provider ships in every build. Elementwise
 * passes over [N, F] dominate what is left, so the LayerNorm code below is arranged to need few.
 */
import type { ActFn, NormalizationType } from '../config.js';
import type { GraphBuilder } from '../onnx/builder.js';

const MS = 'com.microsoft';

/** What the backward of a normalization folded into a linear map needs (see Ops.lnLinear). */
export interface LnLinear {
  /** The normalization (TL normalization_type). */
  norm: NormalizationType;
  /** x̂ = (x − mean)/sqrt(var + eps) (LN, LNPre), x/sqrt(mean(x²) + eps) (RMS, RMSPre), x (null)  [N, D] */
  xhat: string;
  /** 1/sqrt(var + eps) or 1/sqrt(mean(x²) + eps)  [N, 1]; '' without normalization */
  inv: string;
  /** The map's weight W [D, M] (TL layout), the gain w [D] (LN, RMS) and bias b [D] (LN), '' when absent. */
  W: string;
  w: string;
  b: string;
  /** diag(w)·W  [D, M] (W itself without a gain) */
  Wf: string;
  /** z = norm(x)·W + bias  [N, M] */
  z: string;
}

export class Ops {
  private readonly scalars = new Map<number, string>();

  constructor(readonly g: GraphBuilder) {}

  /** A float32 scalar constant, shared by value. */
  c(v: number): string {
    let n = this.scalars.get(v);
    if (!n) this.scalars.set(v, (n = this.g.f32([v], [])));
    return n;
  }

  add = (a: string, b: string): string => this.g.op('Add', [a, b]);
  sub = (a: string, b: string): string => this.g.op('Sub', [a, b]);
  mul = (a: string, b: string): string => this.g.op('Mul', [a, b]);
  div = (a: string, b: string): string => this.g.op('Div', [a, b]);
  reshape = (x: string, dims: number[] | string): string => this.g.op('Reshape', [x, typeof dims === 'string' ? dims : this.g.i64(dims)]);
  transpose = (x: string, perm: number[]): string => this.g.op('Transpose', [x], { perm });
  unsqueeze = (x: string, axes: number[]): string => this.g.op('Unsqueeze', [x, this.g.i64(axes)]);
  squeeze = (x: string, axes: number[]): string => this.g.op('Squeeze', [x, this.g.i64(axes)]);
  matmul = (a: string, b: string): string => this.g.op('MatMul', [a, b]);

  /** x [N, K] · W [K, M] + bias [M] → [N, M]. */
  linear = (x: string, W: string, bias: string): string => this.g.op('Gemm', [x, W, bias]);
  /** d [N, M] · Wᵀ → [N, K] (gradient w.r.t. a linear layer's input). */
  linearBack = (d: string, W: string): string => this.g.op('Gemm', [d, W], { transB: 1 });
  /** xᵀ·d: x [N, K], d [N, M] → [K, M] (gradient w.r.t. a linear layer's weight). */
  weightGrad = (x: string, d: string): string => this.g.op('Gemm', [x, d], { transA: 1 });
  /** [1, N] of ones, set by the graph once N is known (see setRows); sumRows multiplies by it. */
  private onesRow = '';

  /** Declares the row count: `rows` is any [N, ·] value of the graph. */
  setRows(rows: string): void {
    const shape = this.g.op('Concat', [this.g.i64([1]), this.g.op('Shape', [rows], { start: 0, end: 1 })], { axis: 0 }); // [2] = (1, N)
    this.onesRow = this.g.op('Expand', [this.g.f32([1], [1, 1]), shape]); // [1, N]
  }

  /**
   * Σ over rows: [N, F] → [F] (bias gradients), as a GEMV 1ᵀ·x: onnxruntime's ReduceSum over the
   * leading axis of a tall [N, F] tensor is several times slower than MLAS here.
   */
  sumRows = (x: string): string => {
    if (!this.onesRow) throw new Error('Ops.sumRows before setRows');
    return this.reshape(this.g.op('Gemm', [this.onesRow, x]), [-1]);
  };

  /** alpha · a · bᵀ over the last two axes (batch axes broadcast). */
  matmulBT(a: string, b: string, alpha = 1): string {
    return this.g.op('FusedMatMul', [a, b], { transA: 0, transB: 1, alpha: { f: alpha } }, MS);
  }

  /** alpha · aᵀ · b over the last two axes. */
  matmulAT(a: string, b: string, alpha = 1): string {
    return this.g.op('FusedMatMul', [a, b], { transA: 1, transB: 0, alpha: { f: alpha } }, MS);
  }

  /** Mean over the last axis, kept (ReduceMean takes axes as an attribute at opset 17). */
  meanLast = (x: string): string => this.g.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });

  // ---- LayerNorm followed by a linear map -------------------------------------------------------

  /**
   * z = norm(x)·W + bias for TL's normalizations (biased variance, eps inside the sqrt), computed as
   *   z = x̂·W′ + b′,  W′ = diag(w)·W,  b′ = b·W + bias
   * (the same numbers, reassociated): the normalized-and-affine [N, D] tensor is never formed, and
   * its backward needs no elementwise pass for the gain (see lnLinearBackward). LN and LNPre take x̂
   * from ORT's LayerNormalization (unit gain, zero bias); RMS and RMSPre spell x̂ = x·inv out;
   * without normalization x̂ = x. w is '' unless LN or RMS, b '' unless LN.
   * x [N, D]; W [D, M]; returns what the backward needs.
   */
  lnLinear(norm: NormalizationType, x: string, w: string, b: string, W: string, bias: string, D: number, eps: number): LnLinear {
    const g = this.g;
    let xhat = x;
    let inv = '';
    if (norm === 'LN' || norm === 'LNPre') {
      const ones = g.f32(new Float32Array(D).fill(1), [D]);
      const zeros = g.f32(new Float32Array(D), [D]);
      [xhat, , inv] = g.node('LayerNormalization', [x, ones, zeros], 3, { axis: -1, epsilon: { f: eps } }); // [N, D], _, [N, 1]
    } else if (norm === 'RMS' || norm === 'RMSPre') {
      inv = g.op('Reciprocal', [g.op('Sqrt', [this.add(this.meanLast(this.mul(x, x)), this.c(eps))])]); // [N, 1]
      xhat = this.mul(x, inv); // [N, D]
    }
    const Wf = w ? this.mul(this.unsqueeze(w, [1]), W) : W; // [D, M]
    const bf = b ? this.add(this.matmul(b, W), bias) : bias; // [M]
    return { norm, xhat, inv, W, w, b, Wf, z: this.linear(xhat, Wf, bf) };
  }

  /** TL's hook_normalized (LN: x̂·w + b, after the affine; RMS: x̂, before its gain), materialised only when asked for. */
  normalized = (s: LnLinear): string => (s.b ? this.add(this.mul(s.xhat, s.w), s.b) : s.xhat);

  /**
   * Backward of z = norm(x)·W + bias given dz [N, M]. With g = dz·W′ᵀ the gradient reaching x̂:
   *   LN, LNPre:   dx = σ⁻¹ · (g − mean(g) − x̂ · mean(g ⊙ x̂))     (LayerNorm backward, per row of D)
   *   RMS, RMSPre: dx = σ⁻¹ · (g − x̂ · mean(g ⊙ x̂))               (x̂ = x·σ⁻¹, σ² = mean(x²) + eps)
   *   null:        dx = g
   * For LN, g − mean(g) = dz·W_cᵀ with W_c = W′ minus its mean over the D rows, so the centring
   * costs nothing per row; mean(g ⊙ x̂) = mean((g − mean g) ⊙ x̂) because mean(x̂) = 0.
   * Parameter gradients, from dW′ = x̂ᵀ·dz and db′ = Σ_rows dz (all [D, M]-sized, no [N, ·] pass):
   *   dW = diag(w)·dW′ + b ⊗ db′,   dw = Σ_m W ⊙ dW′,   db = W·db′,   dbias = db′   (terms without w or b drop).
   * `scaleGrad` is ∂/∂hook_scale with x fixed: normalized = x̃/scale (·w + b) ⇒ −σ⁻¹·Σ_d g ⊙ x̂.
   * `normalizedGrad` is ∂/∂hook_normalized: dz·Wᵀ where the hook follows the affine (LN, and the
   * Pre variants where W′ = W), dz·W′ᵀ for RMS, whose hook precedes its gain.
   */
  lnLinearBackward(s: LnLinear, dz: string, D: number, wantParams: boolean) {
    const center = s.norm === 'LN' || s.norm === 'LNPre';
    const Wc = center ? this.sub(s.Wf, this.g.op('ReduceMean', [s.Wf], { axes: [0], keepdims: 1 })) : s.Wf; // [D, M]
    const gc = this.linearBack(dz, Wc); // [N, D] = g − mean(g) (LN), g (RMS, none)
    let dx = gc;
    let m2 = '';
    if (s.inv) {
      m2 = this.meanLast(this.mul(gc, s.xhat)); // [N, 1]
      dx = this.mul(this.sub(gc, this.mul(s.xhat, m2)), s.inv); // [N, D]
    }
    const out = {
      dx,
      scaleGrad: () => this.g.op('Neg', [this.mul(this.mul(m2, this.c(D)), s.inv)]), // [N, 1]
      normalizedGrad: () => this.linearBack(dz, s.norm === 'RMS' ? s.Wf : s.W), // [N, D]
      params: undefined as undefined | { dW: string; dbias: string; dw?: string; db?: string },
    };
    if (wantParams) {
      const dWf = this.weightGrad(s.xhat, dz); // [D, M]
      const dbf = this.sumRows(dz); // [M]
      let dW = s.w ? this.mul(this.unsqueeze(s.w, [1]), dWf) : dWf; // [D, M]
      if (s.b) dW = this.add(dW, this.mul(this.unsqueeze(s.b, [1]), this.unsqueeze(dbf, [0])));
      out.params = {
        dW,
        dbias: dbf,
        dw: s.w ? this.g.op('ReduceSum', [this.mul(s.W, dWf), this.g.i64([1])], { keepdims: 0 }) : undefined, // [D]
        db: s.b ? this.matmul(s.W, dbf) : undefined, // [D]
      };
    }
    return out;
  }

  // ---- activations ----------------------------------------------------------------------------

  /**
   * act(pre) and a thunk for d act/d pre, both elementwise. Intermediates are shared between the
   * two so the backward recomputes nothing the forward already has.
   */
  activation(act: ActFn, x: string): { y: string; dydx: () => string } {
    switch (act) {
      case 'relu': {
        // d relu/dx = 1 where x > 0, else 0 (0 at x = 0, as torch).
        const y = this.g.op('Relu', [x]);
        return { y, dydx: () => this.g.op('Cast', [this.g.op('Greater', [x, this.c(0)])], { to: 1 }) };
      }
      case 'gelu': {
        // y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2));  dy/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
        const phi = this.mul(this.add(this.g.op('Erf', [this.mul(x, this.c(Math.SQRT1_2))]), this.c(1)), this.c(0.5));
        const y = this.mul(x, phi);
        return {
          y,
          dydx: () => {
            const dens = this.mul(this.g.op('Exp', [this.mul(this.mul(x, x), this.c(-0.5))]), this.c(1 / Math.sqrt(2 * Math.PI)));
            return this.add(phi, this.mul(x, dens));
          },
        };
      }
      case 'silu': {
        // y = x·σ(x);  dy/dx = σ(x)·(1 + x·(1 − σ(x))).
        const sg = this.g.op('Sigmoid', [x]);
        const y = this.mul(x, sg);
        return { y, dydx: () => this.mul(sg, this.add(this.mul(x, this.sub(this.c(1), sg)), this.c(1))) };
      }
      case 'gelu_new':
      case 'gelu_fast': // the same function (its constant written to 10 digits)
      case 'gelu_pytorch_tanh': {
        // y = ½x(1 + tanh u), u = c·(x + a·x³), c = √(2/π), a = 0.044715 (GPT-2, TL utils.gelu_new).
        // ½(1 + tanh u) = σ(2u) =: h, so y = x·h, and with 1 − tanh²u = 4h(1 − h) and
        // x·du/dx = c·x + 3c·a·x³ = 3u − 2c·x:
        //   dy/dx = h + ½x·(1 − tanh²u)·du/dx = h·(1 + (1 − h)·(6u − 4c·x)).
        // 6 passes forward, 7 backward (fewer [N, d_mlp] passes than the tanh form).
        const a = 0.044715;
        const cc = Math.sqrt(2 / Math.PI);
        const u2 = this.mul(x, this.add(this.mul(this.mul(x, x), this.c(2 * cc * a)), this.c(2 * cc))); // 2u
        const h = this.g.op('Sigmoid', [u2]);
        const y = this.mul(x, h);
        return {
          y,
          dydx: () => {
            const v = this.sub(this.mul(u2, this.c(3)), this.mul(x, this.c(4 * cc))); // 6u − 4c·x
            return this.mul(h, this.add(this.mul(this.sub(this.c(1), h), v), this.c(1)));
          },
        };
      }
    }
  }
}
