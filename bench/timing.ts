/**
 * The timing every bench uses: untimed warm-up runs first (session creation, caches, JIT), then the
 * median of the timed runs, so one slow run on a shared machine does not move the figure.
 */

export interface Timing<R> {
  /** Median of the timed runs, ms. */
  medianMs: number;
  /** Each warm-up run, ms, in order (the first is the cold one). */
  coldMs: number[];
  /** The first warm-up run's result (what a bench checks its answer on). */
  first: R;
}

/** `warmup` (at least 1) untimed runs of fn, then the median of `reps` timed ones. */
export async function timed<R>(warmup: number, reps: number, fn: () => Promise<R>): Promise<Timing<R>> {
  if (warmup < 1 || reps < 1) throw new RangeError(`timed: warmup and reps must be at least 1, got ${warmup} and ${reps}`);
  const coldMs: number[] = [];
  let first: R | undefined;
  for (let i = 0; i < warmup; i++) {
    const t0 = performance.now();
    const r = await fn();
    coldMs.push(+(performance.now() - t0).toFixed(1));
    if (i === 0) first = r;
  }
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)], coldMs, first: first as R };
}
