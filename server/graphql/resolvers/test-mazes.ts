/**
 * The mazes a page's activity runs the model on (a component's, a probe direction's): a window of a
 * dataset's test split (its maze ids; services/activity.ts reads and checks the mazes). Asking for
 * more mazes than the window holds is refused, never capped.
 */
import { testSplitCount, testSplitWindow } from '../../services/components.js';
import type { DatasetRow, MazeRow, ModelRow } from '../../services/rows.js';
import type { Ctx } from '../context.js';
import { badInput, notFound } from '../errors.js';
import { rowId } from '../ids.js';

/** How many test mazes an activity reads without `mazes`, and the most it reads when asked. */
export const DEFAULT_MAZES = 48;
export const MAX_MAZES = 500;

export interface TestMazes {
  dataset: DatasetRow;
  /** The window's maze ids, in index order. */
  mazeIds: number[];
  /** The test split's size. */
  available: number;
}

/** Checks an activity's `mazes` and `examples` arguments (`where` prefixes the errors). */
export function checkActivityArgs(where: string, mazes: number | null | undefined, examples: number): void {
  if (!Number.isInteger(examples) || examples < 0 || examples > 24) throw badInput(`${where}: examples must be an integer in [0, 24], got ${examples}`);
  if (mazes != null && (!Number.isInteger(mazes) || mazes < 1 || mazes > MAX_MAZES))
    throw badInput(`${where}: mazes must be an integer in [1, ${MAX_MAZES}], got ${mazes}`);
}

/**
 * `datasetRef` (else the model's training dataset), its test split from `offset` (a function of the
 * split's size, so a default can depend on it): `mazes` of them, or up to DEFAULT_MAZES.
 */
export async function testMazes(
  ctx: Ctx,
  where: string,
  model: ModelRow,
  args: {
    datasetRef?: string | null;
    mazes?: number | null;
    offset?: (available: number, dataset: DatasetRow) => number;
    /** The grid side the page needs (a probe reads cells of its own grid), refused otherwise. */
    grid?: { side: number; why: string };
  },
): Promise<TestMazes & { offset: number }> {
  const datasetRef = args.datasetRef ?? model.lineage.datasetId;
  if (!datasetRef) throw badInput(`${where}: Model:${model.id} was not trained on a stored dataset; name one with datasetId`);
  const dataset = await ctx.loaders.dataset.load(rowId(datasetRef, 'Dataset'));
  if (!dataset) throw notFound(`Dataset ${datasetRef}`);
  if (args.grid && dataset.grid !== args.grid.side)
    throw badInput(
      `${where}: Dataset:${dataset.id} holds ${dataset.grid}×${dataset.grid} mazes, but ${args.grid.why} ${args.grid.side}×${args.grid.side}; name a dataset of that grid`,
    );
  const available = await testSplitCount(ctx.db, dataset.id);
  if (available === 0) throw badInput(`${where}: Dataset:${dataset.id} has no test-split mazes`);
  const offset = args.offset?.(available, dataset) ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset >= available)
    throw badInput(`${where}: offset must be an integer in [0, ${available}) (Dataset:${dataset.id}'s test split holds ${available} mazes), got ${offset}`);
  if (args.mazes != null && args.mazes > available - offset)
    throw badInput(
      `${where}: Dataset:${dataset.id}'s test split holds ${available - offset} mazes${offset ? ` from offset ${offset}` : ''}, fewer than the ${args.mazes} asked for`,
    );
  // Only the ids: the mazes are read, tokenized and checked (vocabulary, n_ctx) where the activity is
  // computed, and a mistake found there comes back typed from a worker too (jobs/queued.ts).
  const mazeIds = await testSplitWindow(ctx.db, dataset.id, args.mazes ?? DEFAULT_MAZES, offset);
  return { dataset, mazeIds, available, offset };
}

/** An activity's examples with their maze rows (one batched lookup; `maze` is an index into `mazeIds`). */
export async function withMazes<X extends { maze: number }>(
  ctx: Ctx,
  mazeIds: readonly number[],
  examples: readonly X[],
): Promise<Array<Omit<X, 'maze'> & { maze: MazeRow }>> {
  const rows = await Promise.all(examples.map((x) => ctx.loaders.maze.load(mazeIds[x.maze])));
  return examples.map((x, i) => {
    const maze = rows[i];
    if (!maze) throw notFound(`Maze:${mazeIds[x.maze]}`);
    return { ...x, maze };
  });
}
