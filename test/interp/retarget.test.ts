/**
 * decode.ts is exact: without interventions it equals the engine's generate(); with an
 * intervention on a prompt position it equals naive greedy decoding that recomputes the whole
 * sequence with the same intervention at every step; overwriting resid_pre 0 at the target token
 * with another run's value decodes exactly like that run. retarget: the same-target control with
 * an identical source changes nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encoder, modelInfo } from '../../server/interp/context.js';
import { decodeSteered, decodeWithInterventions } from '../../server/interp/decode.js';
import { mapPositions } from '../../server/interp/positions.js';
import { retarget } from '../../server/interp/retarget.js';
import { Rng } from '../../server/maze/rng.js';
import { shortestPath } from '../../server/maze/solve.js';
import { SPECIAL } from '../../server/maze/tokenize/index.js';
import { generate } from '../../server/model/onnx/generate.js';
import type { OnnxEngine } from '../../server/model/onnx/engine.js';
import type { Intervention } from '../../server/model/onnx/interventions.js';
import { ctxOf, mazes, noProgress, randomModel, tensorOf } from './helpers.js';

const model = randomModel('nano', 4, 51);
let engine: OnnxEngine;
beforeAll(async () => {
  engine = await model.engine();
});
const enc = encoder(model);
const list = mazes(4, 4, 9);
const prompts = list.map((m, i) => enc.encodePrompt(m, new Rng(i)));
const opts = { stopToken: SPECIAL.PATH_END, maxNewTokens: 20 };

describe('decodeWithInterventions', () => {
  it('without interventions equals generate()', async () => {
    const a = await decodeWithInterventions(
      engine,
      prompts.map((prompt) => ({ prompt })),
      opts,
    );
    const b = await generate(engine, prompts, opts);
    a.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(b[i].subarray(prompts[i].length))));
  });

  it('with an intervention equals naive full-recompute greedy decoding with the same intervention', async () => {
    const D = model.cfg.d_model;
    const rng = new Rng(3);
    const rows = prompts.map((prompt, i) => {
      const sp = mapPositions(prompt, model.vocab, list[i]);
      const value = new Float32Array(prompt.length * D).map(() => rng.float() * 4 - 2);
      const iv: Intervention = { hook: 'blocks.1.hook_resid_pre', kind: 'replace', positions: [sp.target, sp.pathStart], value };
      return { prompt, interventions: [iv] };
    });
    const fast = await decodeWithInterventions(engine, rows, opts);
    const V = model.cfg.d_vocab;
    let changedSome = false;
    for (const [i, row] of rows.entries()) {
      const seq = Array.from(row.prompt);
      const iv = row.interventions[0];
      for (let step = 0; step < opts.maxNewTokens; step++) {
        const T = seq.length;
        const value = new Float32Array(T * D);
        value.set(iv.value!.subarray(0, row.prompt.length * D));
        const r = await engine.runWithInterventions(Int32Array.from(seq), 1, T, [{ ...iv, value }], { names: [] });
        let best = 0;
        for (let v = 1; v < V; v++) if (r.logits[(T - 1) * V + v] > r.logits[(T - 1) * V + best]) best = v;
        seq.push(best);
        if (best === opts.stopToken) break;
      }
      expect(Array.from(fast[i])).toEqual(seq.slice(row.prompt.length));
      const plain = (await generate(engine, [row.prompt], opts))[0].subarray(row.prompt.length);
      if (plain.length !== fast[i].length || plain.some((x, j) => x !== fast[i][j])) changedSome = true;
    }
    expect(changedSome).toBe(true); // the intervention mattered somewhere
  });

  it('overwriting resid_pre 0 at the target token with a run on another target decodes like that run', async () => {
    const m = list[0];
    const t2 = m.origin[0] === 3 && m.origin[1] === 3 ? ([0, 0] as const) : ([3, 3] as const);
    const moved = { ...m, target: t2, path: shortestPath(m, m.origin, t2)! };
    const a = enc.encodePrompt(m, new Rng(1)),
      b = enc.encodePrompt(moved, new Rng(1));
    const sp = mapPositions(a, model.vocab, m);
    const cache = await engine.runWithCache(b, 1, b.length, { names: ['blocks.0.hook_resid_pre'] });
    const [patched] = await decodeWithInterventions(
      engine,
      [
        {
          prompt: a,
          interventions: [
            { hook: 'blocks.0.hook_resid_pre', kind: 'replace', positions: [sp.target], value: cache.cache.get('blocks.0.hook_resid_pre')!.data },
          ],
        },
      ],
      opts,
    );
    const [other] = await decodeWithInterventions(engine, [{ prompt: b }], opts);
    expect(Array.from(patched)).toEqual(Array.from(other));
  });
});

describe('decodeSteered', () => {
  it('with nothing to add equals generate(); with segment vectors it equals naive decoding that adds each over its span (the last to the end) at every step', async () => {
    const plain = await decodeSteered(
      engine,
      prompts.map((prompt) => ({ prompt })),
      opts,
    );
    const b = await generate(engine, prompts, opts);
    plain.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(b[i].subarray(prompts[i].length))));

    const D = model.cfg.d_model;
    const V = model.cfg.d_vocab;
    const rng = new Rng(8);
    // Two segments: one vector over the prompt span (target…<PATH_START>), another over the path.
    const rows = prompts.map((prompt, i) => {
      const sp = mapPositions(prompt, model.vocab, list[i]);
      return {
        prompt,
        steer: {
          hook: 'blocks.1.hook_resid_pre',
          segments: [
            { from: sp.target, value: new Float32Array(D).map(() => rng.float() * 6 - 3) },
            { from: sp.pathStart + 1, value: new Float32Array(D).map(() => rng.float() * 6 - 3) },
          ],
        },
      };
    });
    const fast = await decodeSteered(engine, rows, opts);
    let changedSome = false;
    for (const [i, row] of rows.entries()) {
      const seq = Array.from(row.prompt);
      const [s1, s2] = row.steer.segments;
      for (let step = 0; step < opts.maxNewTokens; step++) {
        const T = seq.length;
        const span = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
        const ivs = [
          { hook: row.steer.hook, kind: 'add' as const, positions: span(s1.from, Math.min(T, s2.from)), value: s1.value },
          { hook: row.steer.hook, kind: 'add' as const, positions: span(s2.from, T), value: s2.value },
        ].filter((iv) => iv.positions.length > 0);
        const r = await engine.runWithInterventions(Int32Array.from(seq), 1, T, ivs, { names: [] });
        let best = 0;
        for (let v = 1; v < V; v++) if (r.logits[(T - 1) * V + v] > r.logits[(T - 1) * V + best]) best = v;
        seq.push(best);
        if (best === opts.stopToken) break;
      }
      expect(Array.from(fast[i])).toEqual(seq.slice(row.prompt.length));
      if (fast[i].length !== plain[i].length || fast[i].some((x, j) => x !== plain[i][j])) changedSome = true;
    }
    expect(changedSome).toBe(true);
  });
});

describe('retarget', () => {
  it('by direction at every position from the target on: the same-target control adds the noise between two halves of the references; tensors are [condition, layer]', async () => {
    const p = retarget.paramsSchema.parse({ count: 4, method: 'direction', positions: 'target-onwards', references: 600, scale: 2 }, modelInfo(model));
    const r = await retarget.run(ctxOf(model, 2), p, noProgress);
    const L = model.cfg.n_layers;
    expect(r.summary).toMatchObject({
      method: 'direction',
      positions: 'target-onwards',
      scale: 2,
      references: 600,
      conditions: ['retarget', 'random', 'same'],
    });
    for (const name of ['success_new', 'success_old', 'changed']) {
      const t = tensorOf(r, name);
      expect(t.shape).toEqual([3, L]);
      for (const v of t.data) expect(v >= 0 && v <= 1).toBe(true);
    }
    expect(Math.max(...tensorOf(r, 'changed').data)).toBeGreaterThan(0); // adding at every later position moves some rollout
  });

  it('by span: a prompt direction from the target token and a path direction from the first path position, measured where they are added', async () => {
    const p = retarget.paramsSchema.parse(
      { count: 3, method: 'direction', positions: 'target-onwards', references: 600, scale: 2, span: 'by-span', layers: [1] },
      modelInfo(model),
    );
    const r = await retarget.run(ctxOf(model, 2), p, noProgress);
    expect(r.summary).toMatchObject({ method: 'direction', span: 'by-span', positions: 'target-onwards' });
    expect(tensorOf(r, 'changed').shape).toEqual([3, 1]);
    // Scale 0 adds nothing to either span: no rollout changes; a large scale changes some.
    const none = await retarget.run(ctxOf(model, 2), { ...p, scale: 0 }, noProgress);
    expect(Array.from(tensorOf(none, 'changed').data)).toEqual([0, 0, 0]);
    const strong = await retarget.run(ctxOf(model, 2), { ...p, scale: 50 }, noProgress);
    expect(tensorOf(strong, 'changed').data[0]).toBeGreaterThan(0);
    const wrong = retarget.paramsSchema.parse({ count: 2, method: 'direction', span: 'by-span' }, modelInfo(model));
    await expect(retarget.run(ctxOf(model, 2), wrong, noProgress)).rejects.toThrow(/span by-span needs positions target-onwards/);
  });

  it('by probe: the direction between two cells\' "is the target" probes, fitted on the references, with the mean difference\'s norm', async () => {
    const p = retarget.paramsSchema.parse(
      { count: 3, method: 'probe', positions: 'target-onwards', references: 600, scale: 2, layers: [0, 1] },
      modelInfo(model),
    );
    const r = await retarget.run(ctxOf(model, 2), p, noProgress);
    expect(r.summary).toMatchObject({ method: 'probe', span: 'by-span', scale: 2, references: 600 });
    for (const name of ['success_new', 'success_old', 'changed']) expect(tensorOf(r, name).shape).toEqual([3, 2]);
    // The probe direction has the mean difference's norm × scale: scale 0 changes nothing, a large one changes rollouts.
    expect(Array.from(tensorOf(await retarget.run(ctxOf(model, 2), { ...p, scale: 0 }, noProgress), 'changed').data.subarray(0, 2))).toEqual([0, 0]);
    expect(Math.max(...tensorOf(await retarget.run(ctxOf(model, 2), { ...p, scale: 50 }, noProgress), 'changed').data.subarray(0, 2))).toBeGreaterThan(0);
    const tooMany = retarget.paramsSchema.parse({ count: 2, method: 'probe', positions: 'target-onwards', references: 5000 }, modelInfo(model));
    await expect(retarget.run(ctxOf(model, 2), tooMany, noProgress)).rejects.toThrow(/method probe takes at most 4096 references/);
    const wrong = retarget.paramsSchema.parse({ count: 2, method: 'probe' }, modelInfo(model));
    await expect(retarget.run(ctxOf(model, 2), wrong, noProgress)).rejects.toThrow(/method probe needs positions target-onwards/);
  });

  it('refuses target-onwards for a transplant, saying why', async () => {
    const p = retarget.paramsSchema.parse({ count: 2, positions: 'target-onwards' }, modelInfo(model));
    await expect(retarget.run(ctxOf(model, 2), p, noProgress)).rejects.toThrow(
      /positions target-onwards needs method direction \(a transplant has no source for the positions the model generates\)/,
    );
  });

  it('same-target control with an identical source changes nothing; tensors are [condition, layer]', async () => {
    const p = retarget.paramsSchema.parse({ count: 4, sameTargetSource: 'identical' }, modelInfo(model));
    const r = await retarget.run(ctxOf(model, 2), p, noProgress);
    const L = model.cfg.n_layers;
    const changed = tensorOf(r, 'changed');
    expect(changed.shape).toEqual([3, L]);
    for (let l = 0; l < L; l++) expect(changed.data[2 * L + l]).toBe(0);
    const base = (r.summary.baseline as { valid_to_old_target: number }).valid_to_old_target;
    for (let l = 0; l < L; l++) expect(tensorOf(r, 'success_old').data[2 * L + l]).toBeCloseTo(base, 6);
    // The real retarget at layer 0 rewrites the target token's input, so it changes the rollouts.
    expect(changed.data[0]).toBeGreaterThan(0);

    // The stored rollouts (the drill-down's) agree with the aggregate: the same-target control at
    // every layer equals the unpatched rollout, and the share of changed retarget rollouts at
    // layer 0 among these 4 mazes is `changed` itself.
    const roll = tensorOf(r, 'detail.rollouts'); // [maze, 1 + L·3, G]
    const [M, R, G] = roll.shape;
    expect([M, R]).toEqual([4, 1 + L * 3]);
    const row = (m: number, k: number) => Array.from(roll.data.subarray((m * R + k) * G, (m * R + k + 1) * G));
    for (let m = 0; m < M; m++) for (let l = 0; l < L; l++) expect(row(m, 1 + l * 3 + 2)).toEqual(row(m, 0));
    const changedAt0 = Array.from({ length: M }, (_, m) => (row(m, 1).join() !== row(m, 0).join() ? 1 : 0)).reduce((a: number, b: number) => a + b, 0);
    expect(changedAt0 / M).toBeCloseTo(changed.data[0], 6);
    expect(tensorOf(r, 'detail.prompt').shape[0]).toBe(4);
    const targets = tensorOf(r, 'detail.new_target').data;
    for (let m = 0; m < M; m++) expect(targets[m * 2] >= 0 && targets[m * 2 + 1] >= 0).toBe(true);
  });
});
