/**
 * L2-regularised logistic regression with many outputs sharing one feature matrix (one linear
 * probe per label column).
 *
 * Per output k:  minimise (1/N) Σ_i CE(σ(x̃ᵢ·w_k), y_ik) + (λ/2)‖w_k‖²  (bias not regularised),
 * x̃ = standardised features (train mean/std) with a constant 1 appended.
 *
 * Optimiser: Böhning's bound (Böhning & Lindsay 1988; Böhning 1992): the Hessian never exceeds
 * B = X̃ᵀX̃/(4N) + λ·I′ (σ′ ≤ 1/4; I′ skips the bias), so steps W ← W − B⁻¹∇ decrease the
 * objective monotonically — Newton with a fixed curvature, one D×D inverse shared by every output
 * and iteration. We add Nesterov momentum (accelerated gradient in the B-metric, valid since the
 * objective is 1-smooth there). Residual features are strongly correlated, so this converges in
 * tens of steps where plain gradient descent needs thousands. Deterministic: full batch, fixed order.
 *
 * The two N·D·K products per step (X̃·W, X̃ᵀ·R) dominate; the `ort` backend runs them in ONNX Runtime
 * (multi-threaded MLAS, float32), the `js` backend in float64 loops.
 */
import { loadGraphRuntime } from '../model/engine.js';

export interface LogisticOptions {
  /** L2 strength λ on the standardised weights (default 1e-2). */
  lambda?: number;
  /** Maximum steps (default 100). */
  iters?: number;
  /** Stop when the largest preconditioned step entry falls below this (default 1e-4). */
  tol?: number;
}

export interface LogisticModel {
  D: number;
  K: number;
  mean: Float64Array;
  std: Float64Array;
  /** [D + 1, K] weights on standardised features; the last row is the bias. */
  W: Float64Array;
  iters: number;
}

/**
 * The preconditioned step at V [D1, K]: P·(X̃ᵀ(σ(X̃V) − Y)/N + λ′⊙V), with λ′ [D1] the per-row L2
 * strength (0 for the bias row); returns [D1, K].
 */
export type StepFn = (V: Float64Array, Y: Float32Array, K: number) => Promise<Float64Array>;

