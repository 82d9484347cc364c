import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxEngine } from '../../../server/model/onnx/engine.js';
import { generate } from '../../../server/model/onnx/generate.js';
import type { Intervention } from '../../../server/model/onnx/interventions.js';
import { architectureCases, randomTokens, randomWeights, tinyLike } from './helpers.js';

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

  it('applies per-prompt interventions in the prefill: equals full-recompute decoding with the same intervention', async () => {
    const D = cfg.d_model;
    const cell = (seed: number) => new Float32Array(D).map((_, i) => Math.sin(seed * 7 + i) * 3); // [d_model]
    // The common (prefill) length is 3 (prompt 2), so every position lies below 3.
    const ivs: Array<Intervention[] | undefined> = [
      [{ hook: 'blocks.0.hook_resid_pre', kind: 'add', positions: [1, 2], value: cell(1) }],
      undefined,
      [{ hook: 'blocks.1.attn.hook_z', kind: 'zero', positions: [0], heads: [1] }],
      [{ hook: 'blocks.1.hook_resid_pre', kind: 'replace', positions: [2], value: cell(2) }],
    ];
    const out = await generate(engine, prompts, { stopToken: V - 1, maxNewTokens: 6, interventions: ivs });
    const plain = await generate(engine, prompts, { stopToken: V - 1, maxNewTokens: 6 });
    for (let i = 0; i < prompts.length; i++) {
      const seq = Array.from(prompts[i]);
      for (let n = 0; n < 6; n++) {
        const r = await engine.runWithInterventions(Int32Array.from(seq), 1, seq.length, ivs[i] ?? [], { names: [], lastOnly: true });
        let best = 0;
        for (let t = 1; t < V; t++) if (r.logits[t] > r.logits[best]) best = t;
        seq.push(best);
        if (best === V - 1) break;
      }
      expect(Array.from(out[i]), `prompt ${i}`).toEqual(seq);
    }
    expect(Array.from(out[1])).toEqual(Array.from(plain[1])); // no interventions: unchanged
    expect(out.some((o, i) => o.length !== plain[i].length || o.some((t, j) => t !== plain[i][j]))).toBe(true); // they mattered
  });

  it('refuses interventions the prefill cannot apply: past the common length of prompts of different lengths', async () => {
    const at = (positions?: number[]): Intervention => ({ hook: 'blocks.0.hook_resid_pre', kind: 'zero', ...(positions ? { positions } : {}) });
    await expect(generate(engine, prompts, { stopToken: 1, interventions: [undefined, [at([1, 4])], undefined, undefined] })).rejects.toThrow(
      'prompt 1, intervention 0 on blocks.0.hook_resid_pre: position 4 is at or beyond the prefill length (prompts of different lengths prefill only their common length 3, and interventions apply during the prefill)',
    );
    await expect(generate(engine, prompts, { stopToken: 1, interventions: [[at()], undefined, undefined, undefined] })).rejects.toThrow(
      /^prompt 0, intervention 0 on blocks\.0\.hook_resid_pre: it covers every position, but prompts of different lengths prefill only their common length 3/,
    );
    // A prompt of exactly the prefill length: the intervention compiler's own message.
    await expect(generate(engine, prompts, { stopToken: 1, interventions: [undefined, undefined, [at([3])], undefined] })).rejects.toThrow(
      'intervention 0 on blocks.0.hook_resid_pre: position 3 is outside [0, 3)',
    );
    await expect(generate(engine, prompts, { stopToken: 1, interventions: [undefined] })).rejects.toThrow(
      'interventions has 1 entries, expected one per prompt (4)',
    );
  });

  it('rejects bad options and prompts with precise errors', async () => {
    await expect(generate(engine, [new Int32Array(0)], { stopToken: 1 })).rejects.toThrow(/prompt 0 is empty/);
    await expect(generate(engine, [Int32Array.of(1, V)], { stopToken: 1 })).rejects.toThrow(/prompt 0: token/);
    await expect(generate(engine, prompts, { stopToken: V })).rejects.toThrow(/stopToken/);
    await expect(generate(engine, prompts, { stopToken: 1, allowedTokens: new Uint8Array(3) })).rejects.toThrow(/allowedTokens has length 3/);
  });
});

describe('generate on every architecture variant (KV cache: rotary keys cached rotated, queries at their absolute positions)', () => {
  for (const [label, c] of architectureCases().filter(([, x]) => x.d_vocab_out === undefined)) {
    it(`${label}: the cached lockstep decoding equals step-by-step full forward passes`, async () => {
      const e = await OnnxEngine.create(c, randomWeights(c, 43), { device: 'cpu' });
      try {
        const slow = async (prompt: Int32Array): Promise<number[]> => {
          const seq = Array.from(prompt);
          for (let n = 0; n < 6; n++) {
            const logits = await e.forward(Int32Array.from(seq), 1, seq.length);
            const last = logits.subarray((seq.length - 1) * c.d_vocab);
            let best = 0;
            for (let t = 1; t < c.d_vocab; t++) if (last[t] > last[best]) best = t;
            seq.push(best);
          }
          return seq;
        };
        const ps = [randomTokens(c, 5, 11), randomTokens(c, 9, 12)];
        const out = await generate(e, ps, { stopToken: c.d_vocab - 1, maxNewTokens: 6 });
        for (let i = 0; i < ps.length; i++) {
          const want = await slow(ps[i]);
          const stop = want.indexOf(c.d_vocab - 1, ps[i].length);
          expect(Array.from(out[i]), `prompt ${i}`).toEqual(stop >= 0 ? want.slice(0, stop + 1) : want);
        }
      } finally {
        await e.dispose();
      }
    });
  }
});

describe('decoding needs the unembedding to cover the input vocabulary', () => {
  it('generate and decodeRecomputing refuse d_vocab_out ≠ d_vocab, naming both; tfjs refuses other architectures', async () => {
    const c = architectureCases().find(([, x]) => x.d_vocab_out !== undefined)![1];
    const e = await OnnxEngine.create(c, randomWeights(c, 44), { device: 'cpu' });
    try {
      const msg = `d_vocab_out is ${c.d_vocab_out} but d_vocab is ${c.d_vocab}; a maze model predicts its next token from its own vocabulary`;
      await expect(generate(e, [randomTokens(c, 4, 1)], { stopToken: 0, maxNewTokens: 2 })).rejects.toThrow(`generate: ${msg}`);
      const { decodeRecomputing } = await import('../../../server/model/onnx/intervene.js');
      await expect(decodeRecomputing(e, randomTokens(c, 4, 1), [], { stopToken: 0, maxNewTokens: 2 })).rejects.toThrow(`decoding: ${msg}`);
    } finally {
      await e.dispose();
    }
    const { TfGpt } = await import('../../../server/model/tfjs/gpt.js');
    const rotary = architectureCases()[0][1];
    expect(() => new TfGpt(rotary, randomWeights(rotary, 1))).toThrow('the tfjs engine trains the standard architecture only');
  });
});
