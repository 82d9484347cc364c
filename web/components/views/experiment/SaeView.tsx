'use client';
/**
 * A trained sparse autoencoder: what it was trained on, how well it reconstructs the held-out rows
 * (explained variance, L0, dead latents, and loss recovered: the model's path cross-entropy with
 * the reconstruction spliced in, between clean and zero-ablated), the training curves, how often
 * each latent fires (log₁₀ density histogram, as SAELens and Neuronpedia draw it), and what the
 * latents encode (the best latent by ROC AUC for each maze connection and cell).
 */
import Link from 'next/link';
import { useState } from 'react';
import type { SaeFeaturesForQuery } from '../../../lib/generated/operations';
import { useQuery } from '../../../lib/hooks';
import { LineChart } from '../../LineChart';
import { ErrorBox } from '../../ui';
import { SAE_FEATURES_FOR } from './SaeView.queries';
import { type ViewProps, fmt, Pending } from './common';
import { useTensors } from './useTensors';

/** Latents per log₁₀ density bin (−6 … 0 in steps of 0.5); never-firing latents counted apart. */
export function densityHistogram(density: ArrayLike<number>): { bins: Array<{ from: number; count: number }>; dead: number } {
  const bins = Array.from({ length: 12 }, (_, i) => ({ from: -6 + i * 0.5, count: 0 }));
  let dead = 0;
  for (let i = 0; i < density.length; i++) {
    const d = density[i];
    if (!(d > 0)) {
      dead++;
      continue;
    }
    const b = Math.min(bins.length - 1, Math.max(0, Math.floor((Math.log10(d) + 6) / 0.5)));
    bins[b].count++;
  }
  return { bins, dead };
}

/** "Which latents encode connection (1,2)-(1,3)?": a search box over the run's AUC tables. */
/** What each scored property is, for headings (SaePropertyScores.property). */
const PROPERTIES: Record<string, { title: string; rows: string; example: string }> = {
  connection: { title: 'maze connections', rows: 'rows at the second cell or the ; of the adjacency-list entry', example: '(1,2)-(1,3)' },
  cell: { title: 'the cell a token names', rows: 'rows at a token naming the cell', example: '(2,3)' },
  on_solution: { title: 'whether that cell is on the solution', rows: 'rows at a token naming a cell', example: 'on the solution' },
  degree: { title: 'that cell’s degree', rows: 'rows at a token naming a cell', example: 'fork' },
  target: { title: 'the maze’s target', rows: 'every row', example: '(4,4)' },
  origin: { title: 'the maze’s origin', rows: 'every row', example: '(0,0)' },
  future: { title: 'the cells still ahead on the path', rows: 'path rows: each cell against the other path rows', example: '(3,3)' },
};

