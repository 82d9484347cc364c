/**
 * A circuit seeded from evidence: the edges a stored experiment supports, weighted by the effect it
 * measured, kept where |effect| reaches a threshold (as Neuronpedia's circuit tracer prunes an
 * attribution graph by edge weight). Circuit node ids are the diagram's: embed, pos_embed, L<l>H<h>,
 * MLP<l>, unembed.
 *
 * - path-patching: each sender head → each receiver (the receiver heads, or unembed for logits),
 *   weighted by the sender's mean normalised path-patching effect (senders.mean).
 * - activation-/attribution-patching: each head → unembed, by its mean normalised effect with
 *   the head patched at every position (head_all_pos.mean).
 * - dla: each component → unembed, by its mean direct logit attribution at forks (by_class).
 */
import type { ComponentShape, StoredExperiment } from './component.js';
import { InterpError } from './context.js';
import { type PathPatchingSummary, receiverNames } from './path-patching.js';

export interface CircuitNodeSpec {
  id: string;
  label: string;
  kind: string;
  layer?: number;
  head?: number;
}

export interface EvidenceEdge {
  from: string;
  to: string;
  /** The effect the edge stands for (signed). */
  weight: number;
  label: string;
}

/** Every component of a model as a circuit node, in the diagram's order (no MLPs for an attention-only model). */
export function circuitNodes(s: Pick<ComponentShape, 'n_layers' | 'n_heads' | 'attn_only'>): CircuitNodeSpec[] {
  const nodes: CircuitNodeSpec[] = [
    { id: 'embed', label: 'embed', kind: 'embed' },
    { id: 'pos_embed', label: 'pos_embed', kind: 'pos_embed' },
  ];
  for (let l = 0; l < s.n_layers; l++) {
    for (let h = 0; h < s.n_heads; h++) nodes.push({ id: `L${l}H${h}`, label: `L${l}H${h}`, kind: 'head', layer: l, head: h });
    if (!s.attn_only) nodes.push({ id: `MLP${l}`, label: `MLP ${l}`, kind: 'mlp', layer: l });
  }
  nodes.push({ id: 'unembed', label: 'unembed', kind: 'unembed' });
  return nodes;
}

/** The kinds a circuit can be built from. */
export const CIRCUIT_EVIDENCE_KINDS = ['path-patching', 'activation-patching', 'attribution-patching', 'dla'] as const;

/** A DLA component name → its circuit node (biases have none). */
function dlaNode(name: string): string | null {
  if (name === 'embed' || name === 'pos_embed') return name;
  if (/^L\d+H\d+$/.test(name)) return name;
  const m = /^L(\d+)\.mlp$/.exec(name);
  return m ? `MLP${m[1]}` : null;
}

/**
 * The edges experiment `e` supports at |weight| ≥ threshold, strongest first. Refuses a kind that
 * measures no component effects, a run without the tensor, and a threshold no edge reaches (saying
 * the largest there is), so an empty circuit is never made silently.
 */
export async function evidenceEdges(e: StoredExperiment, s: ComponentShape, threshold: number): Promise<EvidenceEdge[]> {
  if (!Number.isFinite(threshold) || threshold < 0) throw new InterpError(`threshold must be a number ≥ 0, got ${threshold}`);
  const where = `Experiment:${e.id}`;
  const need = async (name: string) => {
    const t = await e.read(name);
    if (!t) throw new InterpError(`${where} has no ${name} tensor (a run stored before it existed, or without that site); rerun it`);
    return t;
  };
  const sum = (e.summary ?? {}) as Record<string, unknown>;
  const L = s.n_layers;
  const H = s.n_heads;
  const all: EvidenceEdge[] = [];
  const fmt = (v: number): string => v.toPrecision(2);
  if (e.kind === 'path-patching') {
    const t = await need('senders.mean'); // [layer, head]
    // Senders at or after a receiver head's layer cannot reach it: their entries are NaN (path-patching.ts).
    const { names: to } = receiverNames(sum.receivers as PathPatchingSummary['receivers'], H);
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        const w = t.data[l * H + h];
        if (Number.isFinite(w)) for (const r of to) all.push({ from: `L${l}H${h}`, to: r, weight: w, label: `path patching ${fmt(w)}` });
      }
  } else if (e.kind === 'activation-patching' || e.kind === 'attribution-patching') {
    const t = await need('head_all_pos.mean'); // [layer, head]
    const what = e.kind === 'activation-patching' ? 'patching' : 'attribution';
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        const w = t.data[l * H + h];
        if (Number.isFinite(w)) all.push({ from: `L${l}H${h}`, to: 'unembed', weight: w, label: `${what} ${fmt(w)}` });
      }
  } else if (e.kind === 'dla') {
    const t = await need('by_class'); // [class, component]
    const comps = (sum.components as string[] | undefined) ?? [];
    const k = ((sum.classes as string[] | undefined) ?? []).indexOf('fork');
    if (k < 0) throw new InterpError(`${where} has no fork class`);
    comps.forEach((c, j) => {
      const node = dlaNode(c);
      const w = t.data[k * comps.length + j];
      if (node && Number.isFinite(w)) all.push({ from: node, to: 'unembed', weight: w, label: `DLA at forks ${fmt(w)}` });
    });
  } else {
    throw new InterpError(`a ${e.kind} experiment measures no effect of components on each other; build a circuit from ${CIRCUIT_EVIDENCE_KINDS.join(', ')}`);
  }
  const kept = all.filter((x) => Math.abs(x.weight) >= threshold).sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  if (kept.length === 0) {
    const largest = Math.max(0, ...all.map((x) => Math.abs(x.weight)));
    throw new InterpError(`no effect in ${where} reaches |${threshold}| (the largest is ${largest.toPrecision(3)}); lower the threshold`);
  }
  return kept;
}
