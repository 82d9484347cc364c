/**
 * The mazes a page's activity runs the model on (a component's, a probe direction's): a window of a
 * dataset's test split, each checked to fit the model's vocabulary as services/activity.ts will
 * read it. Asking for more mazes than the window holds is refused, never capped.
 */
import { checkSequenceLength, type ModelConfig } from '../../model/config.js';
import { teacherForced } from '../../services/activity.js';
import { testSplitMazes } from '../../services/components.js';
import type { DatasetRow, MazeRow, ModelRow } from '../../services/rows.js';
import type { Ctx } from '../context.js';
import { badInput, notFound } from '../errors.js';
import { rowId } from '../ids.js';

/** How many test mazes an activity reads without `mazes`, and the most it reads when asked. */
export const DEFAULT_MAZES = 48;
export const MAX_MAZES = 500;

export interface TestMazes {
  dataset: DatasetRow;
  rows: MazeRow[];
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
  const { available } = await testSplitMazes(ctx.db, dataset.id, 0);
  if (available === 0) throw badInput(`${where}: Dataset:${dataset.id} has no test-split mazes`);
  const offset = args.offset?.(available, dataset) ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset >= available)
    throw badInput(`${where}: offset must be an integer in [0, ${available}) (Dataset:${dataset.id}'s test split holds ${available} mazes), got ${offset}`);
  if (args.mazes != null && args.mazes > available - offset)
    throw badInput(
      `${where}: Dataset:${dataset.id}'s test split holds ${available - offset} mazes${offset ? ` from offset ${offset}` : ''}, fewer than the ${args.mazes} asked for`,
    );
  const { rows } = await testSplitMazes(ctx.db, dataset.id, args.mazes ?? DEFAULT_MAZES, offset);
  // Checked here, so a maze outside the model's vocabulary or context is refused before any forward is sent.
  for (const r of rows)
    checkSequenceLength(model.config as ModelConfig, teacherForced(model, r, `${where}: Dataset:${dataset.id}`).ids.length, `${where}: Maze:${r.id}`);
  return { dataset, rows, available, offset };
}
