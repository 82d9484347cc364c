'use client';
/**
 * /models/<id>/components/<name>: one head (L1H0), MLP layer (L1.mlp) or neuron (L0N17), the way
 * Neuronpedia shows a feature: what every stored experiment of the model measured about it (linked
 * to the experiment), the findings about it, and its activity over a dataset's test mazes — mean
 * by token class, and the mazes where it is strongest drawn with its attention or activation on
 * the cells (each linked to its maze page).
 */
import Link from 'next/link';
import type { ComponentActivityQuery, ComponentQuery } from '../../lib/generated/operations';
import { fullId, shortId } from '../../lib/graphql';
import { useQuery } from '../../lib/hooks';
import { componentPage } from '../../lib/url';
import { Bars } from '../charts/Bars';
import { ErrorBox, Title } from '../ui';
import { fmt } from './experiment/common';
import type { Target } from './findings/target';
import { TargetFindings } from './findings/TargetFindings';
import { COMPONENT, COMPONENT_ACTIVITY } from './ComponentView.queries';
import { type DatasetChoice, TestMazeExample, useActivityDataset } from './ActivityDataset';

type Model = NonNullable<ComponentQuery['model']>;
type Component = Model['component'];
type Activity = NonNullable<ComponentActivityQuery['model']>['component']['activity'];

function targetOf(c: Component): Target {
  return c.kind === 'head'
    ? { kind: 'head', layer: c.layer, head: c.head }
    : c.kind === 'neuron'
      ? { kind: 'neuron', layer: c.layer, neuron: c.neuron }
      : { kind: 'mlp', layer: c.layer };
}

/** Every head of the model (a head's page), or the MLP layers (an MLP's), current one marked. */
function Siblings({ model, c }: { model: Model; c: Component }) {
  const { n_layers: L, n_heads: H } = model.config;
  const names =
    c.kind === 'head'
      ? Array.from({ length: L * H }, (_, i) => `L${Math.floor(i / H)}H${i % H}`)
      : c.kind === 'mlp'
        ? Array.from({ length: L }, (_, l) => `L${l}.mlp`)
        : [
            c.neuron! > 0 ? `L${c.layer}N${c.neuron! - 1}` : null,
            `L${c.layer}N${c.neuron}`,
            c.neuron! + 1 < model.config.d_mlp ? `L${c.layer}N${c.neuron! + 1}` : null,
          ].filter((n): n is string => n !== null);
  return (
    <nav className="siblings" aria-label="other components" data-testid="component-siblings">
      {names.map((n) =>
        n === c.name ? (
          <strong key={n}>{n}</strong>
        ) : (
          <Link key={n} prefetch={false} href={componentPage(model.id, n)}>
            {n}
          </Link>
        ),
      )}
    </nav>
  );
}

function Evidence({ c }: { c: Component }) {
  return (
    <div className="card" data-testid="component-evidence">
      <h2>What experiments measured</h2>
      {c.evidence.length === 0 ? (
        <p className="empty">
          No stored experiment of this model measured {c.name} yet: dla
          {c.kind === 'head'
            ? ', activation or attribution patching (head sites), path-patching, adjacency-heads, weights and attention do'
            : ' and patching (mlp_out) do'}
          {c.kind === 'neuron' ? '; none measures single neurons, so see its activity below' : ''}.
        </p>
      ) : (
        <div className="scroll-x">
          <table className="compact">
            <thead>
              <tr>
                <th>Experiment</th>
                <th>Measure</th>
                <th className="num">Value</th>
                <th className="num">Rank</th>
              </tr>
            </thead>
            <tbody>
              {c.evidence.map((e, i) => (
                <tr key={i}>
                  <td>
                    <Link prefetch={false} href={`/experiments/${shortId(e.experiment.id)}`}>
                      {e.kind} {shortId(e.experiment.id)}
                    </Link>
                    {e.experiment.checkpoint ? <span className="sub"> · step {e.experiment.checkpoint.step}</span> : null}
                  </td>
                  <td>{e.measure}</td>
                  <td className="num">{fmt(e.value)}</td>
                  <td className="num">{e.rank != null ? `${e.rank} of ${e.of}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function ActivityCard({ model, c, datasets }: { model: Model; c: Component; datasets: readonly DatasetChoice[] }) {
  const { dataset, select } = useActivityDataset(datasets, [{ id: model.lineage.datasetId, note: 'trained on' }]);
  const q = useQuery<ComponentActivityQuery>(COMPONENT_ACTIVITY, { model: model.id, name: c.name, dataset: dataset || null }, { skip: !dataset });
  const a: Activity | undefined = q.data?.model?.component.activity;
  const what = c.kind === 'head' ? 'attention on one cell' : c.kind === 'mlp' ? '‖mlp_out‖' : 'activation';
  return (
    <div className="card" data-testid="component-activity">
      <h2>Activity over mazes</h2>
      {select}
      {!dataset ? <p className="empty">No dataset to read: create one first.</p> : null}
      <ErrorBox error={q.error} />
      {q.loading && !a ? <p className="empty">Running the model on the test mazes…</p> : null}
      {a ? (
        <>
          <p data-testid="component-activity-summary">
            {a.mazes} of {a.splitSize} test mazes of {a.dataset.name}, {a.positions} positions; {a.byClassMeasure}:
          </p>
          <Bars
            items={a.byClass.map((b) => ({ label: b.class, value: b.value, note: `n = ${b.n}` }))}
            valueLabel={a.byClassMeasure}
            testId="component-by-class"
          />
          <h3>Strongest mazes</h3>
          {a.examples.map((x) => (
            <TestMazeExample key={x.maze.id} x={x} heat={x.heat} label={`${c.name}'s ${what}`} testId="component-example">
              {what} {fmt(x.value)}
              {x.cell ? ` on (${x.cell[0]},${x.cell[1]})` : ''}
            </TestMazeExample>
          ))}
        </>
      ) : null}
    </div>
  );
}

export function ComponentView({ id, name }: { id: string; name: string }) {
  const q = useQuery<ComponentQuery>(COMPONENT, { model: fullId('Model', id), name });
  const model = q.data?.model;
  const c = model?.component;
  const datasets = q.data?.datasets.edges.map((e) => e.node) ?? [];
  const what = c
    ? c.kind === 'head'
      ? `head ${c.head} of layer ${c.layer}`
      : c.kind === 'mlp'
        ? `the MLP of layer ${c.layer}`
        : `neuron ${c.neuron} of layer ${c.layer}'s MLP`
    : '';
  return (
    <>
      <Title
        sub={
          model ? (
            <>
              {what} of{' '}
              <Link prefetch={false} href={`/models/${shortId(model.id)}`}>
                {model.name}
              </Link>
            </>
          ) : undefined
        }
      >
        {c?.name ?? name}
      </Title>
      <ErrorBox error={q.error} />
      {model && c ? (
        <div data-testid="component-page">
          <Siblings model={model} c={c} />
          <div className="grid2">
            <Evidence c={c} />
            <TargetFindings modelId={model.id} target={targetOf(c)} name={c.name} testId="component-findings" />
          </div>
          <ActivityCard model={model} c={c} datasets={datasets} />
        </div>
      ) : null}
    </>
  );
}
