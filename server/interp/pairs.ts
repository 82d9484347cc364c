/**
 * Clean / corrupted prompt pairs for patching, one decision each: both sequences end at a cell of
 * the path (the "decision cell"), the metric reads the next-token logits there:
 *   LD = logit[good] − logit[bad],  normalised (LD_patched − LD_corrupt) / (LD_clean − LD_corrupt)
 * (the IOI-style normalised logit difference: 0 = corrupted behaviour, 1 = clean behaviour).
 *
 * Pair kinds (every one keeps clean and corrupted the same length, so positions align one-to-one):
 *   target           another target t′; the prefix runs up to the cell where the solutions to t and t′
 *                    part; good/bad = the clean/corrupted next move. Only the target token differs.
 *   origin           another origin o′ whose first move differs; the prefix is prompt + origin
 *                    token; the origin tokens (prompt and first path token) differ.
 *   add-wall-on      close one connection of the solution; decision cell = the cell before it.
 *   add-wall-off     close a connection off the solution (a control: the solution is unchanged);
 *                    decision cell = the path cell nearest the wall.
 *   remove-wall-on   open a lattice edge that changes the shortest path; decision = where they part.
 *   remove-wall-off  open an edge that leaves the (unique) shortest path unchanged (control).
 * Wall pairs change the list by one entry. Alignment: the sequence whose maze lists one entry
 * fewer repeats, in the slot where the other lists the changed edge, an entry it already lists
 * (a connection written twice is the same maze), so only that slot's two cell tokens differ.
 * When the corrupted maze gives no alternative next move (a wall that cuts a tree, and the off
 * controls), `bad` is null: the caller fills it with the clean run's highest-logit wrong token
 * (`resolveBad`), fixed for that pair, so the metric stays linear in the logits.
 */
import { type LatticeMaze, type SolvedMaze, cellCoord, cloneMaze, connectedIdx, latticeNeighborsIdx, setEdgeIdx } from '../maze/lattice.js';
import { Rng } from '../maze/rng.js';
import { countShortestPathsIdx, shortestPathIdx } from '../maze/solve.js';
import { InterpError, type Encoder } from './context.js';

export const PAIR_KINDS = ['target', 'origin', 'add-wall-on', 'add-wall-off', 'remove-wall-on', 'remove-wall-off'] as const;
export type PairKind = (typeof PAIR_KINDS)[number];

export interface PatchPair {
  kind: PairKind;
  /** [T] clean tokens, ending at the decision cell. */
  clean: Int32Array;
  /** [T] corrupted tokens, same length. */
  corrupt: Int32Array;
  /** Model id of the clean next move. */
  good: number;
  /** Model id of the corrupted next move, or null (see the module comment). */
  bad: number | null;
  /** Index into the clean path of the decision cell. */
  decision: number;
  /** Positions where clean and corrupted differ. */
  changed: number[];
  /** Human-readable change, e.g. "target (3,4) → (0,2)". */
  change: string;
  cleanMaze: SolvedMaze;
  /** The corrupted lattice with origin/target (its own solution, if any, is not needed). */
  corruptMaze: LatticeMaze & { origin: readonly [number, number]; target: readonly [number, number] };
}

const key = (m: LatticeMaze, c: number): string => `(${cellCoord(m, c).join(',')})`;
const flat = (m: LatticeMaze, p: readonly [number, number]): number => p[0] * m.cols + p[1];

/** Prompt tokens of `maze` with its edge order drawn from Rng(tokSeed), plus path cells `path`. */
function prefix(enc: Encoder, maze: SolvedMaze, tokSeed: string, path: ArrayLike<number>): Int32Array {
  const prompt = enc.encodePrompt(maze, new Rng(tokSeed), 'pair', path.length);
  const P = prompt.length;
  const out = new Int32Array(P + path.length);
  out.set(prompt);
  for (let i = 0; i < path.length; i++) {
    const [r, c] = cellCoord(maze, path[i]);
    out[P + i] = enc.cellId(r, c);
  }
  return out;
}

function diff(a: Int32Array, b: Int32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

const pick = <T>(xs: T[], rng: Rng): T | null => (xs.length ? xs[rng.int(xs.length)] : null);

/** First i with a[i+1] ≠ b[i+1] (both defined) after a common prefix a[0..i] = b[0..i]; -1 if none. */
function partIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a[0] !== b[0]) return -1;
  for (let i = 0; i + 1 < a.length && i + 1 < b.length; i++) {
    if (a[i + 1] !== b[i + 1]) return i;
  }
  return -1;
}