function SaeSearch({ experimentId, features }: { experimentId: string; features: string }) {
  const [text, setText] = useState('');
  const [property, setProperty] = useState('connection');
  const [asked, setAsked] = useState<{ property: string; category: string } | null>(null);
  const q = useQuery<SaeFeaturesForQuery>(SAE_FEATURES_FOR, { id: experimentId, ...(asked ?? { property: '', category: '' }) }, { skip: !asked });
  const hits = q.data?.experiment?.saeFeaturesFor ?? [];
  return (
    <div data-testid="sae-search">
      <form
        className="filters"
        onSubmit={(ev) => {
          ev.preventDefault();
          setAsked({ property, category: text });
        }}
      >
        <label>
          Latents for{' '}
          <select name="sae-property" value={property} onChange={(ev) => setProperty(ev.target.value)}>
            {Object.entries(PROPERTIES).map(([k, v]) => (
              <option key={k} value={k}>
                {v.title}
              </option>
            ))}
          </select>
        </label>{' '}
        <input name="sae-search" value={text} onChange={(ev) => setText(ev.target.value)} placeholder={PROPERTIES[property]?.example} />{' '}
        <button type="submit">Find</button>
      </form>
      <ErrorBox error={q.error} />
      {asked && q.data ? (
        hits.length ? (
          <table className="compact">
            <thead>
              <tr>
                <th className="num">Latent</th>
                <th className="num">ROC AUC</th>
                <th className="num">Density</th>
              </tr>
            </thead>
            <tbody>
              {hits.map((h) => (
                <tr key={h.latent}>
                  <td className="num">
                    <Link prefetch={false} href={`${features}/${h.latent}`}>
                      {h.latent}
                    </Link>
                  </td>
                  <td className="num">{fmt(h.auc)}</td>
                  <td className="num">{fmt(h.density)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="empty">This SAE's rows were not scored for that property.</p>
        )
      ) : null}
    </div>
  );
}

/** The `n` latents firing on the most held-out rows, densest first. */
function densest(density: ArrayLike<number>, n: number): number[] {
  return Array.from({ length: density.length }, (_, i) => i)
    .filter((i) => density[i] > 0)
    .sort((a, b) => density[b] - density[a] || a - b)
    .slice(0, n);
}

export function SaeView({ e, s }: ViewProps<'SaeSummary'>) {
  const features = `/experiments/${e.id.split(':')[1]}/features`;
  const { tensors, error } = useTensors(e, ['feature_density']);
  const ev = s.eval;
  const hist = tensors ? densityHistogram(tensors.feature_density.data) : undefined;
  const maxCount = hist ? Math.max(1, ...hist.bins.map((b) => b.count)) : 1;
  return (
    <div data-testid="sae-view">
      <p>
        {s.architecture === 'topk'
          ? `TopK (k = ${s.topk})`
          : s.architecture === 'jumprelu'
            ? s.l0_coefficient === null
              ? 'JumpReLU'
              : `JumpReLU + L0 (λ ${fmt(s.l0_coefficient)}, bandwidth ${fmt(s.bandwidth)})`
            : s.l1_coefficient === null
              ? 'ReLU'
              : `ReLU + L1 (${fmt(s.l1_coefficient)})`}{' '}
        SAE on <code>{s.hook}</code> at {s.classes.join(', ')}: d_in {s.d_in} → d_sae {s.d_sae},{' '}
        {s.steps === 0 ? (
          <span data-testid="sae-imported">imported from SAELens' layout and measured as it is (not trained here)</span>
        ) : (
          <>
            {s.steps} steps of {s.batch} rows ({s.rows_trained.toLocaleString('en-US')} rows from {s.mazes_trained.toLocaleString('en-US')} mazes)
            {s.resampled > 0 ? `, ${s.resampled} dead latents resampled` : ''}
          </>
        )}
        .
      </p>
      <p className="filters">
        <Link
          className="button"
          prefetch={false}
          href={`/experiments?model=${e.model.id.split(':')[1]}&kind=sae-intervention&params=${encodeURIComponent(JSON.stringify({ sae: Number(e.id.split(':')[1]) }))}`}
        >
          Edit these latents in the model…
        </Link>
      </p>
      <p className="filters" data-testid="sae-downloads">
        For SAELens (<code>SAE.load_from_disk</code> on a folder with both files):{' '}
        <a className="button" href={`/files/experiments/${e.id.split(':')[1]}/sae/sae_weights.safetensors`} download>
          sae_weights.safetensors
        </a>{' '}
        <a className="button" href={`/files/experiments/${e.id.split(':')[1]}/sae/cfg.json`} download>
          cfg.json
        </a>
      </p>
      <table className="compact" data-testid="sae-eval">
        <tbody>
          <tr>
            <th>Held-out rows</th>
            <td className="num">
              {ev.rows} ({ev.mazes} mazes)
            </td>
          </tr>
          <tr>
            <th>Explained variance</th>
            <td className="num">{fmt(ev.explained_variance)}</td>
          </tr>
          <tr>
            <th>L0 (active latents per row)</th>
            <td className="num">{fmt(ev.l0)}</td>
          </tr>
          <tr>
            <th>Dead latents (never fired on held-out rows)</th>
            <td className="num">{fmt(ev.dead_fraction)}</td>
          </tr>
          <tr>
            <th>Loss recovered</th>
            <td className="num">{fmt(ev.loss_recovered)}</td>
          </tr>
          <tr>
            <th>Path cross-entropy: clean / SAE / zero-ablated</th>
            <td className="num">
              {fmt(ev.ce_clean, 4)} / {fmt(ev.ce_sae, 4)} / {fmt(ev.ce_zero, 4)}
            </td>
          </tr>
        </tbody>
      </table>
      {s.curve.length === 0 ? null : (
        <div className="filters">
          <div>
            <h3>Explained variance (training rows)</h3>
            <LineChart
              yLabel="explained variance"
              series={[
                {
                  name: 'explained variance',
                  points: s.curve.filter((c) => c.explained_variance !== null).map((c) => ({ x: c.step, y: c.explained_variance as number })),
                },
              ]}
            />
          </div>
          <div>
            <h3>Dead fraction</h3>
            <LineChart yLabel="dead fraction" series={[{ name: 'dead fraction', points: s.curve.map((c) => ({ x: c.step, y: c.dead_fraction })) }]} />
          </div>
        </div>
      )}
      <h3>Latent density (log₁₀ fraction of held-out rows a latent fires on)</h3>
      {hist ? (
        <svg className="chart" width={520} height={150} role="img" aria-label="latent density histogram" data-testid="sae-density">
          {hist.bins.map((b, i) => {
            const h = (110 * b.count) / maxCount;
            return (
              <g key={b.from}>
                <rect x={30 + i * 40} y={120 - h} width={34} height={h} fill="#2f6fdb">
                  <title>
                    {b.count} latents with density in [1e{b.from}, 1e{b.from + 0.5})
                  </title>
                </rect>
                <text x={47 + i * 40} y={135} textAnchor="middle">
                  {b.from}
                </text>
              </g>
            );
          })}
        </svg>
      ) : (
        <Pending error={error} />
      )}
      {hist ? <p className="sub">{hist.dead} latents never fired on the held-out rows.</p> : null}
      {tensors ? (
        <p data-testid="sae-densest">
          Feature pages, densest first:{' '}
          {densest(tensors.feature_density.data, 16).map((l, i) => (
            <span key={l}>
              {i > 0 ? ', ' : ''}
              <Link prefetch={false} href={`${features}/${l}`}>
                {l}
              </Link>
            </span>
          ))}
        </p>
      ) : null}
      <SaeSearch experimentId={e.id} features={features} />
      {s.encodes.map((p) => (
        <div key={p.property} data-testid={`sae-encodes-${p.property}`}>
          <h3>What the latents encode: {PROPERTIES[p.property]?.title ?? p.property}</h3>
          <p>
            {p.above_095} of {p.scored} categories have a latent with ROC AUC ≥ 0.95 on the held-out rows ({PROPERTIES[p.property]?.rows ?? 'rows'}).
          </p>
          <details>
            <summary>Best latent per {p.property}</summary>
            <table className="compact">
              <thead>
                <tr>
                  <th>{p.property}</th>
                  <th className="num">Rows</th>
                  <th className="num">Latent</th>
                  <th className="num">AUC</th>
                </tr>
              </thead>
              <tbody>
                {[...p.best]
                  .sort((a, b) => (a.auc ?? 0) - (b.auc ?? 0))
                  .map((b) => (
                    <tr key={b.category}>
                      <td className="mono">{b.category}</td>
                      <td className="num">{b.rows}</td>
                      <td className="num">
                        {b.latent >= 0 ? (
                          <Link prefetch={false} href={`${features}/${b.latent}`}>
                            {b.latent}
                          </Link>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td className="num">{fmt(b.auc)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </details>
        </div>
      ))}
    </div>
  );
}
