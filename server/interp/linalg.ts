/**
 * The small dense linear algebra the experiments need, in float64: SVD by one-sided Jacobi
 * (Hestenes 1958; Demmel & Veselić 1992 show it is as accurate as any SVD, relative to each
 * singular value), Pearson correlation, and the largest eigenvalue of a Gram matrix by power
 * iteration. Matrices are row-major; sizes here are at most a few hundred, so O(n³) is fine.
 */

export interface Svd {
  /** [m, k] left singular vectors (columns), k = min(m, n). */
  U: Float64Array;
  /** [k] singular values, descending. */
  S: Float64Array;
  /** [n, k] right singular vectors (columns). */
  V: Float64Array;
  m: number;
  n: number;
  k: number;
}

/**
 * A [m, n] = U · diag(S) · Vᵀ. One-sided Jacobi rotates pairs of columns of W = A·V until all are
 * mutually orthogonal (|wₚ·w_q| ≤ ε·‖wₚ‖‖w_q‖); then S = column norms, U = normalised columns.
 * Works on the transpose when m < n so that k = min(m, n) columns carry the spectrum. Columns of U
 * for zero singular values are zero (they do not affect A = U S Vᵀ).
 */
export function svd(A: ArrayLike<number>, m: number, n: number, opts: { maxSweeps?: number; eps?: number } = {}): Svd {
  if (A.length !== m * n) throw new RangeError(`svd: matrix has ${A.length} entries, expected ${m}×${n}`);
  if (m < n) {
    const At = new Float64Array(n * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) At[j * m + i] = A[i * n + j];
    const r = svd(At, n, m, opts);
    return { U: r.V, S: r.S, V: r.U, m, n, k: r.k };
  }
  const eps = opts.eps ?? 1e-15;
  const maxSweeps = opts.maxSweeps ?? 60;
  // Column-major copies: column j of W is W[j*m .. j*m+m), column j of V is V[j*n .. j*n+n).
  const W = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) W[j * m + i] = A[i * n + j];
  const V = new Float64Array(n * n);
  for (let j = 0; j < n; j++) V[j * n + j] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0,
          beta = 0,
          gamma = 0;
        const op = p * m,
          oq = q * m;
        for (let i = 0; i < m; i++) {
          const x = W[op + i],
            y = W[oq + i];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t),
          s = c * t;
        for (let i = 0; i < m; i++) {
          const x = W[op + i],
            y = W[oq + i];
          W[op + i] = c * x - s * y;
          W[oq + i] = s * x + c * y;
        }
        const vp = p * n,
          vq = q * n;
        for (let i = 0; i < n; i++) {
          const x = V[vp + i],
            y = V[vq + i];
          V[vp + i] = c * x - s * y;
          V[vq + i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += W[j * m + i] ** 2;
    return Math.sqrt(s);
  });
  const order = norms.map((_, j) => j).sort((a, b) => norms[b] - norms[a] || a - b);
  const k = n; // m ≥ n here
  const U = new Float64Array(m * k),
    S = new Float64Array(k),
    Vout = new Float64Array(n * k);
  order.forEach((j, r) => {
    S[r] = norms[j];
    for (let i = 0; i < m; i++) U[i * k + r] = norms[j] > 0 ? W[j * m + i] / norms[j] : 0;
    for (let i = 0; i < n; i++) Vout[i * k + r] = V[j * n + i];
  });
  return { U, S, V: Vout, m, n, k };
}

/** Column r of a row-major [rows, k] matrix. */
export function column(M: Float64Array, rows: number, k: number, r: number): Float64Array {
  return Float64Array.from({ length: rows }, (_, i) => M[i * k + r]);
}

/** Pearson correlation of two equal-length samples; NaN when either is constant. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`pearson: lengths ${n} and ${y.length} differ`);
  let mx = 0,
    my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i] - mx,
      b = y[i] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Cosine similarity of two vectors (0 when either is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** C [m, n] = A [m, k] · B [k, n] (row-major, float64 accumulation). */
export function matmul(A: ArrayLike<number>, B: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p];
      if (a === 0) continue;
      const bo = p * n,
        co = i * n;
      for (let j = 0; j < n; j++) C[co + j] += a * B[bo + j];
    }
  }
  return C;
}

/**
 * SVD of a product A [m, r] · B [r, n] without forming it (an OV or QK circuit W_V·W_O, W_Q·W_Kᵀ
 * has rank ≤ r = d_head): A = U₁S₁V₁ᵀ, then C = S₁V₁ᵀB [k₁, n] = U₂SV₂ᵀ, so AB = (U₁U₂)·S·V₂ᵀ
 * with U₁U₂ orthonormal. k = min(m, r, n).
 */
export function productSvd(A: ArrayLike<number>, B: ArrayLike<number>, m: number, r: number, n: number): Svd {
  const a = svd(A, m, r);
  const k1 = a.k;
  const C = new Float64Array(k1 * n);
  for (let i = 0; i < k1; i++) {
    for (let p = 0; p < r; p++) {
      const s = a.S[i] * a.V[p * k1 + i];
      if (s === 0) continue;
      for (let j = 0; j < n; j++) C[i * n + j] += s * B[p * n + j];
    }
  }
  const c = svd(C, k1, n);
  return { U: matmul(a.U, c.U, m, k1, c.k), S: c.S, V: c.V, m, n, k: c.k };
}