export interface LogisticBackend {
  prepare(Xd: Float32Array, N: number, D1: number, P: Float64Array, lam: Float64Array): StepFn;
  dispose(): Promise<void>;
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** float64 loops; fine for small problems and tests. */
export const jsBackend: LogisticBackend = {
  prepare: (Xd, N, D1, P, lam) => async (V, Y, K) => {
    const G = new Float64Array(D1 * K);
    const z = new Float64Array(K);
    for (let i = 0; i < N; i++) {
      z.fill(0);
      const xo = i * D1;
      for (let p = 0; p < D1; p++) {
        const x = Xd[xo + p];
        if (x !== 0) for (let k = 0, wo = p * K; k < K; k++) z[k] += x * V[wo + k];
      }
      for (let k = 0; k < K; k++) z[k] = (sigmoid(z[k]) - Y[i * K + k]) / N;
      for (let p = 0; p < D1; p++) {
        const x = Xd[xo + p];
        if (x !== 0) for (let k = 0, go = p * K; k < K; k++) G[go + k] += x * z[k];
      }
    }
    for (let p = 0; p < D1; p++) for (let k = 0; k < K; k++) G[p * K + k] += lam[p] * V[p * K + k];
    const step = new Float64Array(D1 * K);
    for (let p = 0; p < D1; p++) {
      for (let q = 0; q < D1; q++) {
        const a = P[p * D1 + q];
        if (a !== 0) for (let k = 0; k < K; k++) step[p * K + k] += a * G[q * K + k];
      }
    }
    return step;
  },
  dispose: async () => {},
};

/** ONNX Runtime (multi-threaded MLAS, float32): the same step as one small graph with symbolic N, D1, K. */
export async function ortBackend(): Promise<LogisticBackend> {
  // Loaded here so that importing the registry (e.g. to validate params) does not load ONNX Runtime.
  const { GraphBuilder, feedF32, OrtSession, runtimeOptionsFromEnv } = await loadGraphRuntime();
  const g = new GraphBuilder();
  const X = g.input('X', 'float', ['N', 'D1']);
  const XT = g.input('XT', 'float', ['D1', 'N']);
  const W = g.input('W', 'float', ['D1', 'K']);
  const Y = g.input('Y', 'float', ['N', 'K']);
  const P = g.input('P', 'float', ['D1', 'D1']);
  const lam = g.input('lam', 'float', ['D1', 1]);
  const invN = g.input('inv_n', 'float', [1]);
  const R = g.op('Mul', [g.op('Sub', [g.op('Sigmoid', [g.op('MatMul', [X, W])]), Y]), invN]); // [N, K]
  const G = g.op('Add', [g.op('MatMul', [XT, R]), g.op('Mul', [lam, W])]); // [D1, K]
  g.rename(g.op('MatMul', [P, G]), 'step'); // [D1, K]
  g.output('step', 'float', ['D1', 'K']);
  const session = await OrtSession.create(g.encode('logistic_step'), { ...runtimeOptionsFromEnv() });
  return {
    prepare(Xd, N, D1, Pm, lamv) {
      const XTd = new Float32Array(D1 * N);
      for (let i = 0; i < N; i++) for (let p = 0; p < D1; p++) XTd[p * N + i] = Xd[i * D1 + p];
      const fixed = {
        X: feedF32(Xd, [N, D1]),
        XT: feedF32(XTd, [D1, N]),
        P: feedF32(Float32Array.from(Pm), [D1, D1]),
        lam: feedF32(Float32Array.from(lamv), [D1, 1]),
        inv_n: feedF32(Float32Array.of(1 / N), [1]),
      };
      return async (V, Yt, K) => {
        const out = await session.run({ ...fixed, W: feedF32(Float32Array.from(V), [D1, K]), Y: feedF32(Yt, [N, K]) }, ['step']);
        return Float64Array.from(out.step.data);
      };
    },
    dispose: () => session.dispose(),
  };
}

/** Inverse of a symmetric positive-definite [n, n] matrix by Cholesky (A = LLᵀ). */
export function spdInverse(A: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`spdInverse: matrix is not positive definite (pivot ${i} = ${s})`);
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  // Solve L·Lᵀ·X = I column by column.
  const inv = new Float64Array(n * n);
  const y = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
      y[i] = s / L[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= L[k * n + i] * inv[k * n + c];
      inv[i * n + c] = s / L[i * n + i];
    }
  }
  return inv;
}

/** Standardised features with a bias column [N, D + 1], float32, and the train statistics. */
function design(X: ArrayLike<number>, N: number, D: number, mean: Float64Array, std: Float64Array): Float32Array {
  const D1 = D + 1;
  const out = new Float32Array(N * D1);
  for (let i = 0; i < N; i++) {
    for (let d = 0; d < D; d++) out[i * D1 + d] = (X[i * D + d] - mean[d]) / std[d];
    out[i * D1 + D] = 1;
  }
  return out;
}

