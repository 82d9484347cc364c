'use client';
/** New finding: a component target and any further ones, a markdown body, status, tags and evidence links (one per line). */
import { useState } from 'react';
import { useMutation } from '../../../lib/hooks';
import { CREATE_ANNOTATION } from './AnnotationForm.queries';
import type { Annotation, AnnotationStatus, ModelConfig } from '../../../lib/types';
import { Markdown } from '../../Markdown';
import { ErrorBox } from '../../ui';
import { experimentNumber, TARGET_LIST_HINT, type Target, parseEvidenceLines, parseTargetList, parseTargetParam, targetInput, targetParam } from './target';

const KINDS = ['head', 'mlp', 'neuron', 'embed', 'pos_embed', 'unembed', 'hook', 'feature', 'direction'];

function blankTarget(kind: string): Target {
  switch (kind) {
    case 'head':
      return { kind, layer: 0, head: 0 };
    case 'mlp':
      return { kind, layer: 0 };
    case 'neuron':
      return { kind, layer: 0, neuron: 0 };
    case 'hook':
      return { kind, hook: 'blocks.0.hook_resid_pre' };
    case 'feature':
      return { kind, experimentId: '', latent: 0 };
    case 'direction':
      return { kind, experimentId: '', index: 0 };
    default:
      return { kind };
  }
}

/** A target that is one item of an experiment (an SAE's latent, a probes run's direction): the experiment's number and the item's. */
function RunItem({
  target,
  setTarget,
  run,
  runLabel,
  item,
  itemLabel,
}: {
  target: Target;
  setTarget: (t: Target) => void;
  /** The inputs' names. */
  run: string;
  runLabel: string;
  item: 'latent' | 'index';
  itemLabel: string;
}) {
  return (
    <>
      <label>
        {runLabel}
        <input
          name={run}
          type="number"
          min={1}
          style={{ width: 80 }}
          value={experimentNumber(target.experimentId)}
          onChange={(e) => setTarget({ ...target, experimentId: e.target.value })}
        />
      </label>
      <label>
        {itemLabel}
        <input
          name={item}
          type="number"
          min={0}
          style={{ width: 80 }}
          value={Number(target[item] ?? 0)}
          onChange={(e) => setTarget({ ...target, [item]: Number(e.target.value) })}
        />
      </label>
    </>
  );
}

export function AnnotationForm({
  modelId,
  config,
  initialTarget,
  initialEvidence,
  onCreated,
}: {
  modelId: string;
  config?: ModelConfig;
  initialTarget?: string;
  initialEvidence?: string;
  onCreated: (a: Annotation) => void;
}) {
  const create = useMutation<{ createAnnotation: Annotation }>(CREATE_ANNOTATION);
  const [target, setTarget] = useState<Target>(() => parseTargetParam(initialTarget ?? '') ?? { kind: 'head', layer: 0, head: 0 });
  const [body, setBody] = useState('');
  const [status, setStatus] = useState<AnnotationStatus>('HYPOTHESIS');
  const [tags, setTags] = useState('');
  const [evidence, setEvidence] = useState(initialEvidence ?? '');
  const [also, setAlso] = useState('');
  const alsoParsed = parseTargetList(also);
  const [preview, setPreview] = useState(false);
  const num = (k: string) => (e: React.ChangeEvent<HTMLInputElement>) => setTarget({ ...target, [k]: Number(e.target.value) });

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if ('bad' in alsoParsed) return;
    const r = await create.run({
      input: {
        modelId,
        target: targetInput(target),
        alsoAbout: alsoParsed.targets.map(targetInput),
        body,
        status,
        tags: tags
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        evidence: parseEvidenceLines(evidence),
      },
    });
    if (r) {
      setBody('');
      setTags('');
      setAlso('');
      onCreated(r.createAnnotation);
    }
  }

  return (
    <form onSubmit={submit} className="card" data-testid="annotation-form" style={{ display: 'flex', flexDirection: 'column', gap: 8 }}>
      <h2>
        New finding <span className="sub mono">{targetParam(target)}</span>
      </h2>
      <div className="filters" style={{ marginBottom: 0 }}>
        <label>
          Component
          <select name="target-kind" value={target.kind} onChange={(e) => setTarget(blankTarget(e.target.value))}>
            {KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        {['head', 'mlp', 'neuron'].includes(target.kind) ? (
          <label>
            Layer
            <input
              name="layer"
              type="number"
              min={0}
              max={config ? config.n_layers - 1 : undefined}
              style={{ width: 64 }}
              value={Number(target.layer ?? 0)}
              onChange={num('layer')}
            />
          </label>
        ) : null}
        {target.kind === 'head' ? (
          <label>
            Head
            <input
              name="head"
              type="number"
              min={0}
              max={config ? config.n_heads - 1 : undefined}
              style={{ width: 64 }}
              value={Number(target.head ?? 0)}
              onChange={num('head')}
            />
          </label>
        ) : null}
        {target.kind === 'neuron' ? (
          <label>
            Neuron
            <input name="neuron" type="number" min={0} style={{ width: 80 }} value={Number(target.neuron ?? 0)} onChange={num('neuron')} />
          </label>
        ) : null}
        {target.kind === 'hook' ? (
          <label>
            Hook
            <input name="hook" value={String(target.hook ?? '')} onChange={(e) => setTarget({ ...target, hook: e.target.value })} />
          </label>
        ) : null}
        {target.kind === 'feature' ? (
          <RunItem target={target} setTarget={setTarget} run="sae" runLabel="SAE experiment" item="latent" itemLabel="Latent" />
        ) : null}
        {target.kind === 'direction' ? (
          <RunItem target={target} setTarget={setTarget} run="probes" runLabel="Probes experiment" item="index" itemLabel="Direction" />
        ) : null}
        <label>
          Status
          <select name="status" value={status} onChange={(e) => setStatus(e.target.value as AnnotationStatus)}>
            <option>HYPOTHESIS</option>
            <option>SUPPORTED</option>
            <option>REFUTED</option>
          </select>
        </label>
      </div>
      <label>
        <span style={{ display: 'flex', justifyContent: 'space-between' }}>
          Finding (markdown)
          <a
            href="#"
            onClick={(e) => {
              e.preventDefault();
              setPreview(!preview);
            }}
          >
            {preview ? 'edit' : 'preview'}
          </a>
        </span>
        {preview ? (
          <div className="card">
            <Markdown source={body} />
          </div>
        ) : (
          <textarea
            name="body"
            value={body}
            onChange={(e) => setBody(e.target.value)}
            required
            placeholder="What does this component do? Cite the views that show it."
          />
        )}
      </label>
      <label>
        Tags (comma-separated)
        <input name="tags" value={tags} onChange={(e) => setTags(e.target.value)} placeholder="e.g. adjacency, target" />
      </label>
      <label>
        Also about (optional, comma-separated)
        <input name="also-about" value={also} onChange={(e) => setAlso(e.target.value)} placeholder="e.g. mlp:1, head:2.0, neuron:1.7, feature:12.3" />
        {'bad' in alsoParsed ? (
          <span className="error" role="alert">
            “{alsoParsed.bad}” is not a target: {TARGET_LIST_HINT}
          </span>
        ) : null}
      </label>
      <label>
        Evidence links (one per line: a URL, or “label | URL”)
        <textarea name="evidence" rows={2} value={evidence} onChange={(e) => setEvidence(e.target.value)} placeholder="/playground?model=…&maze=…&step=…" />
      </label>
      <button type="submit" className="primary" disabled={create.busy}>
        Post finding
      </button>
      <ErrorBox error={create.error} />
    </form>
  );
}
