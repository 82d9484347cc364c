/**
 * Circuit graphs: a model's components as nodes (embeddings, heads L.H, MLPs by layer, unembed;
 * the server builds them when a circuit is created) and labelled edges. Edits are small operations
 * applied to a graph, so an edit refused as stale (CONFLICT) can be re-applied to the current
 * graph: nothing typed is lost.
 */
import type { CircuitEdge, CircuitGraph, CircuitNode } from '../../../lib/types';

export type CircuitOp = { type: 'addEdge'; edge: CircuitEdge } | { type: 'removeEdge'; from: string; to: string } | { type: 'rename'; name: string };

export function describeOp(op: CircuitOp): string {
  switch (op.type) {
    case 'addEdge':
      return `add edge ${op.edge.from} → ${op.edge.to}${op.edge.label ? ` “${op.edge.label}”` : ''}`;
    case 'removeEdge':
      return `remove edge ${op.from} → ${op.to}`;
    case 'rename':
      return `rename to “${op.name}”`;
  }
}

/** The graph after `op` (a new object); adding an edge that exists replaces its label/evidence. */
export function applyOp(g: CircuitGraph, op: CircuitOp): CircuitGraph {
  const nodes = Array.isArray(g.nodes) ? g.nodes : [];
  const edges = Array.isArray(g.edges) ? g.edges : [];
  switch (op.type) {
    case 'addEdge':
      return { ...g, nodes, edges: [...edges.filter((e) => !(e.from === op.edge.from && e.to === op.edge.to)), op.edge] };
    case 'removeEdge':
      return { ...g, nodes, edges: edges.filter((e) => !(e.from === op.from && e.to === op.to)) };
    case 'rename':
      return { ...g, nodes, edges };
  }
}

/**
 * Column and row of each node, for drawing left to right: embeddings first, then one column per
 * layer (its heads, then its MLP below them), then the unembedding and any other nodes.
 */
export function layout(nodes: CircuitNode[]): Map<string, { col: number; row: number }> {
  const colOf = (n: CircuitNode): number => {
    if (n.kind === 'embed' || n.kind === 'pos_embed') return 0;
    if ((n.kind === 'head' || n.kind === 'mlp') && n.layer != null) return 1 + n.layer;
    return -1; // unembed and unknown nodes: after the last layer
  };
  const maxCol = Math.max(0, ...nodes.map(colOf));
  // Heads before the MLP within a layer, whatever order the graph lists them in.
  const ordered = [...nodes].sort((a, b) => Number(a.kind === 'mlp') - Number(b.kind === 'mlp'));
  const rows = new Map<number, number>();
  const out = new Map<string, { col: number; row: number }>();
  for (const n of ordered) {
    const col = colOf(n) < 0 ? maxCol + 1 : colOf(n);
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    out.set(n.id, { col, row });
  }
  return out;
}
