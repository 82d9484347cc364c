'use client';
/**
 * Logit lens: accuracy (argmax = correct next token) and the correct token's mean probability by
 * layer over all path positions of all mazes; for maze 0, each layer × path position — the token
 * read at that position and the token it should predict on the axis. URL state: detail (prob | rank).
 */
import { tokenLabels } from '../../../lib/experiments';
import { useUrlState } from '../../../lib/url';
import { Heatmap } from '../../charts/Heatmap';
import { LayerLines } from '../../charts/LayerLines';
import { type ExperimentData, type ViewProps, Pending, UrlSelect, fmt, pick } from './common';
import { useTensors } from './useTensors';

function Detail({ e, detail, layers }: { e: ExperimentData; detail: string; layers: string[] }) {
  const { tensors, error } = useTensors(e, ['maze0.tokens', 'maze0.positions', `maze0.${detail}`]);
  if (!tensors) return <Pending error={error} />;
  const toks = tokenLabels(tensors['maze0.tokens'].data, e.model.vocab);
  const pos = Array.from(tensors['maze0.positions'].data);
  const t = tensors[`maze0.${detail}`]; // [layer, P]
  const labels = pos.map((p) => `${toks[p]?.replace(/^<(.*)>$/, '$1')} → ${toks[p + 1]?.replace(/^<(.*)>$/, '$1')}`);
  return (
    <Heatmap
      values={t.data}
      rows={t.shape[0]}
      cols={t.shape[1]}
      rowLabels={layers}
      colLabels={labels}
      range={detail === 'prob' ? [0, 1] : undefined}
      valueLabel={detail === 'prob' ? 'p(correct next token)' : 'rank of the correct token'}
      testId="lens-heatmap"
    />
  );
}

export function LensView({ e, s }: ViewProps<'LogitLensSummary'>) {
  const url = useUrlState();
  const rows = s.lensLayers;
  const layers = rows.map((r) => r.layer);
  const hasDetail = e.tensors.some((t) => t.name === 'maze0.prob');
  const detail = pick(url.get, 'detail', ['prob', 'rank'], 'prob');
  return (
    <div data-testid="lens-view">
      <h3>
        Logit lens by layer ({s.mazes} mazes, {s.positions} path positions)
      </h3>
      <LayerLines
        categories={layers}
        yLabel="fraction"
        testId="lens-accuracy"
        series={[
          { name: 'accuracy', values: rows.map((r) => r.accuracy) },
          { name: 'p(correct)', values: rows.map((r) => r.correct_prob) },
        ]}
      />
      <table className="compact">
        <thead>
          <tr>
            <th>Layer</th>
            <th className="num">Accuracy</th>
            <th className="num">p(correct)</th>
            <th className="num">Mean rank</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.layer}>
              <td className="mono">{r.layer}</td>
              <td className="num">{fmt(r.accuracy)}</td>
              <td className="num">{fmt(r.correct_prob)}</td>
              <td className="num">{fmt(r.correct_rank)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="sub">The last layer is the model’s own output (max |lens − logits| = {fmt(s.final_layer_max_abs_diff)}).</p>
      {hasDetail ? (
        <>
          <div className="filters" style={{ marginTop: 12 }}>
            <UrlSelect
              param="detail"
              label="Maze 0, per position"
              value={detail}
              options={[
                ['prob', 'probability of the correct token'],
                ['rank', 'rank of the correct token'],
              ]}
            />
          </div>
          <Detail e={e} detail={detail} layers={layers} />
        </>
      ) : null}
    </div>
  );
}
