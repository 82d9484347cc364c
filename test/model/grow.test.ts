import { describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { paramShapes } from '../../server/model/config.js';
import { GrowError, insertIdentityBlocks } from '../../server/model/grow.js';
import { referenceForward } from '../../server/model/reference.js';
import { randomTokens, tinyLike } from './onnx/helpers.js';
import { randomWeights } from './fixtures.js';

describe('insertIdentityBlocks', () => {
  const cfg = tinyLike();
  const weights = randomWeights(cfg, 4, 3);
  const batch = { B: 2, T: 12, data: randomTokens(cfg, 2 * 12) }; // tokens [2, 12]

  it('inserts blocks that change no logit, wherever they go, and keeps every original tensor', () => {
    const before = referenceForward(cfg, weights, batch).logits;
    const g = insertIdentityBlocks(cfg, weights, [3, 0, 2, 2], new Rng(1));
    expect(g.cfg.n_layers).toBe(cfg.n_layers + 4);
    expect(g.layerMap).toEqual([-1, 0, 1, -1, -1, 2, -1]);
    for (const [name, shape] of paramShapes(g.cfg)) expect(g.weights.get(name)!.length, name).toBe(shape.reduce((a, b) => a * b, 1));
    g.layerMap.forEach((orig, l) => {
      if (orig >= 0) expect(g.weights.get(`blocks.${l}.mlp.W_in`)).toEqual(weights.get(`blocks.${orig}.mlp.W_in`));
      else {
        expect(g.weights.get(`blocks.${l}.attn.W_O`)!.every((v) => v === 0)).toBe(true);
        expect(g.weights.get(`blocks.${l}.attn.W_Q`)!.some((v) => v !== 0)).toBe(true);
      }
    });
    const after = referenceForward(g.cfg, g.weights, batch).logits;
    expect(after).toEqual(before); // exact: resid + 0 is resid
    // The check can fail: a new block with a non-zero W_O changes the logits.
    g.weights.get('blocks.0.attn.W_O')!.fill(0.05);
    expect(referenceForward(g.cfg, g.weights, batch).logits).not.toEqual(before);
  });

  it('refuses positions outside 0 … n_layers, an empty list and a model with a missing tensor', () => {
    expect(() => insertIdentityBlocks(cfg, weights, [4], new Rng(1))).toThrow(GrowError);
    expect(() => insertIdentityBlocks(cfg, weights, [4], new Rng(1))).toThrow(/position 4 is out of range: a model with 3 layers takes positions 0 … 3/);
    expect(() => insertIdentityBlocks(cfg, weights, [1.5], new Rng(1))).toThrow(/1.5 is out of range/);
    expect(() => insertIdentityBlocks(cfg, weights, [], new Rng(1))).toThrow(/no positions/);
    const broken = new Map(weights);
    broken.delete('blocks.1.mlp.W_in');
    expect(() => insertIdentityBlocks(cfg, broken, [1], new Rng(1))).toThrow(/missing weight "blocks.1.mlp.W_in"/);
  });
});
