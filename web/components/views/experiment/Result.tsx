'use client';
/** The drawn result of a completed experiment: the kind's own view, or its summary as JSON. */
import type { Experiment } from '../../../lib/types';
import { AdjacencyView } from './AdjacencyView';
import { AttentionView } from './AttentionView';
import { BehaviorView } from './BehaviorView';
import { DlaView } from './DlaView';
import { JsonView } from './JsonView';
import { LensView } from './LensView';
import { LookaheadView } from './LookaheadView';
import { PatchingView } from './PatchingView';
import { PathPatchingView } from './PathPatchingView';
import { ProbesView } from './ProbesView';
import { RetargetView } from './RetargetView';
import { WeightsView } from './WeightsView';

const VIEWS: Record<string, (p: { e: Experiment }) => React.ReactNode> = {
  attention: AttentionView,
  'logit-lens': LensView,
  dla: DlaView,
  'activation-patching': PatchingView,
  'attribution-patching': PatchingView,
  'path-patching': PathPatchingView,
  probes: ProbesView,
  weights: WeightsView,
  'adjacency-heads': AdjacencyView,
  retarget: RetargetView,
  behavior: BehaviorView,
  lookahead: LookaheadView,
};

export function hasView(kind: string): boolean {
  return kind in VIEWS;
}

export function Result({ e }: { e: Experiment }) {
  const View = VIEWS[e.kind] ?? JsonView;
  return <View e={e} />;
}
