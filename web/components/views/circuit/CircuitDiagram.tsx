/**
 * The circuit drawn left to right by depth: nodes as boxes, edges as curves over them with their
 * labels on top (so no box hides a label), on the strongest MAX_LABELS edges; a weighed edge is as thick as its |weight| relative to
 * the strongest, red when positive and blue when negative.
 */
import type { CircuitGraph } from '../../../lib/types';
import { layout } from './graph';

/** Edge labels drawn on the diagram at most. */
export const MAX_LABELS = 8;

const W = 84,
  H = 26,
  GX = 140,
  GY = 40,
  PAD = 16;

/** Edge colours: unweighted, positive weight, negative weight (the arrowheads match). */
const ARROW = { plain: '#5f6b7a', positive: '#c0392b', negative: '#2166ac' } as const;

export function CircuitDiagram({ graph, onPick }: { graph: CircuitGraph; onPick?: (id: string) => void }) {
  const nodes = Array.isArray(graph.nodes) ? graph.nodes : [];
  const edges = Array.isArray(graph.edges) ? graph.edges : [];
  const pos = layout(nodes);
  const used = new Set(edges.flatMap((e) => [e.from, e.to]));
  const cols = Math.max(1, ...[...pos.values()].map((p) => p.col + 1));
  const rows = Math.max(1, ...[...pos.values()].map((p) => p.row + 1));
  const xy = (id: string): { x: number; y: number } | null => {
    const p = pos.get(id);
    return p ? { x: PAD + p.col * GX, y: PAD + p.row * GY } : null;
  };
  const geometry = (from: string, to: string): { d: string; mx: number; my: number } | null => {
    const a = xy(from),
      b = xy(to);
    if (!a || !b) return null;
    const x1 = a.x + W,
      y1 = a.y + H / 2,
      x2 = b.x,
      y2 = b.y + H / 2;
    const mx = (x1 + x2) / 2;
    return { d: `M${x1} ${y1}C${mx} ${y1} ${mx} ${y2} ${x2} ${y2}`, mx, my: (y1 + y2) / 2 };
  };
  const maxW = Math.max(1e-12, ...edges.map((e) => Math.abs(e.weight ?? 0)));
  // Labels on the strongest edges only (unweighed edges count as strongest): more would pile up
  // where edges meet; every edge's label is in its tooltip and the edges table.
  const labelled = new Set(
    edges
      .map((e, i) => ({ i, w: e.weight == null ? Number.POSITIVE_INFINITY : Math.abs(e.weight) }))
      .sort((a, b) => b.w - a.w || a.i - b.i)
      .slice(0, MAX_LABELS)
      .map((x) => x.i),
  );
  return (
    <svg
      viewBox={`0 0 ${PAD * 2 + (cols - 1) * GX + W} ${PAD * 2 + (rows - 1) * GY + H}`}
      width={PAD * 2 + (cols - 1) * GX + W}
      style={{ maxWidth: '100%', height: 'auto' }}
      className="circuit"
      data-testid="circuit-diagram"
    >
      <defs>
        {/* One head per edge colour, sized in user units: a heavy edge's arrowhead stays the size of a light one's
            (in stroke-width units it would grow with the weight and cover its target). */}
        {Object.entries(ARROW).map(([name, colour]) => (
          <marker
            key={name}
            id={`arrow-${name}`}
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerUnits="userSpaceOnUse"
            markerWidth="10"
            markerHeight="10"
            orient="auto-start-reverse"
          >
            <path d="M0 0L10 5L0 10z" fill={colour} />
          </marker>
        ))}
      </defs>
      {nodes.map((n) => {
        const p = xy(n.id)!;
        return (
          <g
            key={n.id}
            transform={`translate(${p.x},${p.y})`}
            onClick={onPick ? () => onPick(n.id) : undefined}
            style={{ cursor: onPick ? 'pointer' : undefined }}
            data-node={n.id}
          >
            <rect width={W} height={H} rx={5} fill={used.has(n.id) ? '#e3ecfb' : '#fff'} stroke={used.has(n.id) ? '#2f6fdb' : '#c9cfd6'} />
            <text x={W / 2} y={H / 2 + 4} textAnchor="middle" fontSize={11.5} fontFamily="ui-monospace, monospace">
              {n.label ?? n.id}
            </text>
          </g>
        );
      })}
      {edges.map((e, i) => {
        const g = geometry(e.from, e.to);
        if (!g) return null;
        const w = e.weight;
        const tone = w == null ? 'plain' : w >= 0 ? 'positive' : 'negative';
        const stroke = ARROW[tone];
        const width = w == null ? 1.5 : 1 + 4 * (Math.abs(w) / maxW);
        return (
          <path
            key={i}
            data-edge={`${e.from}->${e.to}`}
            data-weight={w ?? undefined}
            d={g.d}
            fill="none"
            stroke={stroke}
            strokeOpacity={0.8}
            strokeWidth={width}
            markerEnd={`url(#arrow-${tone})`}
          >
            <title>{`${e.from} → ${e.to}${e.label ? `: ${e.label}` : ''}${w != null ? ` (weight ${w.toPrecision(3)})` : ''}`}</title>
          </path>
        );
      })}
      {edges.map((e, i) => {
        const g = geometry(e.from, e.to);
        if (!g || !e.label || !labelled.has(i)) return null;
        return (
          <text
            key={`l${i}`}
            x={g.mx}
            y={g.my - 4}
            textAnchor="middle"
            fontSize={11}
            fill="#1d2430"
            pointerEvents="none"
            style={{ paintOrder: 'stroke', stroke: '#fff', strokeWidth: 3 }}
          >
            {e.label}
          </text>
        );
      })}
    </svg>
  );
}
