'use client';
/**
 * /experiments/<id>/features/<latent>: one latent of an SAE, as Neuronpedia's feature dashboard
 * shows a feature but drawn on mazes: its top-activating held-out rows (the maze with the latent's
 * activation on its cells, the sequence with each token shaded by it), activation histogram, logit
 * weights, nearest decoder directions, and the maze properties it separates best.
 */
import Link from 'next/link';
import type { SaeFeatureQuery } from '../../../lib/generated/operations';
import { fullId } from '../../../lib/graphql';
import { useQuery } from '../../../lib/hooks';
import { featureHref } from '../../../lib/url';
import { MazeSvg } from '../../MazeSvg';
import { ShadedTokens } from '../../ShadedTokens';
import { ErrorBox, Title } from '../../ui';
import { TargetFindings } from '../findings/TargetFindings';
import { fmt } from './common';
import { SAE_FEATURE } from './SaeFeatureView.queries';

type Feature = NonNullable<NonNullable<SaeFeatureQuery['experiment']>['saeFeature']>;

function Histogram({ bins }: { bins: Feature['histogram'] }) {
  const max = Math.max(1, ...bins.map((b) => b.count));
  return (
    <svg className="chart" width={420} height={130} role="img" aria-label="activation histogram" data-testid="feature-histogram">
      {bins.map((b, i) => {
        const h = (100 * b.count) / max;
        return (
          <rect key={b.from} x={10 + i * 20} y={110 - h} width={18} height={h} fill="#2f6fdb">
            <title>
              {b.count} rows with activation in ({fmt(b.from)}, {fmt(b.to)}]
            </title>
          </rect>
        );
      })}
      <text x={10} y={125}>
        0
      </text>
      <text x={410} y={125} textAnchor="end">
        {fmt(bins.at(-1)?.to)}
      </text>
    </svg>
  );
}

export function SaeFeatureView({ id, latent }: { id: string; latent: string }) {
  const n = Number(latent);
  const q = useQuery<SaeFeatureQuery>(SAE_FEATURE, { id: fullId('Experiment', id), latent: Number.isInteger(n) ? n : -1 });
  const e = q.data?.experiment;
  const f = e?.saeFeature;
  const s = e?.result?.__typename === 'SaeSummary' ? e.result : undefined;
  const link = (l: number) => featureHref(id, l);
  return (
    <>
      <Title
        sub={
          <>
            of the SAE of{' '}
            <Link prefetch={false} href={`/experiments/${id}`}>
              Experiment {id}
            </Link>
            {s ? ` on ${s.hook} at ${s.classes.join(', ')}` : ''}
            {e ? ` · ${e.model.name}` : ''}
          </>
        }
      >
        {`Latent ${latent}`}
      </Title>
      <ErrorBox error={q.error} />
      {e && !f && !q.error ? <p className="empty">Experiment {id} is not a completed SAE.</p> : null}
      {f ? (
        <div data-testid="sae-feature">
          <div className="grid2">
            <div className="card">
              <h2>Activation</h2>
              <p>
                Fires on {fmt(100 * f.density, 3)}% of held-out rows; mean {fmt(f.meanActivation)} where it fires, max {fmt(f.maxActivation)}.
              </p>
              <Histogram bins={f.histogram} />
            </div>
            <div className="card">
              <h2>What it encodes</h2>
              {f.encodes.length ? (
                <table className="compact" data-testid="feature-encodes">
                  <thead>
                    <tr>
                      <th>Property</th>
                      <th>Category</th>
                      <th className="num">ROC AUC</th>
                    </tr>
                  </thead>
                  <tbody>
                    {f.encodes.map((x) => (
                      <tr key={`${x.property}${x.category}`}>
                        <td>{x.property}</td>
                        <td className="mono">{x.category}</td>
                        <td className="num">{fmt(x.auc)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p className="empty">No maze property was scored for these rows.</p>
              )}
              <h3>Logit weights (direct path)</h3>
              {f.logitsUp.length ? (
                <p data-testid="feature-logits">
                  promotes {f.logitsUp.map((t) => `${t.token} ${fmt(t.weight, 2)}`).join(', ')}; suppresses{' '}
                  {f.logitsDown.map((t) => `${t.token} ${fmt(t.weight, 2)}`).join(', ')}
                </p>
              ) : (
                <p className="empty">The hook does not write the residual stream.</p>
              )}
              <h3>Nearest decoder directions</h3>
              <p>
                {f.neighbours.map((x, i) => (
                  <span key={x.latent}>
                    {i > 0 ? ', ' : ''}
                    <Link prefetch={false} href={link(x.latent)}>
                      {x.latent}
                    </Link>{' '}
                    ({fmt(x.cosine, 2)})
                  </span>
                ))}
              </p>
            </div>
          </div>
          {e ? (
            <TargetFindings
              modelId={e.model.id}
              target={{ kind: 'feature', experimentId: id, latent: f.latent }}
              name="this latent"
              testId="feature-findings"
            />
          ) : null}
          <div className="card">
            <h2>Top activations on held-out mazes</h2>
            {f.examples.length === 0 ? <p className="empty">It never fires on the held-out rows.</p> : null}
            {f.examples.map((x) => (
              <div key={`${x.maze}:${x.position}`} data-testid="feature-example">
                <p>
                  Held-out maze {x.maze}, position {x.position} (<span className="mono">{x.token}</span>): {fmt(x.activation)}
                </p>
                <div className="row">
                  {x.svg ? <MazeSvg svg={x.svg} label={`held-out maze ${x.maze}`} /> : null}
                  <ShadedTokens
                    tokens={x.tokens}
                    values={x.activations}
                    position={x.position}
                    max={f.maxActivation}
                    nullTitle="not a row of the SAE"
                    testId="feature-tokens"
                  />
                </div>
              </div>
            ))}
          </div>
        </div>
      ) : null}
    </>
  );
}
