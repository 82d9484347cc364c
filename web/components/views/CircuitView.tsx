'use client';
/**
 * /circuits/[id]: a circuit edited by several people. Every save carries the version it was made
 * on; a stale save comes back as CONFLICT with the current circuit, which is then shown, while the
 * refused edit is kept and can be re-applied on top of it — nothing is lost. Every viewer follows
 * the others' edits live (Subscription.circuitChanged): a newer version replaces the one shown.
 */
import type { CircuitQuery } from '../../lib/generated/operations';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { type GqlError, fullId, gql, shortId } from '../../lib/graphql';
import { useQuery, useSubscription } from '../../lib/hooks';
import { safeHref } from '../../lib/markdown';
import { CIRCUIT, CIRCUIT_CHANGED, SET_CIRCUIT_EDITORS, UPDATE_CIRCUIT } from './CircuitView.queries';
import type { Circuit, CircuitGraph, User } from '../../lib/types';
import { canWrite } from '../Session';
import { ErrorBox, Title, ago } from '../ui';
import { CircuitDiagram, MAX_LABELS } from './circuit/CircuitDiagram';
import { type CircuitOp, applyOp, describeOp } from './circuit/graph';

interface Conflict {
  op: CircuitOp;
  madeOn: number;
  now: number;
  message: string;
}

