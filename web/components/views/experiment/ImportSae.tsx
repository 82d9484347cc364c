'use client';
/**
 * Bring in an SAE saved by SAELens (its folder's cfg.json and sae_weights.safetensors) for the model
 * chosen above: the server checks both files against the model's hook and measures the SAE as it is
 * on held-out mazes, as an `sae` experiment with feature pages like a trained one.
 */
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { ImportSaeMutation } from '../../../lib/generated/operations';
import { fullId, shortId } from '../../../lib/graphql';
import { useMutation } from '../../../lib/hooks';
import { ErrorBox } from '../../ui';
import { IMPORT_SAE } from './ImportSae.queries';

/** A file's bytes as base64 (chunked: String.fromCharCode has an argument limit). */
async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function ImportSae({ model }: { model: string }) {
  const router = useRouter();
  const run = useMutation<ImportSaeMutation>(IMPORT_SAE);
  const [cfg, setCfg] = useState<File | null>(null);
  const [weights, setWeights] = useState<File | null>(null);
  const [classes, setClasses] = useState('sep');
  const [clientError, setClientError] = useState<Error>();
  async function submit(ev: React.FormEvent) {
    ev.preventDefault();
    setClientError(undefined);
    if (!cfg || !weights) return setClientError(new Error('choose both files: cfg.json and sae_weights.safetensors'));
    const r = await run.run({
      input: {
        modelId: fullId('Model', model),
        cfg: await cfg.text(),
        weights: await base64Of(weights),
        classes: classes
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean),
      },
    });
    const made = r?.importSae.params;
    if (made?.__typename === 'ExperimentJobParams' && made.experimentId) router.push(`/experiments/${shortId(made.experimentId)}`);
  }
  return (
    <details className="card" data-testid="import-sae">
      <summary>Import an SAE saved by SAELens</summary>
      <form onSubmit={submit} className="experiment-form">
        <label>
          cfg.json
          <input name="sae-cfg" type="file" accept=".json,application/json" onChange={(ev) => setCfg(ev.target.files?.[0] ?? null)} />
        </label>
        <label>
          sae_weights.safetensors
          <input name="sae-weights" type="file" accept=".safetensors" onChange={(ev) => setWeights(ev.target.files?.[0] ?? null)} />
        </label>
        <label className="wide">
          Token classes it is measured on (comma-separated: sep, adj_cell, path, …)
          <input name="sae-classes" value={classes} onChange={(ev) => setClasses(ev.target.value)} />
        </label>
        <button type="submit" className="primary wide" disabled={run.busy || !model} data-testid="import-sae-run">
          {run.busy ? 'Checking and queueing…' : 'Import and measure'}
        </button>
      </form>
      <ErrorBox error={clientError ?? run.error} />
    </details>
  );
}
