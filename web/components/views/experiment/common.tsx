'use client';
/**
 * Pieces the result views share: the experiment and its typed summary as the Experiment query
 * selects them (generated types, no hand-written mirror), a select bound to a URL parameter, and
 * loading/error states.
 */
import type { ExperimentQuery } from '../../../lib/generated/operations';
import { useUrlState } from '../../../lib/url';
import { ErrorBox } from '../../ui';

/** An experiment as the page loads it (web/components/views/ExperimentView.queries.ts EXPERIMENT). */
export type ExperimentData = NonNullable<ExperimentQuery['experiment']>;
/** Experiment.result: one member per kind, told apart by __typename. */
export type ResultData = NonNullable<ExperimentData['result']>;
export type ResultTypename = ResultData['__typename'];
/** The selected fields of one kind's summary, e.g. SummaryData<'DlaSummary'>. */
export type SummaryData<N extends ResultTypename> = Extract<ResultData, { __typename: N }>;

/** What a kind's view is given: the experiment and its summary, already narrowed to the view's kind(s). */
export interface ViewProps<N extends ResultTypename> {
  e: ExperimentData;
  s: SummaryData<N>;
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

export const fmt = (v: unknown, digits = 3): string =>
  typeof v === 'number' && Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : v.toPrecision(digits)) : '—';
