/**
 * Compact storage of solved mazes (the `mazes` table):
 *   planes   = bit-packed "down" plane then "right" plane, rows*cols bits each, LSB first
 *              (a 64×64 maze takes 1 KiB instead of 8 KiB of Uint8 planes),
 *   solution = little-endian u16 flat cell indices (row*cols + col ≤ 4095 < 2^16), origin first.
 * Token sequences, ASCII and SVG are derived from the decoded maze on read.
 */
import type { Coord, SolvedMaze } from '../maze/lattice.js';
import { MazeError } from '../maze/lattice.js';

export interface EncodedMaze {
  rows: number;
  cols: number;
  planes: Buffer;
  originRow: number;
  originCol: number;
  targetRow: number;
  targetCol: number;
  solution: Buffer;
  pathLength: number;
}

export function encodeMaze(m: SolvedMaze): EncodedMaze {
  const n = m.rows * m.cols;
  const planes = Buffer.alloc(Math.ceil((2 * n) / 8));
  for (let i = 0; i < n; i++) {
    if (m.down[i]) planes[i >> 3] |= 1 << (i & 7);
    const j = n + i;
    if (m.right[i]) planes[j >> 3] |= 1 << (j & 7);
  }
  const solution = Buffer.alloc(2 * m.path.length);
  for (let k = 0; k < m.path.length; k++) solution.writeUInt16LE(m.path[k][0] * m.cols + m.path[k][1], 2 * k);
  return {
    rows: m.rows,
    cols: m.cols,
    planes,
    originRow: m.origin[0],
    originCol: m.origin[1],
    targetRow: m.target[0],
    targetCol: m.target[1],
    solution,
    pathLength: m.path.length - 1,
  };
}

export interface StoredMazeFields {
  rows: number;
  cols: number;
  planes: Buffer | Uint8Array;
  originRow: number;
  originCol: number;
  targetRow: number;
  targetCol: number;
  solution: Buffer | Uint8Array;
}

export function decodeMaze(row: StoredMazeFields): SolvedMaze {
  const { rows, cols } = row;
  const n = rows * cols;
  if (row.planes.length !== Math.ceil((2 * n) / 8))
    throw new MazeError(`stored maze planes have ${row.planes.length} bytes; a ${rows}x${cols} maze needs ${Math.ceil((2 * n) / 8)}`);
  const down = new Uint8Array(n);
  const right = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    down[i] = (row.planes[i >> 3] >> (i & 7)) & 1;
    const j = n + i;
    right[i] = (row.planes[j >> 3] >> (j & 7)) & 1;
  }
  const buf = Buffer.from(row.solution.buffer, row.solution.byteOffset, row.solution.byteLength);
  const path: Coord[] = [];
  for (let k = 0; k + 1 < buf.length; k += 2) {
    const c = buf.readUInt16LE(k);
    path.push([Math.floor(c / cols), c % cols]);
  }
  return { rows, cols, down, right, origin: [row.originRow, row.originCol], target: [row.targetRow, row.targetCol], path };
}
