'use client';
/**
 * Lattice-adjacency heads: every head ranked by its attention from a coordinate token onto the
 * tokens of the cell's lattice neighbours, against chance (the lift), with the share of that mass
 * on neighbours the maze connects versus those behind a wall; each head links to a new finding.
 */
import Link from 'next/link';
import { shortId } from '../../../lib/graphql';
import { headHref } from '../../../lib/url';
import { type ViewProps, fmt } from './common';

export function AdjacencyView({ e, s }: ViewProps<'AdjacencyHeadsSummary'>) {
  const ranked = s.ranked;
  // A head without a lift (null: no chance mass) draws an empty bar.
  const lift = (r: (typeof ranked)[number]): number => r.lift ?? 0;
  const maxLift = Math.max(1, ...ranked.map(lift));
  const model = shortId(e.model.id);
  return (
    <div data-testid="adjacency-view">
      <h3>
        Heads ranked by attention onto lattice neighbours ({s.mazes} mazes, {s.queries} query tokens: {s.query_tokens})
      </h3>
      <table data-testid="adjacency-table">
        <thead>
          <tr>
            <th className="num">Rank</th>
            <th>Head</th>
            <th className="num">Lattice nbrs</th>
            <th className="num">Connected</th>
            <th className="num">Behind wall</th>
            <th className="num">Chance</th>
            <th>Lift (lattice ÷ chance)</th>
            <th className="num">Connected share</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {ranked.map((r) => (
            <tr key={`${r.layer}.${r.head}`} data-head={`${r.layer}.${r.head}`}>
              <td className="num">{r.rank}</td>
              <td className="mono">
                <Link prefetch={false} href={headHref(e.model.id, r.layer, r.head)}>
                  L{r.layer}H{r.head}
                </Link>
              </td>
              <td className="num">{fmt(r.lattice)}</td>
              <td className="num">{fmt(r.connected)}</td>
              <td className="num">{fmt(r.wall)}</td>
              <td className="num">{fmt(r.chance)}</td>
              <td style={{ minWidth: 160 }}>
                <span
                  className="inline-bar"
                  style={{ width: `${(Math.max(0, lift(r)) / maxLift) * 110}px`, background: lift(r) >= 1 ? 'var(--ok)' : '#b8c0cb' }}
                />
                <span className="mono"> {fmt(r.lift)}×</span>
              </td>
              <td className="num">{fmt(r.connected_share)}</td>
              <td>
                <Link
                  prefetch={false}
                  href={`/findings?model=${model}&target=head:${r.layer}.${r.head}&evidence=${encodeURIComponent(`/experiments/${shortId(e.id)}`)}`}
                >
                  annotate
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="sub">
        Lift &gt; 1: the head attends to lattice neighbours more than a uniform spread over earlier tokens would. A high connected share means it follows the
        maze’s open edges, not just the grid.
      </p>
    </div>
  );
}
