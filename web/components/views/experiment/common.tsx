'use client';
/** Pieces the result views share: a select bound to a URL parameter, and loading/error states. */
import type { Experiment } from '../../../lib/types';
import { useUrlState } from '../../../lib/url';
import { ErrorBox } from '../../ui';

export interface ViewProps {
  e: Experiment;
}

/** A <select> whose value is the URL parameter `param` (so the view's state is shareable). */
export function UrlSelect({
  param,
  label,
  options,
  value,
}: {
  param: string;
  label: string;
  options: ReadonlyArray<readonly [value: string, text: string]>;
  value: string;
}) {
  const url = useUrlState();
  return (
    <label>
      {label}
      <select name={param} value={value} onChange={(ev) => url.set({ [param]: ev.target.value })}>
        {options.map(([v, t]) => (
          <option key={v} value={v}>
            {t}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The URL value of `param` if it is one of `allowed`, else `fallback`. */
export function pick(get: (k: string) => string, param: string, allowed: readonly string[], fallback: string): string {
  const v = get(param);
  return allowed.includes(v) ? v : fallback;
}

export function Pending({ error }: { error?: Error }) {
  return error ? <ErrorBox error={error} /> : <p className="empty">Loading tensors…</p>;
}

export const asRecord = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
export const asArray = <T,>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
export const fmt = (v: unknown, digits = 3): string =>
  typeof v === 'number' && Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : v.toPrecision(digits)) : '—';
