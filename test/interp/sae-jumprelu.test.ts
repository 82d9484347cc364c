/**
 * JumpReLU SAEs from SAELens (Rajamanoharan et al. 2024; Gemma Scope's layout: architecture
 * "jumprelu", a threshold per latent, apply_b_dec_to_input false): imported and measured as they are.
 * Their codes equal SAELens' JumpReLUSAE.encode written out here (b_dec is folded into b_enc on
 * import); the `sae` kind evaluates one (steps 0) and keeps its threshold, and trains one (its
 * thresholds learned with an L0 penalty); the SAELens export names the architecture. Resampling a
 * dead latent (Bricken et al.) also restarts its threshold at JUMPRELU_INIT_THRESHOLD, its log θ
 * moments cleared, and leaves the live latents' thresholds as trained.
 */
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../server/interp/index.js';
import { parseSaeLens, saeLensConfig } from '../../server/interp/sae/format.js';
import type { SaeSummary } from '../../server/interp/sae/kind.js';
import { activate, initSae, preActivations, type SaeShape } from '../../server/interp/sae/sae.js';
import { JUMPRELU_INIT_THRESHOLD, SaeTrainer } from '../../server/interp/sae/train.js';
import { Rng } from '../../server/maze/rng.js';
import { encodeSafetensors } from '../../server/model/safetensors.js';
import { ctxOf, jumpReluSaeLens, randomModel } from './helpers.js';

const d_in = 8;
const d_sae = 16;
const rng = new Rng('jumprelu');
const { W, file, cfg } = jumpReluSaeLens(rng, d_in, d_sae);

