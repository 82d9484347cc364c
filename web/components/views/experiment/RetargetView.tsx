'use client';
/**
 * Goal retargeting ("just retarget the search"): the representation of the target overwritten
 * with another run's at one layer; how often the rollout becomes a valid path to the new target,
 * by layer, beside the random-vector and same-target controls and the unpatched baseline. A layer
 * (a point of the chart) opens the first mazes' rollouts there, drawn on their mazes with the new
 * target outlined (runs stored before the per-maze tensors existed have no drill-down).
 * URL state: measure, layer (the opened one), cond (the condition drawn).
 */
import { tokenCell } from '../../../lib/attention';
import { tokenRow } from '../../../lib/experiments';
import { useUrlState } from '../../../lib/url';
import { LayerLines } from '../../charts/LayerLines';
import { ciText } from '../../../lib/stats';
import { TokensMaze } from '../../TokensMaze';
import { type ExperimentData, type SummaryData, type ViewProps, Pending, UrlSelect, fmt, pick } from './common';
import { useTensors } from './useTensors';

/** The first mazes' rollouts at one layer under one condition, beside the unpatched ones. */
function Rollouts({ e, li, k, nK, layer, condition }: { e: ExperimentData; li: number; k: number; nK: number; layer: number; condition: string }) {
  const { tensors, error } = useTensors(e, ['detail.prompt', 'detail.new_target', 'detail.rollouts']);
  if (!tensors) return <Pending error={error} />;
  const vocab = e.model.vocab;
  const prompt = tensors['detail.prompt']; // [maze, pos]
  const targets = tensors['detail.new_target'].data; // [maze, 2]
  const roll = tensors['detail.rollouts']; // [maze, 1 + layer·conditions + condition, pos]
  const [M] = roll.shape;
  const cells = (r: number, m: number): Array<[number, number]> =>
    tokenRow(roll, [m, r], vocab)
      .map(tokenCell)
      .filter((c): c is [number, number] => c !== null);
  return (
    <div className="card drill" data-testid="retarget-drill">
      <h3>
        L{layer}, {CONDITION[condition] ?? condition}: the first {M} mazes
      </h3>
      <p className="sub">Dashed red: the rollout under the intervention; outlined: the new target. The unpatched rollout is in each caption.</p>
      <div className="row">
        {Array.from({ length: M }, (_, m) => {
          const toks = tokenRow(prompt, [m], vocab);
          const path = cells(1 + li * nK + k, m);
          const base = cells(0, m);
          const t: [number, number] = [targets[m * 2], targets[m * 2 + 1]];
          const reached = path.length > 0 && path[path.length - 1][0] === t[0] && path[path.length - 1][1] === t[1];
          return (
            <div key={m} data-testid="retarget-rollout" data-reached={reached}>
              <TokensMaze
                tokens={toks}
                tokenizer={e.model.config.tokenizer}
                lit={[`${t[0]},${t[1]}`]}
                predicted={path}
                label={`maze ${m}: ${reached ? 'ends at' : 'does not end at'} the new target (${t[0]},${t[1]}); ${path.length} steps, unpatched ${base.length}${path.join() === base.join() ? ' (the same rollout)' : ''}`}
                testId="retarget-rollout-maze"
              />
            </div>
          );
        })}
      </div>
    </div>
  );
}

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

export function RetargetView({ e, s }: ViewProps<'RetargetSummary'>) {
  const url = useUrlState();
  const layers = s.retargetLayers;
  const conditions = s.conditions;
  const baseline = s.baseline;
  const measures: readonly Measure[] = MEASURES.map((m) => m[0]);
  const picked = pick(url.get, 'measure', measures, 'valid_to_new_target');
  const measure = measures.find((m) => m === picked) ?? 'valid_to_new_target';
  const value = (row: Layer, c: string): number | null => (isCondition(row, c) ? (row[c]?.[measure] ?? null) : null);
  const cats = layers.map((r) => `L${r.layer}`);
  const drillable = e.tensors.some((t) => t.name === 'detail.rollouts');
  const opened = layers.findIndex((r) => String(r.layer) === url.get('layer'));
  const cond = pick(url.get, 'cond', conditions, conditions[0] ?? 'retarget');
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
        onCategoryClick={drillable ? (i) => url.set({ layer: layers[i].layer }) : undefined}
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
      {drillable ? (
        opened >= 0 ? (
          <>
            <div className="filters" style={{ marginTop: 10 }}>
              <UrlSelect param="cond" label="Rollouts under" value={cond} options={conditions.map((c) => [c, CONDITION[c] ?? c] as const)} />
            </div>
            <Rollouts e={e} li={opened} k={conditions.indexOf(cond)} nK={conditions.length} layer={layers[opened].layer} condition={cond} />
          </>
        ) : (
          <p className="sub">Click a layer on the chart to see the rollouts behind it.</p>
        )
      ) : null}
      <p className="sub">
        Without patching: {fmt(baseline.valid_to_old_target)} {ciText(baseline.valid_to_old_target, s.mazes)} reach the old target validly,{' '}
        {fmt(baseline.valid_to_new_target)} {ciText(baseline.valid_to_new_target, s.mazes)} the new one. Each rate is over the {s.mazes} mazes, with its 95%
        Wilson interval.
      </p>
    </div>
  );
}
