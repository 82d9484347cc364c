/**
 * Editing SAE features inside the model (issue 19): set, scale or zero chosen latents at chosen
 * positions of one hook while the SAE's error term is kept, so everything the SAE does not explain
 * stays as it was (Spies et al. 2024 §5; Templeton et al. 2024's "feature steering"):
 *
 *   x' = x + (x̂' − x̂) = x + Σ_f (z'_f − z_f) · W_dec[f]
 *
 * where z = encode(x) and z' is z with the edited latents changed. The change is applied as the
 * engine's `add` intervention, so it works during prefill and decoding alike.
 */
import type { Intervention } from '../../model/engine.js';
import { activate, preActivations, type SaeShape, type SaeWeights } from './sae.js';

export type FeatureEditMode = 'set' | 'scale' | 'zero';

export interface FeatureEdit {
  latent: number;
  mode: FeatureEditMode;
  /** set: the latent's new activation; scale: the factor; zero: unused. */
  value?: number;
}

/**
 * The residual change Δx [n, d_in] that `edits` make to rows x [n, d_in] (one row per edited
 * position): Σ over edits of (z'_f − z_f) · W_dec[f].
 */
export function featureDeltas(shape: SaeShape, w: SaeWeights, x: Float32Array, n: number, edits: readonly FeatureEdit[]): Float32Array {
  const { d_in, d_sae } = shape;
  for (const e of edits) {
    if (!Number.isInteger(e.latent) || e.latent < 0 || e.latent >= d_sae)
      throw new RangeError(`feature edit: latent must be an integer in [0, ${d_sae}), got ${e.latent}`);
    if (e.mode !== 'zero' && !Number.isFinite(e.value)) throw new RangeError(`feature edit: ${e.mode} needs a finite value, got ${e.value}`);
  }
  const z = activate(shape, preActivations(shape, w, x, n), n);
  const out = new Float32Array(n * d_in);
  for (let r = 0; r < n; r++)
    for (const e of edits) {
      const before = z[r * d_sae + e.latent];
      const after = e.mode === 'zero' ? 0 : e.mode === 'scale' ? before * (e.value as number) : (e.value as number);
      const d = after - before;
      if (d === 0) continue;
      for (let i = 0; i < d_in; i++) out[r * d_in + i] += d * w.W_dec[e.latent * d_in + i];
    }
  return out;
}

/**
 * The engine intervention that applies Δx [positions.length, d_in] at `positions` of a sequence of
 * length T on `hook` (one prompt; `add` leaves every other position untouched).
 */
export function deltaIntervention(hook: string, positions: readonly number[], delta: Float32Array, d_in: number, T: number): Intervention {
  const value = new Float32Array(T * d_in);
  positions.forEach((t, j) => value.set(delta.subarray(j * d_in, (j + 1) * d_in), t * d_in));
  return { hook, kind: 'add', positions: [...positions], value };
}
