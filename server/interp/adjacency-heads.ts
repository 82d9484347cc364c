/**
 * `adjacency-heads`: the research plan's "lattice-adjacency heads" hypothesis — a head that, from a
 * coordinate token (i,j), attends to the tokens of the cells at Manhattan distance 1, ignoring the
 * walls. For every head and every query position holding a cell token c (per `queries`), over the
 * keys k ≤ q holding cell tokens:
 *   lattice    Σ pattern[q, k] over keys naming a lattice neighbour of c (walls ignored)
 *   connected  the part of it on neighbours joined to c by an open connection
 *   wall       lattice − connected: neighbours behind a wall
 *   chance     the lattice mass uniform attention over all keys ≤ q would give
 * each averaged over queries and mazes. A lattice-adjacency head has lattice ≫ chance and, unlike a
 * maze-graph head, keeps a wall share close to the share of walled neighbours. Heads are ranked by
 * lattice mass.
 */
import { connectedIdx, latticeAdjacent, type LatticeMaze } from '../maze/lattice.js';
import { Rng } from '../maze/rng.js';
import { forEachCached, num, tensor } from './collect.js';
import { encoder, loadMazes, mazeFields, requireUnified } from './context.js';
import { defineParams, type SchemaParams } from './params.js';
import { mapPositions, type SequencePositions } from './positions.js';
import { defineKind } from './types.js';

export const paramsSchema = defineParams({
  ...mazeFields(16),
  queries: { type: 'string', doc: 'which cell tokens act as queries', choices: ['all', 'adjlist', 'path'], enum: 'AdjacencyQueries', default: 'all' },
});

/** The params as run: declared once, by the fields above. */
export type AdjacencyParams = SchemaParams<typeof paramsSchema>;

const isQuery = (sp: SequencePositions, q: number, which: AdjacencyParams['queries']): boolean =>
  sp.cell[q] >= 0 && (which === 'all' || (which === 'adjlist' ? sp.classes[q] === 'adj_cell' : sp.classes[q] === 'path'));

/** Per-head [lattice, connected, chance] mass sums and the query count, for one pattern [H, T, T] of one sequence. */
export function adjacencyMass(
  pattern: Float32Array,
  T: number,
  len: number,
  H: number,
  sp: SequencePositions,
  maze: LatticeMaze,
  which: AdjacencyParams['queries'],
) {
  const lattice = new Float64Array(H),
    connected = new Float64Array(H),
    chance = new Float64Array(H);
  let queries = 0;
  const coord = (c: number): [number, number] => [Math.floor(c / sp.cols), c % sp.cols];
  for (let q = 0; q < len; q++) {
    if (!isQuery(sp, q, which)) continue;
    queries++;
    const c = sp.cell[q];
    const cq = coord(c);
    let nLat = 0;
    const lat: number[] = [],
      con: number[] = [];
    for (let k = 0; k <= q; k++) {
      const ck = sp.cell[k];
      if (ck < 0 || !latticeAdjacent(cq, coord(ck))) continue;
      nLat++;
      lat.push(k);
      if (connectedIdx(maze, c, ck)) con.push(k);
    }
    for (let h = 0; h < H; h++) {
      const row = pattern.subarray((h * T + q) * T, (h * T + q) * T + q + 1);
      for (const k of lat) lattice[h] += row[k];
      for (const k of con) connected[h] += row[k];
      chance[h] += nLat / (q + 1);
    }
  }
  return { lattice, connected, chance, queries };
}

/** One head's mean attention masses from a cell token (module comment), ranked by lattice mass. */
export interface AdjacencyHeadRow {
  /** 1 = the most lattice mass. */
  rank: number;
  layer: number;
  head: number;
  lattice: number | null;
  connected: number | null;
  wall: number | null;
  chance: number | null;
  /** lattice ÷ chance */
  lift: number | null;
  /** connected ÷ lattice */
  connected_share: number | null;
}

/** `adjacency-heads`' summary (stored as JSON; served as Experiment.result, AdjacencyHeadsSummary). */
export interface AdjacencyHeadsSummary {
  kind: 'adjacency-heads';
  mazes: number;
  /** Query positions over all mazes. */
  queries: number;
  query_tokens: AdjacencyParams['queries'];
  ranked: AdjacencyHeadRow[];
}

export const adjacencyHeads = defineKind<AdjacencyParams, AdjacencyHeadsSummary>({
  kind: 'adjacency-heads',
  describe:
    'Scores every head by its attention from a cell token onto the tokens of its lattice neighbours (walls ignored) vs. its maze-connected neighbours, against uniform attention; a ranked table.',
  paramsSchema,
  async run(ctx, p, progress) {
    requireUnified(ctx.model, 'adjacency-heads');
    const { cfg, vocab } = ctx.model;
    const { n_layers: L, n_heads: H } = cfg;
    const mazes = loadMazes(ctx, p);
    const enc = encoder(ctx.model);
    const rng = new Rng(`adjacency-heads/${ctx.seed}`);
    const seqs = mazes.map((m, i) => enc.encode(m, rng, `maze ${i}`));
    const maps = seqs.map((s, i) => mapPositions(s, vocab, mazes[i]));
    const engine = await ctx.model.engine();
    const names = Array.from({ length: L }, (_, l) => `blocks.${l}.attn.hook_pattern`);
    const lattice = new Float64Array(L * H),
      connected = new Float64Array(L * H),
      chance = new Float64Array(L * H);
    let queries = 0;
    await forEachCached(
      engine,
      seqs,
      names,
      (row) => {
        for (let l = 0; l < L; l++) {
          const m = adjacencyMass(row.get(names[l]), row.T, row.len, H, maps[row.index], mazes[row.index], p.queries);
          for (let h = 0; h < H; h++) {
            lattice[l * H + h] += m.lattice[h];
            connected[l * H + h] += m.connected[h];
            chance[l * H + h] += m.chance[h];
          }
          if (l === 0) queries += m.queries;
        }
      },
      { progress, batch: 4 },
    );
    const mean = (a: Float64Array) => a.map((v) => (queries > 0 ? v / queries : NaN));
    const [lat, con, ch] = [mean(lattice), mean(connected), mean(chance)];
    const wall = lat.map((v, i) => v - con[i]);
    const table = Array.from({ length: L * H }, (_, i) => ({
      layer: Math.floor(i / H),
      head: i % H,
      lattice: lat[i],
      connected: con[i],
      wall: wall[i],
      chance: ch[i],
      lift: ch[i] > 0 ? lat[i] / ch[i] : NaN,
      connected_share: lat[i] > 0 ? con[i] / lat[i] : NaN,
    })).sort((a, b) => b.lattice - a.lattice || a.layer - b.layer || a.head - b.head);
    return {
      summary: {
        kind: 'adjacency-heads',
        mazes: mazes.length,
        queries,
        query_tokens: p.queries,
        ranked: table.map((r, rank) => ({
          rank: rank + 1,
          layer: r.layer,
          head: r.head,
          lattice: num(r.lattice),
          connected: num(r.connected),
          wall: num(r.wall),
          chance: num(r.chance),
          lift: num(r.lift),
          connected_share: num(r.connected_share),
        })),
      } satisfies AdjacencyHeadsSummary,
      tensors: [
        tensor('lattice', [L, H], lat), // [layer, head] mean attention on lattice neighbours
        tensor('connected', [L, H], con), // [layer, head] … on maze-connected neighbours
        tensor('wall', [L, H], wall), // [layer, head] … on neighbours behind a wall
        tensor('chance', [L, H], ch), // [layer, head] lattice mass under uniform attention
      ],
    };
  },
});
