/**
 * The model a bench runs: a file given with --weights, else the hallway preset with TransformerLens
 * init (× `scale`) over the aotp-ut vocabulary of `rows`×`rows` mazes (seed 0, so every run and its
 * PyTorch anchor start from the same weights).
 */
import { loadForCli } from '../server/cli/model.js';
import { Rng } from '../server/maze/rng.js';
import { getTokenizer } from '../server/maze/tokenize/index.js';
import { PRESETS, type ModelConfig, type Weights } from '../server/model/config.js';
import { initWeights } from '../server/model/weights.js';

export async function benchModel(file: string | undefined, rows: number, scale = 1): Promise<{ cfg: ModelConfig; weights: Weights; vocab: readonly string[] }> {
  if (file) return await loadForCli(file);
  const tok = getTokenizer('aotp-ut');
  const cfg: ModelConfig = { ...PRESETS.hallway, d_vocab: tok.vocabSize(rows), tokenizer: 'aotp-ut' };
  return { cfg, weights: initWeights(cfg, new Rng(0), scale === 1 ? {} : { scale }), vocab: tok.vocab(rows) };
}

/** The --python option every bench with a PyTorch anchor takes. */
export const PYTHON_OPTION = { type: 'string', description: 'Python with torch for the anchor ("" skips it)', default: '/usr/bin/python3' } as const;
