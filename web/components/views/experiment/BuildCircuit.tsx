'use client';
/**
 * "Build a circuit from this result": seeds a circuit on the experiment's model with an edge for
 * every effect at |effect| ≥ the threshold (Mutation.circuitFromExperiment), then opens it. Shown
 * on the kinds that measure effects between components.
 */
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { CircuitFromExperimentMutation } from '../../../lib/generated/operations';
import { shortId } from '../../../lib/graphql';
import { useMutation } from '../../../lib/hooks';
import { ErrorBox } from '../../ui';
import { CIRCUIT_FROM_EXPERIMENT } from './BuildCircuit.queries';

/** The kinds the server builds circuits from (interp/circuit-evidence.ts). */
export const CIRCUIT_KINDS = new Set(['path-patching', 'activation-patching', 'attribution-patching', 'dla']);

export function BuildCircuit({ experimentId, kind }: { experimentId: string; kind: string }) {
  const router = useRouter();
  const build = useMutation<CircuitFromExperimentMutation>(CIRCUIT_FROM_EXPERIMENT);
  const [threshold, setThreshold] = useState(kind === 'dla' ? '0.1' : '0.2');
  const t = Number(threshold);
  return (
    <form
      className="inline"
      data-testid="build-circuit"
      onSubmit={async (ev) => {
        ev.preventDefault();
        const r = await build.run({ experimentId, threshold: t });
        if (r) router.push(`/circuits/${shortId(r.circuitFromExperiment.id)}`);
      }}
    >
      <label>
        Build a circuit from the effects with |effect| ≥
        <input
          name="circuit-threshold"
          type="number"
          step="any"
          min={0}
          value={threshold}
          onChange={(e) => setThreshold(e.target.value)}
          style={{ width: 80 }}
        />
      </label>
      <button type="submit" disabled={build.busy || !(t >= 0)}>
        Build circuit
      </button>
      <ErrorBox error={build.error} />
    </form>
  );
}
