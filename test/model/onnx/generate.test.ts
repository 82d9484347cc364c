import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxEngine } from '../../../server/model/onnx/engine.js';
import { generate } from '../../../server/model/onnx/generate.js';
import { randomTokens, randomWeights, tinyLike } from './helpers.js';

const cfg = tinyLike();
const w = randomWeights(cfg, 41);
const V = cfg.d_vocab;
let engine: OnnxEngine;
beforeAll(async () => {
  engine = await OnnxEngine.create(cfg, w, { device: 'cpu' });
});
afterAll(async () => engine.dispose());

/** Step-by-step greedy decoding by full forward passes, no cache: the definition generate must match. */
async function slowGreedy(prompt: Int32Array, stop: number, maxNew: number, allowed?: Uint8Array): Promise<number[]> {
  const seq = Array.from(prompt);
  for (let n = 0; n < maxNew && seq.length < cfg.n_ctx; n++) {
    const logits = await engine.forward(Int32Array.from(seq), 1, seq.length);
    const last = logits.subarray((seq.length - 1) * V);
    let best = -1;
    for (let t = 0; t < V; t++) if ((!allowed || allowed[t]) && (best < 0 || last[t] > last[best])) best = t;
    seq.push(best);
    if (best === stop) break;
  }
  return seq;
}

describe('generate (greedy, KV cache, lockstep over prompts of different lengths)', () => {
  const prompts = [randomTokens(cfg, 5, 1), randomTokens(cfg, 9, 2), randomTokens(cfg, 3, 3), randomTokens(cfg, 12, 4)];

  it('matches step-by-step argmax of full forward passes, for every prompt length', async () => {
    const out = await generate(engine, prompts, { stopToken: V - 1, maxNewTokens: 8 });
    for (let i = 0; i < prompts.length; i++) expect(Array.from(out[i]), `prompt ${i}`).toEqual(await slowGreedy(prompts[i], V - 1, 8));
  });

  it('stops at the stop token (included) and otherwise at n_ctx', async () => {
    // Use the first generated token of prompt 0 as the stop token: row 0 stops right after it.
    const first = (await generate(engine, [prompts[0]], { stopToken: 0, maxNewTokens: 1 }))[0][prompts[0].length];
    const out = await generate(engine, prompts, { stopToken: first });
    expect(out[0].length).toBe(prompts[0].length + 1);
    expect(out[0][prompts[0].length]).toBe(first);
    for (let i = 0; i < prompts.length; i++) {
      const gen = Array.from(out[i].subarray(prompts[i].length));
      const stopAt = gen.indexOf(first);
      if (stopAt >= 0)
        expect(stopAt).toBe(gen.length - 1); // nothing after the stop token
      else expect(out[i].length).toBe(cfg.n_ctx); // ran to the context limit
      expect(Array.from(out[i])).toEqual(await slowGreedy(prompts[i], first, cfg.n_ctx));
    }
  });

  it('allowedTokens restricts every generated token; a prompt already at n_ctx is returned as is', async () => {
    const allowed = new Uint8Array(V);
    for (const t of [2, 5, 7, V - 1]) allowed[t] = 1;
    const out = await generate(engine, prompts.slice(0, 2), { stopToken: V - 1, maxNewTokens: 6, allowedTokens: allowed });
    for (let i = 0; i < 2; i++) {
      for (const t of out[i].subarray(prompts[i].length)) expect(allowed[t]).toBe(1);
      expect(Array.from(out[i])).toEqual(await slowGreedy(prompts[i], V - 1, 6, allowed));
    }
    const full = randomTokens(cfg, cfg.n_ctx, 9);
    expect(Array.from((await generate(engine, [full], { stopToken: 0 }))[0])).toEqual(Array.from(full));
  });

  it('rejects bad options and prompts with precise errors', async () => {
    await expect(generate(engine, [new Int32Array(0)], { stopToken: 1 })).rejects.toThrow(/prompt 0 is empty/);
    await expect(generate(engine, [Int32Array.of(1, V)], { stopToken: 1 })).rejects.toThrow(/prompt 0: token/);
    await expect(generate(engine, prompts, { stopToken: V })).rejects.toThrow(/stopToken/);
    await expect(generate(engine, prompts, { stopToken: 1, allowedTokens: new Uint8Array(3) })).rejects.toThrow(/allowedTokens has length 3/);
  });
});
