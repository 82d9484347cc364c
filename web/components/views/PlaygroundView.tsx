'use client';
/**
 * /playground?model=M&dataset=D&maze=Z&edit=E&run=1&pos=P: choose a model and a maze (or edit one
 * by clicking walls; `edit` holds the edited maze, lib/mazeEdit.encodeMaze), run the model, step
 * through its predicted path token by token, and see every head's attention from the current token
 * over the maze cells, and the logit lens at that step. `iv` (JSON) lists interventions on hooks
 * (playground/Interventions.tsx): the rollout under them is drawn beside the model's own.
 */
import type { ModelsQuery } from '../../lib/generated/operations';
import { useMemo } from 'react';
import { fullId, shortId } from '../../lib/graphql';
import { useQuery } from '../../lib/hooks';
import { type Cell, decodeMaze, encodeMaze, fromConnections, mazeSvg, toSpec } from '../../lib/mazeEdit';
import { MODELS } from './ModelsView.queries';
import { PLAYGROUND, TOKENIZE_MAZE } from './PlaygroundView.queries';
import { headHref, intParam, useUrlState } from '../../lib/url';
import type { Maze, ModelConfig } from '../../lib/types';
import { MazeSvg } from '../MazeSvg';
import { TokenSequence } from '../TokenSequence';
import { ErrorBox, Title, num } from '../ui';
import { HeadGrid } from './playground/HeadGrid';
import { LogitLens } from './playground/LogitLens';
import { MazeEditor } from './playground/MazeEditor';
import { MazePicker } from './playground/MazePicker';
import { useRun } from './playground/useRun';
import { FeatureEditor, InterventionEditor, parseFeatureEdits, parseInterventions, useIntervenedRun } from './playground/Interventions';

type PModel = { id: string; name: string; config: ModelConfig; vocab: string[]; hookNames: string[]; latestCheckpoint: { id: string; step: number } | null };

/** The rollout metrics compared side by side (baseline vs intervened). */
const COMPARED = ['exact_path', 'target_reached', 'valid_rollout', 'steps', 'frac_correct_forks'];
type PMaze = Pick<Maze, 'id' | 'index' | 'rows' | 'cols' | 'origin' | 'target' | 'solution' | 'tokens' | 'svg'> & {
  small: string;
  connections: Array<[Cell, Cell]>;
  dataset: { id: string; name: string };
};

