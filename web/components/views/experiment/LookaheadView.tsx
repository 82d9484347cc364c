'use client';
/**
 * How far ahead the model decides forks: teacher-forced accuracy at the forks of the true path by
 * the lookahead each fork needs (min of steps left to the target and depth of the deepest wrong
 * branch), with chance (mean 1/options) dashed. A searcher with horizon k stays high up to k and
 * falls to chance after it; a heuristic shows no edge.
 */
import { LayerLines } from '../../charts/LayerLines';
import { ciText } from '../../../lib/stats';
import { type ViewProps, fmt } from './common';

export function LookaheadView({ s }: ViewProps<'LookaheadSummary'>) {
  // One row per lookahead that has forks.
  const rows = s.by_lookahead;
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
            <tr key={r.lookahead}>
              <td className="num">{r.lookahead}</td>
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
    </div>
  );
}
