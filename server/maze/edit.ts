/**
 * A maze given by value — grid, open edges as [[r, c], [r, c]] pairs, origin, target — checked and
 * turned into a `SolvedMaze` (the playground's maze editor sends these). Every problem is a
 * MazeError naming the offending edge or cell, never a silently repaired maze.
 */
import { type Coord, MazeError, type SolvedMaze, checkGrid, coordKey, emptyMaze, inBounds, latticeAdjacent, setEdge } from './lattice.js';
import { shortestPath } from './solve.js';

export interface MazeSpec {
  rows: number;
  cols: number;
  /** Open edges, each a pair of lattice-neighbour cells. */
  edges: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>;
  origin: ReadonlyArray<number>;
  target: ReadonlyArray<number>;
}

function coord(v: ReadonlyArray<number>, what: string): Coord {
  if (v.length !== 2 || !v.every(Number.isInteger)) throw new MazeError(`${what} must be [row, col] integers, got ${JSON.stringify(v)}`);
  return [v[0], v[1]];
}

/** The spec as a solved maze (path = BFS shortest path); a MazeError saying what and where otherwise. */
export function mazeFromSpec(spec: MazeSpec): SolvedMaze {
  checkGrid(spec.rows, spec.cols);
  if (spec.rows * spec.cols < 2) throw new MazeError(`a maze needs at least 2 cells, got a ${spec.rows}x${spec.cols} grid`);
  const m = emptyMaze(spec.rows, spec.cols);
  spec.edges.forEach((e, i) => {
    if (e.length !== 2) throw new MazeError(`edges[${i}] must be a pair of cells, got ${JSON.stringify(e)}`);
    const a = coord(e[0], `edges[${i}][0]`);
    const b = coord(e[1], `edges[${i}][1]`);
    for (const c of [a, b]) {
      if (!inBounds(m, c)) throw new MazeError(`edges[${i}]: cell ${coordKey(c)} is outside the ${m.rows}x${m.cols} grid`);
    }
    if (!latticeAdjacent(a, b)) throw new MazeError(`edges[${i}]: cells ${coordKey(a)} and ${coordKey(b)} are not adjacent`);
    setEdge(m, a, b, true);
  });
  const origin = coord(spec.origin, 'origin');
  const target = coord(spec.target, 'target');
  for (const [name, c] of [
    ['origin', origin],
    ['target', target],
  ] as const) {
    if (!inBounds(m, c)) throw new MazeError(`${name} ${coordKey(c)} is outside the ${m.rows}x${m.cols} grid`);
  }
  if (origin[0] === target[0] && origin[1] === target[1]) throw new MazeError(`origin and target are the same cell ${coordKey(origin)}`);
  const path = shortestPath(m, origin, target);
  if (!path) throw new MazeError(`target ${coordKey(target)} is not reachable from origin ${coordKey(origin)}`);
  return { ...m, origin, target, path };
}
