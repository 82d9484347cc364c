'use client';
/**
 * The playground's interventions: zero, mean, replace or add on any TransformerLens hook, at chosen
 * positions, heads and features (e.g. one MLP neuron), run through generatePath's `interventions`
 * (every decoding step recomputed with them, so they act on generated positions too). The list
 * lives in the URL (`iv=`, JSON), so an intervened run is shareable; clearing it undoes it.
 */
import { useEffect, useState } from 'react';
import { GqlError, gql } from '../../../lib/graphql';
import type { MazeSpec } from '../../../lib/mazeEdit';
import { useQuery } from '../../../lib/hooks';
import { parseList } from '../../../lib/lists';
import { EDITABLE_SAES, GENERATE_PATH_INTERVENED } from './Interventions.queries';

export type InterventionKind = 'zero' | 'mean' | 'replace' | 'add';
export interface InterventionSpec {
  hook: string;
  kind: InterventionKind;
  positions?: number[];
  heads?: number[];
  features?: number[];
  value?: number[];
}

/** The URL's `iv` parameter as a list; malformed text gives null (the page says so). */
export function parseInterventions(text: string): InterventionSpec[] | null {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    const ints = (x: unknown) => x === undefined || (Array.isArray(x) && x.every((n) => Number.isInteger(n)));
    const ok =
      Array.isArray(v) &&
      v.every(
        (s) =>
          s &&
          typeof s.hook === 'string' &&
          ['zero', 'mean', 'replace', 'add'].includes(s.kind) &&
          ints(s.positions) &&
          ints(s.heads) &&
          ints(s.features) &&
          (s.value === undefined || (Array.isArray(s.value) && s.value.every((n: unknown) => typeof n === 'number'))),
      );
    return ok ? (v as InterventionSpec[]) : null;
  } catch {
    return null;
  }
}

