'use client';
/** The clean/corrupted pairs of a patching experiment (activation, attribution or path patching), the selected one highlighted. */
import { fmt } from './common';

export interface PairRow {
  change: string;
  length: number;
  good: string;
  bad: string;
  clean_logit_diff: number | null;
  corrupt_logit_diff: number | null;
}

export function PairsTable({ pairs, selected }: { pairs: readonly PairRow[]; selected: string }) {
  return (
    <table data-testid="pairs">
      <thead>
        <tr>
          <th>#</th>
          <th>Corruption</th>
          <th>Correct</th>
          <th>Best wrong</th>
          <th className="num">LD clean</th>
          <th className="num">LD corrupt</th>
          <th className="num">Tokens</th>
        </tr>
      </thead>
      <tbody>
        {pairs.map((r, i) => (
          <tr key={i} className={String(i) === selected ? 'selected' : ''}>
            <td>{i}</td>
            <td className="mono">{r.change}</td>
            <td className="mono">{r.good}</td>
            <td className="mono">{r.bad}</td>
            <td className="num">{fmt(r.clean_logit_diff)}</td>
            <td className="num">{fmt(r.corrupt_logit_diff)}</td>
            <td className="num">{r.length}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
