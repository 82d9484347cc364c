/**
 * Circuits in storage: a named graph over a model's components, owned by its creator, editable by
 * the editors the owner names (and admins). Edits carry the version they were made on; a stale
 * edit changes nothing and is answered with the current row.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import { audit } from '../db/audit.js';
import { first, inserted, type Db } from '../db/client.js';
import { circuitEditors, circuits } from '../db/tables.js';
import { TEXT_LIMITS } from '../db/schema.js';
import { hasRole, type Role } from '../auth/roles.js';
import { UserError } from '../errors.js';
import { usersNamed } from './accounts.js';
import type { CircuitRow, UserRow } from './rows.js';

export interface CircuitNode {
  id: string;
  label?: string | null;
  kind?: string | null;
  layer?: number | null;
  head?: number | null;
}

export interface CircuitEdge {
  from: string;
  to: string;
  label?: string | null;
  evidence?: string | null;
  /** The effect the edge stands for (e.g. a path-patching effect), signed; null when unweighed. */
  weight?: number | null;
}

export interface CircuitGraph {
  nodes: CircuitNode[];
  edges: CircuitEdge[];
}

/** Most nodes and edges one circuit may hold (a 12-layer model has ~60 components; a neuron-level circuit a few hundred). */
export const MAX_CIRCUIT_NODES = 2000;
export const MAX_CIRCUIT_EDGES = 10000;
/** Largest graph stored, serialised: a 40 MB graph was once stored and shipped to every viewer (issue 16). */
export const MAX_CIRCUIT_BYTES = TEXT_LIMITS['circuits.graph'];

const optString = (v: unknown, max: number): string | null => (typeof v === 'string' ? v.slice(0, max) : null);
const optInt = (v: unknown): number | null => (Number.isInteger(v) ? (v as number) : null);
const optFinite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * A stored circuit's graph. Before graphs were typed (issue 14) they were free JSON: nodes without
 * a string id and edges without string ends are dropped rather than failing the read.
 */
export function graphOf(c: CircuitRow): CircuitGraph {
  const g = (c.graph && typeof c.graph === 'object' ? c.graph : {}) as { nodes?: unknown; edges?: unknown };
  // Whatever checkGraph would refuse is dropped, so a graph read back can always be saved again.
  const ids = new Set<string>();
  const nodes = (Array.isArray(g.nodes) ? g.nodes : [])
    .filter((n): n is Record<string, unknown> => {
      const id = (n as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || !id || id.length > 100 || ids.has(id)) return false;
      ids.add(id);
      return true;
    })
    .slice(0, MAX_CIRCUIT_NODES)
    .map((n) => ({ id: n.id as string, label: optString(n.label, 200), kind: optString(n.kind, 50), layer: optInt(n.layer), head: optInt(n.head) }));
  const kept = new Set(nodes.map((n) => n.id));
  const edges = (Array.isArray(g.edges) ? g.edges : [])
    .filter((e): e is Record<string, unknown> => {
      const { from, to } = (e ?? {}) as { from?: unknown; to?: unknown };
      return typeof from === 'string' && typeof to === 'string' && kept.has(from) && kept.has(to);
    })
    .slice(0, MAX_CIRCUIT_EDGES)
    .map((e) => ({
      from: e.from as string,
      to: e.to as string,
      label: optString(e.label, 200),
      evidence: optString(e.evidence, 2000),
      weight: optFinite(e.weight),
    }));
  return { nodes, edges };
}

/** Checks a graph to store: sizes, unique node ids, every edge between two of its nodes; names the first problem. */
export function checkGraph(g: CircuitGraph, action: string): CircuitGraph {
  if (g.nodes.length > MAX_CIRCUIT_NODES) throw new UserError(`${action}: a circuit has at most ${MAX_CIRCUIT_NODES} nodes, got ${g.nodes.length}`);
  if (g.edges.length > MAX_CIRCUIT_EDGES) throw new UserError(`${action}: a circuit has at most ${MAX_CIRCUIT_EDGES} edges, got ${g.edges.length}`);
  const ids = new Set<string>();
  g.nodes.forEach((n, i) => {
    if (!n.id || n.id.length > 100) throw new UserError(`${action}: graph.nodes[${i}].id must be 1-100 characters`);
    if (ids.has(n.id)) throw new UserError(`${action}: graph.nodes[${i}].id ${JSON.stringify(n.id)} is used by an earlier node`);
    if ((n.label?.length ?? 0) > 200 || (n.kind?.length ?? 0) > 50)
      throw new UserError(`${action}: graph.nodes[${i}]: label at most 200 and kind at most 50 characters`);
    ids.add(n.id);
  });
  g.edges.forEach((e, i) => {
    for (const end of ['from', 'to'] as const) {
      if (!ids.has(e[end])) throw new UserError(`${action}: graph.edges[${i}].${end} ${JSON.stringify(e[end].slice(0, 100))} is not a node of the graph`);
    }
    if ((e.label?.length ?? 0) > 200 || (e.evidence?.length ?? 0) > 2000)
      throw new UserError(`${action}: graph.edges[${i}]: label at most 200 and evidence at most 2000 characters`);
    if (e.weight != null && !Number.isFinite(e.weight)) throw new UserError(`${action}: graph.edges[${i}].weight must be a finite number`);
  });
  const checked = { nodes: g.nodes.map((n) => ({ ...n })), edges: g.edges.map((e) => ({ ...e })) };
  const bytes = JSON.stringify(checked).length;
  if (bytes > MAX_CIRCUIT_BYTES) throw new UserError(`${action}: the graph is ${bytes} characters as JSON; a circuit holds at most ${MAX_CIRCUIT_BYTES}`);
  return checked;
}

