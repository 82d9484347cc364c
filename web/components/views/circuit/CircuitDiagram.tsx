/** The circuit drawn left to right by depth: nodes as boxes, edges as labelled curves. */
import type { CircuitGraph } from '../../../lib/types';
import { layout } from './graph';

const W = 84,
  H = 26,
  GX = 140,
  GY = 40,
  PAD = 16;

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
  return (
    <svg
      viewBox={`0 0 ${PAD * 2 + (cols - 1) * GX + W} ${PAD * 2 + (rows - 1) * GY + H}`}
      width={PAD * 2 + (cols - 1) * GX + W}
      style={{ maxWidth: '100%', height: 'auto' }}
      className="circuit"
      data-testid="circuit-diagram"
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0 0L10 5L0 10z" fill="#5f6b7a" />
        </marker>
      </defs>
      {edges.map((e, i) => {
        const a = xy(e.from),
          b = xy(e.to);
        if (!a || !b) return null;
        const x1 = a.x + W,
          y1 = a.y + H / 2,
          x2 = b.x,
          y2 = b.y + H / 2;
        const mx = (x1 + x2) / 2;
        return (
          <g key={i} data-edge={`${e.from}->${e.to}`}>
            <path d={`M${x1} ${y1}C${mx} ${y1} ${mx} ${y2} ${x2} ${y2}`} fill="none" stroke="#5f6b7a" strokeWidth={1.5} markerEnd="url(#arrow)" />
            {e.label ? (
              <text
                x={mx}
                y={(y1 + y2) / 2 - 4}
                textAnchor="middle"
                fontSize={11}
                fill="#1d2430"
                style={{ paintOrder: 'stroke', stroke: '#fff', strokeWidth: 3 }}
              >
                {e.label}
              </text>
            ) : null}
          </g>
        );
      })}
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
    </svg>
  );
}
