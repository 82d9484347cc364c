'use client';
/**
 * Edit a maze by clicking: in "walls" mode a click near the line between two cells toggles the
 * wall there; in "origin"/"target" mode (or with shift / alt held) a click on a cell moves that
 * endpoint. The maze is drawn client-side in the API's SVG layout (lib/mazeEdit.mazeSvg), so the
 * predicted-path and lit-cell overlays of MazeSvg work on it unchanged.
 */
import { useMemo, useState } from 'react';
import { type Cell, type EditedMaze, mazeSvg, nearestEdge, toggleEdge } from '../../../lib/mazeEdit';
import { MazeSvg } from '../../MazeSvg';

const CELL = 40; // px per cell in the drawing
const PAD = 2; // mazeSvg's outer padding
/** A click counts for a wall only within this fraction of a cell from the line (the middle of a cell does nothing). */
const NEAR = 0.3;

type Mode = 'walls' | 'origin' | 'target';

export function MazeEditor({
  maze,
  solution,
  predicted,
  lit,
  onChange,
}: {
  maze: EditedMaze;
  solution: readonly Cell[];
  predicted?: ReadonlyArray<readonly [number, number] | null> | null;
  lit: string[];
  onChange: (m: EditedMaze) => void;
}) {
  const [mode, setMode] = useState<Mode>('walls');
  const svg = useMemo(() => mazeSvg(maze, CELL, solution), [maze, solution]);

  const click = (e: React.MouseEvent<HTMLDivElement>): void => {
    const root = e.currentTarget.querySelector('svg');
    if (!root) return;
    const box = root.getBoundingClientRect();
    const scale = root.viewBox.baseVal.width / box.width; // drawing units per screen pixel
    const x = ((e.clientX - box.left) * scale - PAD) / CELL;
    const y = ((e.clientY - box.top) * scale - PAD) / CELL;
    if (x < 0 || y < 0 || x >= maze.cols || y >= maze.rows) return;
    const cell: Cell = [Math.floor(y), Math.floor(x)];
    const which: Mode = e.shiftKey ? 'origin' : e.altKey ? 'target' : mode;
    if (which === 'origin') {
      onChange({ ...maze, origin: cell });
      return;
    }
    if (which === 'target') {
      onChange({ ...maze, target: cell });
      return;
    }
    const edge = nearestEdge(maze, x, y);
    if (!edge || Math.min(Math.abs(x - Math.round(x)), Math.abs(y - Math.round(y))) > NEAR) return;
    onChange(toggleEdge(maze, edge[0], edge[1]));
  };

  return (
    <div data-testid="maze-editor">
      <div className="filters" role="radiogroup" aria-label="edit mode">
        {(['walls', 'origin', 'target'] as const).map((m) => (
          <label key={m}>
            <input type="radio" name="edit-mode" value={m} checked={mode === m} onChange={() => setMode(m)} /> {m === 'walls' ? 'toggle walls' : `set ${m}`}
          </label>
        ))}
      </div>
      <p className="sub">Click between two cells to open or close the wall; shift-click sets the origin, alt-click the target.</p>
      <div onClick={click} style={{ cursor: mode === 'walls' ? 'crosshair' : 'pointer', display: 'inline-block' }}>
        <MazeSvg svg={svg} className="maze-large" predicted={predicted} lit={lit} label="edited maze" />
      </div>
    </div>
  );
}
