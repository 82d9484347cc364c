'use client';
/**
 * How far ahead the model decides forks: teacher-forced accuracy at the forks of the true path by
 * the lookahead each fork needs (min of steps left to the target and depth of the deepest wrong
 * branch), with chance (mean 1/options) dashed. A searcher with horizon k stays high up to k and
 * falls to chance after it; a heuristic shows no edge. A bin (a point or a table row) opens the
 * forks behind it, each drawn on its maze with the way the model chose (runs stored before the
 * per-fork tensors existed have no drill-down). URL state: bin (a lookahead), from (the first fork shown).
 */
import { tokenCell } from '../../../lib/attention';
import { tokenRow } from '../../../lib/experiments';
import { ciText } from '../../../lib/stats';
import { intParam, useUrlState } from '../../../lib/url';
import { LayerLines } from '../../charts/LayerLines';
import { TokensMaze } from '../../TokensMaze';
import { type ExperimentData, type ViewProps, Pending, fmt } from './common';
import { useTensors } from './useTensors';

/** Forks shown per page of a bin's drill-down. */
const PAGE = 8;

function Forks({ e, bin, from, mazes }: { e: ExperimentData; bin: number; from: number; mazes: number }) {
  const url = useUrlState();
  const names = ['fork.maze', 'fork.position', 'fork.lookahead', 'fork.right', 'fork.argmax', 'fork.choice', 'mazes.tokens'];
  const { tensors, error } = useTensors(e, names);
  if (!tensors) return <Pending error={error} />;
  const need = tensors['fork.lookahead'].data;
  const inBin = Array.from({ length: need.length }, (_, i) => i).filter((i) => need[i] === bin);
  const shown = inBin.slice(from, from + PAGE);
  const ids = tensors['mazes.tokens']; // [maze, pos] token ids, −1 padded
  const vocab = e.model.vocab;
  const cell = (id: number): [number, number] | null => tokenCell(vocab[id] ?? '');
  return (
    <div className="card drill" data-testid="lookahead-drill">
      <h3>
        Forks needing lookahead {bin}: {from + 1}–{from + shown.length} of {inBin.length}
        {ids.shape[0] < mazes ? ` (those of the first ${ids.shape[0]} of ${mazes} mazes, which are stored one by one)` : ''}
      </h3>
      <p className="sub">Each maze with its solution; the dashed red line goes from the fork to the way the model scored highest among the fork’s ways.</p>
      <div className="row">
        {shown.map((i) => {
          const m = tensors['fork.maze'].data[i];
          const pos = tensors['fork.position'].data[i];
          const toks = tokenRow(ids, [m], vocab);
          const at = tokenCell(toks[pos] ?? '');
          const chose = cell(tensors['fork.choice'].data[i]);
          const right = tensors['fork.choice'].data[i] === tensors['fork.right'].data[i];
          return (
            <div key={i} data-testid="lookahead-fork" data-right={right}>
              <TokensMaze
                tokens={toks}
                tokenizer={e.model.config.tokenizer}
                lit={at ? [`${at[0]},${at[1]}`] : []}
                predicted={at && chose ? [at, chose] : undefined}
                label={`maze ${m}: fork at ${toks[pos]}, ${right ? 'chose the right way' : `chose ${vocab[tensors['fork.choice'].data[i]]}, not ${vocab[tensors['fork.right'].data[i]]}`}; argmax ${vocab[tensors['fork.argmax'].data[i]]}`}
                testId="lookahead-fork-maze"
              />
            </div>
          );
        })}
      </div>
      <div className="pager">
        <button type="button" disabled={from === 0} onClick={() => url.set({ from: Math.max(0, from - PAGE) || null })}>
          ← Previous
        </button>
        <button type="button" disabled={from + PAGE >= inBin.length} onClick={() => url.set({ from: from + PAGE })}>
          Next →
        </button>
      </div>
    </div>
  );
}

export function LookaheadView({ e, s }: ViewProps<'LookaheadSummary'>) {
  const url = useUrlState();
  // One row per lookahead that has forks.
  const rows = s.by_lookahead;
  const drillable = e.tensors.some((t) => t.name === 'fork.lookahead');
  const bin = rows.find((r) => String(r.lookahead) === url.get('bin'))?.lookahead;
  const from = intParam(url.get('from'), 0, 0);
  const open = (lookahead: number) => url.set({ bin: lookahead, from: null });
  return (
    <div data-testid="lookahead-view">
      <p>
        {s.forks} forks in {s.mazes} mazes: the right way ranked first among the fork's ways {fmt(s.choice_accuracy)} (chance {fmt(s.chance)}); predicted
        outright {fmt(s.accuracy)}
        {s.ambiguous_forks > 0 ? `; ${s.ambiguous_forks} forks whose wrong branch also reaches the target left out` : ''}.
      </p>
      <LayerLines
        categories={rows.map((r) => String(r.lookahead))}
        yLabel="forks decided right"
        series={[
          { name: 'among the ways', values: rows.map((r) => r.choice_accuracy), n: rows.map((r) => r.forks) },
          { name: 'outright', values: rows.map((r) => r.accuracy), n: rows.map((r) => r.forks) },
          { name: 'chance', values: rows.map((r) => r.chance), dashed: true },
        ]}
        testId="lookahead-chart"
        onCategoryClick={drillable ? (i) => open(rows[i].lookahead) : undefined}
      />
      <table data-testid="lookahead-table" className="compact">
        <thead>
          <tr>
            <th className="num">Lookahead</th>
            <th className="num">Forks</th>
            <th className="num">Among the ways [95% CI]</th>
            <th className="num">Outright [95% CI]</th>
            <th className="num">Chance</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.lookahead} className={r.lookahead === bin ? 'selected' : undefined}>
              <td className="num">
                {drillable ? (
                  <button type="button" className="link" onClick={() => open(r.lookahead)}>
                    {r.lookahead}
                  </button>
                ) : (
                  r.lookahead
                )}
              </td>
              <td className="num">{r.forks}</td>
              <td className="num">
                {fmt(r.choice_accuracy)} <span className="sub ci">{ciText(r.choice_accuracy, r.forks)}</span>
              </td>
              <td className="num">
                {fmt(r.accuracy)} <span className="sub ci">{ciText(r.accuracy, r.forks)}</span>
              </td>
              <td className="num">{fmt(r.chance)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {drillable && bin === undefined ? <p className="sub">Click a lookahead (a point or a row) to see its forks on their mazes.</p> : null}
      {drillable && bin !== undefined ? <Forks e={e} bin={bin} from={from} mazes={s.mazes} /> : null}
    </div>
  );
}
