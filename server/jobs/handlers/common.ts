/** Parameter checks shared by the model job handlers; messages name the field and the bad value. */
import { UserError } from '../../errors.js';
import type { Db } from '../../services/database.js';
import { getModel } from '../../services/models.js';
import type { DatasetRow, ModelRow } from '../../services/rows.js';

export { readyDataset } from '../../services/datasets.js';
import type { MazeSpec } from '../../maze/generate.js';

export function idNum(v: unknown, type: string, field: string): number {
  const m = typeof v === 'string' ? new RegExp(`^${type}:([1-9][0-9]*)$`).exec(v) : null;
  if (!m) throw new UserError(`${field} must be a ${type} id like "${type}:1", got ${JSON.stringify(v)}`);
  return Number(m[1]);
}

export function int(v: unknown, field: string, min: number, max: number, dflt?: number): number {
  if ((v === undefined || v === null) && dflt !== undefined) return dflt;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
    throw new UserError(`${field} must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
  return v as number;
}

export async function existingModel(db: Db, id: number, field: string): Promise<ModelRow> {
  const m = await getModel(db, id);
  if (!m) throw new UserError(`${field}: Model:${id} does not exist`);
  return m;
}

/** The maze spec that generated a dataset (so maze k of the dataset is maze k of a trainer run with the same seed). */
export function datasetSpec(ds: DatasetRow): MazeSpec {
  const c = ds.config;
  const spec: MazeSpec = { generator: ds.generator, rows: ds.grid, cols: ds.grid };
  if (typeof c.p === 'number') spec.p = c.p;
  if (typeof c.forkless === 'boolean') spec.forkless = c.forkless;
  return spec;
}
