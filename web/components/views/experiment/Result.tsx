'use client';
/**
 * The drawn result of a completed experiment: the view of its summary's type (Experiment.result,
 * one member per kind), or its summary as JSON when the API has no typed result for it.
 */
import { AdjacencyView } from './AdjacencyView';
import { AttentionView } from './AttentionView';
import { BehaviorView } from './BehaviorView';
import type { ExperimentData } from './common';
import { DlaView } from './DlaView';
import { JsonView } from './JsonView';
import { LensView } from './LensView';
import { LookaheadView } from './LookaheadView';
import { PatchingView } from './PatchingView';
import { PathPatchingView } from './PathPatchingView';
import { GeometryView } from './GeometryView';
import { ProbesView } from './ProbesView';
import { RetargetView } from './RetargetView';
import { SaeInterventionView } from './SaeInterventionView';
import { SaeView } from './SaeView';
import { WeightsView } from './WeightsView';

/** Whether the experiment has a drawn view (else Result shows its JSON). */
export function hasView(e: ExperimentData): boolean {
  return e.result !== null;
}

export function Result({ e }: { e: ExperimentData }) {
  const s = e.result;
  // A switch over the union: each view gets its own kind's fields, checked by the compiler.
  switch (s?.__typename) {
    case 'AttentionSummary':
      return <AttentionView e={e} s={s} />;
    case 'LogitLensSummary':
      return <LensView e={e} s={s} />;
    case 'DlaSummary':
      return <DlaView e={e} s={s} />;
    case 'ActivationPatchingSummary':
    case 'AttributionPatchingSummary':
      return <PatchingView e={e} s={s} />;
    case 'PathPatchingSummary':
      return <PathPatchingView e={e} s={s} />;
    case 'GeometrySummary':
      return <GeometryView e={e} s={s} />;
    case 'ProbesSummary':
      return <ProbesView e={e} s={s} />;
    case 'WeightsSummary':
      return <WeightsView e={e} s={s} />;
    case 'AdjacencyHeadsSummary':
      return <AdjacencyView e={e} s={s} />;
    case 'RetargetSummary':
      return <RetargetView e={e} s={s} />;
    case 'BehaviorSummary':
      return <BehaviorView e={e} s={s} />;
    case 'LookaheadSummary':
      return <LookaheadView e={e} s={s} />;
    case 'SaeSummary':
      return <SaeView e={e} s={s} />;
    case 'SaeInterventionSummary':
      return <SaeInterventionView e={e} s={s} />;
    default:
      return <JsonView e={e} />;
  }
}
