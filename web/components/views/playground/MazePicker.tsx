'use client';
/** Pick a maze: a dataset, then one of its first mazes as a thumbnail (or type a maze id). */
import type { PickMazesQuery } from '../../../lib/generated/operations';
import { fullId, shortId } from '../../../lib/graphql';
import { useQuery } from '../../../lib/hooks';
import { PICK_MAZES } from './MazePicker.queries';
import type { Dataset } from '../../../lib/types';
import { MazeThumb } from '../../MazeThumb';

export function MazePicker({
  datasets,
  dataset,
  maze,
  onDataset,
  onMaze,
}: {
  datasets: Array<Pick<Dataset, 'id' | 'name' | 'status'>>;
  dataset: string;
  maze: string;
  onDataset: (id: string) => void;
  onMaze: (id: string) => void;
}) {
  const q = useQuery<PickMazesQuery>(PICK_MAZES, { id: fullId('Dataset', dataset) }, { skip: !dataset });
  return (
    <div>
      <div className="filters">
        <label>
          Dataset
          <select name="dataset" value={dataset} onChange={(e) => onDataset(e.target.value)}>
            <option value="">choose…</option>
            {datasets
              .filter((d) => d.status === 'READY')
              .map((d) => (
                <option key={d.id} value={shortId(d.id)}>
                  {d.name}
                </option>
              ))}
          </select>
        </label>
        <label>
          Maze id
          <input
            name="maze"
            style={{ width: 90 }}
            defaultValue={maze}
            key={maze}
            onKeyDown={(e) => {
              if (e.key === 'Enter') onMaze((e.target as HTMLInputElement).value.replace(/^Maze:/, ''));
            }}
          />
        </label>
      </div>
      {dataset ? (
        <div className="thumbs" style={{ gridTemplateColumns: 'repeat(auto-fill, minmax(44px, 1fr))', gap: 4 }}>
          {(q.data?.dataset?.mazes.edges ?? []).map(({ node: m }) => (
            <button
              key={m.id}
              type="button"
              className="thumb"
              title={`maze #${m.index}, path length ${m.pathLength}`}
              data-pick={m.id}
              style={{ padding: 2, borderColor: shortId(m.id) === maze ? 'var(--accent)' : undefined, borderWidth: shortId(m.id) === maze ? 2 : 1 }}
              onClick={() => onMaze(shortId(m.id))}
            >
              <MazeThumb svg={m.svg} alt={`maze ${m.index}`} />
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}
