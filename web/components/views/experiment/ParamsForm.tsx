'use client';
/**
 * A kind's params as form controls generated from its typed fields (ExperimentKind.params): numbers
 * with the bounds this model allows, a select for one-of choices, checkboxes for several-of choices
 * and booleans, a comma list for integer lists. The form is a view over the params JSON (the
 * "advanced" editor below it edits the same text), so the two never disagree and what is submitted
 * is exactly what is shown. A field left empty is left out: the server fills its default.
 */
import { useState } from 'react';
import { parseList } from '../../../lib/lists';

export interface FormField {
  name: string;
  type: string;
  doc: string;
  choices?: readonly string[] | null;
  min?: number | null;
  max?: number | null;
  defaultDoc?: string | null;
}

function IntList({ name, value, onChange }: { name: string; value: unknown; onChange: (v: number[] | undefined) => void }) {
  const shown = Array.isArray(value) ? value.join(', ') : '';
  const [text, setText] = useState(shown);
  const [error, setError] = useState('');
  // Follow the JSON when it changes elsewhere (another field, the advanced editor), but keep what is
  // being typed while it still means the same list ("2-4" is not rewritten to "2, 3, 4" mid-range).
  const [last, setLast] = useState(shown);
  if (shown !== last) {
    setLast(shown);
    let same = false;
    try {
      same = (parseList(text, name) ?? []).join(', ') === shown;
    } catch {
      // what was typed does not parse: the JSON's value wins
    }
    if (!same) setText(shown);
  }
  return (
    <>
      <input
        name={`param-${name}`}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          try {
            const v = parseList(e.target.value, name);
            setError('');
            onChange(v?.length ? v : undefined);
          } catch (err) {
            setError((err as Error).message);
          }
        }}
        placeholder="e.g. 0, 2-4"
      />
      {error ? <span className="error"> {error}</span> : null}
    </>
  );
}

export function ParamsForm({
  fields,
  value,
  onChange,
}: {
  fields: readonly FormField[];
  value: Readonly<Record<string, unknown>>;
  onChange: (next: Record<string, unknown>) => void;
}) {
  const set = (name: string, v: unknown): void => {
    const next = { ...value };
    if (v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v))) delete next[name];
    else next[name] = v;
    onChange(next);
  };
  return (
    <div className="params-form" data-testid="params-form">
      {fields.map((f) => {
        const v = value[f.name];
        const range = [f.min != null ? `≥ ${f.min}` : '', f.max != null ? `≤ ${f.max}` : ''].filter(Boolean).join(', ');
        let control: React.ReactNode;
        if (f.type === 'bool') {
          control = <input type="checkbox" name={`param-${f.name}`} checked={v === true} onChange={(e) => set(f.name, e.target.checked)} />;
        } else if ((f.type === 'int' || f.type === 'number') && !f.choices) {
          control = (
            <input
              type="number"
              name={`param-${f.name}`}
              value={typeof v === 'number' ? v : ''}
              step={f.type === 'int' ? 1 : 'any'}
              min={f.min ?? undefined}
              max={f.max ?? undefined}
              placeholder={f.defaultDoc ?? ''}
              onChange={(e) => set(f.name, e.target.value === '' ? undefined : Number(e.target.value))}
            />
          );
        } else if (f.type === 'string' && f.choices) {
          control = (
            <select name={`param-${f.name}`} value={typeof v === 'string' ? v : ''} onChange={(e) => set(f.name, e.target.value || undefined)}>
              <option value="">(default)</option>
              {f.choices.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          );
        } else if (f.type === 'string[]' && f.choices) {
          const chosen = new Set(Array.isArray(v) ? (v as string[]) : []);
          control = (
            <span className="checks" data-param={f.name}>
              {f.choices.map((c) => (
                <label key={c} className="check">
                  <input
                    type="checkbox"
                    name={`param-${f.name}`}
                    value={c}
                    checked={chosen.has(c)}
                    onChange={(e) => {
                      const next = f.choices!.filter((x) => (x === c ? e.target.checked : chosen.has(x)));
                      set(f.name, next.length ? next : undefined);
                    }}
                  />
                  {c}
                </label>
              ))}
            </span>
          );
        } else if (f.type === 'int[]') {
          control = <IntList name={f.name} value={v} onChange={(x) => set(f.name, x)} />;
        } else {
          // Free text (an index-or-name, an id): a whole number is sent as one.
          control = (
            <input
              name={`param-${f.name}`}
              value={v === undefined ? '' : String(v)}
              onChange={(e) =>
                set(
                  f.name,
                  e.target.value === '' ? undefined : /^\d+$/.test(e.target.value) && f.type === 'int|string' ? Number(e.target.value) : e.target.value,
                )
              }
              placeholder={f.defaultDoc ?? ''}
            />
          );
        }
        return (
          <label key={f.name} className="param" title={f.doc}>
            <span className="mono">{f.name}</span>
            {control}
            <span className="sub">
              {f.doc}
              {range ? ` (${range})` : ''}
            </span>
          </label>
        );
      })}
    </div>
  );
}
