/**
 * The registry of experiment kinds (issue 6) and the one entry point every interface uses:
 * `runExperiment(kind, ctx, rawParams, progress)` validates the params against the kind's schema
 * (defaults from the model), runs it, and returns { kind, params (as run), summary, tensors }.
 */
import { activationPatching } from './activation-patching.js';
import { adjacencyHeads } from './adjacency-heads.js';
import { attention } from './attention.js';
import { attributionPatching } from './attribution-patching.js';
import { behavior } from './behavior.js';
import { InterpError, modelInfo } from './context.js';
import { dla } from './dla.js';
import { logitLens } from './logit-lens.js';
import { lookahead } from './lookahead.js';
import type { FieldDescription } from './params.js';
import { probes } from './probes.js';
import { retarget } from './retarget.js';
import type { ExperimentContext, ExperimentKind, ExperimentResult, InterpModel, Progress } from './types.js';
import { weights } from './weights.js';

export type { ExperimentContext, ExperimentKind, ExperimentResult, InterpModel, MazeSource, NamedTensor, Progress } from './types.js';
export { createInterpModel, defaultGrid, InterpError } from './context.js';
export { ParamsError } from './params.js';

const all: ExperimentKind<never>[] = [
  attention,
  logitLens,
  dla,
  activationPatching,
  attributionPatching,
  probes,
  weights,
  adjacencyHeads,
  retarget,
  behavior,
  lookahead,
] as unknown as ExperimentKind<never>[];

export const KINDS: ReadonlyMap<string, ExperimentKind<unknown>> = new Map(all.map((k) => [k.kind, k as unknown as ExperimentKind<unknown>]));

export function kindNames(): string[] {
  return [...KINDS.keys()];
}

export function getKind(name: string): ExperimentKind<unknown> {
  const k = KINDS.get(name);
  if (!k) throw new InterpError(`unknown experiment kind "${name}"; known kinds: ${kindNames().join(', ')}`);
  return k;
}

/** Params as a kind will run them: validated, defaults filled in for this model. */
export function resolveParams(kind: string, model: InterpModel, raw: unknown): Record<string, unknown> {
  return getKind(kind).paramsSchema.parse(raw, modelInfo(model)) as Record<string, unknown>;
}

/** A kind's fields with their defaults (concrete for `model` when given). */
export function describeKind(kind: string, model?: InterpModel): { kind: string; describe: string; params: FieldDescription[] } {
  const k = getKind(kind);
  return { kind: k.kind, describe: k.describe, params: k.paramsSchema.describe(model ? modelInfo(model) : undefined) };
}

export interface ExperimentOutput extends ExperimentResult {
  kind: string;
  params: Record<string, unknown>;
}

/** Validates `rawParams`, runs the kind, and reports progress clamped to [0, 1] (1 at the end). */
export async function runExperiment(kind: string, ctx: ExperimentContext, rawParams: unknown, progress: Progress = () => {}): Promise<ExperimentOutput> {
  const k = getKind(kind);
  const params = k.paramsSchema.parse(rawParams, modelInfo(ctx.model)) as Record<string, unknown>;
  progress(0, `starting ${kind}`);
  const result = await k.run(ctx, params, (f, msg) => progress(Math.min(1, Math.max(0, f)), msg));
  progress(1, 'done');
  return { kind, params, ...result };
}
