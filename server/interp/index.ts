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
import { pathPatching } from './path-patching.js';
import { lookahead } from './lookahead.js';
import type { FieldDescription, FieldSpec, ModelInfo } from './params.js';
import { probes } from './probes.js';
import { retarget } from './retarget.js';
import type { ExperimentContext, ExperimentKind, ExperimentResult, InterpModel, Progress } from './types.js';
import { weights } from './weights.js';

export type { ExperimentContext, ExperimentKind, ExperimentResult, InterpModel, MazeSource, NamedTensor, Progress } from './types.js';
export { createInterpModel, defaultGrid, InterpError } from './context.js';
export { ParamsError } from './params.js';

/**
 * A kind as the registry holds it: its params type kept inside (parse, then run with the parsed
 * params), so kinds of different params live in one map without casts.
 */
export interface RegisteredKind {
  readonly kind: string;
  readonly describe: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** The fields with their defaults (concrete when `info` is given). */
  describeParams(info?: ModelInfo): FieldDescription[];
  /** Validated params with defaults filled in, as stored and shown. */
  parse(raw: unknown, info: ModelInfo): Record<string, unknown>;
  /** Validates `raw` and runs the kind on it. */
  run(ctx: ExperimentContext, raw: unknown, progress: Progress): Promise<ExperimentOutput>;
}

function register<P extends Record<string, unknown>>(k: ExperimentKind<P>): RegisteredKind {
  return {
    kind: k.kind,
    describe: k.describe,
    fields: k.paramsSchema.fields,
    describeParams: (info) => k.paramsSchema.describe(info),
    parse: (raw, info) => k.paramsSchema.parse(raw, info),
    async run(ctx, raw, progress) {
      const params = k.paramsSchema.parse(raw, modelInfo(ctx.model));
      return { kind: k.kind, params, ...(await k.run(ctx, params, progress)) };
    },
  };
}

export const KINDS: ReadonlyMap<string, RegisteredKind> = new Map(
  [
    register(attention),
    register(logitLens),
    register(dla),
    register(activationPatching),
    register(attributionPatching),
    register(pathPatching),
    register(probes),
    register(weights),
    register(adjacencyHeads),
    register(retarget),
    register(behavior),
    register(lookahead),
  ].map((k) => [k.kind, k]),
);

export function kindNames(): string[] {
  return [...KINDS.keys()];
}

export function getKind(name: string): RegisteredKind {
  const k = KINDS.get(name);
  if (!k) throw new InterpError(`unknown experiment kind "${name}"; known kinds: ${kindNames().join(', ')}`);
  return k;
}

/** Params as a kind will run them: validated, defaults filled in for this model. */
export function resolveParams(kind: string, model: InterpModel, raw: unknown): Record<string, unknown> {
  return getKind(kind).parse(raw, modelInfo(model));
}

/** A kind's fields with their defaults (concrete for `model` when given). */
export function describeKind(kind: string, model?: InterpModel): { kind: string; describe: string; params: FieldDescription[] } {
  const k = getKind(kind);
  return { kind: k.kind, describe: k.describe, params: k.describeParams(model ? modelInfo(model) : undefined) };
}

export interface ExperimentOutput extends ExperimentResult {
  kind: string;
  params: Record<string, unknown>;
}

/** Validates `rawParams`, runs the kind, and reports progress clamped to [0, 1] (1 at the end). */
export async function runExperiment(kind: string, ctx: ExperimentContext, rawParams: unknown, progress: Progress = () => {}): Promise<ExperimentOutput> {
  const k = getKind(kind);
  k.parse(rawParams, modelInfo(ctx.model)); // refuse bad params before announcing a start
  progress(0, `starting ${kind}`);
  const out = await k.run(ctx, rawParams, (f, msg) => progress(Math.min(1, Math.max(0, f)), msg));
  progress(1, 'done');
  return out;
}
