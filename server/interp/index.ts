/**
 * The registry of experiment kinds (issue 6) and the one entry point every interface uses:
 * `runExperiment(kind, ctx, rawParams, progress)` validates the params against the kind's schema
 * (defaults from the model), runs it, and returns { kind, params (as run), summary, tensors }.
 *
 * Every kind's summary has its own exported type (AttentionSummary, …); ExperimentSummary is their
 * union, discriminated by `kind`, and SummaryOf<'attention'> picks one. The GraphQL API serves them
 * as Experiment.result (server/graphql/resolvers/experiment-result.ts checks, at compile time, that
 * each maps onto its SDL type).
 */
import { type ActivationPatchingSummary, activationPatching } from './activation-patching.js';
import { type AdjacencyHeadsSummary, adjacencyHeads } from './adjacency-heads.js';
import { type AttentionSummary, attention } from './attention.js';
import { type AttributionPatchingSummary, attributionPatching } from './attribution-patching.js';
import { type BehaviorSummary, behavior } from './behavior.js';
import { InterpError, modelInfo } from './context.js';
import { type DlaSummary, dla } from './dla.js';
import { type LogitLensSummary, logitLens } from './logit-lens.js';
import { type PathPatchingSummary, pathPatching } from './path-patching.js';
import { type GeometrySummary, geometry } from './geometry.js';
import { type LookaheadSummary, lookahead } from './lookahead.js';
import type { FieldDescription, FieldSpec, ModelInfo } from './params.js';
import { type ProbesSummary, probes } from './probes.js';
import { type RetargetSummary, retarget } from './retarget.js';
import { type SaeSummary, sae } from './sae/kind.js';
import { type SaeInterventionSummary, saeIntervention } from './sae/intervention-kind.js';
import type { ExperimentContext, ExperimentKind, ExperimentResult, InterpModel, Progress, SummaryBase } from './types.js';
import { type WeightsSummary, weights } from './weights.js';

export type { ExperimentContext, ExperimentKind, ExperimentResult, InterpModel, MazeSource, NamedTensor, Progress, StoredSae, SummaryBase } from './types.js';
export type { ActivationPatchingSummary, PatchPeak } from './activation-patching.js';
export type { AdjacencyHeadRow, AdjacencyHeadsSummary } from './adjacency-heads.js';
export type { AttentionSummary, AttentionTopCell } from './attention.js';
export type { AttributionPatchingSummary } from './attribution-patching.js';
export type { BehaviorMetrics, BehaviorRow, BehaviorSummary, BehaviorTableRow } from './behavior.js';
export type { DlaComponentMean, DlaSummary, PerDlaClass } from './dla.js';
export type { LogitLensLayer, LogitLensSummary } from './logit-lens.js';
export type { LookaheadRow, LookaheadSummary } from './lookahead.js';
export type { PatchPairRow, PerSite } from './patch-common.js';
export type { PathPatchingSummary, PathReceiverHeads, PathSender } from './path-patching.js';
export type { GeometryBest, GeometryChance, GeometryLayer, GeometryScore, GeometrySummary } from './geometry.js';
export type { PerProbeTarget, ProbeTableRow, ProbeTargetScores, ProbesSummary } from './probes.js';
export type { RetargetLayer, RetargetOutcome, RetargetSummary } from './retarget.js';
export type { SaeCategoryBest, SaeCurvePoint, SaeEval, SaePropertyScores, SaeSummary } from './sae/kind.js';
export { categoryNames as saeCategoryNames, SAE_PROPERTIES, type SaeProperty } from './sae/kind.js';
export type { SaeInterventionOutcome, SaeInterventionSummary } from './sae/intervention-kind.js';
export type { WeightsEmbedding, WeightsHead, WeightsSummary } from './weights.js';

/** The summary of any kind: one union, discriminated by `kind`. */
export type ExperimentSummary =
  | AttentionSummary
  | LogitLensSummary
  | DlaSummary
  | ActivationPatchingSummary
  | AttributionPatchingSummary
  | PathPatchingSummary
  | GeometrySummary
  | ProbesSummary
  | WeightsSummary
  | AdjacencyHeadsSummary
  | RetargetSummary
  | BehaviorSummary
  | LookaheadSummary
  | SaeSummary
  | SaeInterventionSummary;

