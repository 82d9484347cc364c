'use client';
/** /models: the models table, importing a safetensors file, and starting a training job. */
import type { ModelsQuery } from '../../lib/generated/operations';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { shortId } from '../../lib/graphql';
import { useMutation, useQuery } from '../../lib/hooks';
import { MODELS, TRAIN_MODEL } from './ModelsView.queries';
import { useUrlState } from '../../lib/url';
import { architectureLabel, type Dataset, type Job, type User } from '../../lib/types';
import { UrlJob } from '../UrlJob';
import { canWrite } from '../Session';
import { Badge, ErrorBox, Title, ago, num } from '../ui';

function ImportModel() {
  const router = useRouter();
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(undefined);
    try {
      // Raw bytes to the upload route (no base64 inflation); same session cookie as the API.
      const res = await fetch(`/upload/model?name=${encodeURIComponent(name || file.name.replace(/\.safetensors$/, ''))}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: file,
        credentials: 'same-origin',
      });
      const body = (await res.json()) as { id?: string; errors?: Array<{ message: string }> };
      if (!res.ok || !body.id) throw new Error(body.errors?.[0]?.message ?? `upload failed: HTTP ${res.status}`);
      router.push(`/models/${shortId(body.id)}`);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="card">
      <h2>Import a model</h2>
      <p className="sub">
        A <code>.safetensors</code> file with TransformerLens state_dict names (config and vocab in its metadata, or inferred).
      </p>
      <form onSubmit={submit} style={{ display: 'flex', flexDirection: 'column', gap: 10 }}>
        <label>
          Name
          <input name="model-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="defaults to the file name" />
        </label>
        <label>
          File
          <input name="model-file" type="file" accept=".safetensors" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required />
        </label>
        <button type="submit" className="primary" disabled={busy || !file}>
          {busy ? 'Uploading…' : 'Import'}
        </button>
      </form>
      <ErrorBox error={error} />
    </div>
  );
}

function TrainModel({
  datasets,
  onDone,
}: {
  datasets: Array<Pick<Dataset, 'id' | 'name' | 'status' | 'grid' | 'generator'>>;
  /** Called when the training job ends (its model, made as the job starts, is then READY or FAILED), so the list refetches. */
  onDone: () => void;
}) {
  const url = useUrlState();
  const train = useMutation<{ trainModel: Job }>(TRAIN_MODEL);
  const [f, setF] = useState({ name: '', preset: 'demo', datasetId: '', steps: 2000, seed: 0 });
  const ready = datasets.filter((d) => d.status === 'READY');
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const r = await train.run({ input: { ...f, datasetId: f.datasetId || ready[0]?.id } });
    if (r) url.set({ job: shortId(r.trainModel.id) });
  }
  const set = (k: keyof typeof f) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setF({ ...f, [k]: e.target.type === 'number' ? Number(e.target.value) : e.target.value });
  return (
    <div className="card">
      <h2>Train a model</h2>
      <form onSubmit={submit} style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 10 }}>
        <label style={{ gridColumn: '1 / 3' }}>
          Name
          <input name="train-name" value={f.name} onChange={set('name')} required />
        </label>
        <label>
          Preset
          <select name="train-preset" value={f.preset} onChange={set('preset')}>
            {['nano', 'tiny', 'hallway', 'demo', 'deep', 'deeper'].map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          Dataset
          <select value={f.datasetId} onChange={set('datasetId')}>
            {ready.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Steps
          <input name="train-steps" type="number" min={1} value={f.steps} onChange={set('steps')} />
        </label>
        <label>
          Seed
          <input type="number" min={0} value={f.seed} onChange={set('seed')} />
        </label>
        <button type="submit" className="primary" style={{ gridColumn: '1 / 3' }} disabled={train.busy || ready.length === 0}>
          Start training
        </button>
      </form>
      <ErrorBox error={train.error} />
      <UrlJob kind="trainModel" onDone={onDone}>
        {(j) =>
          j.result?.modelId ? (
            <p>
              <Link prefetch={false} href={`/models/${shortId(String(j.result.modelId))}`}>
                Open {String(j.result.modelId)} →
              </Link>
            </p>
          ) : null
        }
      </UrlJob>
    </div>
  );
}

export function ModelsView({ me }: { me: User }) {
  const q = useQuery<ModelsQuery>(MODELS);
  const models = q.data?.models.edges.map((e) => e.node) ?? [];
  return (
    <>
      <Title sub={q.data ? `${q.data.models.totalCount} models` : undefined}>Models</Title>
      <ErrorBox error={q.error} />
      <div className="row">
        <div className="card" style={{ flex: '2 1 640px' }}>
          <table data-testid="models">
            <thead>
              <tr>
                <th>Name</th>
                <th>Architecture</th>
                <th className="num">Parameters</th>
                <th>Tokenizer</th>
                <th>Source</th>
                <th>Status</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={m.id}>
                  <td>
                    <Link prefetch={false} href={`/models/${shortId(m.id)}`}>
                      {m.name}
                    </Link>
                  </td>
                  <td className="mono">
                    {m.config.n_layers}L {m.config.n_heads}H d_model={m.config.d_model} d_mlp={m.config.d_mlp}
                    {architectureLabel(m.config) ? ` (${architectureLabel(m.config)})` : ''}
                  </td>
                  <td className="num">{num(m.parameterCount)}</td>
                  <td className="mono">{m.config.tokenizer}</td>
                  <td>{String(m.lineage.source ?? '')}</td>
                  <td>
                    <Badge value={m.status} />
                  </td>
                  <td className="sub">
                    {m.createdBy?.name ?? 'demo'} · {ago(m.createdAt)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {q.data && models.length === 0 ? <p className="empty">No models yet: import a safetensors file or train one.</p> : null}
        </div>
        {canWrite(me) ? (
          <div style={{ flex: '1 1 320px' }}>
            <ImportModel />
            <TrainModel datasets={q.data?.datasets.edges.map((e) => e.node) ?? []} onDone={q.reload} />
          </div>
        ) : null}
      </div>
    </>
  );
}
