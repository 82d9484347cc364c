/**
 * The engine as interpretability code reaches it: the one module of server/model (with config.ts,
 * the model-info record, and hooks.ts, the hook table) that server/interp imports
 * (test/platform/layering.test.ts enforces it).
 *
 *   createEngine / OnnxEngine   forward, runWithCache, runWithInterventions (onnx/engine.ts)
 *   generate                    greedy KV-cache decoding, optionally with prefill interventions (onnx/generate.ts)
 *   actPatch*                   TransformerLens-style activation-patching sweeps, exact fast paths (onnx/patching.ts)
 *   createGradEngine, logitDiffSeed   activation gradients for attribution patching (onnx-train/engine.ts)
 *   loadGraphRuntime            the ONNX graph builder and session, for small custom graphs (logistic probes, SAEs)
 *   adamwUpdate                 the shared host AdamW (pure), for those graphs' trainers
 *
 * Importing this module must not load ONNX Runtime: the experiment registry imports every kind to
 * list and validate them, and only running one needs the runtime (test/interp/registry.test.ts
 * checks it). So the engine's types are re-exported with `export type`, and every function that
 * needs the runtime loads its module on first call (`await import`). Only pure helpers are
 * re-exported directly.
 */
import type { ModelConfig, Weights } from './config.js';
import type { EngineOptions, OnnxEngine } from './onnx/engine.js';
import type { GenerateOptions } from './onnx/generate.js';
import type { Intervention } from './onnx/interventions.js';
import type { InterventionDecodeOptions } from './onnx/intervene.js';
import type { Metric, PatchResult, SweepOptions } from './onnx/patching.js';
import type { OnnxGradEngine } from './onnx-train/engine.js';

export type { Activation, CacheOptions, EngineOptions, OnnxEngine, RunResult } from './onnx/engine.js';
export type { GenerateOptions } from './onnx/generate.js';
export type { Intervention, InterventionKind } from './onnx/interventions.js';
export type { InterventionDecodeOptions } from './onnx/intervene.js';
export type { Metric, PatchResult, SweepOptions } from './onnx/patching.js';
export type { GradSeed, OnnxGradEngine } from './onnx-train/engine.js';

export { argmax } from './argmax.js';
export { padBatch } from './batch.js';
// The host AdamW the model trainers share, for interp's own small trainers (sparse autoencoders).
export { type AdamWOptions, adamwUpdate, type OptimizerState } from './train/adamw.js';
// Safetensors decoding (pure), for interp's readers of other tools' files (SAELens SAEs).
export { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** An inference engine for the model (compiles its plain forward graph now). */
export async function createEngine(cfg: ModelConfig, weights: Weights, opts: EngineOptions = {}): Promise<OnnxEngine> {
  const { OnnxEngine } = await import('./onnx/engine.js');
  return OnnxEngine.create(cfg, weights, opts);
}

/** A gradient engine for the model (activation gradients; compiles its loss graph now). */
export async function createGradEngine(cfg: ModelConfig, weights: Weights, opts: EngineOptions = {}): Promise<OnnxGradEngine> {
  const { OnnxGradEngine } = await import('./onnx-train/engine.js');
  return OnnxGradEngine.create(cfg, weights, opts);
}

/** Completed sequences: each prompt followed by its greedy continuation (onnx/generate.ts). */
export async function generate(engine: OnnxEngine, prompts: readonly Int32Array[], opts: GenerateOptions): Promise<Int32Array[]> {
  const m = await import('./onnx/generate.js');
  return m.generate(engine, prompts, opts);
}

/** Greedy decoding that recomputes every step with interventions applied (onnx/intervene.ts). */
export async function decodeRecomputing(
  engine: OnnxEngine,
  prompt: Int32Array,
  interventions: readonly Intervention[],
  opts: InterventionDecodeOptions,
): Promise<Int32Array> {
  const m = await import('./onnx/intervene.js');
  return m.decodeRecomputing(engine, prompt, interventions, opts);
}

/** The logit-difference gradient seed [B, T, d_vocab] for OnnxGradEngine.activationGrads. */
export async function logitDiffSeed(
  cfg: ModelConfig,
  B: number,
  T: number,
  rows: ReadonlyArray<{ pos: number; good: number; bad: number }>,
): Promise<Float32Array> {
  const m = await import('./onnx-train/engine.js');
  return m.logitDiffSeed(cfg, B, T, rows);
}

// ---- activation patching (onnx/patching.ts; shapes as TransformerLens' get_act_patch_*) ----------

type Sweep = (e: OnnxEngine, clean: Int32Array, corrupt: Int32Array, metric: Metric, o?: SweepOptions) => Promise<PatchResult>;
type SweepName = 'actPatchResidPre' | 'actPatchAttnOut' | 'actPatchMlpOut' | 'actPatchAttnHeadOutByPos' | 'actPatchAttnHeadOutAllPos';

/** A sweep that loads onnx/patching.ts when first run. */
const lazySweep =
  (name: SweepName): Sweep =>
  async (e, clean, corrupt, metric, o) =>
    (await import('./onnx/patching.js'))[name](e, clean, corrupt, metric, o);

/** [n_layers, pos]: blocks.l.hook_resid_pre patched at each position. */
export const actPatchResidPre: Sweep = lazySweep('actPatchResidPre');
/** [n_layers, pos]: blocks.l.hook_attn_out patched at each position. */
export const actPatchAttnOut: Sweep = lazySweep('actPatchAttnOut');
/** [n_layers, pos]: blocks.l.hook_mlp_out patched at each position. */
export const actPatchMlpOut: Sweep = lazySweep('actPatchMlpOut');
/** [n_layers, pos, n_heads]: blocks.l.attn.hook_z patched per head and position. */
export const actPatchAttnHeadOutByPos: Sweep = lazySweep('actPatchAttnHeadOutByPos');
/** [n_layers, n_heads]: blocks.l.attn.hook_z patched per head at every position. */
export const actPatchAttnHeadOutAllPos: Sweep = lazySweep('actPatchAttnHeadOutAllPos');

// ---- custom graphs -------------------------------------------------------------------------------

/** The graph builder and session of the inference engine, for code that runs its own small ONNX graph. */
export interface GraphRuntime {
  GraphBuilder: typeof import('./onnx/builder.js').GraphBuilder;
  OrtSession: typeof import('./onnx/runtime.js').OrtSession;
  feedF32: typeof import('./onnx/runtime.js').feedF32;
  runtimeOptionsFromEnv: typeof import('./onnx/runtime.js').runtimeOptionsFromEnv;
}

/** Loads ONNX Runtime and the graph builder (on first call). */
export async function loadGraphRuntime(): Promise<GraphRuntime> {
  const { GraphBuilder } = await import('./onnx/builder.js');
  const { feedF32, OrtSession, runtimeOptionsFromEnv } = await import('./onnx/runtime.js');
  return { GraphBuilder, OrtSession, feedF32, runtimeOptionsFromEnv };
}
