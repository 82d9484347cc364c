'use client';
/**
 * /models/[id]: config, training curve (refreshed while its training job runs), evaluation table
 * with the baseline row, checkpoints with downloads, circuits, and links into the playground and
 * findings.
 */
import type { ModelQuery } from '../../lib/generated/operations';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { fullId, shortId } from '../../lib/graphql';
import { useMutation, useQuery, useSubscription } from '../../lib/hooks';
import { componentPage, headHref } from '../../lib/url';
import { JOB_PROGRESS } from '../JobProgress.queries';
import { CREATE_CIRCUIT, MODEL } from './ModelView.queries';
import type { Checkpoint, CurvePoint, Evaluation, Job, Model, User } from '../../lib/types';
import { LineChart } from '../LineChart';
import { canWrite } from '../Session';
import { Badge, ErrorBox, Title, ago, bytes, num } from '../ui';
import { EvalTable } from './EvalTable';
import { ModelExperiments } from './experiment/ModelExperiments';

type FullModel = Model & { vocab: string[]; checkpoints: Checkpoint[]; trainingCurve: CurvePoint[]; evals: Evaluation[] };

function TrainingCurve({ model, jobs, reload }: { model: FullModel; jobs: Job[]; reload: () => void }) {
  // The curve grows while this model's training job runs: refetch on each progress event.
  const live = jobs.find((j) => j.result?.modelId === model.id && (j.status === 'RUNNING' || j.status === 'QUEUED'));
  useSubscription<{ jobProgress: Job }>(JOB_PROGRESS, live ? { id: live.id } : null, reload);
  const byName = new Map<string, Array<{ x: number; y: number }>>();
  for (const p of model.trainingCurve) byName.set(p.name, [...(byName.get(p.name) ?? []), { x: p.step, y: p.value }]);
  const series = [...byName].map(([name, points]) => ({ name, points }));
  // Small multiples, one per unit: loss, learning rate and success rates do not share an axis.
  const groups: Array<[label: string, test: (n: string) => boolean]> = [
    ['loss (cross-entropy)', (n) => n.endsWith('loss')],
    ['learning rate', (n) => n.endsWith('/lr')],
    ['rate (fraction of held-out mazes)', (n) => n.endsWith('_rate')],
  ];
  const other = series.filter((x) => !groups.some(([, t]) => t(x.name)));
  const charts = [...groups.map(([label, t]) => [label, series.filter((x) => t(x.name))] as const), ['other', other] as const].filter(([, xs]) => xs.length);
  return (
    <div className="card">
      <h2>Training curve {live ? <span className="badge RUNNING">live</span> : null}</h2>
      {charts.length ? (
        <div className="row" data-testid="training-curve">
          {charts.map(([label, xs]) => (
            <div key={label}>
              <h3>{label}</h3>
              <LineChart series={[...xs]} yLabel={label} width={360} height={180} />
            </div>
          ))}
        </div>
      ) : (
        <p className="empty">No training curve (imported models have none).</p>
      )}
    </div>
  );
}

