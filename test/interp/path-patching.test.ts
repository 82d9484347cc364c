/**
 * Path patching sanity (issue 19): with nothing frozen and the logits as receivers it is activation
 * patching of each head's output from the corrupted run into the clean one, so it matches the
 * engine's independent fast sweep (actPatchAttnHeadOutAllPos with the prompts swapped); a sender
 * whose corrupted output equals its clean one changes nothing; last-layer senders have nothing
 * downstream to freeze; senders at or after the receivers' layer are NaN; freezing changes results.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { modelInfo } from '../../server/interp/context.js';
import { preparePairs, type PreparedPair } from '../../server/interp/patch-common.js';
import { type PathPatchingParams, paramsSchema, pathPatching, pathPatchPair } from '../../server/interp/path-patching.js';
import { actPatchAttnHeadOutAllPos, type OnnxEngine } from '../../server/model/engine.js';
import { ctxOf, noProgress, randomModel, tensorOf } from './helpers.js';

const model = randomModel('tiny', 4, 7);
let engine: OnnxEngine;
let prepared: PreparedPair[];
const params = (raw: Record<string, unknown>): PathPatchingParams => paramsSchema.parse({ count: 2, ...raw }, modelInfo(model));
beforeAll(async () => {
  engine = await model.engine();
  prepared = (await preparePairs(ctxOf(model, 3), { ...params({}), sites: ['head_all_pos'] }, engine)).prepared;
  expect(prepared.length).toBe(2);
});

describe('path patching', () => {
  it('unfrozen, into the logits: equals the fast activation-patching sweep of each head from the corrupted run into the clean one', async () => {
    const { n_layers: L, n_heads: H } = model.cfg;
    expect(L).toBeGreaterThan(1);
    for (const pp of prepared) {
      const ours = await pathPatchPair(engine, pp, params({ freeze: 'none' }));
      const ref = await actPatchAttnHeadOutAllPos(engine, pp.pair.corrupt, pp.pair.clean, pp.metric); // runs pair.clean, patches from pair.corrupt
      expect(ref.shape).toEqual([L, H]);
      for (let j = 0; j < L * H; j++) expect(ours[j]).toBeCloseTo(ref.data[j], 4);
      // Not every sender is a no-op, or the comparison would prove nothing.
      expect(Array.from(ours).some((v) => Math.abs(v - pp.cleanLd) > 1e-3)).toBe(true);
    }
  });

  it('freezing the heads downstream changes early senders only: last-layer senders have nothing downstream', async () => {
    const { n_layers: L, n_heads: H } = model.cfg;
    const pp = prepared[0];
    const frozen = await pathPatchPair(engine, pp, params({ freeze: 'heads' }));
    const free = await pathPatchPair(engine, pp, params({ freeze: 'none' }));
    for (let h = 0; h < H; h++) expect(frozen[(L - 1) * H + h]).toBeCloseTo(free[(L - 1) * H + h], 4);
    expect(Array.from({ length: (L - 1) * H }, (_, j) => Math.abs(frozen[j] - free[j])).some((d) => d > 1e-4)).toBe(true);
  });

  it('a sender whose corrupted output is its clean one changes nothing, to the logits or to receiver heads', async () => {
    const pp = prepared[0];
    const same: PreparedPair = { ...pp, pair: { ...pp.pair, corrupt: pp.pair.clean } };
    for (const raw of [{ receivers: 'logits' }, { receivers: 'heads', receiverLayer: model.cfg.n_layers - 1 }]) {
      const r = await pathPatchPair(engine, same, params(raw));
      const reached = Array.from(r).filter((v) => !Number.isNaN(v));
      expect(reached.length).toBeGreaterThan(0);
      for (const v of reached) expect(v).toBeCloseTo(pp.cleanLd, 4);
    }
  });

  it("receivers = heads: patching the receivers' q/k/v inputs moves the metric for some sender (the second run is not a no-op)", async () => {
    const pp = prepared.find((x) => Math.abs(x.cleanLd - x.corruptLd) > 1e-3)!;
    const r = await pathPatchPair(engine, pp, params({ receivers: 'heads', receiverLayer: model.cfg.n_layers - 1 }));
    expect(Array.from(r).some((v) => Number.isFinite(v) && Math.abs(v - pp.cleanLd) > 1e-4)).toBe(true);
  });

  it('the kind: TransformerLens head_all_pos shapes, senders at or after the receiver layer NaN, normalised so −1 is the whole effect', async () => {
    const { n_layers: L, n_heads: H } = model.cfg;
    const r = await pathPatching.run(
      ctxOf(model, 3),
      params({ receivers: 'heads', receiverLayer: 1, receiverHeads: [0], receiverInputs: ['q', 'k'] }),
      noProgress,
    );
    const P = (r.summary.pairs as unknown[]).length;
    const s = tensorOf(r, 'senders');
    expect(s.shape).toEqual([P, L, H]);
    expect(tensorOf(r, 'senders.mean').shape).toEqual([L, H]);
    const rows = r.summary.pairs as Array<{ clean_logit_diff: number; corrupt_logit_diff: number }>;
    for (let i = 0; i < P; i++) {
      const differs = Math.abs(rows[i].clean_logit_diff - rows[i].corrupt_logit_diff) > 1e-3;
      for (let l = 0; l < L; l++)
        for (let h = 0; h < H; h++) {
          const v = s.data[(i * L + l) * H + h];
          if (l >= 1)
            expect(v).toBeNaN(); // cannot reach layer 1's heads
          else if (differs) expect(Number.isFinite(v)).toBe(true);
        }
    }
    expect(r.summary).toMatchObject({ kind: 'path-patching', receivers: { layer: 1, heads: [0], inputs: ['q', 'k'] }, freeze: 'heads' });
    await expect(pathPatching.run(ctxOf(model, 3), params({ receivers: 'heads', receiverLayer: 0 }), noProgress)).rejects.toThrow(
      'receiverLayer 0 has no heads before it to send; choose a later layer or receivers "logits"',
    );
  });
});
