'use client';
/**
 * Path patching: for each sender head (layer × head), how much of the corrupted input's effect on
 * the logit difference flows from that head to the receivers only (the logits, or the q/k/v inputs
 * of chosen heads), with the other heads frozen to the clean run — 0 none, −1 all. For one pair or
 * the mean over pairs; senders that cannot reach the receivers are blank. URL state: pair.
 */
import { nanMean0, subTensor } from '../../../lib/experiments';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { headHref, useUrlState } from '../../../lib/url';
import { Heatmap } from '../../charts/Heatmap';
import { type ViewProps, Pending, UrlSelect, fmt, pick } from './common';
import { PairsTable } from './PairsTable';
import { useTensors } from './useTensors';

export function PathPatchingView({ e, s }: ViewProps<'PathPatchingSummary'>) {
  const url = useUrlState();
  const { pairs, strongest } = s;
  const r = s.receivers;
  const receivers =
    r.kind === 'logits'
      ? 'the logits'
      : `${(r.inputs ?? []).join('/')} inputs of ${r.heads ? r.heads.map((h) => `H${h}`).join(', ') : 'every head'} at layer ${String(r.layer)}`;
  const pairOpts = ['mean', ...pairs.map((_, i) => String(i))];
  const pairSel = pick(url.get, 'pair', pairOpts, 'mean');
  const { n_layers: L, n_heads: H } = e.model.config;
  const router = useRouter();
  const { tensors, error } = useTensors(e, ['senders']);
  let main: React.ReactNode = <Pending error={error} />;
  if (tensors) {
    const t = tensors.senders; // [P, L, H] normalised
    const p = pairSel === 'mean' ? -1 : Number(pairSel);
    const block = p < 0 ? nanMean0(t.data, t.shape) : subTensor(t.data, t.shape, [p]).data;
    main = (
      <Heatmap
        values={block}
        rows={L}
        cols={H}
        rowLabels={Array.from({ length: L }, (_, l) => `L${l}`)}
        colLabels={Array.from({ length: H }, (_, h) => `H${h}`)}
        diverging
        range={[-1, 1]}
        valueLabel="path-patched effect"
        onCellClick={(l, h) => router.push(headHref(e.model.id, l, h))}
        testId="path-patching-heatmap"
      />
    );
  }
  return (
    <div data-testid="path-patching-view">
      <div className="filters">
        <UrlSelect
          param="pair"
          label="Pair"
          value={pairSel}
          options={pairOpts.map((v) => [v, v === 'mean' ? 'mean over pairs' : `#${v}: ${pairs[Number(v)]?.change ?? ''}`])}
        />
      </div>
      <h3>Senders → {receivers}</h3>
      <p className="sub caption">
        (LD<sub>patched</sub> − LD<sub>clean</sub>) / (LD<sub>clean</sub> − LD<sub>corrupt</sub>) with each head’s corrupted output sent along this path only
        {s.freeze === 'heads' ? ' (other heads frozen to the clean run, MLPs recomputed)' : ' (nothing frozen: activation patching)'}: −1 (blue) = the path
        carries the whole effect, 0 = none. Blank: the head cannot reach the receivers. A click on a head opens its page.
      </p>
      {main}
      <h3>Strongest senders (mean over pairs)</h3>
      <table data-testid="path-patching-strongest">
        <thead>
          <tr>
            <th>Head</th>
            <th className="num">Effect</th>
          </tr>
        </thead>
        <tbody>
          {strongest.map((r) => (
            <tr key={`${r.layer}.${r.head}`}>
              <td className="mono">
                <Link prefetch={false} href={headHref(e.model.id, r.layer, r.head)}>
                  L{r.layer}H{r.head}
                </Link>
              </td>
              <td className="num">{fmt(r.effect)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Pairs</h3>
      <PairsTable pairs={pairs} selected={pairSel} />
    </div>
  );
}
