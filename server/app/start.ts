/**
 * `searchlight start` (what `npm start` runs): migrate the database, seed the demo workspace on
 * first run, and serve the API (GraphQL at /graphql) on PORT (default 3000) until SIGINT/SIGTERM.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createUser, userCount } from '../services/accounts.js';
import { seedDemo } from '../services/seed.js';
import { startServer } from './server.js';
import { mountWeb } from './web.js';
import { untilSignal } from './signals.js';
import { type Command, type CommandSpec, parseCommand } from '../cli/args.js';
import type { CliIO } from '../cli/io.js';

const startSpec = {
  name: 'start',
  usage: 'searchlight start [options]',
  summary: 'Serve the Searchlight API (GraphQL at /graphql) and run jobs.',
  options: {
    port: { type: 'integer', description: 'Port (default: PORT or 3000; 0 picks a free one)', placeholder: 'N' },
    host: { type: 'string', description: 'Interface to listen on (default: HOST or 127.0.0.1; 0.0.0.0 for the network)', placeholder: 'H' },
    data: { type: 'string', description: 'Data directory (default: SEARCHLIGHT_DATA or ./data)', placeholder: 'DIR' },
    'no-seed': { type: 'boolean', description: 'Do not seed the demo workspace (and create no first admin)' },
    'no-web': { type: 'boolean', description: 'Serve only the API, not the web app' },
  },
  details: `First run: create an account with
  searchlight users create --name you --role admin --password-stdin
and send its token as "Authorization: Bearer <token>".`,
} satisfies CommandSpec;

export const startCommand: Command = {
  summary: startSpec.summary,
  async run(argv: string[], io: CliIO): Promise<void> {
    const parsed = parseCommand(startSpec, argv, (s) => io.stdout.write(s));
    if (!parsed) return;
    const o = parsed.options;
    const log = (l: string): void => void io.stderr.write(`[searchlight] ${l}\n`);
    // The web app builds itself on first start (a minute or so); the API serves meanwhile. It is
    // mounted once the server holds the data directory and the port: a refused start must not
    // begin a second `next build` beside a running server.
    let web: ReturnType<typeof mountWeb> | null = null;
    const fallback = (req: IncomingMessage, res: ServerResponse): void | Promise<void> => {
      if (web) return web.fallback(req, res);
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' }).end('starting\n');
    };
    const server = await startServer({ dataDir: o.data, port: o.port, host: o.host, log, ...(o['no-web'] ? {} : { fallback }) });
    if (!o['no-web']) web = mountWeb({ log });
    if (!o['no-seed']) {
      try {
        for (const line of await seedDemo(server.app)) log(line);
      } catch (e) {
        await server.close(); // a failed seed must not leave a server holding the data directory
        throw e;
      }
    }
    const noUsers = (await userCount(server.app.handle.db)) === 0;
    if (noUsers && !o['no-seed']) {
      // A fresh workspace needs someone who can log in: create the first admin and show the
      // password once (only its argon2 hash is stored).
      const password = randomBytes(12).toString('base64url');
      const { token } = await createUser(server.app.handle.db, { name: 'admin', role: 'admin', password });
      io.stdout.write(
        `First run: created user "admin" with password ${password}\n  (API token: ${token})\n  Shown once; add colleagues with \`npx searchlight users create\`.\n`,
      );
    } else if (noUsers) {
      log('no users yet: run `npx searchlight users create --name <you> --role admin --password-stdin`');
    }
    io.stdout.write(`Searchlight listening on ${server.url} (${web ? 'web app at /, ' : ''}GraphQL at ${server.graphqlUrl})\n`);
    await untilSignal(() => Promise.all([server.close(), web?.close()]), log, 'shutting down, running jobs are requeued');
  },
};