/** Most editors one circuit may name. */
export const MAX_CIRCUIT_EDITORS = 50;

function checkName(name: string, action: string): string {
  if (!name.trim() || name.length > TEXT_LIMITS['circuits.name']) throw new UserError(`${action}: name must be 1-${TEXT_LIMITS['circuits.name']} characters`);
  return name.trim();
}

/** A model's circuits in creation order, or (no model) the most recently changed ones. */
export async function listCircuits(db: Db, modelId: number | undefined, limit: number): Promise<CircuitRow[]> {
  if (modelId !== undefined) return await db.select().from(circuits).where(eq(circuits.modelId, modelId)).orderBy(circuits.id).limit(limit);
  return await db.select().from(circuits).orderBy(desc(circuits.updatedAt), desc(circuits.id)).limit(limit);
}

export async function getCircuit(db: Db, id: number): Promise<CircuitRow | undefined> {
  return await first(db.select().from(circuits).where(eq(circuits.id, id)));
}

/** The user is the circuit's owner, an admin, or one of the editors its owner named. */
export async function mayEditCircuit(db: Db, circuit: Pick<CircuitRow, 'id' | 'ownerId'>, user: UserRow): Promise<boolean> {
  if (user.role === 'admin' || user.id === circuit.ownerId) return true;
  return (
    (await first(
      db
        .select({ c: circuitEditors.circuitId })
        .from(circuitEditors)
        .where(and(eq(circuitEditors.circuitId, circuit.id), eq(circuitEditors.userId, user.id))),
    )) !== undefined
  );
}

export async function createCircuit(db: Db, modelId: number, name: string, graph: CircuitGraph, userId: number): Promise<CircuitRow> {
  const clean = checkName(name, 'createCircuit');
  const checked = checkGraph(graph, 'createCircuit');
  return db.transaction(async (tx) => {
    const c = await inserted(
      tx
        .insert(circuits)
        .values({ modelId, name: clean, graph: checked, updatedBy: userId, ownerId: userId, createdAt: Date.now(), updatedAt: Date.now() })
        .returning(),
    );
    await audit(tx, userId, 'create', 'circuit', c.id, { modelId });
    return c;
  });
}

/** Applies the change if the circuit is still at `version`: the new row, or `{ stale }` with the current one. */
export async function updateCircuit(
  db: Db,
  id: number,
  version: number,
  change: { name?: string | null; graph?: CircuitGraph | null },
  userId: number,
): Promise<{ row: CircuitRow } | { stale: CircuitRow } | undefined> {
  const patch: Partial<CircuitRow> = { updatedAt: Date.now(), updatedBy: userId };
  if (change.name != null) patch.name = checkName(change.name, 'updateCircuit');
  if (change.graph != null) patch.graph = checkGraph(change.graph, 'updateCircuit');
  const row = await db.transaction(async (tx) => {
    const r = await first(
      tx
        .update(circuits)
        .set({ ...patch, version: sql`${circuits.version} + 1` })
        .where(and(eq(circuits.id, id), eq(circuits.version, version)))
        .returning(),
    );
    if (r) await audit(tx, userId, 'update', 'circuit', id, { version: r.version });
    return r;
  });
  if (row) return { row };
  const now = await getCircuit(db, id);
  return now ? { stale: now } : undefined;
}

/** Replaces the circuit's editors by these user names (researchers or admins); returns the circuit. */
export async function setCircuitEditors(db: Db, circuitId: number, names: readonly string[], userId: number): Promise<CircuitRow> {
  if (names.length > MAX_CIRCUIT_EDITORS) throw new UserError(`setCircuitEditors: at most ${MAX_CIRCUIT_EDITORS} editors, got ${names.length}`);
  const wanted = [...new Set(names.map((n) => n.trim()).filter(Boolean))];
  const found = await usersNamed(db, wanted);
  const missing = wanted.filter((n) => !found.some((u) => u.name === n));
  if (missing.length) throw new UserError(`setCircuitEditors: no user named ${missing.map((n) => JSON.stringify(n.slice(0, 64))).join(', ')}`);
  const viewers = found.filter((u) => !hasRole(u.role as Role, 'researcher'));
  if (viewers.length)
    throw new UserError(
      `setCircuitEditors: ${viewers.map((u) => u.name).join(', ')} ${viewers.length > 1 ? 'are viewers' : 'is a viewer'}; editors need the researcher role`,
    );
  return db.transaction(async (tx) => {
    await tx.delete(circuitEditors).where(eq(circuitEditors.circuitId, circuitId));
    if (found.length) await tx.insert(circuitEditors).values(found.map((u) => ({ circuitId, userId: u.id })));
    await audit(tx, userId, 'editors', 'circuit', circuitId, { editors: found.map((u) => u.name) });
    return (await first(tx.select().from(circuits).where(eq(circuits.id, circuitId))))!;
  });
}
