/**
 * The mazes a page's activity runs the model on (a component's, a probe direction's): a window of a
 * dataset's test split, each maze teacher-forced (prompt and solution) in the model's vocabulary,
 * tokenized as the maze page shows it (edge order seeded by the row id). Asking for more mazes than
 * the window holds is refused, never capped.
 */
import { getTokenizer, tokensToIds } from '../../maze/tokenize/index.js';
import { Rng } from '../../maze/rng.js';
import type { ModelConfig } from '../../model/config.js';
import { testSplitMazes } from '../../services/components.js';
import { decodeMaze } from '../../services/datasets.js';
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
  seqs: Array<{ tokens: string[]; ids: Int32Array }>;
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
  args: { datasetRef?: string | null; mazes?: number | null; offset?: (available: number, dataset: DatasetRow) => number },
): Promise<TestMazes & { offset: number }> {
  const datasetRef = args.datasetRef ?? model.lineage.datasetId;
  if (!datasetRef) throw badInput(`${where}: Model:${model.id} was not trained on a stored dataset; name one with datasetId`);
  const dataset = await ctx.loaders.dataset.load(rowId(datasetRef, 'Dataset'));
  if (!dataset) throw notFound(`Dataset ${datasetRef}`);
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
  const cfg = model.config as ModelConfig;
  const vocab = model.vocab as string[];
  const tok = getTokenizer(cfg.tokenizer);
  const seqs = rows.map((r) => {
    const tokens = tok.tokenize(decodeMaze(r), new Rng(r.id));
    try {
      return { tokens, ids: tokensToIds(tokens, vocab) };
    } catch (e) {
      throw badInput(
        `${where}: Maze:${r.id} of Dataset:${dataset.id} (${r.rows}x${r.cols}) does not fit Model:${model.id}'s vocabulary: ${(e as Error).message}`,
      );
    }
  });
  return { dataset, rows, available, seqs, offset };
}
