/**
 * Datasets and mazes. Token sequences, ASCII and SVG are derived from the stored planes by the
 * maze core on each read (cheap: microseconds per maze), never stored.
 */
import {
  MAX_PATH_LENGTH,
  checkDatasetSize,
  datasetCount,
  datasetPage,
  decodeMaze,
  deleteDataset,
  getDataset,
  mazeCount,
  mazePage,
  splitRange,
} from '../../services/datasets.js';
import { MAX_DATASET_ARCHIVE_BYTES, importDatasetArchive } from '../../services/datasetArchives.js';
import { generatorNames } from '../../maze/generators/index.js';
import { mazeFromSpec } from '../../maze/edit.js';
import { edgeList, type SolvedMaze } from '../../maze/lattice.js';
import { type ParsedSequence, parseSequence } from '../../maze/parse.js';
import { renderAscii, renderSvg } from '../../maze/render.js';
import { Rng } from '../../maze/rng.js';
import { getTokenizer, tokenizerNames } from '../../maze/tokenize/index.js';
import { base64Bytes } from '../base64.js';
import type { Ctx } from '../context.js';
import { badInput, conflict, notFound } from '../errors.js';
import { UserError } from '../../errors.js';
import type { MazeGenerator, Resolvers } from '../generated/types.js';
import { requireCompute, requireOwnerOrAdmin, requireUser } from '../guard.js';
import { rowId, toId } from '../ids.js';
import { MAX_PARSE_ITEMS } from '../limits.js';
import type { MazeRow } from '../../services/rows.js';
import { connection, pageArgs } from '../pagination.js';

const decoded = new WeakMap<MazeRow, SolvedMaze>();
function solved(row: MazeRow): SolvedMaze {
  let m = decoded.get(row);
  if (!m) decoded.set(row, (m = decodeMaze(row)));
  return m;
}

/** One sequence as parseMazeTokens reads it; a ParseError (→ BAD_USER_INPUT) names the token index where it stops being a maze. */
function parseTokens(where: string, a: { tokens: string; tokenizer?: string | null; rows?: number | null; cols?: number | null }) {
  if ((a.rows == null) !== (a.cols == null)) throw badInput(`${where}: give both rows and cols, or neither (the grid is then inferred)`);
  try {
    return parseSequence(a.tokens, {
      tokenizer: a.tokenizer ?? undefined,
      partial: true,
      ...(a.rows != null && a.cols != null ? { grid: { rows: a.rows, cols: a.cols } } : {}),
    });
  } catch (e: unknown) {
    // A list item's error names its index, its reason code kept.
    if (e instanceof UserError && where !== 'parseMazeTokens') throw new UserError(`${where}: ${e.message}`, e.code ? { code: e.code } : {});
    throw e;
  }
}

