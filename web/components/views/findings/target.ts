/**
 * Annotation targets (the API's ComponentTarget) ↔ short labels, URL form and the @oneOf input:
 *   {kind:"head", layer:0, head:1} ↔ "L0H1" (label) ↔ "head:0.1" (URL `target` parameter)
 *   ↔ {head: {layer: 0, head: 1}} (ComponentTargetInput),
 * matching the API's canonical target keys (server/services/annotations.ts targetKey).
 */
import { componentPage, directionHref, featureHref } from '../../../lib/url';
export interface Target {
  kind: string;
  layer?: number | null;
  head?: number | null;
  neuron?: number | null;
  hook?: string | null;
  position?: number | null;
  /** "Experiment:N" as the API returns it, or N as the URL form holds it (feature: the SAE's experiment). */
  experimentId?: string | number | null;
  /** feature: the SAE latent */
  latent?: number | null;
  /** direction: the probe's index in its probes experiment */
  index?: number | null;
}

/** "Experiment:7" or 7 → "7" (the URL form of an experiment target). */
export const experimentNumber = (id: Target['experimentId']): string => String(id ?? '').replace(/^Experiment:/, '');

export function targetLabel(t: Target): string {
  switch (t.kind) {
    case 'head':
      return `L${t.layer}H${t.head}`;
    case 'mlp':
      return `MLP${t.layer}`;
    case 'neuron':
      return `L${t.layer}N${t.neuron}`;
    case 'hook':
      return `${t.hook}${t.position != null ? `@${t.position}` : ''}`;
    case 'experiment':
      return `experiment ${experimentNumber(t.experimentId)}`;
    case 'feature':
      return `SAE ${experimentNumber(t.experimentId)} latent ${t.latent}`;
    case 'direction':
      return `probes ${experimentNumber(t.experimentId)} direction ${t.index}`;
    default:
      return String(t.kind);
  }
}

/** The component page name of a head, MLP or neuron target (web/lib/url.ts componentHref), else null. */
export function targetComponentName(t: Target): string | null {
  if (t.kind === 'head') return `L${t.layer}H${t.head}`;
  if (t.kind === 'mlp') return `L${t.layer}.mlp`;
  if (t.kind === 'neuron') return `L${t.layer}N${t.neuron}`;
  return null;
}

/** A target's page, where it has one: a head's, MLP's or neuron's component page, an SAE latent's feature page, or a probe direction's page. */
export function targetHref(t: Target, modelId: string): string | null {
  if (t.kind === 'feature' && t.experimentId != null && t.latent != null) return featureHref(t.experimentId, t.latent);
  if (t.kind === 'direction' && t.experimentId != null && t.index != null) return directionHref(t.experimentId, t.index);
  const name = targetComponentName(t);
  return name ? componentPage(modelId, name) : null;
}

export function targetParam(t: Target): string {
  switch (t.kind) {
    case 'head':
      return `head:${t.layer}.${t.head}`;
    case 'mlp':
      return `mlp:${t.layer}`;
    case 'neuron':
      return `neuron:${t.layer}.${t.neuron}`;
    case 'hook':
      return `hook:${t.hook}${t.position != null ? `@${t.position}` : ''}`;
    case 'experiment':
      return `experiment:${experimentNumber(t.experimentId)}`;
    case 'feature':
      return `feature:${experimentNumber(t.experimentId)}.${t.latent}`;
    case 'direction':
      return `direction:${experimentNumber(t.experimentId)}.${t.index}`;
    default:
      return String(t.kind);
  }
}

/** The ComponentTargetInput (exactly one field set) for a target. */
export function targetInput(t: Target): Record<string, unknown> {
  switch (t.kind) {
    case 'head':
      return { head: { layer: t.layer ?? 0, head: t.head ?? 0 } };
    case 'mlp':
      return { mlp: { layer: t.layer ?? 0 } };
    case 'neuron':
      return { neuron: { layer: t.layer ?? 0, neuron: t.neuron ?? 0 } };
    case 'hook':
      return { hook: { hook: t.hook ?? '', ...(t.position != null ? { position: t.position } : {}) } };
    case 'experiment':
      return { experiment: `Experiment:${experimentNumber(t.experimentId)}` };
    case 'feature':
      return { feature: { sae: `Experiment:${experimentNumber(t.experimentId)}`, latent: t.latent ?? 0 } };
    case 'direction':
      return { direction: { probes: `Experiment:${experimentNumber(t.experimentId)}`, index: t.index ?? 0 } };
    default:
      return { [t.kind]: true };
  }
}

/** Parses the URL form; null when it is not one. */
export function parseTargetParam(s: string): Target | null {
  let m: RegExpExecArray | null;
  if (['embed', 'pos_embed', 'unembed'].includes(s)) return { kind: s };
  if ((m = /^head:(\d+)\.(\d+)$/.exec(s))) return { kind: 'head', layer: Number(m[1]), head: Number(m[2]) };
  if ((m = /^mlp:(\d+)$/.exec(s))) return { kind: 'mlp', layer: Number(m[1]) };
  if ((m = /^neuron:(\d+)\.(\d+)$/.exec(s))) return { kind: 'neuron', layer: Number(m[1]), neuron: Number(m[2]) };
  if ((m = /^hook:([\w.]+)(?:@(\d+))?$/.exec(s))) return { kind: 'hook', hook: m[1], ...(m[2] ? { position: Number(m[2]) } : {}) };
  if ((m = /^experiment:(\d+)$/.exec(s))) return { kind: 'experiment', experimentId: Number(m[1]) };
  if ((m = /^feature:(\d+)\.(\d+)$/.exec(s))) return { kind: 'feature', experimentId: Number(m[1]), latent: Number(m[2]) };
  if ((m = /^direction:(\d+)\.(\d+)$/.exec(s))) return { kind: 'direction', experimentId: Number(m[1]), index: Number(m[2]) };
  return null;
}

/**
 * A comma-separated list of targets in their URL form ("mlp:1, head:2.0"): the targets, or the
 * first entry that is not one (so the form can say which).
 */
export function parseTargetList(text: string): { targets: Target[] } | { bad: string } {
  const targets: Target[] = [];
  for (const part of text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const t = parseTargetParam(part);
    if (!t) return { bad: part };
    targets.push(t);
  }
  return { targets };
}

/** The message for a further target that is not one (the forms' shared wording). */
export const TARGET_LIST_HINT = 'write head:L.H, mlp:L, neuron:L.N, hook:NAME, experiment:N, feature:N.LATENT or direction:N.INDEX';

/** Evidence links as the forms edit them: the inverse of parseEvidenceLines ("view" links as their bare URL). */
export function formatEvidenceLines(evidence: ReadonlyArray<{ label: string; url: string }>): string {
  return evidence.map((e) => (e.label === 'view' ? e.url : `${e.label} | ${e.url}`)).join('\n');
}

/**
 * Evidence links, one per line: "label | url" or a bare url (labelled "view"), as the API's
 * EvidenceInput list.
 */
export function parseEvidenceLines(text: string): Array<{ label: string; url: string }> {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const bar = line.lastIndexOf(' | ');
      return bar > 0 ? { label: line.slice(0, bar).trim(), url: line.slice(bar + 3).trim() } : { label: 'view', url: line };
    });
}