/**
 * Builds one pair of `kind` on `maze` (origin, target and path as given), choosing what to change
 * with `rng`; null when this maze offers no such change (e.g. no shortcut to open).
 */
export function buildPair(kind: PairKind, maze: SolvedMaze, enc: Encoder, rng: Rng): PatchPair | null {
  const tokSeed = `pair/${rng.u32()}`;
  const n = maze.rows * maze.cols;
  const o = flat(maze, maze.origin),
    t = flat(maze, maze.target);
  const path = Int32Array.from(maze.path, (p) => flat(maze, p));
  const withEnds = (m: LatticeMaze, oo: number, tt: number, p: Int32Array): SolvedMaze => ({
    rows: m.rows,
    cols: m.cols,
    down: m.down,
    right: m.right,
    origin: cellCoord(m, oo),
    target: cellCoord(m, tt),
    path: Array.from(p, (c) => cellCoord(m, c)),
  });
  const finish = (
    clean: Int32Array,
    corrupt: Int32Array,
    good: number,
    bad: number | null,
    decision: number,
    change: string,
    corruptMaze: PatchPair['corruptMaze'],
  ): PatchPair => ({
    kind,
    clean,
    corrupt,
    good,
    bad,
    decision,
    changed: diff(clean, corrupt),
    change,
    cleanMaze: maze,
    corruptMaze,
  });
  const cell = (c: number): number => enc.cellId(...cellCoord(maze, c));

  if (kind === 'target' || kind === 'origin') {
    const options: Array<{ other: number; alt: Int32Array; i: number }> = [];
    for (let c = 0; c < n; c++) {
      if (c === o || c === t) continue;
      const alt = kind === 'target' ? shortestPathIdx(maze, o, c) : shortestPathIdx(maze, c, t);
      if (!alt || alt.length < 2) continue;
      const i = kind === 'target' ? partIndex(path, alt) : alt[1] !== path[1] ? 0 : -1;
      if (i >= 0) options.push({ other: c, alt, i });
    }
    const ch = pick(options, rng);
    if (!ch) return null;
    if (kind === 'target') {
      const corruptSolved = withEnds(maze, o, ch.other, ch.alt);
      const clean = prefix(enc, maze, tokSeed, path.subarray(0, ch.i + 1));
      const corrupt = prefix(enc, corruptSolved, tokSeed, ch.alt.subarray(0, ch.i + 1));
      return finish(clean, corrupt, cell(path[ch.i + 1]), cell(ch.alt[ch.i + 1]), ch.i, `target ${key(maze, t)} → ${key(maze, ch.other)}`, corruptSolved);
    }
    const corruptSolved = withEnds(maze, ch.other, t, ch.alt);
    const clean = prefix(enc, maze, tokSeed, path.subarray(0, 1));
    const corrupt = prefix(enc, corruptSolved, tokSeed, ch.alt.subarray(0, 1));
    return finish(clean, corrupt, cell(path[1]), cell(ch.alt[1]), 0, `origin ${key(maze, o)} → ${key(maze, ch.other)}`, corruptSolved);
  }

  // ---- wall pairs: find the edge to change ----
  const onPath = new Int32Array(n).fill(-1); // [cells] index on the clean path, -1 off it
  path.forEach((c, i) => (onPath[c] = i));
  const adding = kind === 'add-wall-on' || kind === 'add-wall-off';
  const wantOn = kind.endsWith('-on');
  const nb = new Int32Array(4);
  const candidates: Array<{ a: number; b: number; m: LatticeMaze; i: number; alt: Int32Array | null }> = [];
  for (let a = 0; a < n; a++) {
    const k = latticeNeighborsIdx(maze, a, nb);
    for (let j = 0; j < k; j++) {
      const b = nb[j];
      if (b < a || connectedIdx(maze, a, b) !== adding) continue;
      const m = cloneMaze(maze as LatticeMaze);
      setEdgeIdx(m, a, b, !adding);
      const alt = shortestPathIdx(m, o, t);
      const same = !!alt && alt.length === path.length && alt.every((c, i) => c === path[i]);
      const onSolution = adding ? onPath[a] >= 0 && onPath[b] >= 0 && Math.abs(onPath[a] - onPath[b]) === 1 : !!alt && partIndex(path, alt) >= 0;
      if (onSolution !== wantOn) continue;
      // Controls keep the solution exactly (and, when opening, unique).
      if (!wantOn && (!same || (!adding && countShortestPathsIdx(m, o, t) !== 1))) continue;
      let i: number;
      if (kind === 'add-wall-on') i = Math.min(onPath[a], onPath[b]);
      else if (kind === 'remove-wall-on') i = partIndex(path, alt!);
      else i = nearestPathIndex(maze, path, a, b);
      candidates.push({ a, b, m, i, alt });
    }
  }
  const ch = pick(candidates, rng);
  if (!ch) return null;
  const corruptMaze = { ...ch.m, origin: maze.origin, target: maze.target };
  // The maze whose sequence lists more entries is tokenized; the other repeats an entry in that slot.
  const listsConnections = enc.tokenizer.format.lists === 'connections';
  const cleanListsMore = adding === listsConnections;
  const more: SolvedMaze = cleanListsMore ? maze : { ...corruptMaze, path: maze.path };
  const decisionPath = path.subarray(0, ch.i + 1);
  const longer = prefix(enc, more, tokSeed, decisionPath);
  const shorter = longer.slice();
  const idA = cell(ch.a),
    idB = cell(ch.b);
  // The slot listing the changed edge (a, b), in either written order.
  // Entry k occupies positions 1+4k .. 4+4k (a, connector, b, ;); 9 tokens follow the list.
  const entries = (enc.promptLength(more) - 9) / 4;
  let slot = -1;
  for (let k = 0, s = 1; k < entries; k++, s += 4) {
    if ((longer[s] === idA && longer[s + 2] === idB) || (longer[s] === idB && longer[s + 2] === idA)) slot = s;
  }
  if (slot < 0) throw new InterpError(`pair builder: edge ${key(maze, ch.a)}-${key(maze, ch.b)} not found in the adjacency list`);
  const slots: number[] = [];
  for (let k = 0, s = 1; k < entries; k++, s += 4) if (s !== slot) slots.push(s);
  if (slots.length === 0) return null; // nothing to repeat
  const dup = slots[rng.int(slots.length)];
  shorter[slot] = longer[dup];
  shorter[slot + 2] = longer[dup + 2];
  const [clean, corrupt] = cleanListsMore ? [longer, shorter] : [shorter, longer];
  const good = cell(path[ch.i + 1]);
  let bad: number | null = null;
  if (ch.alt && partIndex(path, ch.alt) === ch.i) bad = cell(ch.alt[ch.i + 1]);
  const verb = adding ? 'close' : 'open';
  return finish(clean, corrupt, good, bad, ch.i, `${verb} ${key(maze, ch.a)}-${key(maze, ch.b)}`, corruptMaze);
}

