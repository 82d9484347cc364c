'use client';
/**
 * Weights: how the coordinate embeddings relate to the lattice (correlation of embedding distance
 * with lattice distance, beside the anchor reported for the seed's 9.6M-parameter model), the
 * embeddings' principal components coloured by row or column, and each head's OV/QK spectra with
 * its QK circuit's correlation with lattice adjacency. URL state: colour (row | col), pcs.
 */
import { sequentialColour } from '../../../lib/experiments';
import Link from 'next/link';
import { headHref, useUrlState } from '../../../lib/url';
import { Heatmap } from '../../charts/Heatmap';
import { type ViewProps, Pending, UrlSelect, fmt, pick } from './common';
import { useTensors } from './useTensors';

function Scatter({
  xs,
  ys,
  colour,
  labels,
  xLabel,
  yLabel,
  legend,
}: {
  xs: number[];
  ys: number[];
  colour: string[];
  labels: string[];
  xLabel: string;
  yLabel: string;
  legend: Array<[string, string]>;
}) {
  const W = 500,
    Hh = 400,
    m = 40,
    pad = 16;
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  // Points stay `pad` inside the frame, so none is cut by it.
  const sx = (v: number) => m + pad + ((v - x0) / (x1 - x0 || 1)) * (W - 2 * m - 2 * pad);
  const sy = (v: number) => Hh - m - pad - ((v - y0) / (y1 - y0 || 1)) * (Hh - 1.5 * m - 2 * pad);
  return (
    <svg className="chart" width={W + 90} height={Hh} role="img" aria-label="embedding PCA" data-testid="embedding-scatter">
      <rect x={m} y={m / 2} width={W - 2 * m} height={Hh - 1.5 * m} fill="none" stroke="#dfe3e8" />
      {legend.map(([text, c], i) => (
        <g key={text}>
          <circle cx={W - m + 20} cy={m / 2 + 8 + i * 16} r={5} fill={c} stroke="#333" strokeWidth={0.6} />
          <text x={W - m + 30} y={m / 2 + 12 + i * 16}>
            {text}
          </text>
        </g>
      ))}
      {xs.map((x, i) => (
        <g key={i}>
          <circle className="point" cx={sx(x)} cy={sy(ys[i])} r={6} fill={colour[i]} stroke="#333" strokeWidth={0.6}>
            <title>{labels[i]}</title>
          </circle>
          {xs.length <= 64 ? (
            <text x={sx(x) + 8} y={sy(ys[i]) + 3}>
              {labels[i]}
            </text>
          ) : null}
        </g>
      ))}
      <text x={W / 2} y={Hh - 6} textAnchor="middle">
        {xLabel}
      </text>
      <text transform={`translate(12, ${Hh / 2}) rotate(-90)`} textAnchor="middle">
        {yLabel}
      </text>
    </svg>
  );
}

export function WeightsView({ e, s }: ViewProps<'WeightsSummary'>) {
  const url = useUrlState();
  const emb = s.embedding;
  const heads = s.heads;
  const ev = emb.pca_explained_variance;
  const colourBy = pick(url.get, 'colour', ['row', 'col'], 'row');
  const pcs = pick(url.get, 'pcs', ['1,2', '1,3', '2,3'], '1,2');
  const { tensors, error } = useTensors(e, ['embedding_pca', 'cell_row', 'cell_col']);
  const { n_layers: L, n_heads: H } = e.model.config;
  let scatter: React.ReactNode = <Pending error={error} />;
  if (tensors) {
    const pca = tensors.embedding_pca; // [cells, 3]
    const k = pca.shape[1];
    const [a, b] = pcs.split(',').map((v) => Math.min(k, Number(v)) - 1);
    const n = pca.shape[0];
    const row = Array.from(tensors.cell_row.data),
      col = Array.from(tensors.cell_col.data);
    const by = colourBy === 'row' ? row : col;
    const max = Math.max(1, ...by);
    scatter = (
      <Scatter
        xs={Array.from({ length: n }, (_, i) => pca.data[i * k + a])}
        ys={Array.from({ length: n }, (_, i) => pca.data[i * k + b])}
        colour={by.map((v) => sequentialColour(v, 0, max))}
        labels={row.map((r, i) => `(${r},${col[i]})`)}
        xLabel={`PC${a + 1} (${fmt((ev[a] ?? NaN) * 100, 3)}% of variance)`}
        yLabel={`PC${b + 1} (${fmt((ev[b] ?? NaN) * 100, 3)}%)`}
        legend={Array.from({ length: max + 1 }, (_, v): [string, string] => [`${colourBy === 'row' ? 'row' : 'col'} ${v}`, sequentialColour(v, 0, max)]).slice(
          0,
          16,
        )}
      />
    );
  }
  const corr = new Array<number>(L * H).fill(NaN);
  for (const h of heads) corr[h.layer * H + h.head] = h.qk_lattice_adjacency_corr ?? NaN;
  return (
    <div data-testid="weights-view">
      <h3>
        Coordinate embeddings ({s.side}×{s.side} cells)
      </h3>
      <p className="stat" data-testid="embedding-corr">
        Pearson correlation of embedding distance with lattice distance: <strong>{fmt(emb.distance_vs_lattice_pearson)}</strong> (cosine distance:{' '}
        {fmt(emb.cosine_distance_vs_lattice_pearson)}; reported for the seed group’s 9.6M-parameter model: {fmt(emb.anchor)})
      </p>
      <div className="filters">
        <UrlSelect
          param="pcs"
          label="Components"
          value={pcs}
          options={[
            ['1,2', 'PC1 × PC2'],
            ['1,3', 'PC1 × PC3'],
            ['2,3', 'PC2 × PC3'],
          ]}
        />
        <UrlSelect
          param="colour"
          label="Colour by"
          value={colourBy}
          options={[
            ['row', 'row'],
            ['col', 'column'],
          ]}
        />
      </div>
      <div className="row">
        {scatter}
        <table className="compact" style={{ width: 'auto' }}>
          <thead>
            <tr>
              <th>PC</th>
              <th className="num">Variance</th>
              <th className="num">corr(row)</th>
              <th className="num">corr(col)</th>
            </tr>
          </thead>
          <tbody>
            {ev.map((v, i) => (
              <tr key={i}>
                <td>PC{i + 1}</td>
                <td className="num">{fmt(v)}</td>
                <td className="num">{fmt(emb.pc_row_corr[i])}</td>
                <td className="num">{fmt(emb.pc_col_corr[i])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>QK circuits on the coordinate embeddings: correlation with lattice adjacency</h3>
      <Heatmap
        values={corr}
        rows={L}
        cols={H}
        rowLabels={Array.from({ length: L }, (_, l) => `L${l}`)}
        colLabels={Array.from({ length: H }, (_, h) => `H${h}`)}
        diverging
        range={[-1, 1]}
        valueLabel="corr(QK score, adjacent)"
        cell={64}
        showValues
        testId="qk-adjacency"
      />
      <table className="compact">
        <thead>
          <tr>
            <th>Head</th>
            <th>OV singular values</th>
            <th>QK singular values</th>
          </tr>
        </thead>
        <tbody>
          {heads.map((h) => (
            <tr key={`${h.layer}.${h.head}`}>
              <td className="mono">
                <Link prefetch={false} href={headHref(e.model.id, h.layer, h.head)}>
                  L{h.layer}H{h.head}
                </Link>
              </td>
              <td className="mono">{h.ov_singular_values.map((v) => fmt(v)).join('  ')}</td>
              <td className="mono">{h.qk_singular_values.map((v) => fmt(v)).join('  ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
