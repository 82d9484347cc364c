/**
 * Starts Searchlight the way `searchlight start` serves it — startServer() with the web app
 * mounted as its fallback (server/app/web.ts) and the demo workspace seeded — on the data directory
 * and port given, and prints one JSON line {"url": ...} once pages are served. Used by the
 * end-to-end tests and the performance script (run with `node --import tsx test/e2e/serve.ts`).
 *
 *   node --import tsx test/e2e/serve.ts <dataDir> [port]
 */
import { seedDemo } from '../../server/services/seed.js';
import { startServer } from '../../server/app/server.js';
import { mountWeb } from '../../server/app/web.js';

const [dataDir, port = '0'] = process.argv.slice(2);
if (!dataDir) {
  process.stderr.write('usage: serve.ts <dataDir> [port]\n');
  process.exit(2);
}
const log = (l: string): void => void process.stderr.write(`[searchlight] ${l}\n`);
// The build is checked by the caller (ensureWebBuild) so that its time is not a server start-up.
const web = mountWeb({ log, skipBuild: process.env.SEARCHLIGHT_WEB_SKIP_BUILD === '1' });
const server = await startServer({ dataDir, port: Number(port), log, fallback: web.fallback });
for (const line of await seedDemo(server.app)) log(line);
await web.ready;
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  // A close that hangs (a stuck connection or worker) must not keep a test's server alive.
  setTimeout(() => {
    log('shutdown took over 5 s; exiting anyway');
    process.exit(1);
  }, 5000).unref();
  void Promise.all([web.close(), server.close()]).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Under a test harness, stop when the parent goes away (its end of our stdin closes), so a
// killed test run leaves no server behind.
if (process.env.SEARCHLIGHT_EXIT_WITH_PARENT === '1') {
  process.stdin.on('end', stop).on('error', stop).resume();
}