describe('JumpReLU SAEs', () => {
  it("encode exactly as SAELens' JumpReLUSAE: ReLU(x·W_enc + b_enc) where it exceeds the threshold", () => {
    const sae = parseSaeLens(cfg, file);
    expect(sae.shape.architecture).toBe('jumprelu');
    const n = 5;
    const x = Float32Array.from({ length: n * d_in }, () => (rng.float() - 0.5) * 4);
    const ours = activate(sae.shape, preActivations(sae.shape, sae.weights, x, n), n);
    let fired = 0;
    for (let r = 0; r < n; r++)
      for (let f = 0; f < d_sae; f++) {
        let pre = W.b_enc[f];
        for (let d = 0; d < d_in; d++) pre += x[r * d_in + d] * W.W_enc[d * d_sae + f]; // apply_b_dec_to_input false
        const want = pre > W.threshold[f] ? Math.max(pre, 0) : 0;
        expect(ours[r * d_sae + f]).toBeCloseTo(want, 5);
        if (want > 0) fired++;
      }
    expect(fired).toBeGreaterThan(0);
    expect(fired).toBeLessThan(n * d_sae); // the thresholds cut some
    expect(() =>
      parseSaeLens(
        cfg,
        encodeSafetensors([
          { name: 'W_enc', shape: [d_in, d_sae], data: W.W_enc },
          { name: 'b_enc', shape: [d_sae], data: W.b_enc },
          { name: 'W_dec', shape: [d_sae, d_in], data: W.W_dec },
          { name: 'b_dec', shape: [d_in], data: W.b_dec },
        ]),
      ),
    ).toThrow('a jumprelu SAE needs its threshold tensor');
  });

  it('the sae kind measures an imported one as it is and keeps its threshold; the export names it', async () => {
    const model = randomModel('nano', 3, 5);
    const sae = parseSaeLens(cfg, file);
    const out = await runExperiment('sae', { ...ctxOf(model, 1), saeInit: sae }, { hook: 'blocks.0.hook_resid_post', architecture: 'jumprelu', count: 8 });
    const s = out.summary as SaeSummary;
    expect(s).toMatchObject({ architecture: 'jumprelu', steps: 0, d_sae });
    expect(Array.from(out.tensors.find((t) => t.name === 'threshold')!.data)).toEqual(Array.from(W.threshold));
    const exported = saeLensConfig(s, { modelName: 'm', contextSize: 64, experiment: 'Experiment:1' });
    expect(exported).toMatchObject({ architecture: 'jumprelu', apply_b_dec_to_input: true, activation_fn_str: 'jumprelu' });
  });

  it('the sae kind trains one: its thresholds move off their start, the summary names λ and the bandwidth, the export carries them', async () => {
    const model = randomModel('nano', 3, 5);
    const params = { hook: 'blocks.0.hook_resid_post', architecture: 'jumprelu', steps: 40, batch: 64, buffer: 512, count: 8, l0: 0.1, bandwidth: 0.05 };
    const out = await runExperiment('sae', ctxOf(model, 1), params);
    const s = out.summary as SaeSummary;
    expect(s).toMatchObject({ architecture: 'jumprelu', steps: 40, l0_coefficient: 0.1, bandwidth: 0.05, l1_coefficient: null });
    expect(s.curve.length).toBeGreaterThan(0);
    const th = Array.from(out.tensors.find((t) => t.name === 'threshold')!.data);
    expect(th).toHaveLength(s.d_sae);
    expect(th.every((v) => v > 0)).toBe(true);
    // Trained, not left at the initial 0.001 (Adam moves log θ by about lr a step, so 40 steps move it a little).
    expect(th.filter((v) => v !== Math.fround(0.001)).length).toBeGreaterThan(0);
    const exported = saeLensConfig(s, { modelName: 'm', contextSize: 64, experiment: 'Experiment:2' }) as {
      metadata: { searchlight: Record<string, unknown> };
    };
    expect(exported.metadata.searchlight).toMatchObject({ l0_coefficient: 0.1, jumprelu_bandwidth: 0.05 });
  });

  it('an imported one waits for its job and reads back the same (b_dec folded once, the threshold kept)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { LocalStore } = await import('../../server/db/localStore.js');
    const { loadSaeImport, storeSaeImport } = await import('../../server/services/experiments.js');
    const dir = mkdtempSync(join(tmpdir(), 'jumprelu-'));
    try {
      const store = new LocalStore(dir);
      const sae = parseSaeLens(cfg, file);
      const back = await loadSaeImport(store, await storeSaeImport(store, cfg, sae));
      expect(Array.from(back.weights.b_enc)).toEqual(Array.from(sae.weights.b_enc));
      expect(Array.from(back.shape.threshold!)).toEqual(Array.from(W.threshold));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resampling dead latents restarts their thresholds at JUMPRELU_INIT_THRESHOLD with cleared log θ moments; the live ones keep theirs', async () => {
    const r = new Rng('jumprelu-resample');
    const B = 64;
    const batch = (): Float32Array => Float32Array.from({ length: B * d_in }, () => (r.float() - 0.5) * 4);
    const shape: SaeShape = { d_in, d_sae, architecture: 'jumprelu', k: 1, threshold: new Float32Array(d_sae).fill(JUMPRELU_INIT_THRESHOLD) };
    // A wide kernel and a strong L0 penalty: every threshold rises (Adam moves log θ by about lr a step).
    const t = await SaeTrainer.create(shape, initSae(shape, r, { x: batch(), n: B }), { bandwidth: 0.5, threads: 1 });
    try {
      const lr = 0.05;
      const lambda = 1;
      for (let s = 0; s < 20; s++) await t.step(batch(), B, lr, lambda);
      const logTh = t.logThreshold!;
      const th = shape.threshold!;
      expect(t.shape.threshold).toBe(th); // the trainer keeps the shape's threshold at exp(log θ)
      // Silence three latents (no encoder direction, b_enc far below any threshold); what decides
      // deadness is the kind's: a latent that fired on no row of the steps since the last check.
      const forced = [3, 7, 11];
      for (const i of forced) {
        for (let d = 0; d < d_in; d++) t.weights.W_enc[d * d_sae + i] = 0;
        t.weights.b_enc[i] = -100;
      }
      const x = batch();
      const { fired } = await t.step(x, B, lr, lambda);
      const dead = [...fired.keys()].filter((i) => fired[i] === 0);
      expect(dead).toEqual(expect.arrayContaining(forced));
      const live = [...fired.keys()].filter((i) => fired[i] > 0);
      expect(live.length).toBeGreaterThan(d_sae / 2);

      const before = {
        th: th.slice(),
        logTh: logTh.slice(),
        m: (t.state.m.get('log_threshold') as Float32Array).slice(),
        v: (t.state.v.get('log_threshold') as Float32Array).slice(),
      };
      // Trained: every threshold well off its start (θ rose), and the dead ones' moments are not zero.
      for (let i = 0; i < d_sae; i++) {
        expect(before.th[i], `threshold[${i}]`).toBeGreaterThan(1.5 * JUMPRELU_INIT_THRESHOLD);
        expect(before.th[i]).toBeCloseTo(Math.exp(before.logTh[i]), 9);
      }
      for (const i of dead) {
        expect(before.m[i], `m.log_threshold[${i}]`).not.toBe(0);
        expect(before.v[i], `v.log_threshold[${i}]`).not.toBe(0);
      }

      const { x_hat } = await t.forward(x, B);
      expect(t.resample(dead, x, x_hat, B, new Rng('resample-draws'))).toBe(dead.length);

      const m = t.state.m.get('log_threshold') as Float32Array;
      const v = t.state.v.get('log_threshold') as Float32Array;
      for (const i of dead) {
        expect(logTh[i], `log θ[${i}]`).toBe(Math.fround(Math.log(JUMPRELU_INIT_THRESHOLD)));
        expect(th[i], `threshold[${i}]`).toBeCloseTo(JUMPRELU_INIT_THRESHOLD, 9);
        expect(m[i]).toBe(0);
        expect(v[i]).toBe(0);
        expect(t.weights.b_enc[i]).toBe(0);
        expect((t.state.m.get('b_enc') as Float32Array)[i]).toBe(0);
      }
      for (const i of live) {
        expect(th[i], `threshold[${i}]`).toBe(before.th[i]);
        expect(logTh[i]).toBe(before.logTh[i]);
        expect(m[i]).toBe(before.m[i]);
        expect(v[i]).toBe(before.v[i]);
      }
      // The graphs read the restarted thresholds: the forward's codes are the reference JumpReLU's at them.
      const { z } = await t.forward(x, B);
      const ref = activate(shape, preActivations(shape, t.weights, x, B), B);
      for (let j = 0; j < z.length; j++) expect(z[j]).toBeCloseTo(ref[j], 4);
    } finally {
      await t.dispose();
    }
  });
});
