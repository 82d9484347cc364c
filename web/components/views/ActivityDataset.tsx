'use client';
/**
 * Which dataset's test mazes an activity card reads (a component's, a probe direction's): the URL's
 * `dataset`, else the first of `preferred` that is ready, else the first ready one; and the select
 * that changes it. `grid` keeps only datasets of that grid (a probe reads cells of its own).
 */
import { fullId, shortId } from '../../lib/graphql';
import { useUrlState } from '../../lib/url';
import { UrlSelect } from './experiment/common';

export interface DatasetChoice {
  id: string;
  name: string;
  grid: number;
  status: string;
}

export function useActivityDataset(
  datasets: readonly DatasetChoice[],
  preferred: ReadonlyArray<{ id: string | null | undefined; note: string }>,
  grid: number | null = null,
): { dataset: string; select: React.ReactNode } {
  const url = useUrlState();
  const ready = datasets.filter((d) => d.status === 'READY' && (grid === null || d.grid === grid));
  const fallback = preferred.map((p) => p.id).find((id) => id && ready.some((d) => d.id === id)) ?? ready[0]?.id ?? '';
  const dataset = url.get('dataset') ? fullId('Dataset', url.get('dataset')) : fallback;
  const note = (id: string): string => {
    const p = preferred.find((x) => x.id === id);
    return p ? ` · ${p.note}` : '';
  };
  const select = (
    <div className="filters">
      <UrlSelect
        param="dataset"
        label="Test mazes of "
        value={shortId(dataset)}
        options={ready.map((d) => [shortId(d.id), `${d.name} (${d.grid}×${d.grid})${note(d.id)}`] as const)}
      />
    </div>
  );
  return { dataset, select };
}
