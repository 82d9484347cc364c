/** Fixtures for the interp tests: small random-weight maze models (aotp-ut) and their contexts. */

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
