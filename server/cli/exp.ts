/**
 * `searchlight exp …`: interpretability experiments (server/interp) from the terminal.
 *   exp run <kind> --weights W [--params JSON] [--out result.json] [--seed S] [--sae result.json] [--sae-lens DIR]
 *   exp list [--weights W] [--json]
 * `run` prints the summary JSON (with the params as run and the tensors' names and shapes); with
 * --out it writes that JSON to the file and the tensors beside it as float32 safetensors
 * (result.json → result.safetensors), which numpy/safetensors and TransformerLens users can read.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type ImportedSae, parseSaeLens } from '../interp/sae/format.js';
import { writeFileAtomic, writeSafetensorsFile } from '../model/safetensors.js';
import { createInterpModel, describeKind, kindNames, runExperiment } from '../interp/index.js';
import { type CommandGroup, type CommandSpec, parseCommand, UsageError } from './args.js';
import type { CliIO } from './io.js';
import { loadForCli } from './model.js';
import { fileSha256, loadSaeResult, tensorsPath } from './sae-file.js';

const runSpec = {
  name: 'exp run',
  usage: 'searchlight exp run <kind> --weights W [--params JSON] [--out result.json] [--seed S] [--sae result.json]',
  summary: 'Run one interpretability experiment on a model and print (or write) its result.',
  options: {
    weights: { type: 'string', description: 'Model file (safetensors)', required: true, placeholder: 'W' },
    params: { type: 'string', description: 'Parameters as a JSON object (see `exp list`); {} uses every default', default: '{}', placeholder: 'JSON' },
    out: { type: 'string', description: 'Write the summary JSON here and the tensors beside it as .safetensors', placeholder: 'result.json' },
    seed: { type: 'integer', description: 'Seed for mazes, edge order, splits and controls', default: 0, placeholder: 'S' },
    sae: { type: 'string', description: 'For kinds that edit an SAE (sae-intervention): the --out result of an `exp run sae`', placeholder: 'result.json' },
    'sae-lens': {
      type: 'string',
      description: "sae only: measure an SAE saved in SAELens' layout (a folder with cfg.json and sae_weights.safetensors) instead of training one",
      placeholder: 'DIR',
    },
    quiet: { type: 'boolean', description: 'No progress lines on stderr' },
  },
  details: `Kinds: ${kindNames().join(', ')}.
Mazes are generated on the fly (params generator, grid, count); defaults run on the model's own kind
of maze (DFS on the largest grid its vocabulary covers).`,
} satisfies CommandSpec;

/** An SAE in SAELens' layout (a folder holding cfg.json and sae_weights.safetensors). */
async function loadSaeLens(dir: string, kind: string): Promise<ImportedSae> {
  if (kind !== 'sae') throw new UsageError(`exp run: --sae-lens is for the sae kind, not ${kind}`);
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFile(join(dir, name));
    } catch (e) {
      throw new UsageError(`exp run: --sae-lens ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `no ${name} there` : (e as Error).message}`);
    }
  };
  const [cfg, weights] = [await read('cfg.json'), await read('sae_weights.safetensors')];
  try {
    return parseSaeLens(cfg.toString('utf8'), new Uint8Array(weights));
  } catch (e) {
    throw new UsageError(`exp run: --sae-lens ${dir}: ${(e as Error).message}`);
  }
}

export { tensorsPath } from './sae-file.js';

async function run(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(runSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const [kind, ...extra] = parsed.positionals;
  if (!kind) throw new UsageError(`exp run: name the experiment kind; one of ${kindNames().join(', ')}`);
  if (extra.length > 0) throw new UsageError(`exp run: unexpected argument "${extra[0]}"`);
  if (!kindNames().includes(kind)) throw new UsageError(`exp run: unknown kind "${kind}"; one of ${kindNames().join(', ')}`);
  let params: unknown;
  try {
    params = JSON.parse(o.params);
  } catch (e) {
    throw new UsageError(`exp run: --params is not valid JSON: ${(e as Error).message}`);
  }
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new UsageError(`exp run: --seed must be a non-negative integer, got ${o.seed}`);
  const loaded = await loadForCli(o.weights);
  const model = createInterpModel(loaded);
  let last = -1;
  const progress = (f: number, msg: string) => {
    const pct = Math.floor(f * 20) * 5; // a line per 5%
    if (o.quiet || (pct === last && f < 1)) return;
    last = pct;
    io.stderr.write(`exp ${kind}: ${pct}% ${msg}\n`);
  };
  try {
    const sae = o.sae ? await loadSaeResult(o.sae, 'exp run', { path: o.weights, warn: (l) => io.stderr.write(`${l}\n`) }) : undefined;
    const saeInit = o['sae-lens'] ? await loadSaeLens(o['sae-lens'], kind) : undefined;
    // The imported SAE decides the hook and architecture unless the params name them.
    if (saeInit && params && typeof params === 'object')
      params = {
        hook: saeInit.hook,
        architecture: saeInit.shape.architecture,
        ...(saeInit.shape.architecture === 'topk' ? { k: saeInit.shape.k } : {}),
        ...params,
      };
    const result = await runExperiment(kind, { model, seed: o.seed, ...(sae ? { sae } : {}), ...(saeInit ? { saeInit } : {}) }, params, progress);
    const doc: Record<string, unknown> = {
      kind: result.kind,
      model: o.weights,
      // Which weights these results describe (an SAE's --sae users check it against their --weights).
      model_sha256: await fileSha256(o.weights),
      seed: o.seed,
      params: result.params,
      summary: result.summary,
      tensors: result.tensors.map((t) => ({ name: t.name, shape: t.shape })),
    };
    if (o.out) {
      const tpath = tensorsPath(o.out);
      doc.tensors_file = basename(tpath);
      await writeSafetensorsFile(tpath, result.tensors, { kind: result.kind, params: JSON.stringify(result.params), seed: String(o.seed) });
      await writeFileAtomic(o.out, new TextEncoder().encode(JSON.stringify(doc, null, 2) + '\n'));
      io.stdout.write(`wrote ${o.out} and ${tpath} (${result.tensors.length} tensors)\n`);
    } else {
      io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    }
  } finally {
    await model.dispose();
  }
}

const listSpec = {
  name: 'exp list',
  summary: 'List the experiment kinds with their parameters and defaults.',
  options: {
    weights: { type: 'string', description: 'Show the defaults this model would get', placeholder: 'W' },
    json: { type: 'boolean', description: 'Print JSON' },
  },
} satisfies CommandSpec;

async function list(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(listSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const model = o.weights ? createInterpModel(await loadForCli(o.weights)) : undefined;
  const kinds = kindNames().map((k) => describeKind(k, model));
  if (o.json) {
    io.stdout.write(JSON.stringify(kinds, null, 2) + '\n');
    return;
  }
  const lines: string[] = [];
  for (const k of kinds) {
    lines.push(`${k.kind}`, `  ${k.describe}`);
    for (const f of k.params) {
      const def = f.default !== undefined ? ` (default: ${typeof f.default === 'string' ? f.default : JSON.stringify(f.default)})` : ' (optional)';
      const choices = f.choices ? ` [${f.choices.join('|')}]` : '';
      lines.push(`    ${f.name.padEnd(18)}${f.type}${choices}: ${f.doc}${def}`);
    }
    lines.push('');
  }
  io.stdout.write(lines.join('\n'));
}

export const expCommands: CommandGroup = {
  run: { summary: 'Run an experiment kind on a model (--params JSON)', run },
  list: { summary: 'Experiment kinds, their parameters and defaults', run: list },
};
