/**
 * Decoding with SAE features edited at every step (server/interp/sae/decode.ts): scaling a latent by
 * 1 (and setting one to its own value, which scaling by 1 is) changes nothing, so the rollout equals
 * plain greedy decoding; a strong edit at every position changes it; edits at positions not yet
 * reached wait for them.
 */
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../server/interp/index.js';
import { decodeWithFeatureEdits, type SaeForEdits } from '../../server/interp/sae/decode.js';
import type { SaeSummary } from '../../server/interp/sae/kind.js';
import { generate } from '../../server/model/engine.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { Rng } from '../../server/maze/rng.js';
import { tokensToIds } from '../../server/maze/tokenize/index.js';
import { ctxOf, mazes, randomModel } from './helpers.js';

describe('decodeWithFeatureEdits', () => {
  it('an edit that changes nothing leaves the greedy rollout; a strong one at every position changes it', async () => {
    const model = randomModel('nano', 3, 81);
    const out = await runExperiment('sae', ctxOf(model, 2), { steps: 30, count: 20, hook: 'blocks.0.hook_resid_post', classes: ['path'] });
    const s = out.summary as SaeSummary;
    const t = (n: string) => out.tensors.find((x) => x.name === n)!.data;
    const sae: SaeForEdits = {
      hook: s.hook,
      shape: { d_in: s.d_in, d_sae: s.d_sae, architecture: s.architecture, k: s.topk ?? 1 },
      weights: { W_enc: t('W_enc'), b_enc: t('b_enc'), W_dec: t('W_dec'), b_dec: t('b_dec') },
    };
    const engine = await model.engine();
    const tok = getTokenizer('aotp-ut');
    const vocab = [...model.vocab];
    const stop = vocab.indexOf('<PATH_END>');
    const prompts = mazes(3, 3, 5).map((m) => tokensToIds(tok.prompt(m, new Rng(1)), vocab));
    let changed = 0;
    for (const prompt of prompts) {
      const [plain] = await generate(engine, [prompt], { stopToken: stop, maxNewTokens: 10 });
      const same = await decodeWithFeatureEdits(engine, prompt, [], sae, [{ latent: 3, mode: 'scale', value: 1 }], { stopToken: stop, maxNewTokens: 10 });
      expect(Array.from(same)).toEqual(Array.from(plain));
      // Positions not reached yet: an edit far past the end changes nothing either.
      const later = await decodeWithFeatureEdits(engine, prompt, [], sae, [{ latent: 0, mode: 'set', value: 100, positions: [200] }], {
        stopToken: stop,
        maxNewTokens: 10,
      });
      expect(Array.from(later)).toEqual(Array.from(plain));
      const strong = await decodeWithFeatureEdits(
        engine,
        prompt,
        [],
        sae,
        Array.from({ length: 8 }, (_, f) => ({ latent: f, mode: 'set' as const, value: 200 })),
        { stopToken: stop, maxNewTokens: 10 },
      );
      if (Array.from(strong).join() !== Array.from(plain).join()) changed++;
    }
    expect(changed).toBeGreaterThan(0);
  });
});