export function PlaygroundView() {
  const url = useUrlState();
  const model = url.get('model');
  const maze = url.get('maze');
  const run = url.get('run') === '1';
  const lists = useQuery<ModelsQuery>(MODELS);
  const q = useQuery<{ model?: PModel | null; maze?: PMaze | null }>(
    PLAYGROUND,
    {
      modelId: fullId('Model', model || '0'),
      mazeId: fullId('Maze', maze || '0'),
      withModel: !!model,
      withMaze: !!maze,
    },
    { skip: !model && !maze },
  );
  const m = q.data?.model ?? undefined;
  const z = q.data?.maze ?? undefined;
  const edit = url.get('edit');
  const edited = useMemo(() => (edit ? decodeMaze(edit) : null), [edit]);
  const spec = useMemo(() => (edited ? toSpec(edited) : null), [edited]);
  // The server checks the edited maze (adjacent edges, in the grid, target reachable) and tokenizes it.
  const tq = useQuery<{ tokenizeMaze: { prompt: string; tokens: string; solution: Cell[] } }>(
    TOKENIZE_MAZE,
    { input: spec, tokenizer: m?.config.tokenizer ?? null },
    { skip: !spec },
  );
  const tokenized = spec ? tq.data?.tokenizeMaze : undefined;
  const editOk = !!edited && !!tokenized && !tq.error && !tq.loading;
  const input = useMemo(() => {
    if (!run || !m?.latestCheckpoint) return null;
    const common = { modelId: m.id, checkpointId: m.latestCheckpoint.id, config: m.config };
    if (edited) return spec ? { ...common, maze: spec, mazeKey: `edit:${edit}` } : null;
    return z ? { ...common, mazeId: z.id, mazeKey: z.id } : null;
  }, [run, m, z, edited, spec, edit]);
  const smallSvg = useMemo(() => (edited ? mazeSvg(edited, 12, tokenized?.solution ?? []) : (z?.small ?? '')), [edited, tokenized, z]);
  const startEdit = (): void => {
    if (z) url.set({ edit: encodeMaze(fromConnections(z.rows, z.cols, z.connections, z.origin, z.target)), run: '', pos: '' });
  };
  const r = useRun(input);
  const res = r.result;
  const ivText = url.get('iv');
  const ivList = useMemo(() => parseInterventions(ivText), [ivText]);
  const feText = url.get('fe');
  const feEdits = useMemo(() => parseFeatureEdits(feText), [feText]);
  const iv = useIntervenedRun(input, ivList ?? [], feEdits);
  const largeSvg = useMemo(() => (edited ? mazeSvg(edited, 24, tokenized?.solution ?? []) : (z?.svg ?? '')), [edited, tokenized, z]);
  const first = res ? res.pathStart - 1 : 0; // <PATH_START> predicts the first path cell
  const last = res ? res.tokens.length - 2 : 0;
  const pos = res ? intParam(url.get('pos'), first, first, last) : 0;
  const step = pos - first;
  const curTok = res?.tokens[pos];
  const curCell = curTok && /^\(\d+,\d+\)$/.test(curTok) ? curTok.slice(1, -1) : null;
  const dataset = url.get('dataset') || (z ? shortId(z.dataset.id) : '');
  const here = typeof window !== 'undefined' ? `${location.pathname}${location.search}` : '';

  return (
    <>
      <Title sub="run a model on a maze; step through its path; read its heads">Playground</Title>
      <ErrorBox error={lists.error ?? q.error ?? (spec ? tq.error : undefined) ?? r.error ?? iv.error} />
      {feEdits === null ? (
        <p className="error">
          The feature edits in this URL (<code>fe=</code>) are malformed;{' '}
          <button type="button" onClick={() => url.set({ fe: '' })}>
            drop them
          </button>
        </p>
      ) : null}
      {ivList === null ? (
        <p className="error">
          The interventions in this URL (<code>iv=</code>) are malformed;{' '}
          <button type="button" onClick={() => url.set({ iv: '' })}>
            drop them
          </button>
        </p>
      ) : null}
      {edit && !edited ? (
        <p className="error">
          The edited maze in this URL (<code>edit=</code>) is malformed;{' '}
          <button type="button" onClick={() => url.set({ edit: '', run: '', pos: '' })}>
            drop it
          </button>
        </p>
      ) : null}
      <div className="row">
        <div className="card" style={{ flex: '1 1 340px' }}>
          <h2>Model and maze</h2>
          <div className="filters">
            <label>
              Model
              <select name="model" value={model} onChange={(e) => url.set({ model: e.target.value, run: '', pos: '' })}>
                <option value="">choose…</option>
                {(lists.data?.models.edges ?? []).map(({ node }) => (
                  <option key={node.id} value={shortId(node.id)}>
                    {node.name} ({node.config.n_layers}L×{node.config.n_heads}H)
                  </option>
                ))}
              </select>
            </label>
          </div>
          <MazePicker
            datasets={lists.data?.datasets.edges.map((e) => e.node) ?? []}
            dataset={dataset}
            maze={maze}
            onDataset={(d) => url.set({ dataset: d })}
            onMaze={(id) => url.set({ maze: id, run: '', pos: '' })}
          />
          <p style={{ marginTop: 10 }}>
            <button
              type="button"
              className="primary"
              disabled={!m || (edited ? !editOk : !z) || r.busy || !m.latestCheckpoint}
              onClick={() => url.set({ run: '1', pos: '' })}
              data-testid="run"
            >
              {r.busy ? `Running: ${r.phase}…` : edited ? 'Run model on the edited maze' : 'Run model'}
            </button>{' '}
            {edited ? (
              <button type="button" onClick={() => url.set({ edit: '', run: '', pos: '' })} data-testid="stop-edit">
                Back to the stored maze
              </button>
            ) : (
              <button type="button" onClick={startEdit} disabled={!z} data-testid="edit-maze">
                Edit this maze
              </button>
            )}
            {m && !m.latestCheckpoint ? <span className="sub"> this model has no checkpoint yet</span> : null}
          </p>
          {res ? (
            <table className="kv">
              <tbody>
                {Object.entries(res.metrics).map(([k, v]) => (
                  <tr key={k}>
                    <th>{k}</th>
                    <td className="num">{typeof v === 'object' ? JSON.stringify(v) : num(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
        {edited ? (
          <div className="card" style={{ flex: '0 1 auto' }}>
            <h2>
              <span>Edited maze</span>{' '}
              <span className="sub">
                {edited.rows}×{edited.cols}
                {z ? ` · from maze ${shortId(z.id)}` : ''}
                {tokenized ? ` · solution ${tokenized.solution.length - 1} steps · prompt ${tokenized.prompt.split(' ').length} tokens` : ''}
              </span>
            </h2>
            <MazeEditor
              maze={edited}
              solution={tokenized?.solution ?? []}
              predicted={res?.predicted}
              lit={curCell ? [curCell] : []}
              onChange={(e) => url.set({ edit: encodeMaze(e), run: '', pos: '' })}
            />
          </div>
        ) : z ? (
          <div className="card" style={{ flex: '0 1 auto' }}>
            <h2>
              <span>Maze {shortId(z.id)}</span>{' '}
              <span className="sub">
                #{z.index} · {z.dataset.name}
              </span>
            </h2>
            <MazeSvg svg={z.svg} className="maze-large" predicted={res?.predicted} lit={curCell ? [curCell] : []} label="playground maze" />
          </div>
        ) : null}
        {res && m ? (
          <div className="card" style={{ flex: '2 1 420px' }}>
            <h2>
              <span>
                Step {step} of {last - first}
              </span>{' '}
              <span className="sub">
                query position {pos}: <code>{curTok}</code> → predicts <code>{res.tokens[pos + 1]}</code>
              </span>
            </h2>
            <div className="filters">
              <button type="button" onClick={() => url.set({ pos: Math.max(first, pos - 1) })} disabled={pos <= first} aria-label="previous step">
                ◀
              </button>
              <input type="range" min={first} max={last} value={pos} onChange={(e) => url.set({ pos: e.target.value })} style={{ flex: 1 }} aria-label="step" />
              <button type="button" onClick={() => url.set({ pos: Math.min(last, pos + 1) })} disabled={pos >= last} aria-label="next step">
                ▶
              </button>
            </div>
            <TokenSequence
              tokens={res.tokens}
              current={pos}
              from={res.pathStart}
              litCell={curCell}
              onPick={(p) => url.set({ pos: Math.min(last, Math.max(first, p)) })}
            />
            <h3 style={{ marginTop: 12 }}>Logit lens</h3>
            <LogitLens resid={res.resid} lens={res.lens} vocab={m.vocab} pos={pos} actual={res.tokens[pos + 1]} />
          </div>
        ) : null}
      </div>
      {m ? (
        <div className="row">
          <div className="card" style={{ flex: '1 1 420px' }}>
            <h2>
              <span>Interventions</span> <span className="sub">zero, mean, replace or add on any hook, at chosen positions, heads and features</span>
            </h2>
            <InterventionEditor
              hookNames={m.hookNames}
              list={ivList ?? []}
              defaultPosition={res ? pos : undefined}
              onChange={(next) => url.set({ iv: next.length ? JSON.stringify(next) : '' })}
            />
            <FeatureEditor
              modelId={m.id}
              checkpointId={m.latestCheckpoint?.id ?? null}
              value={feEdits ?? undefined}
              onChange={(next) => url.set({ fe: next ? JSON.stringify(next) : '' })}
            />
            {(ivList?.length || feEdits?.edits.length) && !run ? <p className="sub">Run the model to see the rollout under them.</p> : null}
            {iv.busy ? <p className="sub">Decoding under the interventions…</p> : null}
          </div>
          {iv.result && res ? (
            <div className="card" style={{ flex: '2 1 420px' }} data-testid="intervened">
              <h2>
                <span>With interventions</span> <span className="sub">beside the model's own rollout</span>
              </h2>
              <div className="row">
                <MazeSvg svg={largeSvg} predicted={iv.result.path} label="rollout under interventions" />
                <table className="kv">
                  <thead>
                    <tr>
                      <th />
                      <th>model</th>
                      <th>intervened</th>
                    </tr>
                  </thead>
                  <tbody>
                    {COMPARED.map((k) => (
                      <tr key={k}>
                        <th>{k}</th>
                        <td className="num">{num(res.metrics[k])}</td>
                        <td className="num" data-testid={`iv-${k}`}>
                          {num(iv.result!.metrics[k])}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <TokenSequence tokens={iv.result.tokens.slice(res.pathStart)} />
              <p className="sub" data-testid="iv-same">
                {iv.result.tokens.join(' ') === res.tokens.join(' ') ? 'The same rollout as without interventions.' : 'The rollout changed.'}
              </p>
            </div>
          ) : null}
        </div>
      ) : null}
      {res && m && (edited || z) ? (
        <div className="card">
          <h2>
            <span>
              Attention from position {pos} (<code>{curTok}</code>) onto maze cells, per head
            </span>{' '}
            <span className="sub">
              rows: layers · columns: heads ·{' '}
              <label className="inline">
                <input
                  type="checkbox"
                  name="shared-scale"
                  checked={url.get('scale') === 'shared'}
                  onChange={(e) => url.set({ scale: e.target.checked ? 'shared' : '' })}
                />{' '}
                one colour scale for every head
              </label>{' '}
              (otherwise scaled per head)
            </span>
          </h2>
          <HeadGrid
            svg={smallSvg}
            rows={edited?.rows ?? z!.rows}
            cols={edited?.cols ?? z!.cols}
            tokens={res.tokens}
            patterns={res.patterns}
            query={pos}
            nHeads={m.config.n_heads}
            annotateHref={(l, h) => `/findings?model=${shortId(m.id)}&target=head:${l}.${h}&evidence=${encodeURIComponent(here)}`}
            headHref={(l, h) => headHref(m.id, l, h)}
            shared={url.get('scale') === 'shared'}
          />
        </div>
      ) : null}
    </>
  );
}
