/**
 * Experiment.result: an experiment's stored summary served as the SDL type of its kind
 * (schema/experiment.graphql, `union ExperimentSummary`), and the compile-time contract between
 * the two sides. Each kind declares its summary type in server/interp/<kind>.ts (AttentionSummary,
 * …); the SDL declares an object type of the same name per kind. Here:
 *   - TO_RESULT maps each interp summary onto the generated resolver type of its SDL type, without
 *     casts: a key renamed or retyped on either side, or a non-null SDL field the summary lacks,
 *     fails `npm run typecheck`;
 *   - SummaryKeysMatch checks that every summary object (nested rows included) and its SDL type
 *     have the same keys, which assignability alone does not: a key added to a summary but not to
 *     the SDL (never served), or a nullable SDL field no summary fills (always null), fails too;
 *   - TYPENAMES names the SDL type of each kind, for the union's __resolveType.
 * Field names are the summary's keys (snake_case), so `result` reads like the deprecated
 * `summary` JSON; the few values JSON holds and GraphQL cannot are converted in TO_RESULT.
 */
import { type KindName, type SummaryOf, isKindName } from '../../interp/index.js';
import type * as I from '../../interp/index.js';
import type { ExperimentSummary as GraphQLExperimentSummary, ResolversParentTypes as G } from '../generated/types.js';

