/**
 * `searchlight` entry point: dispatches `searchlight <group> <command>` and turns errors into
 * one line on stderr — exit 2 for user errors, 1 for internal ones (stack only with
 * SEARCHLIGHT_DEBUG=1).
 */
import { isUserError } from '../errors.js';
import { storageUserError } from '../services/database.js';
import { type Command, type CommandGroup, UsageError } from '../cli/args.js';
import { type CliIO, processIO } from '../cli/io.js';
import { datasetCommands } from '../cli/datasets.js';
import { expCommands } from '../cli/exp.js';
import { mazeCommands } from '../cli/mazes.js';
import { modelCommands } from '../cli/model.js';
import { startCommand } from './start.js';
import { workerCommand } from './worker.js';
import { evalCommand, trainCommand } from '../cli/train.js';
import { userCommands } from '../cli/users.js';

const groups: Record<string, { summary: string; commands: CommandGroup }> = {
  mazes: { summary: 'Generate, parse, render, solve and score mazes', commands: mazeCommands },
  datasets: { summary: 'Import and export datasets as maze-dataset ZANJ archives', commands: datasetCommands },
  model: { summary: 'Create models, run forward passes, cache activations, solve mazes', commands: modelCommands },
  exp: { summary: 'Run interpretability experiments (patching, probes, logit lens, retargeting, …)', commands: expCommands },
  users: { summary: 'Manage accounts and API tokens', commands: userCommands },
};

/** Commands that stand alone: `searchlight train …`. */
const commands: Record<string, Command> = {
  start: startCommand,
  worker: workerCommand,
  train: trainCommand,
  eval: evalCommand,
};

function topHelp(): string {
  const lines = [
    'Usage: searchlight <command> [options] | searchlight <group> <command> [options]',
    '',
    'Searchlight: find and retarget search inside maze-solving transformers.',
    '',
  ];
  for (const [c, cmd] of Object.entries(commands)) lines.push(`  ${c.padEnd(10)}${cmd.summary}`);
  lines.push('');
  for (const [g, { summary, commands }] of Object.entries(groups)) {
    lines.push(`  ${g.padEnd(10)}${summary}`);
    for (const [c, cmd] of Object.entries(commands)) lines.push(`    ${c.padEnd(12)}${cmd.summary}`);
  }
  lines.push('', 'Run `searchlight <group> <command> --help` for the options of a command.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  // `| head` closes our stdout early: that is the reader's choice, not an error.
  io.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    const [group, command, ...rest] = argv;
    if (!group || group === '--help' || group === '-h' || group === 'help') {
      io.stdout.write(topHelp());
      return 0;
    }
    const single = commands[group];
    if (single) {
      await single.run(argv.slice(1), io);
      return 0;
    }
    const g = groups[group];
    if (!g) throw new UsageError(`unknown command "${group}"; try: ${[...Object.keys(commands), ...Object.keys(groups)].join(', ')} (see searchlight --help)`);
    if (!command || command === '--help' || command === '-h') {
      io.stdout.write(
        `Usage: searchlight ${group} <command> [options]\n\n${g.summary}\n\n` +
          Object.entries(g.commands)
            .map(([c, cmd]) => `  ${c.padEnd(12)}${cmd.summary}`)
            .join('\n') +
          '\n',
      );
      return 0;
    }
    const cmd = g.commands[command];
    if (!cmd) throw new UsageError(`unknown command "${group} ${command}"; try: ${Object.keys(g.commands).join(', ')}`);
    await cmd.run(rest, io);
    return 0;
  } catch (thrown) {
    const e = storageUserError(thrown) ?? thrown;
    if (e instanceof UsageError || isUserError(e)) {
      io.stderr.write(`searchlight: ${(e as Error).message}\n`);
      return 2;
    }
    io.stderr.write(`searchlight: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.env.SEARCHLIGHT_DEBUG) io.stderr.write(`${(e as Error)?.stack}\n`);
    return 1;
  }
}
