'use client';
/**
 * Goal retargeting ("just retarget the search"): the representation of the target overwritten
 * with another run's at one layer; how often the rollout becomes a valid path to the new target,
 * by layer, beside the random-vector and same-target controls and the unpatched baseline.
 * URL state: measure.
 */
import { useUrlState } from '../../../lib/url';
import { LayerLines } from '../../charts/LayerLines';
import { ciText } from '../../../lib/stats';
import { type SummaryData, type ViewProps, UrlSelect, fmt, pick } from './common';

const MEASURES = [
  ['valid_to_new_target', 'valid path to the new target'],
  ['valid_to_old_target', 'valid path to the old target'],
  ['changed', 'rollout changed'],
] as const;
const CONDITION = { retarget: 'retarget', random: 'random vector (control)', same: 'same target (control)' } as Record<string, string>;

type Layer = SummaryData<'RetargetSummary'>['retargetLayers'][number];
type Measure = (typeof MEASURES)[number][0];
/** Whether `c` (an entry of summary.conditions) names a field of the layer rows. */
const isCondition = (row: Layer, c: string): c is Exclude<keyof Layer, 'layer'> => c !== 'layer' && Object.hasOwn(row, c);

export function RetargetView({ s }: ViewProps<'RetargetSummary'>) {
  const url = useUrlState();
  const layers = s.retargetLayers;
  const conditions = s.conditions;
  const baseline = s.baseline;
  const measures: readonly Measure[] = MEASURES.map((m) => m[0]);
  const picked = pick(url.get, 'measure', measures, 'valid_to_new_target');
  const measure = measures.find((m) => m === picked) ?? 'valid_to_new_target';
  const value = (row: Layer, c: string): number | null => (isCondition(row, c) ? (row[c]?.[measure] ?? null) : null);
  const cats = layers.map((r) => `L${r.layer}`);
  // The baseline has no "changed" measure: no line then.
  const base = measure === 'changed' ? null : baseline[measure];
  return (
    <div data-testid="retarget-view">
      <div className="filters">
        <UrlSelect param="measure" label="Measure" value={measure} options={MEASURES} />
      </div>
      <h3>
        Retargeting success by layer ({s.mazes} mazes, patched at {s.patchedAt} positions)
      </h3>
      <p className="sub caption">
        Retarget: the representation at the target is replaced by the one from a run with a different target, at one layer; controls: a random vector of the
        same norm, and the same target from another run.
      </p>
      <LayerLines
        categories={cats}
        yLabel="fraction of mazes"
        testId="retarget-chart"
        series={[
          ...conditions.map((c, i) => ({ name: CONDITION[c] ?? c, values: layers.map((r) => value(r, c)), n: layers.map(() => s.mazes), dashed: i > 0 })),
          ...(base !== null ? [{ name: 'no patch', values: layers.map(() => base), n: layers.map(() => s.mazes), dashed: true, colour: '#8895a7' }] : []),
        ]}
      />
      <table className="compact">
        <thead>
          <tr>
            <th>Layer</th>
            {conditions.map((c) => (
              <th key={c} className="num">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {layers.map((r, i) => (
            <tr key={i}>
              <td className="mono">{cats[i]}</td>
              {conditions.map((c) => (
                <td key={c} className="num">
                  {fmt(value(r, c))} <span className="sub ci">{ciText(value(r, c), s.mazes)}</span>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="sub">
        Without patching: {fmt(baseline.valid_to_old_target)} {ciText(baseline.valid_to_old_target, s.mazes)} reach the old target validly,{' '}
        {fmt(baseline.valid_to_new_target)} {ciText(baseline.valid_to_new_target, s.mazes)} the new one. Each rate is over the {s.mazes} mazes, with its 95%
        Wilson interval.
      </p>
    </div>
  );
}