/** 'logit-lens' → 'LogitLens' (kind names are kebab-case, SDL type names PascalCase). */
type Pascal<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Capitalize<Head>}${Pascal<Tail>}` : Capitalize<S>;

/** The SDL type of a kind's summary, e.g. SummaryTypename<'logit-lens'> = 'LogitLensSummary'. */
export type SummaryTypename<K extends KindName> = `${Pascal<K>}Summary`;
export type ResultTypename = SummaryTypename<KindName>;

const TYPENAMES: { readonly [K in KindName]: SummaryTypename<K> } = {
  attention: 'AttentionSummary',
  'logit-lens': 'LogitLensSummary',
  dla: 'DlaSummary',
  'activation-patching': 'ActivationPatchingSummary',
  'attribution-patching': 'AttributionPatchingSummary',
  'path-patching': 'PathPatchingSummary',
  geometry: 'GeometrySummary',
  probes: 'ProbesSummary',
  weights: 'WeightsSummary',
  'adjacency-heads': 'AdjacencyHeadsSummary',
  retarget: 'RetargetSummary',
  behavior: 'BehaviorSummary',
  lookahead: 'LookaheadSummary',
  sae: 'SaeSummary',
  'sae-intervention': 'SaeInterventionSummary',
};

/** Maps a summary onto what its SDL type's resolvers take; identity wherever the JSON shape is the SDL's. */
type ToResult = { readonly [K in KindName]: (s: SummaryOf<K>) => G[SummaryTypename<K>] };

const TO_RESULT: ToResult = {
  // JSON: a name or an index; the SDL field is a String (the index as decimal digits).
  attention: (s) => ({ ...s, query: String(s.query) }),
  'logit-lens': (s) => s,
  dla: (s) => s,
  'activation-patching': (s) => s,
  'attribution-patching': (s) => s,
  // JSON: the string "logits", or {layer, heads: number[] | "all", inputs}; the SDL: one object with its kind.
  'path-patching': (s) => ({
    ...s,
    receivers:
      s.receivers === 'logits'
        ? { kind: 'logits' }
        : { kind: 'heads', layer: s.receivers.layer, heads: s.receivers.heads === 'all' ? null : s.receivers.heads, inputs: s.receivers.inputs },
  }),
  geometry: (s) => s,
  probes: (s) => s,
  weights: (s) => s,
  'adjacency-heads': (s) => s,
  retarget: (s) => s,
  behavior: (s) => s,
  lookahead: (s) => s,
  sae: (s) => s,
  'sae-intervention': (s) => s,
};

/** `true` when I (interp) and G (SDL) have the same keys; otherwise the keys only one side has. */
type SameKeys<I, G> = [Exclude<keyof I, keyof G>, Exclude<keyof G, keyof I>] extends [never, never]
  ? true
  : { onlyInInterp: Exclude<keyof I, keyof G>; onlyInSdl: Exclude<keyof G, keyof I> };

/** Compiles only when every entry is `true`. */
type AllTrue<T extends readonly true[]> = T;

/**
 * Every summary object and its SDL type, nested rows included. Not listed: AggregateMetrics
 * (behavior's rows), an SDL type shared with evaluations that leaves out the aggregate's `defined`
 * counts; PathPatchingReceivers, whose JSON is a string or an object (TO_RESULT converts it, and the
 * entry below checks the object branch).
 */
export type SummaryKeysMatch = AllTrue<
  [
    SameKeys<I.AttentionSummary, G['AttentionSummary']>,
    SameKeys<I.AttentionTopCell, G['AttentionTopCell']>,
    SameKeys<I.LogitLensSummary, G['LogitLensSummary']>,
    SameKeys<I.LogitLensLayer, G['LogitLensLayer']>,
    SameKeys<I.DlaSummary, G['DlaSummary']>,
    SameKeys<I.PerDlaClass<number>, G['DlaClassCounts']>,
    SameKeys<I.PerDlaClass<number | null>, G['DlaClassValues']>,
    SameKeys<I.DlaComponentMean, G['DlaComponentMean']>,
    SameKeys<I.PatchPairRow, G['PatchPair']>,
    SameKeys<I.ActivationPatchingSummary, G['ActivationPatchingSummary']>,
    SameKeys<I.PerSite<I.PatchPeak | null>, G['PatchPeaks']>,
    SameKeys<I.PatchPeak, G['PatchPeak']>,
    SameKeys<I.AttributionPatchingSummary, G['AttributionPatchingSummary']>,
    SameKeys<I.PerSite<number | null>, G['PatchSiteValues']>,
    SameKeys<I.PathPatchingSummary, G['PathPatchingSummary']>,
    SameKeys<I.PathReceiverHeads & { kind: 'heads' }, G['PathPatchingReceivers']>,
    SameKeys<I.PathSender, G['PathSender']>,
    SameKeys<I.GeometrySummary, G['GeometrySummary']>,
    SameKeys<I.GeometryLayer, G['GeometryLayer']>,
    SameKeys<I.GeometryScore, G['GeometryScore']>,
    SameKeys<I.GeometryChance, G['GeometryChance']>,
    SameKeys<I.GeometryBest, G['GeometryBest']>,
    SameKeys<I.ProbesSummary, G['ProbesSummary']>,
    SameKeys<I.PerProbeTarget<number>, G['ProbeLabelColumns']>,
    SameKeys<I.ProbeTableRow, G['ProbeTableRow']>,
    SameKeys<I.ProbeTargetScores, G['ProbeTargetScores']>,
    SameKeys<I.WeightsSummary, G['WeightsSummary']>,
    SameKeys<I.WeightsEmbedding, G['WeightsEmbedding']>,
    SameKeys<I.WeightsHead, G['WeightsHead']>,
    SameKeys<I.AdjacencyHeadsSummary, G['AdjacencyHeadsSummary']>,
    SameKeys<I.AdjacencyHeadRow, G['AdjacencyHeadRow']>,
    SameKeys<I.RetargetSummary, G['RetargetSummary']>,
    SameKeys<I.RetargetSummary['baseline'], G['RetargetBaseline']>,
    SameKeys<I.RetargetLayer, G['RetargetLayer']>,
    SameKeys<I.RetargetOutcome, G['RetargetOutcome']>,
    SameKeys<I.BehaviorSummary, G['BehaviorSummary']>,
    SameKeys<I.BehaviorRow, G['BehaviorRow']>,
    SameKeys<I.BehaviorTableRow, G['BehaviorTableRow']>,
    SameKeys<I.BehaviorMetrics, G['BehaviorMetrics']>,
    SameKeys<I.LookaheadSummary, G['LookaheadSummary']>,
    SameKeys<I.LookaheadRow, G['LookaheadRow']>,
    SameKeys<I.SaeSummary, G['SaeSummary']>,
    SameKeys<I.SaeCurvePoint, G['SaeCurvePoint']>,
    SameKeys<I.SaeEval, G['SaeEval']>,
    SameKeys<I.SaePropertyScores, G['SaePropertyScores']>,
    SameKeys<I.SaeCategoryBest, G['SaeCategoryBest']>,
    SameKeys<I.SaeInterventionSummary, G['SaeInterventionSummary']>,
    SameKeys<I.SaeInterventionOutcome, G['SaeInterventionOutcome']>,
    // The union has exactly one member per kind, both ways.
    SameKeys<Record<ResultTypename, true>, Record<NonNullable<GraphQLExperimentSummary['__typename']>, true>>,
  ]
>;

/** The SDL type of a kind's summary; null for a name that is no kind. */
export function resultTypename(kind: string): ResultTypename | null {
  return isKindName(kind) ? TYPENAMES[kind] : null;
}

/**
 * The stored summary is what the kind's `run` returned (jobs/handlers/experiment.ts stores it as
 * is), so its kind tag is the one thing checked here; the rest of its shape is the kind's type.
 */
function isSummaryOf<K extends KindName>(kind: K, v: unknown): v is SummaryOf<K> {
  return typeof v === 'object' && v !== null && 'kind' in v && v.kind === kind;
}

function toResult<K extends KindName>(kind: K, stored: unknown): G[SummaryTypename<K>] | null {
  return isSummaryOf(kind, stored) ? TO_RESULT[kind](stored) : null;
}

/** Experiment.result: the stored summary as its kind's SDL type; null until COMPLETED, or for a summary of another kind. */
export function experimentResult(kind: string, stored: unknown): G['ExperimentSummary'] | null {
  return isKindName(kind) ? toResult(kind, stored) : null;
}
