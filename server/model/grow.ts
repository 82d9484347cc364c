/**
 * Depth growth: insert new transformer blocks into a trained model so that the grown model computes
 * exactly the same function, and training can go on from there with more layers.
 *
 * Why: the demo model's errors grow with how far ahead a fork's answer lies (the `lookahead`
 * experiment), which points at depth; training a deeper model from scratch throws away hours of
 * training. A pre-LayerNorm residual block whose two output projections are zero adds nothing to the
 * residual stream (resid_mid = resid_pre + 0·attn + b_O, resid_post = resid_mid + 0·mlp + b_out with
 * b_O = b_out = 0), so inserting such blocks is an exact identity — the zero-init of residual output
 * layers used by Fixup (Zhang et al. 2019) and the function-preserving depth step of Net2Net
 * (Chen et al. 2016). Only W_O and W_out get a gradient at first; once they move, the whole block
 * trains. W_Q/W_K/W_V/W_in get TransformerLens' usual random init so the block is not stuck at a
 * symmetric point.
 */
import type { Rng } from '../maze/rng.js';
import { type ModelConfig, paramShapes, type Weights, validateConfig } from './config.js';
import { checkWeights, initWeights } from './weights.js';
import { UserError } from '../errors.js';

/** Bad block positions (a model with missing or misshapen tensors fails checkWeights instead). */
export class GrowError extends UserError {
  override name = 'GrowError';
}

/** Block-local parameter names (after `blocks.{l}.`), from the one list of parameter shapes. */
function blockParams(cfg: ModelConfig): string[] {
  return paramShapes({ ...cfg, n_layers: 1 })
    .map(([name]) => name)
    .filter((name) => name.startsWith('blocks.0.'))
    .map((name) => name.slice('blocks.0.'.length));
}

/**
 * Returns a model with one new block in front of original layer `p` for each `p` in `at`
 * (0 ≤ p ≤ n_layers; p = n_layers appends after the last block; a position may repeat).
 * The new blocks are identities, so the grown model's logits equal the original's.
 */
export function insertIdentityBlocks(
  cfg: ModelConfig,
  weights: Weights,
  at: readonly number[],
  rng: Rng,
): { cfg: ModelConfig; weights: Weights; layerMap: number[] } {
  if (at.length === 0) throw new GrowError('no positions given: name where the new blocks go (0 … n_layers)');
  for (const p of at) {
    if (!Number.isInteger(p) || p < 0 || p > cfg.n_layers) {
      throw new GrowError(
        `block position ${p} is out of range: a model with ${cfg.n_layers} layers takes positions 0 … ${cfg.n_layers} (a new block goes in front of that original layer; ${cfg.n_layers} appends one at the end)`,
      );
    }
  }
  checkWeights(cfg, weights);
  const grown = validateConfig({ ...cfg, n_layers: cfg.n_layers + at.length });
  // layerMap[newLayer] = original layer, or -1 for an inserted block.
  const layerMap: number[] = [];
  const sorted = [...at].sort((a, b) => a - b);
  let next = 0;
  for (let l = 0; l <= cfg.n_layers; l++) {
    while (next < sorted.length && sorted[next] === l) {
      layerMap.push(-1);
      next++;
    }
    if (l < cfg.n_layers) layerMap.push(l);
  }
  // Fresh TL-initialised weights of the grown shape supply the new blocks' Q, K, V and W_in.
  const fresh = initWeights(grown, rng);
  const out: Weights = new Map();
  for (const [name, data] of weights) if (!name.startsWith('blocks.')) out.set(name, data.slice());
  const names = blockParams(cfg);
  layerMap.forEach((orig, l) => {
    for (const leaf of names) {
      const key = `blocks.${l}.${leaf}`;
      if (orig >= 0) {
        out.set(key, weights.get(`blocks.${orig}.${leaf}`)!.slice());
      } else {
        const init = fresh.get(key)!;
        // Zero output projections (their biases are already zero) make the block an identity.
        out.set(key, leaf === 'attn.W_O' || leaf === 'mlp.W_out' ? new Float32Array(init.length) : init);
      }
    }
  });
  return { cfg: grown, weights: out, layerMap };
}
