/**
 * Logit lens: the last lens layer equals the model's logits. DLA: the components (with the final
 * LayerNorm scale frozen from the actual run, as TransformerLens applies it) sum to the logit
 * difference between the correct next token and the best wrong one.
 */
import { describe, expect, it } from 'vitest';
import { modelInfo } from '../../server/interp/context.js';
import { dla, dlaComponents } from '../../server/interp/dla.js';
import { logitLens } from '../../server/interp/logit-lens.js';
import { ctxOf, noProgress, randomModel, tensorOf } from './helpers.js';

for (const preset of ['nano', 'tiny'] as const) {
  const model = randomModel(preset, 4, preset === 'nano' ? 11 : 12);
  const info = modelInfo(model);
  const { n_layers: L, d_vocab: V } = model.cfg;

  describe(`${preset}: logit lens`, () => {
    it('the final lens layer reproduces the model logits at every read position', async () => {
      const r = await logitLens.run(ctxOf(model, 1), logitLens.paramsSchema.parse({ count: 3, detail: 2 }, info), noProgress);
      const engine = await model.engine();
      for (const m of [0, 1]) {
        const tokens = tensorOf(r, `maze${m}.tokens`).data;
        const pos = tensorOf(r, `maze${m}.positions`).data;
        const lens = tensorOf(r, `maze${m}.lens_logits`);
        const P = pos.length;
        expect(lens.shape).toEqual([L + 1, P, V]);
        const T = tokens.length;
        const logits = await engine.forward(Int32Array.from(tokens), 1, T);
        let max = 0;
        pos.forEach((t, j) => {
          for (let v = 0; v < V; v++) max = Math.max(max, Math.abs(lens.data[(L * P + j) * V + v] - logits[t * V + v]));
        });
        expect(max).toBeLessThan(1e-3);
        // Earlier layers are genuinely different readouts.
        let diff = 0;
        for (let j = 0; j < P * V; j++) diff = Math.max(diff, Math.abs(lens.data[j] - lens.data[L * P * V + j]));
        expect(diff).toBeGreaterThan(1e-2);
      }
      expect(r.summary.final_layer_max_abs_diff as number).toBeLessThan(1e-3);
      const acc = tensorOf(r, 'accuracy');
      expect(acc.shape).toEqual([L + 1]);
      for (const a of acc.data) expect(a >= 0 && a <= 1).toBe(true);
    });
  });

  describe(`${preset}: direct logit attribution`, () => {
    it('components sum to the logit difference (frozen ln_final scale); classes cover every position', async () => {
      const r = await dla.run(ctxOf(model, 2), dla.paramsSchema.parse({ count: 4, detail: 2 }, info), noProgress);
      const C = dlaComponents(L, model.cfg.n_heads).length;
      expect(r.summary.components).toHaveLength(C);
      for (const m of [0, 1]) {
        const d = tensorOf(r, `maze${m}.dla`),
          ld = tensorOf(r, `maze${m}.logit_diff`);
        const P = ld.data.length;
        expect(d.shape).toEqual([P, C]);
        for (let j = 0; j < P; j++) {
          let s = 0;
          for (let c = 0; c < C; c++) s += d.data[j * C + c];
          expect(Math.abs(s - ld.data[j])).toBeLessThan(1e-3 * Math.max(1, Math.abs(ld.data[j])));
          expect(Number.isFinite(ld.data[j])).toBe(true);
        }
      }
      expect(r.summary.max_sum_error as number).toBeLessThan(1e-3);
      const counts = tensorOf(r, 'count_by_class').data;
      expect(counts[2]).toBe(4); // one <PATH_START> per maze
      expect(counts[3]).toBe(4); // one <PATH_END> prediction per maze
    });
  });
}
