'use client';
/**
 * /mazes/[id]?model=M: the maze with its solution, the token sequence beside it (hover a token to
 * light its cell and a cell to light its tokens), a model's predicted path drawn over it, and the
 * latents of the model's SAEs active at each token.
 */
import type { GeneratePathMutation, MazeQuery, ModelOptionsQuery } from '../../lib/generated/operations';
import Link from 'next/link';
import { useEffect, useMemo, useState } from 'react';
import { fullId, shortId } from '../../lib/graphql';
import { useMutation, useQuery } from '../../lib/hooks';
import { GENERATE_PATH, MAZE, MODEL_OPTIONS } from './MazeView.queries';
import { useUrlState } from '../../lib/url';
import type { User } from '../../lib/types';
import { canWrite } from '../Session';
import { MazeSvg } from '../MazeSvg';
import { TokenSequence } from '../TokenSequence';
import { SaeAtTokens } from './SaeAtTokens';
import { ErrorBox, Title, num } from '../ui';

type Generated = GeneratePathMutation['generatePath'];

export function MazeView({ id, me }: { id: string; me: User }) {
  const url = useUrlState();
  const modelId = url.get('model');
  const q = useQuery<MazeQuery>(MAZE, { id: fullId('Maze', id) });
  const models = useQuery<ModelOptionsQuery>(MODEL_OPTIONS);
  const gen = useMutation<GeneratePathMutation>(GENERATE_PATH);
  const [pred, setPred] = useState<Generated>();
  const [lit, setLit] = useState<string | null>(null);
  const m = q.data?.maze;
  const tokens = useMemo(() => (m ? m.tokens.split(' ') : []), [m]);

  const { run } = gen;
  useEffect(() => {
    setPred(undefined);
    if (!modelId || !m) return;
    void run({ modelId: fullId('Model', modelId), mazeId: m.id }).then((r) => r && setPred(r.generatePath));
  }, [modelId, m, run]);

  if (q.data && !m) return <ErrorBox error={new Error(`Maze:${id} not found`)} />;
  const predTokens = pred ? pred.tokens.split(' ') : [];
  const promptLen = tokens.indexOf('<PATH_START>') + 1;
  return (
    <>
      <Title
        sub={
          m ? (
            <>
              of{' '}
              <Link prefetch={false} href={`/datasets/${shortId(m.dataset.id)}`}>
                {m.dataset.name}
              </Link>{' '}
              · {m.rows}×{m.cols} · {m.split} · Maze:{id}
            </>
          ) : undefined
        }
      >
        {m ? `Maze #${m.index}` : `Maze ${id}`}
      </Title>
      <ErrorBox error={q.error} />
      {m ? (
        <div className="row">
          <div className="card">
            <MazeSvg
              svg={m.svg}
              className="maze-large"
              lit={lit ? [lit] : []}
              predicted={pred?.path.map((c) => (c ? ([c[0], c[1]] as const) : null))}
              onCellHover={setLit}
              label="maze"
            />
            <p className="sub" style={{ fontSize: 12 }}>
              <span style={{ color: '#2ca02c' }}>○ origin</span> · <span style={{ color: '#ff7f0e' }}>× target</span> ·{' '}
              <span style={{ color: '#1f77b4' }}>— solution</span>
              {pred ? (
                <>
                  {' '}
                  · <span style={{ color: '#d62728' }}>- - predicted</span>
                </>
              ) : null}
            </p>
            <table className="kv">
              <tbody>
                <tr>
                  <th>path length</th>
                  <td>{m.pathLength}</td>
                </tr>
                {Object.entries(m.stats).map(([k, v]) => (
                  <tr key={k}>
                    <th>{k}</th>
                    <td>{typeof v === 'object' ? JSON.stringify(v) : num(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div style={{ flex: '1 1 420px' }}>
            <div className="card">
              <h2>
                Tokens <span className="sub">{tokens.length} · hover to link with cells</span>
              </h2>
              <TokenSequence tokens={tokens} litCell={lit} onHover={(c) => setLit(c)} />
            </div>
            <div className="card">
              <h2>Model prediction</h2>
              <div className="filters">
                <label>
                  Model
                  <select name="model" value={modelId} onChange={(e) => url.set({ model: e.target.value })}>
                    <option value="">none</option>
                    {(models.data?.models.edges ?? []).map(({ node }) => (
                      <option key={node.id} value={shortId(node.id)}>
                        {node.name}
                      </option>
                    ))}
                  </select>
                </label>
                {modelId ? (
                  <Link prefetch={false} className="button" href={`/playground?model=${modelId}&maze=${id}`}>
                    Open in playground →
                  </Link>
                ) : null}
              </div>
              <ErrorBox error={gen.error} />
              {gen.busy ? <p className="sub">Decoding…</p> : null}
              {pred ? (
                <>
                  <TokenSequence tokens={predTokens.slice(promptLen - 1)} litCell={lit} onHover={(c) => setLit(c)} />
                  <table className="kv" style={{ marginTop: 8 }}>
                    <tbody>
                      {Object.entries(pred.metrics).map(([k, v]) => (
                        <tr key={k}>
                          <th>{k}</th>
                          <td className="num">{typeof v === 'object' ? JSON.stringify(v) : num(v)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </>
              ) : null}
            </div>
            {/* Running the model is a researcher's action (saeActivations, as runForward). */}
            {modelId && canWrite(me) ? <SaeAtTokens modelId={modelId} tokens={tokens} /> : null}
          </div>
        </div>
      ) : null}
    </>
  );
}
