'use client';
/**
 * Direct logit attribution: each component's (embeddings, every head, attention biases, MLPs,
 * final biases) mean contribution to the logit difference between the correct next move and the
 * best wrong one, at one class of path position (forks, corridors, the first move, the end); and
 * for maze 0, component × path position. URL state: cls.
 */
import { tokenLabels } from '../../../lib/experiments';
import { componentHref, useUrlState } from '../../../lib/url';
import { Bars } from '../../charts/Bars';
import { Heatmap } from '../../charts/Heatmap';
import { type SummaryData, type ViewProps, Pending, UrlSelect, fmt, pick } from './common';
import { useTensors } from './useTensors';

/** A position class, as counts and mean_logit_diff name their fields. */
type DlaClass = keyof SummaryData<'DlaSummary'>['counts'];
/** Whether `c` (an entry of s.classes) is a field of the per-class objects. */
const isDlaClass = (s: SummaryData<'DlaSummary'>, c: string): c is DlaClass => Object.hasOwn(s.counts, c);

export function DlaView({ e, s }: ViewProps<'DlaSummary'>) {
  const url = useUrlState();
  const comps = s.components;
  const classes = s.classes;
  const count = (c: string): number | null => (isDlaClass(s, c) ? s.counts[c] : null);
  const ld = (c: string): number | null => (isDlaClass(s, c) ? s.mean_logit_diff[c] : null);
  const first = classes.find((c) => (count(c) ?? 0) > 0) ?? classes[0] ?? 'fork';
  const cls = pick(url.get, 'cls', classes, first);
  const hasDetail = e.tensors.some((t) => t.name === 'maze0.dla');
  const { tensors, error } = useTensors(e, ['by_class', ...(hasDetail ? ['maze0.dla', 'maze0.tokens', 'maze0.positions'] : [])]);
  if (!tensors) return <Pending error={error} />;
  const k = classes.indexOf(cls);
  const by = tensors.by_class; // [class, component]
  const bars = comps.map((c, j) => ({ label: c, value: by.data[k * comps.length + j], href: componentHref(e.model.id, c) }));
  let detail: React.ReactNode = null;
  if (hasDetail) {
    const d = tensors['maze0.dla']; // [P, component]
    const toks = tokenLabels(tensors['maze0.tokens'].data, e.model.vocab);
    const pos = Array.from(tensors['maze0.positions'].data);
    const P = d.shape[0];
    const C = d.shape[1];
    const transposed = Array.from({ length: C * P }, (_, i) => d.data[(i % P) * C + Math.floor(i / P)]); // [component, P]
    detail = (
      <>
        <h3>Maze 0: component × path position</h3>
        <Heatmap
          values={transposed}
          rows={C}
          cols={P}
          rowLabels={comps}
          colLabels={pos.map((p) => `${toks[p]?.replace(/^<(.*)>$/, '$1')} → ${toks[p + 1]?.replace(/^<(.*)>$/, '$1')}`)}
          diverging
          valueLabel="logit diff contribution"
          testId="dla-heatmap"
        />
      </>
    );
  }
  return (
    <div data-testid="dla-view">
      <div className="filters">
        <UrlSelect param="cls" label="Positions" value={cls} options={classes.map((c) => [c, `${c} (${fmt(count(c))})`])} />
      </div>
      <h3>
        Mean direct logit attribution at {cls} positions (mean logit diff {fmt(ld(cls))})
      </h3>
      <Bars items={bars} valueLabel="contribution to logit(correct) − logit(best wrong)" testId="dla-bars" />
      <p className="sub">
        Components sum to the logit difference (max error {fmt(s.max_sum_error)}), with the final LayerNorm’s scale applied as TransformerLens does.
      </p>
      {detail}
    </div>
  );
}
