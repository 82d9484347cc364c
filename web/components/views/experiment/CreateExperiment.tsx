'use client';
/**
 * The new-experiment form: a model, a kind, its params as form controls generated from the kind's
 * typed fields (ParamsForm: bounds for this model, selects and checkboxes for choices), with the
 * same params as JSON behind an "advanced" toggle (prefilled with this model's defaults; choices as
 * the API's enums spell them, the CLI's `add-wall-on` accepted too), an optional dataset (its test
 * split) and a seed. Model, kind, dataset, seed and (from "Run again") params live in the URL. Submitting
 * queues the job and opens the experiment's page, where its progress streams.
 */
import type { ExperimentFormQuery, RunExperimentMutation } from '../../../lib/generated/operations';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { defaultParams, paramsInput, parseParams } from '../../../lib/experiments';
import { fullId, shortId } from '../../../lib/graphql';
import { useMutation, useQuery } from '../../../lib/hooks';
import { EXPERIMENT_FORM, RUN_EXPERIMENT } from './CreateExperiment.queries';
import { useUrlState } from '../../../lib/url';
import { ErrorBox } from '../../ui';
import { ParamsForm } from './ParamsForm';

/** One field per line, arrays kept on one line: easy to edit by hand. */
export function formatParams(p: Record<string, unknown>): string {
  const keys = Object.keys(p);
  if (!keys.length) return '{}';
  return `{\n${keys.map((k) => `  ${JSON.stringify(k)}: ${JSON.stringify(p[k])}`).join(',\n')}\n}`;
}

export function CreateExperiment() {
  const url = useUrlState();
  const router = useRouter();
  const model = url.get('model');
  const q = useQuery<ExperimentFormQuery>(EXPERIMENT_FORM, { modelId: model ? fullId('Model', model) : null });
  const kinds = q.data?.experimentKinds ?? [];
  const models = (q.data?.models.edges.map((x) => x.node) ?? []).filter((m) => m.status !== 'FAILED');
  const datasets = (q.data?.datasets.edges.map((x) => x.node) ?? []).filter((d) => d.status === 'READY');
  const kind = url.get('kind') || kinds[0]?.kind || '';
  const info = kinds.find((k) => k.kind === kind);
  const dataset = url.get('dataset');
  const seed = url.get('seed', '0');
  const urlParams = url.get('params');
  const [text, setText] = useState(urlParams || '');
  const [clientError, setClientError] = useState<Error>();
  const [advanced, setAdvanced] = useState(false);
  const parsedText = parseParams(text);
  const run = useMutation<RunExperimentMutation>(RUN_EXPERIMENT);
  const filled = useRef('');

  useEffect(() => {
    if (!model && models[0]) url.set({ model: shortId(models[0].id) });
  }, [model, models, url]);
  // Defaults of this kind for this model, unless the URL brought params (a rerun).
  useEffect(() => {
    const key = `${model}/${kind}/${urlParams}`;
    if (!info || filled.current === key || q.loading) return;
    filled.current = key;
    setText(urlParams || formatParams(defaultParams(info.defaults)));
  }, [info, model, kind, urlParams, q.loading]);

  async function submit(ev: React.FormEvent) {
    ev.preventDefault();
    setClientError(undefined);
    const parsed = parsedText; // this render's parse of the same text
    if ('error' in parsed) return setClientError(new Error(parsed.error));
    if (!info) return;
    const r = await run.run({
      modelId: fullId('Model', model),
      params: paramsInput(info.inputField, info.params, parsed.value),
      // A kind that takes no mazes greys the selector out: a dataset left in the URL is not sent.
      datasetId: dataset && mazeKind ? fullId('Dataset', dataset) : null,
      seed: Number(seed) || 0,
    });
    const made = r?.runExperiment.params;
    if (made?.__typename === 'ExperimentJobParams' && made.experimentId) router.push(`/experiments/${shortId(made.experimentId)}`);
  }

  const mazeKind = info?.params.some((f) => f.name === 'count');
  return (
    <div className="card" data-testid="create-experiment">
      <h2>New experiment</h2>
      <ErrorBox error={q.error} />
      <form onSubmit={submit} className="experiment-form">
        <label>
          Model
          <select name="model" value={model} onChange={(ev) => url.set({ model: ev.target.value, params: null })} required>
            {models.map((m) => (
              <option key={m.id} value={shortId(m.id)}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select name="kind" value={kind} onChange={(ev) => url.set({ kind: ev.target.value, params: null, dataset: null })}>
            {kinds.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.kind}
              </option>
            ))}
          </select>
        </label>
        <label>
          Mazes
          <select name="dataset" value={mazeKind ? dataset : ''} onChange={(ev) => url.set({ dataset: ev.target.value })} disabled={!mazeKind}>
            <option value="">generated from the params</option>
            {datasets.map((d) => (
              <option key={d.id} value={shortId(d.id)}>
                test split of {d.name} ({d.grid}×{d.grid})
              </option>
            ))}
          </select>
        </label>
        <label>
          Seed
          <input name="seed" type="number" min={0} value={seed} onChange={(ev) => url.set({ seed: ev.target.value })} />
        </label>
        {info ? <p className="sub describe">{info.describe}</p> : null}
        {info ? (
          'error' in parsedText ? (
            <p className="error wide">The params JSON below does not parse ({parsedText.error}); fix it there to use the form.</p>
          ) : (
            <div className="wide">
              <ParamsForm fields={info.params} value={parsedText.value} onChange={(next) => setText(formatParams(next))} />
            </div>
          )
        ) : null}
        <details className="wide" open={advanced || 'error' in parsedText} onToggle={(ev) => setAdvanced((ev.target as HTMLDetailsElement).open)}>
          <summary data-testid="params-json">Advanced: the params as JSON (the same as the form; fields left out take their defaults)</summary>
          <textarea
            name="params"
            value={text}
            onChange={(ev) => setText(ev.target.value)}
            spellCheck={false}
            rows={Math.min(14, Math.max(4, text.split('\n').length + 1))}
          />
        </details>
        <button type="submit" className="primary wide" disabled={run.busy || !kind || !model} data-testid="run-experiment">
          {run.busy ? 'Queueing…' : 'Run experiment'}
        </button>
      </form>
      <ErrorBox error={clientError ?? run.error} />
      {info ? (
        <details className="fields">
          <summary>Fields of {info.kind} with this model's defaults</summary>
          <table className="compact">
            <tbody>
              {info.params.map((f) => (
                <tr key={f.name}>
                  <td className="mono">{f.name}</td>
                  <td className="mono sub">{f.type}</td>
                  <td>
                    {f.doc}
                    {f.choices ? <span className="sub"> — {f.choices.join(' | ')}</span> : null}
                  </td>
                  <td className="mono">
                    {info.defaults && f.name in info.defaults && (info.defaults as Record<string, unknown>)[f.name] !== null ? (
                      JSON.stringify((info.defaults as Record<string, unknown>)[f.name])
                    ) : f.defaultDoc ? (
                      <span className="sub">{f.defaultDoc}</span>
                    ) : (
                      <span className="sub">{f.hasDefault ? 'set by the model' : 'optional'}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </div>
  );
}
