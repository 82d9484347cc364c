import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AtomicFile, sweepFiles, writeFileAtomic } from '../../server/db/files.js';
import { decodeMaze, encodeMaze } from '../../server/db/mazes.js';
import { generateMazes } from '../../server/maze/generate.js';
import { tempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const dir = (): string => {
  const d = tempDir();
  dirs.push(d);
  return d;
};

describe('files beside the database', () => {
  it('writeFileAtomic writes the bytes under their final name only, and reports size and sha256', () => {
    const d = dir();
    const data = crypto.randomBytes(10_000);
    const f = writeFileAtomic(d, 'checkpoints/a.safetensors', data);
    expect(f).toEqual({ path: 'checkpoints/a.safetensors', bytes: 10_000, sha256: crypto.createHash('sha256').update(data).digest('hex') });
    expect(fs.readdirSync(path.join(d, 'checkpoints'))).toEqual(['a.safetensors']);
    expect(Buffer.compare(fs.readFileSync(path.join(d, f.path)), data)).toBe(0);
  });

  it('an unfinished write leaves only a temporary file, which never appears under the final name and is swept at start-up', () => {
    const d = dir();
    const w = new AtomicFile(d, 'caches/half.safetensors');
    w.write(Buffer.from('half of a tensor'));
    // (the process "dies" here: no commit)
    expect(fs.existsSync(path.join(d, 'caches/half.safetensors'))).toBe(false);
    writeFileAtomic(d, 'caches/kept.safetensors', Buffer.from('x'));
    writeFileAtomic(d, 'caches/orphan.safetensors', Buffer.from('y')); // renamed, but its row never committed
    const removed = sweepFiles(d, new Set(['caches/kept.safetensors']));
    expect(removed.sort()).toEqual([expect.stringMatching(/^caches\/half\.safetensors\.tmp-/), 'caches/orphan.safetensors'].sort());
    expect(fs.readdirSync(path.join(d, 'caches'))).toEqual(['kept.safetensors']);
  });

  it('refuses paths outside the data directory', () => {
    expect(() => writeFileAtomic(dir(), '../escape.bin', Buffer.from('x'))).toThrow(/outside the data directory/);
  });
});

describe('compact maze storage', () => {
  it('encode → decode returns the same maze for every generator and rectangular sizes', () => {
    for (const generator of ['dfs', 'wilson', 'kruskal', 'prim', 'percolation', 'open_field']) {
      for (const [rows, cols] of [
        [2, 2],
        [5, 5],
        [7, 3],
        [64, 64],
      ]) {
        const spec = { generator, rows, cols, ...(generator === 'percolation' ? { p: 0.6 } : {}) };
        for (const m of generateMazes(spec, 3, 9)) {
          const e = encodeMaze(m);
          expect(e.planes.length).toBe(Math.ceil((2 * rows * cols) / 8));
          const back = decodeMaze(e);
          expect(back.rows).toBe(rows);
          expect(Array.from(back.down)).toEqual(Array.from(m.down));
          expect(Array.from(back.right)).toEqual(Array.from(m.right));
          expect(back.origin).toEqual(m.origin);
          expect(back.target).toEqual(m.target);
          expect(back.path).toEqual(m.path.map(([r, c]) => [r, c]));
        }
      }
    }
  });
});
