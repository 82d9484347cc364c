'use client';
/** An experiment without a typed result (a kind this dashboard does not know): its summary as JSON. */
import type { ExperimentData } from './common';

export function JsonView({ e }: { e: ExperimentData }) {
  return (
    <pre className="json" data-testid="json-view">
      {JSON.stringify(e.summary, null, 2)}
    </pre>
  );
}
