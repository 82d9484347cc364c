'use client';
/**
 * /experiments/[id]: an experiment's parameters, its job's live progress, and the drawn result
 * (each kind's view keeps its selections in the URL, so a link reopens the exact view); the
 * summary as JSON, the tensors as .npy and the whole result as .safetensors; rerun and cite.
 */
import type { ExperimentQuery } from '../../lib/generated/operations';
import Link from 'next/link';
import { fullId, shortId } from '../../lib/graphql';
import { useQuery } from '../../lib/hooks';
import { EXPERIMENT } from './ExperimentView.queries';
import { defaultParams } from '../../lib/experiments';
import type { User } from '../../lib/types';
import { JobProgress } from '../JobProgress';
import { canWrite } from '../Session';
import { Badge, ErrorBox, Title, ago, bytes } from '../ui';
import { Result, hasView } from './experiment/Result';
import { BuildCircuit, CIRCUIT_KINDS } from './experiment/BuildCircuit';

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export function ExperimentView({ id, me }: { id: string; me: User }) {
  const q = useQuery<ExperimentQuery>(EXPERIMENT, { id: fullId('Experiment', id) });
  // Typed as the query selects it: each kind's view reads its own member of `result`.
  const e = q.data?.experiment;
  if (q.data && !e)
    return (
      <>
        <Title>Experiment {id}</Title>
        <ErrorBox error={new Error(`Experiment:${id} not found`)} />
      </>
    );
  const model = e ? shortId(e.model.id) : '';
  // The params as run, without the union's __typename: what "Run again" prefills.
  const params = e ? defaultParams(e.params) : {};
  const here = typeof window !== 'undefined' ? `${location.pathname}${location.search}` : `/experiments/${id}`;
  return (
    <>
      <Title
        sub={
          e ? (
            <>
              <Badge value={e.status} /> on{' '}
              <Link prefetch={false} href={`/models/${model}`}>
                {e.model.name}
              </Link>
              {e.checkpoint ? ` (step ${e.checkpoint.step})` : ''} · {e.createdBy?.name ?? ''} · {ago(e.createdAt)}
            </>
          ) : undefined
        }
      >
        {e ? `${e.kind} · Experiment ${id}` : `Experiment ${id}`}
      </Title>
      <ErrorBox error={q.error} />
      {e ? (
        <>
          <div className="row">
            <div className="card" style={{ flex: '2 1 560px' }}>
              <h2>Run</h2>
              {e.job && !TERMINAL.has(e.status) ? (
                <div style={{ marginBottom: 12 }}>
                  <JobProgress job={e.job} canCancel={canWrite(me)} onDone={q.reload} />
                </div>
              ) : null}
              {e.status === 'FAILED' || e.status === 'CANCELLED' ? (
                <div className="error" data-testid="experiment-error">
                  {e.status}: {e.error}
                </div>
              ) : null}
              <table className="kv">
                <tbody>
                  <tr>
                    <th>kind</th>
                    <td className="mono">{e.kind}</td>
                  </tr>
                  <tr>
                    <th>mazes</th>
                    <td>
                      {e.dataset ? (
                        <>
                          test split of{' '}
                          <Link prefetch={false} href={`/datasets/${shortId(e.dataset.id)}`}>
                            {e.dataset.name}
                          </Link>
                        </>
                      ) : (
                        'generated from the params'
                      )}
                    </td>
                  </tr>
                  <tr>
                    <th>seed</th>
                    <td className="mono">{e.seed}</td>
                  </tr>
                  <tr>
                    <th>params</th>
                    <td>
                      <code className="mono" data-testid="experiment-params">
                        {JSON.stringify(params)}
                      </code>
                    </td>
                  </tr>
                </tbody>
              </table>
              <p className="filters" style={{ marginTop: 10 }}>
                {canWrite(me) ? (
                  <Link
                    prefetch={false}
                    className="button"
                    href={`/experiments?model=${model}&kind=${encodeURIComponent(e.kind)}&seed=${e.seed}${e.dataset ? `&dataset=${shortId(e.dataset.id)}` : ''}&params=${encodeURIComponent(JSON.stringify(params))}`}
                  >
                    Run again…
                  </Link>
                ) : null}
                <Link prefetch={false} className="button" href={`/findings?model=${model}&target=experiment:${id}&evidence=${encodeURIComponent(here)}`}>
                  Cite in a finding
                </Link>
                {e.downloadUrl ? (
                  <a className="button" href={e.downloadUrl} download data-testid="download-all">
                    Download .safetensors
                  </a>
                ) : null}
              </p>
              {canWrite(me) && e.status === 'COMPLETED' && CIRCUIT_KINDS.has(e.kind) ? <BuildCircuit experimentId={e.id} kind={e.kind} /> : null}
            </div>
            {e.tensors.length ? (
              <div className="card" style={{ flex: '1 1 320px' }}>
                <h2>
                  Tensors <span className="sub">{e.tensors.length}</span>
                </h2>
                <div className="tensor-list">
                  <table className="compact">
                    <tbody>
                      {e.tensors.map((t) => (
                        <tr key={t.name}>
                          <td className="mono">{t.name}</td>
                          <td className="mono sub">[{t.shape.join(', ')}]</td>
                          <td className="num sub">{bytes(t.bytes)}</td>
                          <td>
                            <a href={t.downloadUrl} download>
                              .npy
                            </a>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </div>
            ) : null}
          </div>
          {e.status === 'COMPLETED' && e.result ? (
            <div className="card" data-testid="result">
              <h2>Result</h2>
              <Result e={e} />
              {hasView(e) ? (
                <details style={{ marginTop: 12 }}>
                  <summary>Result JSON</summary>
                  <pre className="json">{JSON.stringify(e.result, null, 2)}</pre>
                </details>
              ) : null}
            </div>
          ) : null}
        </>
      ) : null}
    </>
  );
}
