/**
 * Uncertainty on rates: the Wilson score interval (Wilson 1927; Brown, Cai & DasGupta 2001,
 * "Interval Estimation for a Binomial Proportion", which recommends it over the normal
 * approximation for small n and rates near 0 or 1 — our lookahead bins of 2 forks and retarget
 * controls at 0). Pure, shared by the charts and tables.
 */

/** 95% two-sided normal quantile. */
export const Z95 = 1.959963984540054;

/** Wilson interval of a rate `p` observed over `n` trials (p·n successes, rounded); null when n < 1 or p is not a rate. */
export function wilson(p: number | null | undefined, n: number | null | undefined, z = Z95): { lo: number; hi: number } | null {
  if (p === null || p === undefined || n === null || n === undefined || !Number.isFinite(p) || !(n >= 1) || p < 0 || p > 1) return null;
  const k = Math.round(p * n);
  const phat = k / n;
  const z2 = z * z;
  const centre = (phat + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((phat * (1 - phat)) / n + z2 / (4 * n * n));
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** "[0.31, 0.52]" for a rate over n, or '' when there is no interval. */
export function ciText(p: number | null | undefined, n: number | null | undefined): string {
  const ci = wilson(p, n);
  return ci ? `[${ci.lo.toFixed(2)}, ${ci.hi.toFixed(2)}]` : '';
}