/** Index (≤ len−2, so a next move exists) of the path cell nearest (L1) to edge (a, b); earliest on ties. */
function nearestPathIndex(m: LatticeMaze, path: Int32Array, a: number, b: number): number {
  let best = 0,
    bestD = Infinity;
  for (let i = 0; i + 1 < path.length; i++) {
    const [r, c] = cellCoord(m, path[i]);
    const d = Math.min(
      ...[a, b].map((x) => {
        const [xr, xc] = cellCoord(m, x);
        return Math.abs(xr - r) + Math.abs(xc - c);
      }),
    );
    if (d < bestD) [best, bestD] = [i, d];
  }
  return best;
}

/** `bad` for a pair: its own, or the highest-logit token other than `good` in the clean run's last logits. */
export function resolveBad(pair: PatchPair, cleanLast: ArrayLike<number>): number {
  if (pair.bad !== null) return pair.bad;
  let best = -1;
  for (let v = 0; v < cleanLast.length; v++) if (v !== pair.good && (best < 0 || cleanLast[v] > cleanLast[best])) best = v;
  return best;
}

/** Up to `want` pairs of `kind`, one per maze in order (mazes without such a change are skipped). */
export function buildPairs(kind: PairKind, mazes: readonly SolvedMaze[], enc: Encoder, seed: number, want: number): { pairs: PatchPair[]; skipped: number } {
  const rng = new Rng(`pairs/${kind}/${seed}`);
  const pairs: PatchPair[] = [];
  let skipped = 0;
  for (const m of mazes) {
    if (pairs.length >= want) break;
    const p = buildPair(kind, m, enc, rng.fork());
    if (p) pairs.push(p);
    else skipped++;
  }
  return { pairs, skipped };
}
