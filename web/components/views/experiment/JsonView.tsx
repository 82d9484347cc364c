'use client';
/** Any kind without a dedicated view: its summary as JSON. */
import type { ViewProps } from './common';

export function JsonView({ e }: ViewProps) {
  return (
    <pre className="json" data-testid="json-view">
      {JSON.stringify(e.summary, null, 2)}
    </pre>
  );
}
