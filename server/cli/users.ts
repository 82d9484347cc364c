/**
 * `searchlight users …`: account administration from the terminal (the first admin is made here).
 * `users create` prints the new API token as the LAST line of its output, shown once: only its
 * sha256 is stored.
 */
import { createUser, listUsers } from '../services/accounts.js';
import { ROLES } from '../auth/roles.js';
import { prepareDatabase } from '../services/database.js';
import { type CommandGroup, type CommandSpec, UsageError, parseCommand } from './args.js';
import type { CliIO } from './io.js';

const dataOption = { type: 'string', description: 'Data directory (default: SEARCHLIGHT_DATA or ./data)', placeholder: 'DIR' } as const;

const createSpec = {
  name: 'users create',
  summary: 'Create a user and print their first API token (last line; shown once).',
  options: {
    name: { type: 'string', description: 'User name (letters, digits, _ . @ -)', required: true, placeholder: 'N' },
    role: { type: 'string', description: 'Role', required: true, choices: ROLES },
    password: {
      type: 'string',
      description: 'Password for the web app (≥ 8 characters); visible in the process list, prefer --password-stdin',
      placeholder: 'P',
    },
    'password-stdin': { type: 'boolean', description: 'Read the password from the first line of stdin' },
    data: dataOption,
  },
  details: `Roles: viewer (read), researcher (also create, run and annotate), admin (also manage users).
Scripts send the token as "Authorization: Bearer <token>".`,
} satisfies CommandSpec;

async function readFirstLine(io: CliIO): Promise<string> {
  let text = '';
  for await (const chunk of io.stdin) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0];
}

async function create(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(createSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  if (o.password !== undefined && o['password-stdin']) throw new UsageError('users create: give --password or --password-stdin, not both');
  const password = o['password-stdin'] ? await readFirstLine(io) : o.password;
  const handle = await prepareDatabase(o.data);
  try {
    const { user, token } = await createUser(handle.db, { name: o.name, role: o.role, password });
    io.stdout.write(`created user ${user.name} (${user.role}), id User:${user.id}${password !== undefined ? ', with a password' : ''}\n`);
    io.stdout.write('API token (shown once; store it now):\n');
    io.stdout.write(`${token}\n`);
  } finally {
    await handle.close();
  }
}

const listSpec = {
  name: 'users list',
  summary: 'List users and their roles.',
  options: { data: dataOption },
} satisfies CommandSpec;

async function list(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(listSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const handle = await prepareDatabase(parsed.options.data);
  try {
    for (const u of await listUsers(handle.db)) {
      io.stdout.write(`User:${u.id}\t${u.name}\t${u.role}${u.disabled ? '\tdisabled' : ''}\t${new Date(u.createdAt).toISOString()}\n`);
    }
  } finally {
    await handle.close();
  }
}

export const userCommands: CommandGroup = {
  create: { summary: createSpec.summary, run: create },
  list: { summary: listSpec.summary, run: list },
};
