'use client';
/** An experiment whose kind this dashboard has no view for: its typed result as JSON. */
import type { ExperimentData } from './common';

export function JsonView({ e }: { e: ExperimentData }) {
  return (
    <pre className="json" data-testid="json-view">
      {JSON.stringify(e.result, null, 2)}
    </pre>
  );
}