export function ModelView({ id, me }: { id: string; me: User }) {
  const router = useRouter();
  const q = useQuery<ModelQuery>(MODEL, { id: fullId('Model', id) });
  const newCircuit = useMutation<{ createCircuit: { id: string } }>(CREATE_CIRCUIT);
  const [circuitName, setCircuitName] = useState('');
  const m = q.data?.model;
  if (q.data && !m) return <ErrorBox error={new Error(`Model:${id} not found`)} />;

  async function createCircuit(e: React.FormEvent) {
    e.preventDefault();
    if (!m) return;
    // No graph: the server starts it with every component of the model as a node.
    const r = await newCircuit.run({ modelId: m.id, name: circuitName });
    if (r) router.push(`/circuits/${shortId(r.createCircuit.id)}`);
  }

  return (
    <>
      <Title
        sub={
          m ? (
            <>
              <Badge value={m.status} /> {num(m.parameterCount)} parameters · {String(m.lineage.source ?? '')} · {ago(m.createdAt)}
            </>
          ) : undefined
        }
      >
        {m?.name ?? `Model ${id}`}
      </Title>
      <ErrorBox error={q.error} />
      {m ? (
        <>
          <p className="filters">
            <Link prefetch={false} className="button primary" href={`/playground?model=${id}`}>
              Open in playground
            </Link>
            <Link prefetch={false} className="button" href={`/experiments?model=${id}`}>
              Experiments
            </Link>
            <Link prefetch={false} className="button" href={`/findings?model=${id}`}>
              Findings
            </Link>
            {m.checkpoints.at(-1) ? (
              <a className="button" href={m.checkpoints.at(-1)!.downloadUrl} download>
                Download latest weights
              </a>
            ) : null}
          </p>
          <div className="grid2">
            <div className="card">
              <h2>Config</h2>
              <table>
                <tbody>
                  {Object.entries(m.config).map(([k, v]) => (
                    <tr key={k}>
                      <th className="mono" style={{ textTransform: 'none' }}>
                        {k}
                      </th>
                      <td className="mono">{String(v)}</td>
                    </tr>
                  ))}
                  <tr>
                    <th>lineage</th>
                    <td className="mono" style={{ fontSize: 11.5 }}>
                      {JSON.stringify(m.lineage)}
                    </td>
                  </tr>
                </tbody>
              </table>
            </div>
            <TrainingCurve model={m} jobs={q.data?.trainJobs.edges.map((e) => e.node) ?? []} reload={q.reload} />
            <EvalTable
              model={m}
              evals={m.evals}
              curve={m.trainingCurve}
              datasets={q.data?.datasets.edges.map((e) => e.node) ?? []}
              canRun={canWrite(me)}
              onDone={q.reload}
            />
            <ModelExperiments modelId={m.id} canRun={canWrite(me)} />
            <div className="card" data-testid="model-components">
              <h2>Components</h2>
              <p className="sub">Each head and MLP has a page: what experiments measured about it, its findings, its activity on test mazes.</p>
              <table className="compact">
                <tbody>
                  {Array.from({ length: m.config.n_layers }, (_, l) => (
                    <tr key={l}>
                      <th>Layer {l}</th>
                      <td>
                        <nav className="siblings">
                          {Array.from({ length: m.config.n_heads }, (_, h) => (
                            <Link key={h} prefetch={false} href={headHref(m.id, l, h)}>
                              L{l}H{h}
                            </Link>
                          ))}
                          {m.config.attn_only ? null : (
                            <Link prefetch={false} href={componentPage(m.id, `L${l}.mlp`)}>
                              L{l}.mlp
                            </Link>
                          )}
                        </nav>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="card">
              <h2>Checkpoints</h2>
              <table>
                <thead>
                  <tr>
                    <th className="num">Step</th>
                    <th>sha256</th>
                    <th className="num">Size</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {m.checkpoints.map((c) => (
                    <tr key={c.id}>
                      <td className="num">{num(c.step)}</td>
                      <td className="mono" title={c.sha256}>
                        {c.sha256.slice(0, 12)}
                      </td>
                      <td className="num">{bytes(c.bytes)}</td>
                      <td>
                        <a href={c.downloadUrl} download>
                          .safetensors
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="card">
              <h2>Circuits</h2>
              {q.data?.circuits.length ? (
                <table>
                  <tbody>
                    {q.data.circuits.map((c) => (
                      <tr key={c.id}>
                        <td>
                          <Link prefetch={false} href={`/circuits/${shortId(c.id)}`}>
                            {c.name}
                          </Link>
                        </td>
                        <td>v{c.version}</td>
                        <td className="sub">
                          {c.updatedBy?.name} · {ago(c.updatedAt)}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p className="empty">No circuits yet.</p>
              )}
              {canWrite(me) ? (
                <form className="inline" onSubmit={createCircuit} style={{ marginTop: 10 }}>
                  <label>
                    New circuit
                    <input
                      name="circuit-name"
                      value={circuitName}
                      onChange={(e) => setCircuitName(e.target.value)}
                      placeholder="e.g. path-following"
                      required
                    />
                  </label>
                  <button type="submit" className="primary" disabled={newCircuit.busy}>
                    Create
                  </button>
                </form>
              ) : null}
              <ErrorBox error={newCircuit.error} />
            </div>
          </div>
        </>
      ) : null}
    </>
  );
}
