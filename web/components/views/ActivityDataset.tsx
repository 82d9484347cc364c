'use client';
/**
 * Which dataset's test mazes an activity card reads (a component's, a probe direction's): the URL's
 * `dataset`, else the first of `preferred` that is ready, else the first ready one; and the select
 * that changes it. `grid` keeps only datasets of that grid (a probe reads cells of its own).
 */
import Link from 'next/link';
import { fullId, shortId } from '../../lib/graphql';
import { useUrlState } from '../../lib/url';
import { MazeSvg } from '../MazeSvg';
import { ShadedTokens } from '../ShadedTokens';
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

/**
 * One of an activity card's strongest test mazes: a link to its maze page with what was measured
 * (`children`), the maze drawn (with `heat` on its cells, or `lit` cells outlined) beside its tokens
 * shaded by the per-position values.
 */
export function TestMazeExample({
  x,
  heat,
  lit,
  max,
  label,
  testId,
  children,
}: {
  x: { maze: { id: string; index: number; svg: string }; position: number; token: string; tokens: readonly string[]; values: readonly number[] };
  heat?: readonly number[];
  lit?: readonly string[];
  /** The tokens' colour scale's top (their largest value when absent). */
  max?: number;
  /** What the drawing shows, for its title. */
  label: string;
  testId: string;
  children: React.ReactNode;
}) {
  const id = shortId(x.maze.id);
  return (
    <div className="example" data-testid={testId}>
      <p>
        <Link prefetch={false} href={`/mazes/${id}`}>
          Maze {id}
        </Link>{' '}
        (test #{x.maze.index}), position {x.position} <span className="mono">{x.token}</span>: {children}
      </p>
      <div className="row">
        <MazeSvg svg={x.maze.svg} heat={heat} heatMax={heat ? Math.max(1e-9, ...heat) : undefined} lit={lit} label={`maze ${id} with ${label}`} />
        <ShadedTokens tokens={x.tokens} values={x.values} position={x.position} max={max} testId={`${testId.replace(/-example$/, '')}-tokens`} />
      </div>
    </div>
  );
}
