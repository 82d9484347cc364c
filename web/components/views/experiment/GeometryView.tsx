'use client';
/**
 * Residual-stream geometry: the points (coordinate tokens) of one residual stream mapped to 2-D by
 * PCA or UMAP, coloured by a maze property, each point naming its maze, position and cell on hover;
 * and the kNN score of every property by layer beside its chance level. URL state: layer, map, colour.
 */
import { useUrlState } from '../../../lib/url';
import { Scatter } from '../../charts/Scatter';
import { type ViewProps, Pending, UrlSelect, fmt, pick } from './common';
import { useTensors } from './useTensors';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const CLASSES = ['path', 'adj_cell', 'origin', 'target'];
const PROPERTY_DOC: Record<string, string> = {
  row: 'row of the cell',
  col: 'column of the cell',
  on_solution: 'cell on the solution',
  fork: 'cell is a fork (≥ 3 open sides)',
  is_target: 'cell is the target',
  dist_to_target: 'maze distance to the target',
};

/** Blue (near) to red (far) for a distance in [0, max]. */
const ramp = (v: number, max: number): string => {
  const t = max > 0 ? Math.min(1, Math.max(0, v / max)) : 0;
  return `hsl(${Math.round(220 - 220 * t)}, 70%, 45%)`;
};

export function GeometryView({ e, s }: ViewProps<'GeometrySummary'>) {
  const url = useUrlState();
  const layers = s.geoLayers;
  const layerSel = pick(url.get, 'layer', layers.map(String), String(layers.length - 1));
  const li = layers.indexOf(layerSel) >= 0 ? layers.indexOf(layerSel) : Math.max(0, Number(layerSel) || 0);
  const method = pick(url.get, 'map', s.methods, s.methods[0] ?? 'pca');
  const colour = pick(url.get, 'colour', s.properties, 'dist_to_target');
  const { tensors, error } = useTensors(e, [method, 'points.meta', 'points.properties']);
  let plot: React.ReactNode = <Pending error={error} />;
  if (tensors) {
    const map = tensors[method]; // [layers, N, 2]
    const meta = tensors['points.meta']; // [N, 4]: maze, position, cell, class index
    const props = tensors['points.properties']; // [N, properties]
    const N = meta.shape[0];
    const P = s.properties.length;
    const pj = s.properties.indexOf(colour);
    const values = Array.from({ length: N }, (_, i) => props.data[i * P + pj]);
    const categorical = colour !== 'dist_to_target';
    const max = Math.max(0, ...values);
    const kinds = [...new Set(values)].sort((a, b) => a - b);
    const colours = values.map((v) => (categorical ? PALETTE[kinds.indexOf(v) % PALETTE.length] : ramp(v, max)));
    const xs = Array.from({ length: N }, (_, i) => map.data[(li * N + i) * 2]);
    const ys = Array.from({ length: N }, (_, i) => map.data[(li * N + i) * 2 + 1]);
    const titles = Array.from({ length: N }, (_, i) => {
      const [maze, pos, , klass] = Array.from(meta.data.subarray(i * 4, i * 4 + 4));
      const row = props.data[i * P + s.properties.indexOf('row')];
      const col = props.data[i * P + s.properties.indexOf('col')];
      return `maze ${maze}, position ${pos} (${CLASSES[klass] ?? '?'}): cell (${row},${col}); ${colour} = ${values[i]}`;
    });
    const legend: Array<[string, string]> = categorical
      ? kinds.slice(0, PALETTE.length).map((v, k) => [PALETTE[k], `${colour} = ${v}`])
      : [
          [ramp(0, max), `${colour} = 0`],
          [ramp(max / 2, max), `${colour} = ${Math.round(max / 2)}`],
          [ramp(max, max), `${colour} = ${max}`],
        ];
    const explained = method === 'pca' ? s.pca_explained[li] : null;
    plot = (
      <Scatter
        xs={xs}
        ys={ys}
        colours={colours}
        titles={titles}
        xLabel={explained ? `PC1 (${fmt((explained[0] ?? 0) * 100, 2)}% of variance)` : `${method} 1`}
        yLabel={explained ? `PC2 (${fmt((explained[1] ?? 0) * 100, 2)}%)` : `${method} 2`}
        legend={legend}
        testId="geometry-scatter"
      />
    );
  }
  const chance = new Map(s.geoChance.map((c) => [c.property, c.chance]));
  return (
    <div data-testid="geometry-view">
      <div className="filters">
        <UrlSelect param="layer" label="Residual" value={layers[li] ?? layerSel} options={layers.map((l) => [l, l])} />
        <UrlSelect param="map" label="Map" value={method} options={s.methods.map((m) => [m, m === 'pca' ? 'PCA' : m === 'tsne' ? 't-SNE' : 'UMAP'])} />
        <UrlSelect param="colour" label="Colour by" value={colour} options={s.properties.map((p) => [p, PROPERTY_DOC[p] ?? p])} />
      </div>
      <h3>
        {layers[li]}: {s.classes.join(', ')} tokens
      </h3>
      <p className="sub caption">
        {s.points_used === s.points_total
          ? `${s.points_used} points`
          : `${s.points_used} of ${s.points_total} points (a random subset; raise maxPoints for more)`}{' '}
        from {s.mazes} mazes. Hover a point for its maze, position and cell.
      </p>
      {plot}
      <h3>Clustering by layer (k = {s.k} nearest neighbours in the full residual space)</h3>
      <p className="sub caption">
        Share of a point’s neighbours with its value, beside chance (two random points agreeing); for the distance, 1 − mean |Δ| to neighbours / mean |Δ| to all
        points (0 = no better than random).
      </p>
      <table data-testid="geometry-knn">
        <thead>
          <tr>
            <th>Residual</th>
            {s.properties.map((p) => (
              <th key={p} className="num">
                {p}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {s.by_layer.map((row) => (
            <tr key={row.layer} className={row.layer === layers[li] ? 'selected' : ''}>
              <td>{row.layer}</td>
              {row.scores.map((c) => (
                <td key={c.property} className="num">
                  {fmt(c.score)}
                </td>
              ))}
            </tr>
          ))}
          <tr>
            <td>chance</td>
            {s.properties.map((p) => (
              <td key={p} className="num">
                {p === 'dist_to_target' ? '0' : fmt(chance.get(p))}
              </td>
            ))}
          </tr>
        </tbody>
      </table>
    </div>
  );
}
