'use client';
/**
 * Does the model use what the SAE's connection latents encode? Zeroing a used connection's latent
 * (paths that stop using it) and setting a wall's latent (paths that cross it), each beside a
 * random-latent control edited at the same positions (Spies et al. 2024's test).
 */
import Link from 'next/link';
import { type ViewProps, fmt } from './common';

export function SaeInterventionView({ s }: ViewProps<'SaeInterventionSummary'>) {
  const rows = [
    { name: 'Zero a used connection’s latent', what: 'paths no longer using it', o: s.remove },
    { name: 'Set a wall’s connection latent', what: 'paths crossing the wall', o: s.add },
  ];
  return (
    <div data-testid="sae-intervention-view">
      <p>
        Latents of the SAE of{' '}
        <Link prefetch={false} href={`/experiments/${s.sae}`}>
          Experiment {s.sae}
        </Link>{' '}
        on <code>{s.hook}</code>, edited with its error term kept: {s.connection_latents} connections have a latent with AUC ≥ {fmt(s.min_auc)}; {s.solved} of{' '}
        {s.mazes} mazes were solved unedited and get trials.
      </p>
      <table className="compact" data-testid="sae-intervention-table">
        <thead>
          <tr>
            <th>Edit</th>
            <th className="num">Trials</th>
            <th>Changed</th>
            <th className="num">Rate</th>
            <th className="num">Random-latent control</th>
            <th className="num">Edited paths still valid</th>
            <th className="num">Changed and still valid</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name}>
              <td>{r.name}</td>
              <td className="num">{r.o.trials}</td>
              <td className="sub">{r.what}</td>
              <td className="num">
                {r.o.changed} ({fmt(r.o.rate)})
              </td>
              <td className="num">
                {r.o.control_changed} ({fmt(r.o.control_rate)})
              </td>
              <td className="num">{r.o.valid}</td>
              <td className="num">{r.o.changed_valid}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
