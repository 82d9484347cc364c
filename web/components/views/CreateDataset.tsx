'use client';
/**
 * The create-dataset form → a job with a live progress bar. The job id is kept in the URL (`job`)
 * so a reload or a shared link shows the same job.
 */
import Link from 'next/link';
import { useState } from 'react';
import { shortId } from '../../lib/graphql';
import { useMutation } from '../../lib/hooks';
import { CREATE_DATASET } from './CreateDataset.queries';
import { useUrlState } from '../../lib/url';
import type { Job } from '../../lib/types';
import { UrlJob } from '../UrlJob';
import { ErrorBox } from '../ui';

const PERCOLATION = new Set(['percolation', 'dfs_percolation']);

export function CreateDataset({ generators, onDone }: { generators: string[]; onDone: () => void }) {
  const url = useUrlState();
  const create = useMutation<{ createDataset: Job }>(CREATE_DATASET);
  const [f, setF] = useState({ name: '', generator: 'dfs', grid: 5, count: 1000, seed: 1, p: 0.5, testFraction: 0.1 });
  const set = (k: keyof typeof f) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setF({ ...f, [k]: e.target.type === 'number' ? Number(e.target.value) : e.target.value });

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const input: Record<string, unknown> = { name: f.name, generator: f.generator, grid: f.grid, count: f.count, seed: f.seed, testFraction: f.testFraction };
    if (PERCOLATION.has(f.generator)) input.p = f.p;
    const r = await create.run({ input });
    if (r) url.set({ job: shortId(r.createDataset.id) });
  }

  return (
    <div className="card">
      <h2>New dataset</h2>
      <form onSubmit={submit} style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 10 }}>
        <label style={{ gridColumn: '1 / 3' }}>
          Name
          <input name="name" value={f.name} onChange={set('name')} required placeholder="e.g. 6x6 wilson, 10k" />
        </label>
        <label>
          Generator
          <select name="generator" value={f.generator} onChange={set('generator')}>
            {(generators.length ? generators : ['dfs']).map((g) => (
              <option key={g}>{g}</option>
            ))}
          </select>
        </label>
        <label>
          Grid (side, 2–64)
          <input name="grid" type="number" min={2} max={64} value={f.grid} onChange={set('grid')} />
        </label>
        <label>
          Mazes (1–1,000,000)
          <input name="count" type="number" min={1} max={1000000} value={f.count} onChange={set('count')} />
        </label>
        <label>
          Seed
          <input name="seed" type="number" min={0} value={f.seed} onChange={set('seed')} />
        </label>
        <label>
          Test fraction
          <input name="testFraction" type="number" step={0.05} min={0} max={0.5} value={f.testFraction} onChange={set('testFraction')} />
        </label>
        {PERCOLATION.has(f.generator) ? (
          <label>
            Edge probability p<input name="p" type="number" step={0.05} min={0} max={1} value={f.p} onChange={set('p')} />
          </label>
        ) : (
          <span />
        )}
        <button type="submit" className="primary" style={{ gridColumn: '1 / 3' }} disabled={create.busy}>
          Create dataset
        </button>
      </form>
      <ErrorBox error={create.error} />
      <UrlJob kind="createDataset" onDone={onDone}>
        {(j) =>
          j.result?.datasetId ? (
            <p>
              <Link prefetch={false} href={`/datasets/${shortId(String(j.result.datasetId))}`} data-testid="open-dataset">
                Open {String(j.result.datasetId)} →
              </Link>
            </p>
          ) : null
        }
      </UrlJob>
    </div>
  );
}
