'use client';
/**
 * /datasets/[id]: the dataset's config and build job, and the maze explorer — a grid of
 * server-rendered thumbnails with split and path-length filters and cursor paging, all in the URL
 * (split, size, after, trail = the cursors of earlier pages, minLen, maxLen).
 */
import type { DatasetMazesQuery, DatasetQuery } from '../../lib/generated/operations';
import Link from 'next/link';
import { fullId, shortId } from '../../lib/graphql';
import { useQuery } from '../../lib/hooks';
import { DATASET, DATASET_MAZES } from './DatasetView.queries';
import { intParam, useUrlState } from '../../lib/url';
import { JobProgress } from '../JobProgress';
import { MazeThumb } from '../MazeThumb';
import { Badge, ErrorBox, Title, ago, num } from '../ui';

const SIZES = [50, 100, 200, 500];

export function DatasetView({ id }: { id: string }) {
  const url = useUrlState();
  const split = url.get('split');
  const size = intParam(url.get('size'), 100, 1, 500);
  const after = url.get('after');
  const trail = url.get('trail').split(',').filter(Boolean);
  const minLen = intParam(url.get('minLen'), 0, 0);
  const maxLen = intParam(url.get('maxLen'), 0, 0);
  const q = useQuery<DatasetQuery>(DATASET, { id: fullId('Dataset', id) });
  const ds = q.data?.dataset;
  // Thumbnails are scaled images with constant-width walls (MazeThumb), so one small cell size
  // serves every grid, and the page needs no metadata first: both queries go out together.
  const page = useQuery<DatasetMazesQuery>(DATASET_MAZES, { id: fullId('Dataset', id), first: size, after: after || null, split: split || null, cell: 8 });
  const conn = page.data?.dataset?.mazes;
  const mazes = conn?.edges.map((e) => e.node) ?? [];
  const shown = mazes.filter((m) => (!minLen || m.pathLength >= minLen) && (!maxLen || m.pathLength <= maxLen));
  const pageNo = trail.length + (after ? 1 : 0) + 1;
  const next = (): void => url.set({ after: conn?.pageInfo.endCursor, trail: after ? [...trail, after].join(',') : trail.join(',') }, true);
  const prev = (): void => url.set({ after: trail.at(-1) ?? '', trail: trail.slice(0, -1).join(',') }, true);

  if (q.data && !ds) return <ErrorBox error={new Error(`Dataset:${id} not found`)} />;
  return (
    <>
      <Title sub={ds ? `${ds.generator} · ${ds.grid}×${ds.grid} · ${num(ds.mazeCount)} mazes · seed ${ds.seed}` : undefined}>
        {ds?.name ?? `Dataset ${id}`}
      </Title>
      <ErrorBox error={q.error ?? page.error} />
      {ds ? (
        <div className="row">
          <div className="card" style={{ flex: '1 1 300px' }}>
            <h2>Dataset</h2>
            <table className="kv">
              <tbody>
                <tr>
                  <th>Status</th>
                  <td>
                    <Badge value={ds.status} />
                  </td>
                </tr>
                <tr>
                  <th>Mazes</th>
                  <td>
                    {num(ds.mazeCount)} of {num(ds.count)}
                    {ds.skipped ? ` (${ds.skipped} discarded)` : ''}
                  </td>
                </tr>
                <tr>
                  <th>Splits</th>
                  <td className="mono">
                    {Object.entries(ds.splits ?? {})
                      .map(([k, [a, b]]) => `${k} ${a}–${b}`)
                      .join(', ')}
                  </td>
                </tr>
                <tr>
                  <th>Content hash</th>
                  <td className="mono" title={ds.contentHash ?? ''}>
                    {ds.contentHash?.slice(0, 16) ?? '—'}
                  </td>
                </tr>
                <tr>
                  <th>Created</th>
                  <td>
                    {ds.createdBy?.name ?? 'demo'} · {ago(ds.createdAt)}
                  </td>
                </tr>
                <tr>
                  <th>Config</th>
                  <td className="mono" style={{ fontSize: 11.5 }}>
                    {JSON.stringify(ds.config)}
                  </td>
                </tr>
              </tbody>
            </table>
            {ds.job && ds.status === 'BUILDING' ? (
              <JobProgress
                job={ds.job}
                onDone={() => {
                  q.reload();
                  page.reload();
                }}
              />
            ) : null}
          </div>
          <div className="card" style={{ flex: '4 1 700px' }}>
            <h2>
              Maze explorer{' '}
              <span className="sub">
                page {pageNo} · {mazes.length} loaded{shown.length !== mazes.length ? `, ${shown.length} match` : ''} · {conn ? num(conn.totalCount) : '…'} in{' '}
                {split || 'all splits'}
              </span>
            </h2>
            <div className="filters">
              <label>
                Split
                <select name="split" value={split} onChange={(e) => url.set({ split: e.target.value, after: '', trail: '' })}>
                  <option value="">all</option>
                  <option value="train">train</option>
                  <option value="test">test</option>
                </select>
              </label>
              <label>
                Path length ≥
                <input name="minLen" type="number" min={0} style={{ width: 80 }} value={minLen || ''} onChange={(e) => url.set({ minLen: e.target.value })} />
              </label>
              <label>
                Path length ≤
                <input name="maxLen" type="number" min={0} style={{ width: 80 }} value={maxLen || ''} onChange={(e) => url.set({ maxLen: e.target.value })} />
              </label>
              <label>
                Per page
                <select name="size" value={size} onChange={(e) => url.set({ size: e.target.value, after: '', trail: '' })}>
                  {SIZES.map((s) => (
                    <option key={s}>{s}</option>
                  ))}
                </select>
              </label>
              <button type="button" onClick={prev} disabled={!after}>
                ← Previous
              </button>
              <button type="button" onClick={next} disabled={!conn?.pageInfo.hasNextPage}>
                Next →
              </button>
            </div>
            {minLen || maxLen ? <p className="sub">The path-length filter applies to the mazes of this page.</p> : null}
            <div className="thumbs" data-testid="thumbs" aria-busy={page.loading}>
              {shown.map((m) => (
                <Link prefetch={false} key={m.id} href={`/mazes/${shortId(m.id)}`} className="thumb" data-maze={m.id}>
                  <MazeThumb svg={m.svg} alt={`maze ${m.index}`} />
                  <small>
                    #{m.index} · len {m.pathLength}
                    {m.split === 'test' ? ' · test' : ''}
                  </small>
                </Link>
              ))}
            </div>
            {conn && mazes.length === 0 && !page.loading ? (
              <p className="empty">{ds.status === 'BUILDING' ? 'Mazes appear as the job writes them.' : 'No mazes on this page.'}</p>
            ) : null}
          </div>
        </div>
      ) : null}
    </>
  );
}
