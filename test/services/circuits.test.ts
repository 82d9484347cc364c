import { describe, expect, it } from 'vitest';
import { checkGraph, graphOf } from '../../server/services/circuits.js';
import type { CircuitRow } from '../../server/services/rows.js';

const row = (graph: unknown) => ({ graph }) as CircuitRow;

describe('circuit graphs stored before they were typed (graphOf)', () => {
  it('keeps what checkGraph accepts and drops the rest, so a graph read back can be saved again', () => {
    const g = graphOf(
      row({
        nodes: [
          { id: 'L0H1', x: 3, label: 'head' },
          { id: 'L0H1' },
          { id: '' },
          { id: 'y'.repeat(101) },
          { id: 7 },
          null,
          { id: 'MLP0', layer: 0, head: 'no' },
        ],
        edges: [
          { from: 'L0H1', to: 'MLP0', label: 'writes', weight: 'heavy' },
          { from: 'MLP0', to: 'L0H1', weight: -0.25 },
          { from: 'L0H1', to: 'gone' },
          { from: 1, to: 'MLP0' },
          'junk',
        ],
        extra: true,
      }),
    );
    expect(g).toEqual({
      nodes: [
        { id: 'L0H1', label: 'head', kind: null, layer: null, head: null },
        { id: 'MLP0', label: null, kind: null, layer: 0, head: null },
      ],
      edges: [
        { from: 'L0H1', to: 'MLP0', label: 'writes', evidence: null, weight: null },
        { from: 'MLP0', to: 'L0H1', label: null, evidence: null, weight: -0.25 },
      ],
    });
    expect(checkGraph(g, 'updateCircuit')).toEqual(g);
  });

  it('refuses an edge weight that is not a finite number, naming the edge', () => {
    const g = { nodes: [{ id: 'a' }, { id: 'b' }], edges: [{ from: 'a', to: 'b', weight: Number.NaN }] };
    expect(() => checkGraph(g, 'updateCircuit')).toThrow('updateCircuit: graph.edges[0].weight must be a finite number');
  });

  it('reads anything that is not a graph as an empty one', () => {
    for (const v of [null, 'text', 42, [], { nodes: 'no', edges: {} }]) expect(graphOf(row(v))).toEqual({ nodes: [], edges: [] });
  });
});
