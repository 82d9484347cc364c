'use client';
/**
 * Attention: for the query position, every head's attention summed onto the maze cells and drawn
 * over the maze (the overlay maze-transformer users asked for), each head on its own scale; the
 * selected head's full pattern (query × key, tokens on both axes); and the mean attention mass on
 * each token class over all mazes. URL state: head ("l.h", layers as run).
 */
import Link from 'next/link';
import { axisLabel, subTensor } from '../../../lib/experiments';
import { shortId } from '../../../lib/graphql';
import { useUrlState } from '../../../lib/url';
import { Heatmap } from '../../charts/Heatmap';
import { MazeSvg } from '../../MazeSvg';
import { type ViewProps, Pending } from './common';
import { useTensors } from './useTensors';

export function AttentionView({ e, s }: ViewProps<'AttentionSummary'>) {
  const url = useUrlState();
  const { layers, tokens, classes } = s;
  const [R, C] = s.grid;
  const H = e.model.config.n_heads;
  const hasPattern = e.tensors.some((t) => t.name === 'pattern');
  const { tensors, error } = useTensors(e, ['cells', 'other', 'class_mass', ...(hasPattern ? ['pattern'] : [])]);
  const [selL, selH] = url
    .get('head', `${layers[0] ?? 0}.0`)
    .split('.')
    .map(Number);
  const li = Math.max(0, layers.indexOf(selL));
  const h = Number.isInteger(selH) && selH >= 0 && selH < H ? selH : 0;
  const q = s.query_position;
  const headLabels = layers.flatMap((l) => Array.from({ length: H }, (_, k) => `L${l}H${k}`));
  if (!tensors) return <Pending error={error} />;
  const cells = tensors.cells; // [layer, head, row, col]
  const other = tensors.other; // [layer, head]
  const T = tokens.length;
  return (
    <div data-testid="attention-view">
      <h3>
        Attention from position {q} ({s.query_token}) onto the maze cells{s.mazes > 1 ? ' — maze 0' : ''}
      </h3>
      <p className="sub caption">
        Each cell shows the head’s attention on the tokens that name it, scaled to that head’s maximum; the rest went to non-cell tokens (“off-cell”). Click a
        head for its full pattern.
      </p>
      {e.mazeSvg ? (
        <div
          className="heads"
          style={{ gridTemplateColumns: `repeat(${Math.min(H, 8)}, minmax(120px, ${H <= 4 ? 230 : 170}px))` }}
          data-testid="attention-overlay"
        >
          {layers.flatMap((l, i) =>
            Array.from({ length: H }, (_, k) => {
              const heat = subTensor(cells.data, cells.shape, [i, k]).data;
              const max = Math.max(1e-9, ...heat);
              const selected = i === li && k === h;
              return (
                <button
                  type="button"
                  key={`${l}.${k}`}
                  className={`head${selected ? ' selected' : ''}`}
                  data-head={`${l}.${k}`}
                  onClick={() => url.set({ head: `${l}.${k}` })}
                  aria-pressed={selected}
                >
                  <header>
                    <strong className="mono">
                      L{l}H{k}
                    </strong>
                    <span className="sub">{(other.data[i * H + k] * 100).toFixed(0)}% off-cell</span>
                  </header>
                  <MazeSvg svg={e.mazeSvg!} heat={heat} heatMax={max} label={`attention L${l}H${k}`} />
                  <footer className="sub" style={{ fontSize: 11 }}>
                    max {max.toFixed(2)}
                  </footer>
                </button>
              );
            }),
          )}
        </div>
      ) : (
        <p className="empty">No maze to draw for this experiment.</p>
      )}
      {hasPattern && tensors.pattern ? (
        <>
          <h3>
            Pattern of L{layers[li]}H{h} (maze 0): query position × key position
          </h3>
          <Heatmap
            values={subTensor(tensors.pattern.data, tensors.pattern.shape, [li, h]).data}
            rows={T}
            cols={T}
            rowLabels={tokens.map((t, i) => axisLabel(i, t))}
            colLabels={tokens.map((t, i) => axisLabel(i, t))}
            range={[0, 1]}
            valueLabel="attention"
            maxWidth={900}
            testId="pattern-heatmap"
          />
        </>
      ) : null}
      <h3>Mean attention from the query onto each token class (all {s.mazes} mazes)</h3>
      <Heatmap
        values={tensors.class_mass.data}
        rows={headLabels.length}
        cols={classes.length}
        rowLabels={headLabels}
        colLabels={classes}
        range={[0, 1]}
        valueLabel="attention mass"
        testId="class-mass"
      />
      <p className="sub">
        <Link
          prefetch={false}
          href={`/findings?model=${shortId(e.model.id)}&target=head:${layers[li]}.${h}&evidence=${encodeURIComponent(`/experiments/${shortId(e.id)}?head=${layers[li]}.${h}`)}`}
          data-testid="annotate-head"
        >
          Annotate L{layers[li]}H{h}
        </Link>
        {' · '}grid {R}×{C}
      </p>
    </div>
  );
}
