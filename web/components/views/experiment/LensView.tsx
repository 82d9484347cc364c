'use client';
/**
 * Logit lens: accuracy (argmax = correct next token) and the correct token's mean probability by
 * layer over all path positions of all mazes; for maze 0, each layer × path position — the token
 * read at that position and the token it should predict on the axis; a click on a cell draws maze 0
 * with that position's cell, the correct next cell and the layer's top-k guesses. URL state: detail
 * (prob | rank), at (the clicked layer.position).
 */
import { tokenCell } from '../../../lib/attention';
import { tokenLabels } from '../../../lib/experiments';
import { cellParam, useUrlState } from '../../../lib/url';
import { TokensMaze } from '../../TokensMaze';
import { Heatmap } from '../../charts/Heatmap';
import { LayerLines } from '../../charts/LayerLines';
import { type ExperimentData, type ViewProps, Pending, UrlSelect, fmt, pick } from './common';
import { useTensors } from './useTensors';

function Detail({ e, detail, layers, grid }: { e: ExperimentData; detail: string; layers: string[]; grid: readonly number[] }) {
  const url = useUrlState();
  const { tensors, error } = useTensors(e, ['maze0.tokens', 'maze0.positions', `maze0.${detail}`, 'maze0.topk', 'maze0.prob']);
  if (!tensors) return <Pending error={error} />;
  const toks = tokenLabels(tensors['maze0.tokens'].data, e.model.vocab);
  const pos = Array.from(tensors['maze0.positions'].data);
  const t = tensors[`maze0.${detail}`]; // [layer, P]
  const labels = pos.map((p) => `${toks[p]?.replace(/^<(.*)>$/, '$1')} → ${toks[p + 1]?.replace(/^<(.*)>$/, '$1')}`);
  const at = cellParam(url.get('at'), t.shape[0], t.shape[1]);
  let drill: React.ReactNode = null;
  if (at) {
    const [l, i] = at;
    const top = tensors['maze0.topk']; // [layer, P, k] token ids
    const k = top.shape[2];
    const guesses = Array.from({ length: k }, (_, j) => e.model.vocab[top.data[(l * top.shape[1] + i) * k + j]] ?? '?');
    const here = toks[pos[i]];
    const next = toks[pos[i] + 1];
    const keys = [here, next, guesses[0]].map((x) => (x ? tokenCell(x) : null)).filter((c): c is [number, number] => c !== null);
    drill = (
      <div className="card drill" data-testid="lens-drill">
        <h3>
          {layers[l]} at position {pos[i]} <span className="mono">{here}</span>: the correct next token <span className="mono">{next}</span> has p ={' '}
          {fmt(tensors['maze0.prob'].data[l * t.shape[1] + i])}
        </h3>
        <p>
          The lens’ top {k}: <span className="mono">{guesses.join(', ')}</span>
          {guesses[0] === next ? ' (right)' : ' (wrong)'}. Outlined: the cell read, the correct next cell and the top guess.
        </p>
        <TokensMaze
          tokens={toks}
          tokenizer={e.model.config.tokenizer}
          grid={grid}
          lit={keys.map(([r, c]) => `${r},${c}`)}
          label="maze 0"
          testId="lens-drill-maze"
        />
      </div>
    );
  }
  return (
    <>
      <Heatmap
        values={t.data}
        rows={t.shape[0]}
        cols={t.shape[1]}
        rowLabels={layers}
        colLabels={labels}
        range={detail === 'prob' ? [0, 1] : undefined}
        valueLabel={detail === 'prob' ? 'p(correct next token)' : 'rank of the correct token'}
        onCellClick={(l, i) => url.set({ at: `${l}.${i}` })}
        testId="lens-heatmap"
      />
      {drill ?? <p className="sub">Click a cell to draw the maze at that position with the layer’s guesses.</p>}
    </>
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
          { name: 'accuracy', values: rows.map((r) => r.accuracy), n: rows.map(() => s.positions) },
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
          <Detail e={e} detail={detail} layers={layers} grid={s.grid} />
        </>
      ) : null}
    </div>
  );
}