/** The registry's kind names, as their summaries spell them. */
export type KindName = ExperimentSummary['kind'];

/** The summary type of kind `K`, e.g. SummaryOf<'dla'> = DlaSummary. */
export type SummaryOf<K extends KindName> = Extract<ExperimentSummary, { kind: K }>;
export { createInterpModel, defaultGrid, InterpError } from './context.js';
export { ParamsError } from './params.js';
export type { FieldDescription, FieldSpec } from './params.js';

/**
 * A kind as the registry holds it: its params type kept inside (parse, then run with the parsed
 * params), so kinds of different params live in one map without casts.
 */
export interface RegisteredKind<S extends SummaryBase = ExperimentSummary> {
  readonly kind: string;
  readonly describe: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** The fields with their defaults (concrete when `info` is given). */
  describeParams(info?: ModelInfo): FieldDescription[];
  /** Validated params with defaults filled in, as stored and shown. */
  parse(raw: unknown, info: ModelInfo): Record<string, unknown>;
  /** Validates `raw` and runs the kind on it. */
  run(ctx: ExperimentContext, raw: unknown, progress: Progress): Promise<ExperimentOutput<S>>;
}

function register<P extends Record<string, unknown>, S extends SummaryBase>(k: ExperimentKind<P, S>): RegisteredKind<S> {
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

/**
 * Every kind under its name, in listing order. The mapped type pairs each name with the kind whose
 * summary carries that name, so filing a kind under another's name fails to compile.
 */
const REGISTRY: { readonly [K in KindName]: RegisteredKind<SummaryOf<K>> } = {
  attention: register(attention),
  'logit-lens': register(logitLens),
  dla: register(dla),
  'activation-patching': register(activationPatching),
  'attribution-patching': register(attributionPatching),
  'path-patching': register(pathPatching),
  geometry: register(geometry),
  probes: register(probes),
  weights: register(weights),
  'adjacency-heads': register(adjacencyHeads),
  retarget: register(retarget),
  behavior: register(behavior),
  lookahead: register(lookahead),
  sae: register(sae),
  'sae-intervention': register(saeIntervention),
};

export const KINDS: ReadonlyMap<string, RegisteredKind> = new Map(
  Object.entries(REGISTRY).map(([name, k]: [string, RegisteredKind]) => {
    // The key is checked against the summary's `kind` above; this checks it against the kind's own name.
    if (k.kind !== name) throw new Error(`experiment kind "${k.kind}" is filed under "${name}"`);
    return [name, k];
  }),
);

/** Whether `name` is a registered kind (narrows it for SummaryOf). */
export function isKindName(name: string): name is KindName {
  return Object.hasOwn(REGISTRY, name);
}

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

export interface ExperimentOutput<S extends SummaryBase = ExperimentSummary> extends ExperimentResult<S> {
  kind: string;
  params: Record<string, unknown>;
}

/**
 * Validates `rawParams`, runs the kind, and reports progress clamped to [0, 1] (1 at the end).
 * With a literal kind name the summary has that kind's type; with any string, the union.
 */
export function runExperiment<K extends KindName>(
  kind: K,
  ctx: ExperimentContext,
  rawParams: unknown,
  progress?: Progress,
): Promise<ExperimentOutput<SummaryOf<K>>>;
export function runExperiment(kind: string, ctx: ExperimentContext, rawParams: unknown, progress?: Progress): Promise<ExperimentOutput>;
export async function runExperiment(kind: string, ctx: ExperimentContext, rawParams: unknown, progress: Progress = () => {}): Promise<ExperimentOutput> {
  const k = getKind(kind);
  k.parse(rawParams, modelInfo(ctx.model)); // refuse bad params before announcing a start
  progress(0, `starting ${kind}`);
  const out = await k.run(ctx, rawParams, (f, msg) => progress(Math.min(1, Math.max(0, f)), msg));
  progress(1, 'done');
  return out;
}