export function CircuitView({ id, me }: { id: string; me: User }) {
  const q = useQuery<CircuitQuery>(CIRCUIT, { id: fullId('Circuit', id) });
  const [circuit, setCircuit] = useState<Circuit>();
  const [conflict, setConflict] = useState<Conflict>();
  const [error, setError] = useState<GqlError>();
  const [busy, setBusy] = useState(false);
  const [edge, setEdge] = useState({ from: '', to: '', label: '', evidence: '' });
  const [editorNames, setEditorNames] = useState<string>();
  useEffect(() => setCircuit(q.data?.circuit ?? undefined), [q.data]);
  // Someone's edit: shown when it is at least as new as ours (a late event of an older version is dropped).
  const liveError = useSubscription<{ circuitChanged: Circuit }>(CIRCUIT_CHANGED, { id: fullId('Circuit', id) }, ({ circuitChanged: next }) =>
    setCircuit((cur) => (!cur || next.version >= cur.version ? next : cur)),
  );

  async function save(op: CircuitOp) {
    if (!circuit) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await gql<{ updateCircuit: Circuit }>(UPDATE_CIRCUIT, {
        id: circuit.id,
        version: circuit.version,
        graph: applyOp(circuit.graph, op),
        name: op.type === 'rename' ? op.name : null,
      });
      setCircuit(r.updateCircuit);
      setConflict(undefined);
      if (op.type === 'addEdge') setEdge({ from: '', to: '', label: '', evidence: '' });
    } catch (e) {
      const err = e as GqlError;
      if (err.code === 'CONFLICT' && err.current) {
        // The server's current row: show it, keep the refused edit for re-applying.
        const cur = err.current as { graph: CircuitGraph; version: number; name: string; updatedAt: number | string };
        setConflict({ op, madeOn: circuit.version, now: cur.version, message: err.message });
        setCircuit({ ...circuit, graph: cur.graph, version: cur.version, name: cur.name, updatedAt: new Date(cur.updatedAt).toISOString(), updatedBy: null });
        q.reload(); // names who made the current version
      } else setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function saveEditors(text: string) {
    if (!circuit) return;
    setBusy(true);
    setError(undefined);
    try {
      const names = text
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      const r = await gql<{ setCircuitEditors: Circuit }>(SET_CIRCUIT_EDITORS, { id: circuit.id, names });
      setCircuit(r.setCircuitEditors);
      setEditorNames(undefined);
    } catch (e) {
      setError(e as GqlError);
    } finally {
      setBusy(false);
    }
  }

  if (q.data && !q.data.circuit) return <ErrorBox error={new Error(`Circuit:${id} not found`)} />;
  const c = circuit;
  // Its owner, the editors they named and admins change it; everyone else reads it.
  const editable = canWrite(me) && (c?.canEdit ?? false);
  const manages = c !== undefined && (me.role === 'ADMIN' || c.owner?.name === me.name);
  const nodes = Array.isArray(c?.graph.nodes) ? c!.graph.nodes : [];
  const edges = Array.isArray(c?.graph.edges) ? c!.graph.edges : [];
  return (
    <>
      <Title
        sub={
          c ? (
            <>
              version <span data-testid="circuit-version">{c.version}</span> · {c.updatedBy?.name ?? 'someone'} · {ago(c.updatedAt)} · model{' '}
              <Link prefetch={false} href={`/models/${shortId(c.model.id)}`}>
                {c.model.name}
              </Link>
            </>
          ) : undefined
        }
      >
        {c?.name ?? `Circuit ${id}`}
      </Title>
      <ErrorBox error={q.error ?? error ?? liveError} />
      {conflict ? (
        <div className="error" role="alert" data-code="CONFLICT" data-testid="conflict">
          <strong>CONFLICT:</strong> your edit (“{describeOp(conflict.op)}”) was made on version {conflict.madeOn}, but the circuit is now at version{' '}
          {conflict.now}. The current state is shown below; your edit is kept.
          <div style={{ marginTop: 6, display: 'flex', gap: 8 }}>
            <button type="button" className="primary" disabled={busy} onClick={() => void save(conflict.op)}>
              Re-apply my edit on version {conflict.now}
            </button>
            <button type="button" onClick={() => setConflict(undefined)}>
              Discard my edit
            </button>
          </div>
        </div>
      ) : null}
      {c ? (
        <div className="row">
          <div className="card" style={{ overflow: 'auto', flex: '3 1 600px' }}>
            <CircuitDiagram
              graph={c.graph}
              onPick={editable ? (n) => setEdge((e) => (!e.from || e.to ? { ...e, from: n, to: '' } : { ...e, to: n })) : undefined}
            />
            <p className="sub">
              {editable ? 'Click two components to fill an edge’s ends. ' : ''}
              {edges.length > MAX_LABELS ? `Labels on the ${MAX_LABELS} strongest edges; hover any edge, or see the table, for the rest.` : ''}
            </p>
          </div>
          <div style={{ flex: '1 1 340px' }}>
            <div className="card">
              <h2>Edges</h2>
              {edges.length === 0 ? (
                <p className="empty">No edges yet.</p>
              ) : (
                <table data-testid="edges">
                  <tbody>
                    {edges.map((e) => (
                      <tr key={`${e.from}>${e.to}`}>
                        <td className="mono">
                          {e.from} → {e.to}
                        </td>
                        <td className="num mono" data-testid="edge-weight">
                          {e.weight != null ? e.weight.toPrecision(3) : ''}
                        </td>
                        <td>
                          {e.label}
                          {e.evidence && safeHref(e.evidence) ? (
                            <>
                              {' '}
                              · <a href={safeHref(e.evidence)!}>evidence</a>
                            </>
                          ) : null}
                        </td>
                        <td>
                          {editable ? (
                            <button type="button" disabled={busy} onClick={() => void save({ type: 'removeEdge', from: e.from, to: e.to })}>
                              Remove
                            </button>
                          ) : null}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
            <div className="card">
              <h2>Who edits it</h2>
              <p className="sub" data-testid="circuit-editors">
                {c.owner?.name ?? 'an admin'} (owner){c.editors.length ? `, ${c.editors.map((u) => u.name).join(', ')}` : ''}
                {editable ? '' : ' — you can read it'}
              </p>
              {manages ? (
                <form
                  style={{ display: 'flex', gap: 8 }}
                  onSubmit={(e) => {
                    e.preventDefault();
                    void saveEditors(editorNames ?? c.editors.map((u) => u.name).join(', '));
                  }}
                >
                  <input
                    name="circuit-editors"
                    aria-label="Editors (user names, comma-separated)"
                    placeholder="user names, comma-separated"
                    value={editorNames ?? c.editors.map((u) => u.name).join(', ')}
                    onChange={(e) => setEditorNames(e.target.value)}
                    style={{ flex: 1 }}
                  />
                  <button type="submit" disabled={busy}>
                    Save editors
                  </button>
                </form>
              ) : null}
            </div>
            {editable ? (
              <div className="card">
                <h2>Add an edge</h2>
                <form
                  style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 8 }}
                  onSubmit={(e) => {
                    e.preventDefault();
                    void save({
                      type: 'addEdge',
                      edge: {
                        from: edge.from,
                        to: edge.to,
                        ...(edge.label ? { label: edge.label } : {}),
                        ...(edge.evidence ? { evidence: edge.evidence } : {}),
                      },
                    });
                  }}
                >
                  <label>
                    From
                    <select name="edge-from" value={edge.from} onChange={(e) => setEdge({ ...edge, from: e.target.value })} required>
                      <option value="" />
                      {nodes.map((n) => (
                        <option key={n.id} value={n.id}>
                          {n.label ?? n.id}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label>
                    To
                    <select name="edge-to" value={edge.to} onChange={(e) => setEdge({ ...edge, to: e.target.value })} required>
                      <option value="" />
                      {nodes.map((n) => (
                        <option key={n.id} value={n.id}>
                          {n.label ?? n.id}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label style={{ gridColumn: '1 / 3' }}>
                    Label
                    <input
                      name="edge-label"
                      value={edge.label}
                      onChange={(e) => setEdge({ ...edge, label: e.target.value })}
                      placeholder="e.g. moves target info"
                    />
                  </label>
                  <label style={{ gridColumn: '1 / 3' }}>
                    Evidence link
                    <input
                      name="edge-evidence"
                      value={edge.evidence}
                      onChange={(e) => setEdge({ ...edge, evidence: e.target.value })}
                      placeholder="/playground?model=…"
                    />
                  </label>
                  <button type="submit" className="primary" style={{ gridColumn: '1 / 3' }} disabled={busy}>
                    Add edge
                  </button>
                </form>
              </div>
            ) : null}
          </div>
        </div>
      ) : null}
    </>
  );
}
