/**
 * `searchlight datasets …`: datasets in and out of the data directory as maze-dataset ZANJ archives
 * (services/datasetArchives.ts), for moving mazes between Searchlight and Python's maze-dataset.
 */
import fs from 'node:fs/promises';
import { writeFileAtomic } from '../model/safetensors.js';
import { datasetArchive, importDatasetArchive } from '../services/datasetArchives.js';
import { getDataset } from '../services/datasets.js';
import { prepareDatabase } from '../services/database.js';
import { type CommandGroup, type CommandSpec, UsageError, parseCommand } from './args.js';
import type { CliIO } from './io.js';

const dataOption = { type: 'string', description: 'Data directory (default: SEARCHLIGHT_DATA or ./data)', placeholder: 'DIR' } as const;

const importSpec = {
  name: 'datasets import',
  summary: 'Import a maze-dataset ZANJ archive (a MazeDataset saved with ZANJ) as a dataset.',
  options: {
    file: { type: 'string', description: 'The .zanj archive', required: true, placeholder: 'FILE' },
    name: { type: 'string', description: 'Dataset name', required: true, placeholder: 'N' },
    'test-fraction': { type: 'number', description: 'Share of the mazes (the last ones) held out as the test split, 0..0.5', default: 0.1 },
    data: dataOption,
  },
  details: `Every maze is checked first (connection_list shape, cells inside the grid, the solution a
shortest open path from start to end); a problem names the maze index and field and nothing is written.
Layouts: MazeDataset, MazeDataset:minimal, MazeDataset:minimal_soln_cat.`,
} satisfies CommandSpec;

async function runImport(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(importSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const bytes = await fs.readFile(o.file).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`datasets import: cannot read --file ${o.file}: ${e.code ?? e.message}`);
  });
  const handle = await prepareDatabase(o.data);
  try {
    const ds = await importDatasetArchive(handle, { name: o.name, bytes, testFraction: o['test-fraction'] }, null);
    io.stdout.write(
      `imported Dataset:${ds.id} "${ds.name}": ${ds.mazeCount} mazes of ${ds.grid}x${ds.grid} (${ds.generator}), content hash ${ds.contentHash}\n`,
    );
  } finally {
    await handle.close();
  }
}

const exportSpec = {
  name: 'datasets export',
  summary: 'Write a dataset as a maze-dataset ZANJ archive (MazeDataset:minimal; Python: ZANJ().read(path)).',
  options: {
    id: { type: 'string', description: 'The dataset, e.g. Dataset:1', required: true, placeholder: 'ID' },
    out: { type: 'string', description: 'The .zanj file to write', required: true, placeholder: 'FILE' },
    data: dataOption,
  },
} satisfies CommandSpec;

async function runExport(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(exportSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const m = /^(?:Dataset:)?([1-9][0-9]*)$/.exec(o.id);
  if (!m) throw new UsageError(`datasets export: --id must be a dataset id like Dataset:1, got ${JSON.stringify(o.id)}`);
  const handle = await prepareDatabase(o.data);
  try {
    const ds = await getDataset(handle.db, Number(m[1]));
    if (!ds) throw new UsageError(`datasets export: Dataset:${m[1]} does not exist`);
    const bytes = await datasetArchive(handle.db, ds, 'datasets export');
    await writeFileAtomic(o.out, bytes);
    io.stdout.write(`wrote ${o.out}: Dataset:${ds.id}, ${ds.mazeCount} mazes, ${bytes.length} bytes\n`);
  } finally {
    await handle.close();
  }
}

export const datasetCommands: CommandGroup = {
  import: { summary: importSpec.summary, run: runImport },
  export: { summary: exportSpec.summary, run: runExport },
};
