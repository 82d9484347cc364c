/** Fixtures for the interp tests: small random-weight maze models (aotp-ut) and their contexts. */

import type { Rng } from '../../server/maze/rng.js';
import { encodeSafetensors } from '../../server/model/safetensors.js';
import { afterAll } from 'vitest';
import { generateMazes } from '../../server/maze/generate.js';
import type { SolvedMaze } from '../../server/maze/lattice.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { PRESETS, type ModelConfig, type Weights } from '../../server/model/config.js';
import { createInterpModel } from '../../server/interp/context.js';
import type { ExperimentContext, InterpModel, StoredSae } from '../../server/interp/types.js';
import type { SaeSummary } from '../../server/interp/sae/kind.js';

export type TestModel = InterpModel & { dispose(): Promise<void> };

/** A nano/tiny architecture over the aotp-ut vocabulary of a grid×grid maze, with a short n_ctx. */
export function mazeConfig(preset: 'nano' | 'tiny', grid: number, n_ctx = 192): ModelConfig {
  return { ...PRESETS[preset], n_ctx, d_vocab: getTokenizer('aotp-ut').vocabSize(grid), tokenizer: 'aotp-ut' };
}

export { randomWeights } from '../model/fixtures.js';
import { randomWeights } from '../model/fixtures.js';

const opened: TestModel[] = [];
afterAll(async () => {
  await Promise.all(opened.map((m) => m.dispose()));
});

/** A model handle over `cfg`/`weights` (engines on one thread, disposed after the file's tests). */
export function testModel(cfg: ModelConfig, weights: Weights): TestModel {
  const m = createInterpModel({ cfg, weights, vocab: getTokenizer(cfg.tokenizer).vocab(Math.round(Math.sqrt(cfg.d_vocab - 11))) }, { threads: 1 });
  opened.push(m);
  return m;
}

export function randomModel(preset: 'nano' | 'tiny', grid = 4, seed = 1): TestModel {
  const cfg = mazeConfig(preset, grid);
  return testModel(cfg, randomWeights(cfg, seed));
}

export function mazes(grid: number, count: number, seed = 3, generator = 'dfs'): SolvedMaze[] {
  return [...generateMazes({ generator, rows: grid }, count, seed)];
}

export function ctxOf(model: InterpModel, seed = 0, list?: SolvedMaze[]): ExperimentContext {
  return { model, seed, ...(list ? { mazes: { mazes: list } } : {}) };
}

export const noProgress = (): void => {};

export function tensorOf(result: { tensors: Array<{ name: string; shape: number[]; data: Float32Array }> }, name: string) {
  const t = result.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}; have ${result.tensors.map((x) => x.name).join(', ')}`);
  return t;
}

/** An `sae` run's output as kinds that edit the SAE take it (ExperimentContext.sae). */
export function storedSae(out: { summary: unknown; tensors: ReadonlyArray<{ name: string; shape: number[]; data: Float32Array }> }, id = 1): StoredSae {
  return { id, summary: out.summary as SaeSummary, tensors: new Map(out.tensors.map((t) => [t.name, { shape: t.shape, data: t.data }])) };
}

/**
 * A random JumpReLU SAE in SAELens' layout as Gemma Scope saves it (apply_b_dec_to_input false, a
 * threshold per latent in [minThreshold, minThreshold + 0.4)): its weights, sae_weights.safetensors
 * bytes and cfg.json text, on blocks.0.hook_resid_post.
 */
export function jumpReluSaeLens(rng: Rng, d_in: number, d_sae: number, minThreshold = 0) {
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (rng.float() - 0.5) * 2 * s);
  const W = {
    W_enc: rand(d_in * d_sae),
    b_enc: rand(d_sae, 0.3),
    W_dec: rand(d_sae * d_in),
    b_dec: rand(d_in, 0.5),
    threshold: Float32Array.from({ length: d_sae }, () => minThreshold + rng.float() * 0.4),
  };
  const file = encodeSafetensors([
    { name: 'W_enc', shape: [d_in, d_sae], data: W.W_enc },
    { name: 'b_enc', shape: [d_sae], data: W.b_enc },
    { name: 'W_dec', shape: [d_sae, d_in], data: W.W_dec },
    { name: 'b_dec', shape: [d_in], data: W.b_dec },
    { name: 'threshold', shape: [d_sae], data: W.threshold },
  ]);
  const cfg = JSON.stringify({
    architecture: 'jumprelu',
    d_in,
    d_sae,
    apply_b_dec_to_input: false,
    normalize_activations: 'none',
    hook_name: 'blocks.0.hook_resid_post',
  });
  return { W, file, cfg };
}