export const datasetResolvers: Resolvers<Ctx> = {
  Query: {
    async datasets(_p, args, ctx) {
      requireUser(ctx);
      const { first, afterKey } = pageArgs('dataset', args);
      const rows = await datasetPage(ctx.db, afterKey, first + 1);
      return connection(
        'dataset',
        rows,
        first,
        (r) => r.id,
        afterKey !== undefined,
        () => datasetCount(ctx.db),
      );
    },
    async dataset(_p, { id }, ctx) {
      requireUser(ctx);
      return (await ctx.loaders.dataset.load(rowId(id, 'Dataset'))) ?? null;
    },
    async maze(_p, { id }, ctx) {
      requireUser(ctx);
      return (await ctx.loaders.maze.load(rowId(id, 'Maze'))) ?? null;
    },
    generators(_p, _a, ctx) {
      requireUser(ctx);
      // The SDL's MazeGenerator enum lists the registry (test/platform/codegen.test.ts checks they agree).
      return generatorNames() as MazeGenerator[];
    },
    tokenizers(_p, _a, ctx) {
      requireUser(ctx);
      return tokenizerNames();
    },
    tokenizeMaze(_p, { input, tokenizer, seed }, ctx) {
      requireUser(ctx);
      const maze = mazeFromSpec(input); // a MazeError (→ BAD_USER_INPUT) names the bad edge or cell
      const tok = getTokenizer(tokenizer ?? undefined);
      // prompt is a prefix of the full sequence only when both draw the same adjacency order, so
      // each gets a fresh Rng on the same seed.
      const rngSeed = seed ?? 0;
      return {
        prompt: tok.prompt(maze, new Rng(rngSeed)).join(' '),
        tokens: tok.tokenizeToText(maze, new Rng(rngSeed)),
        solution: maze.path.map(([r, c]) => [r, c]),
      };
    },
    parseMazeTokens(_p, args, ctx) {
      requireUser(ctx);
      return parseTokens('parseMazeTokens', args);
    },
    parseMazeTokensList(_p, { items }, ctx) {
      requireUser(ctx);
      if (items.length > MAX_PARSE_ITEMS) throw badInput(`parseMazeTokensList: at most ${MAX_PARSE_ITEMS} items, got ${items.length}`);
      // Each item on its own: graphql-js completes a list's items one by one, so a rejected item is
      // null with its error at its index (the generated resolver types do not model item promises).
      return items.map(async (item, i) => parseTokens(`parseMazeTokensList: items[${i}]`, item)) as unknown as ParsedSequence[];
    },
  },
  ParsedMaze: {
    origin: (p) => [p.origin[0], p.origin[1]],
    target: (p) => [p.target[0], p.target[1]],
    path: (p) => p.path.map(([r, c]) => [r, c]),
    svg: (p, { cellSize }) => {
      const size = cellSize ?? 24;
      if (!Number.isInteger(size) || size < 4 || size > 200) throw badInput(`svg: cellSize must be an integer in [4, 200], got ${size}`);
      return renderSvg(p.maze, { origin: p.origin, target: p.target, path: p.path, cellSize: size });
    },
  },
  Mutation: {
    createDataset(_p, { input }, ctx) {
      const user = requireCompute(ctx, 'createDataset');
      return ctx.app.runner.enqueue<{ grid: number; count: number }>('createDataset', input, user.id, undefined, (p) =>
        checkDatasetSize(p.grid, p.count, user.role),
      );
    },
    async importDataset(_p, { name, base64, testFraction }, ctx) {
      const user = requireCompute(ctx, 'importDataset');
      const bytes = base64Bytes(base64, MAX_DATASET_ARCHIVE_BYTES, 'importDataset: base64');
      return await importDatasetArchive(ctx.app.handle, { name, bytes, testFraction }, user);
    },
    async deleteDataset(_p, { id }, ctx) {
      const dsId = rowId(id, 'Dataset');
      const ds = await getDataset(ctx.db, dsId);
      if (!ds) throw notFound(`Dataset:${dsId}`);
      const user = requireOwnerOrAdmin(ctx, ds.createdBy, 'deleteDataset');
      if (ds.status === 'BUILDING') throw conflict(`Dataset:${dsId} is still being built by Job:${ds.jobId}; cancel the job instead`, { status: ds.status });
      await deleteDataset(ctx.db, ds, user.id);
      return true;
    },
  },
  Dataset: {
    id: (d) => toId('Dataset', d.id),
    p: (d) => d.config.p ?? null,
    forkless: (d) => d.config.forkless === true,
    config: (d) => ({ ...d.config, generator: d.config.generator as MazeGenerator }),
    downloadUrl: (d) => `/files/datasets/${d.id}.zanj`,
    importedFrom: (d) => (d.config.imported ? (d.config.imported.fname ?? d.config.imported.name) : null),
    createdBy: async (d, _a, ctx) => (d.createdBy ? ((await ctx.loaders.user.load(d.createdBy)) ?? null) : null),
    job: async (d, _a, ctx) => (d.jobId ? ((await ctx.loaders.job.load(d.jobId)) ?? null) : null),
    async mazes(d, args, ctx) {
      const { first, afterKey } = pageArgs('maze', args);
      const bound = (name: string, v: number | null | undefined, dflt: number): number => {
        if (v == null) return dflt;
        if (!Number.isInteger(v) || v < 0) throw badInput(`${name} must be a non-negative integer, got ${v}`);
        return Math.min(v, MAX_PATH_LENGTH + 1); // any bound beyond the longest possible path selects the same mazes
      };
      const minLength = bound('minPathLength', args.minPathLength, 0);
      const maxLength = Math.min(bound('maxPathLength', args.maxPathLength, MAX_PATH_LENGTH), MAX_PATH_LENGTH);
      if (args.minPathLength != null && args.maxPathLength != null && args.minPathLength > args.maxPathLength) {
        throw badInput(`minPathLength (${args.minPathLength}) must not exceed maxPathLength (${args.maxPathLength})`);
      }
      const range = { datasetId: d.id, ...splitRange(d.splits, args.split ?? null), minLength, maxLength };
      const handle = ctx.app.handle;
      const rows = await mazePage(handle, { ...range, afterIdx: afterKey ?? -1, limit: first + 1 });
      for (const r of rows) ctx.loaders.maze.prime(r.id, r);
      return connection(
        'maze',
        rows,
        first,
        (r) => r.idx,
        afterKey !== undefined,
        () => mazeCount(handle, range),
      );
    },
  },
  Maze: {
    id: (m) => toId('Maze', m.id),
    dataset: async (m, _a, ctx) => {
      const ds = await ctx.loaders.dataset.load(m.datasetId);
      if (!ds) throw notFound(`Dataset:${m.datasetId}`);
      return ds;
    },
    index: (m) => m.idx,
    origin: (m) => [m.originRow, m.originCol],
    target: (m) => [m.targetRow, m.targetCol],
    solution: (m) => solved(m).path.map(([r, c]) => [r, c]),
    connections: (m) =>
      edgeList(solved(m)).map(([a, b]) => [
        [a[0], a[1]],
        [b[0], b[1]],
      ]),
    tokens: (m, { tokenizer, seed }) => getTokenizer(tokenizer ?? undefined).tokenizeToText(solved(m), new Rng(seed ?? m.id)),
    ascii: (m) => renderAscii(solved(m)),
    svg: (m, { cellSize }) => renderSvg(solved(m), { cellSize: cellSize ?? 24, title: `Maze:${m.id}` }),
  },
};