/** Fits K probes on X [N, D] with 0/1 labels Y [N, K]. */
export async function fitLogistic(
  X: ArrayLike<number>,
  Y: ArrayLike<number>,
  N: number,
  D: number,
  K: number,
  opts: LogisticOptions = {},
  backend: LogisticBackend = jsBackend,
): Promise<LogisticModel> {
  if (X.length !== N * D) throw new RangeError(`fitLogistic: X has ${X.length} values, expected ${N}×${D}`);
  if (Y.length !== N * K) throw new RangeError(`fitLogistic: Y has ${Y.length} values, expected ${N}×${K}`);
  const lambda = opts.lambda ?? 1e-2,
    iters = opts.iters ?? 100,
    tol = opts.tol ?? 1e-4;
  const mean = new Float64Array(D),
    std = new Float64Array(D);
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) mean[d] += X[i * D + d] / N;
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) std[d] += (X[i * D + d] - mean[d]) ** 2 / N;
  for (let d = 0; d < D; d++) std[d] = std[d] > 1e-12 ? Math.sqrt(std[d]) : 1; // constant features stay 0
  const D1 = D + 1;
  const Xd = design(X, N, D, mean, std);
  // Böhning's bound B = X̃ᵀX̃/(4N) + λI′ (+ a tiny ridge so B is invertible when λ = 0), and P = B⁻¹.
  const B = new Float64Array(D1 * D1);
  for (let i = 0; i < N; i++) {
    const o = i * D1;
    for (let p = 0; p < D1; p++) {
      const x = Xd[o + p];
      if (x !== 0) for (let q = 0; q <= p; q++) B[p * D1 + q] += (x * Xd[o + q]) / (4 * N);
    }
  }
  for (let p = 0; p < D1; p++) {
    for (let q = 0; q < p; q++) B[q * D1 + p] = B[p * D1 + q];
    B[p * D1 + p] += (p < D ? lambda : 0) + 1e-8;
  }
  const P = spdInverse(B, D1);
  const lam = Float64Array.from({ length: D1 }, (_, p) => (p < D ? lambda : 0));
  const step = backend.prepare(Xd, N, D1, P, lam);
  const Yf = Float32Array.from(Y);
  let W = new Float64Array(D1 * K),
    prev = new Float64Array(D1 * K);
  const V = new Float64Array(D1 * K); // look-ahead point
  let t = 1,
    it = 0;
  for (; it < iters; it++) {
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const mom = (t - 1) / tNext;
    for (let j = 0; j < W.length; j++) V[j] = W[j] + mom * (W[j] - prev[j]);
    const s = await step(V, Yf, K);
    [prev, W] = [W, prev];
    let max = 0;
    for (let j = 0; j < W.length; j++) {
      W[j] = V[j] - s[j];
      if (Math.abs(s[j]) > max) max = Math.abs(s[j]);
    }
    t = tNext;
    if (max < tol) {
      it++;
      break;
    }
  }
  return { D, K, mean, std, W, iters: it };
}

/** P(label = 1) [M, K] for features X [M, D]. */
export function predictLogistic(model: LogisticModel, X: ArrayLike<number>, M: number): Float64Array {
  const { D, K, W } = model;
  const D1 = D + 1;
  const Xd = design(X, M, D, model.mean, model.std);
  const out = new Float64Array(M * K);
  for (let i = 0; i < M; i++) {
    for (let p = 0; p < D1; p++) {
      const x = Xd[i * D1 + p];
      for (let k = 0; k < K; k++) out[i * K + k] += x * W[p * K + k];
    }
    for (let k = 0; k < K; k++) out[i * K + k] = sigmoid(out[i * K + k]);
  }
  return out;
}

export interface ProbeScores {
  /** [K] test accuracy of each output (threshold 0.5). */
  accuracy: Float64Array;
  /** [K] test accuracy of always predicting the output's training majority. */
  majority: Float64Array;
  /** [K] (TPR + TNR) / 2 on the test set (chance 0.5); NaN when the test set holds one class only. */
  balanced: Float64Array;
}

/**
 * Scores probes on test data X [M, D], Y [M, K]; `trainY` [N, K] gives each output's majority class.
 * `P` [M, K]: the predictions when the caller already has them (predictLogistic of X), not made again.
 */
export function scoreLogistic(
  model: LogisticModel,
  X: ArrayLike<number>,
  Y: ArrayLike<number>,
  M: number,
  trainY: ArrayLike<number>,
  N: number,
  P: ArrayLike<number> = predictLogistic(model, X, M),
): ProbeScores {
  const K = model.K;
  const accuracy = new Float64Array(K),
    majority = new Float64Array(K),
    balanced = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let pos = 0;
    for (let i = 0; i < N; i++) pos += trainY[i * K + k];
    const maj = pos * 2 > N ? 1 : 0;
    let right = 0,
      majRight = 0,
      tp = 0,
      p1 = 0,
      tn = 0,
      p0 = 0;
    for (let i = 0; i < M; i++) {
      const y = Y[i * K + k];
      const yhat = P[i * K + k] >= 0.5 ? 1 : 0;
      if (yhat === y) right++;
      if (maj === y) majRight++;
      if (y === 1) {
        p1++;
        if (yhat === 1) tp++;
      } else {
        p0++;
        if (yhat === 0) tn++;
      }
    }
    accuracy[k] = right / M;
    majority[k] = majRight / M;
    balanced[k] = p1 > 0 && p0 > 0 ? (tp / p1 + tn / p0) / 2 : NaN;
  }
  return { accuracy, majority, balanced };
}