export function describeIntervention(s: InterventionSpec): string {
  const at = [
    s.positions ? `pos ${s.positions.join(',')}` : 'every position',
    s.heads ? `head ${s.heads.join(',')}` : '',
    s.features ? `feature ${s.features.join(',')}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const val = s.value ? ` ${s.value.length === 1 ? s.value[0] : `[${s.value.length} values]`}` : '';
  return `${s.kind}${val} ${s.hook} (${at})`;
}

export type FeatureEditMode = 'set' | 'scale' | 'zero';
/** SAE latent edits (generatePath's featureEdits): the `sae` experiment and its edits. */
export interface FeatureEdits {
  sae: string;
  edits: Array<{ latent: number; mode: FeatureEditMode; value?: number; positions?: number[] }>;
}

/** The URL's `fe` parameter; malformed text gives null (the page says so). */
export function parseFeatureEdits(text: string): FeatureEdits | null | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as FeatureEdits;
    const ok =
      v &&
      typeof v.sae === 'string' &&
      Array.isArray(v.edits) &&
      v.edits.every(
        (e) =>
          Number.isInteger(e.latent) &&
          ['set', 'scale', 'zero'].includes(e.mode) &&
          (e.value === undefined || typeof e.value === 'number') &&
          (e.positions === undefined || (Array.isArray(e.positions) && e.positions.every(Number.isInteger))),
      );
    return ok ? v : null;
  } catch {
    return null;
  }
}

export interface IntervenedResult {
  tokens: string[];
  path: Array<[number, number] | null>;
  metrics: Record<string, unknown>;
}

/** The rollout under `list` (null while there is none to run). */
export function useIntervenedRun(
  input: { modelId: string; mazeId?: string; maze?: MazeSpec; mazeKey: string } | null,
  list: InterventionSpec[],
  features?: FeatureEdits | null,
): { result?: IntervenedResult; error?: Error; busy: boolean } {
  const [state, setState] = useState<{ result?: IntervenedResult; error?: Error; busy: boolean }>({ busy: false });
  const fe = features?.edits.length ? features : null;
  const key = input && (list.length || fe) ? `${input.modelId}|${input.mazeKey}|${JSON.stringify(list)}|${JSON.stringify(fe)}` : '';
  useEffect(() => {
    if (!input || (list.length === 0 && !fe)) {
      setState({ busy: false });
      return;
    }
    let cancelled = false;
    setState({ busy: true });
    gql<{ generatePath: { tokens: string; path: Array<[number, number] | null>; metrics: Record<string, unknown> } }>(GENERATE_PATH_INTERVENED, {
      modelId: input.modelId,
      mazeId: input.mazeId ?? null,
      maze: input.maze ?? null,
      interventions: list,
      featureEdits: fe,
    })
      .then((r) => {
        if (!cancelled)
          setState({ busy: false, result: { tokens: r.generatePath.tokens.split(' '), path: r.generatePath.path, metrics: r.generatePath.metrics } });
      })
      .catch((e: unknown) => {
        if (!cancelled) setState({ busy: false, error: e instanceof Error ? e : new GqlError([{ message: String(e) }]) });
      });
    return () => {
      cancelled = true;
    };
    // `key` stands for input and list (new objects on every render of the caller).
  }, [key]);
  return state;
}

/** The editor: the current list with remove buttons, and a form that adds one. */
export function InterventionEditor({
  hookNames,
  list,
  onChange,
  defaultPosition,
}: {
  hookNames: readonly string[];
  list: InterventionSpec[];
  onChange: (next: InterventionSpec[]) => void;
  /** Pre-filled position (the playground's current step). */
  defaultPosition?: number;
}) {
  const [hook, setHook] = useState(hookNames.find((h) => h.endsWith('attn.hook_z')) ?? hookNames[0] ?? '');
  const [kind, setKind] = useState<InterventionKind>('zero');
  const [positions, setPositions] = useState('');
  const [heads, setHeads] = useState('');
  const [features, setFeatures] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const hasHeads = /\.attn\.hook_(q|k|v|z|result|rot_q|rot_k|attn_scores|pattern)$/.test(hook);
  const needsValue = kind === 'replace' || kind === 'add';

  const add = (): void => {
    try {
      const spec: InterventionSpec = { hook, kind };
      const p = parseList(positions, 'positions');
      const h = hasHeads ? parseList(heads, 'heads') : undefined;
      const f = parseList(features, 'features');
      if (p) spec.positions = p;
      if (h) spec.heads = h;
      if (f) spec.features = f;
      if (needsValue) {
        const v = value
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
          .map(Number);
        if (v.length === 0 || !v.every(Number.isFinite)) throw new Error('value: give one number, or one per feature of the hook (comma-separated)');
        spec.value = v;
      }
      setError('');
      onChange([...list, spec]);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div data-testid="interventions">
      {list.length ? (
        <ol className="interventions">
          {list.map((s, i) => (
            <li key={i}>
              <code>{describeIntervention(s)}</code>{' '}
              <button type="button" onClick={() => onChange(list.filter((_, j) => j !== i))} aria-label={`remove intervention ${i + 1}`}>
                remove
              </button>
            </li>
          ))}
        </ol>
      ) : (
        <p className="sub">None: the model runs as trained.</p>
      )}
      <div className="filters">
        <label>
          Hook
          <select name="iv-hook" value={hook} onChange={(e) => setHook(e.target.value)}>
            {hookNames.map((h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select name="iv-kind" value={kind} onChange={(e) => setKind(e.target.value as InterventionKind)}>
            <option value="zero">zero</option>
            <option value="mean">mean (over 32 mazes)</option>
            <option value="replace">replace with</option>
            <option value="add">add (steer)</option>
          </select>
        </label>
        <label>
          Positions
          <input
            name="iv-positions"
            value={positions}
            onChange={(e) => setPositions(e.target.value)}
            placeholder={defaultPosition !== undefined ? `all (e.g. ${defaultPosition})` : 'all'}
            size={10}
          />
        </label>
        {hasHeads ? (
          <label>
            Heads
            <input name="iv-heads" value={heads} onChange={(e) => setHeads(e.target.value)} placeholder="all" size={6} />
          </label>
        ) : null}
        <label>
          Features
          <input name="iv-features" value={features} onChange={(e) => setFeatures(e.target.value)} placeholder="all (e.g. a neuron)" size={10} />
        </label>
        {needsValue ? (
          <label>
            Value
            <input name="iv-value" value={value} onChange={(e) => setValue(e.target.value)} placeholder="e.g. 5" size={8} />
          </label>
        ) : null}
        <button type="button" onClick={add} data-testid="iv-add">
          Add intervention
        </button>
        {list.length ? (
          <button type="button" onClick={() => onChange([])} data-testid="iv-clear">
            Clear (undo)
          </button>
        ) : null}
      </div>
      {error ? <p className="error">{error}</p> : null}
    </div>
  );
}

type SaeNode = { id: string; status: string; checkpoint: { id: string } | null; result: { hook?: string; d_sae?: number } | null };

/**
 * Edits to an SAE's latents (set, scale or zero, at chosen positions), for the model's finished
 * SAEs trained on its latest checkpoint (the weights the playground runs).
 */
export function FeatureEditor({
  modelId,
  checkpointId,
  value,
  onChange,
}: {
  modelId: string;
  checkpointId: string | null;
  value: FeatureEdits | undefined;
  onChange: (next: FeatureEdits | undefined) => void;
}) {
  const q = useQuery<{ experiments: { edges: Array<{ node: SaeNode }> } }>(EDITABLE_SAES, { modelId });
  const saes = (q.data?.experiments.edges ?? [])
    .map((e) => e.node)
    .filter((n) => n.status === 'COMPLETED' && n.result?.hook && n.checkpoint?.id === checkpointId);
  const [sae, setSae] = useState('');
  const [latent, setLatent] = useState('');
  const [mode, setMode] = useState<FeatureEditMode>('set');
  const [val, setVal] = useState('');
  const [positions, setPositions] = useState('');
  const [error, setError] = useState('');
  const chosen = value?.sae ?? (sae || saes[0]?.id || '');
  const info = saes.find((s) => s.id === chosen)?.result;
  if (saes.length === 0 && !value) return <p className="sub">SAE feature edits: this model has no finished sae experiment on its latest checkpoint.</p>;

  const add = (): void => {
    try {
      const l = Number(latent);
      if (!Number.isInteger(l) || l < 0 || (info?.d_sae !== undefined && l >= info.d_sae))
        throw new Error(`latent: give an integer in [0, ${info?.d_sae ?? '?'})`);
      const v = Number(val);
      if (mode !== 'zero' && (val.trim() === '' || !Number.isFinite(v))) throw new Error(`value: ${mode} needs a number`);
      const p = parseList(positions, 'positions');
      const edit = { latent: l, mode, ...(mode !== 'zero' ? { value: v } : {}), ...(p ? { positions: p } : {}) };
      setError('');
      onChange({ sae: chosen, edits: [...(value?.edits ?? []), edit] });
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div data-testid="feature-edits">
      <h3>SAE feature edits</h3>
      {value?.edits.length ? (
        <ol className="interventions">
          {value.edits.map((e, i) => (
            <li key={i}>
              <code>
                {e.mode}
                {e.value !== undefined ? ` ${e.value}` : ''} latent {e.latent} of {value.sae} ({e.positions ? `pos ${e.positions.join(',')}` : 'every position'}
                )
              </code>{' '}
              <button
                type="button"
                onClick={() => {
                  const edits = value.edits.filter((_, j) => j !== i);
                  onChange(edits.length ? { ...value, edits } : undefined);
                }}
                aria-label={`remove feature edit ${i + 1}`}
              >
                remove
              </button>
            </li>
          ))}
        </ol>
      ) : null}
      <div className="filters">
        <label>
          SAE
          <select name="fe-sae" value={chosen} disabled={!!value} onChange={(e) => setSae(e.target.value)}>
            {saes.map((s) => (
              <option key={s.id} value={s.id}>
                {s.id} · {s.result?.hook} · {s.result?.d_sae} latents
              </option>
            ))}
            {value && !saes.some((s) => s.id === value.sae) ? <option value={value.sae}>{value.sae}</option> : null}
          </select>
        </label>
        <label>
          Latent
          <input name="fe-latent" value={latent} onChange={(e) => setLatent(e.target.value)} size={6} />
        </label>
        <label>
          Mode
          <select name="fe-mode" value={mode} onChange={(e) => setMode(e.target.value as FeatureEditMode)}>
            <option value="set">set to</option>
            <option value="scale">scale by</option>
            <option value="zero">zero</option>
          </select>
        </label>
        {mode !== 'zero' ? (
          <label>
            Value
            <input name="fe-value" value={val} onChange={(e) => setVal(e.target.value)} size={6} />
          </label>
        ) : null}
        <label>
          Positions
          <input name="fe-positions" value={positions} onChange={(e) => setPositions(e.target.value)} placeholder="all" size={10} />
        </label>
        <button type="button" onClick={add} data-testid="fe-add" disabled={!chosen}>
          Add feature edit
        </button>
      </div>
      {error ? <p className="error">{error}</p> : null}
    </div>
  );
}
