/**
 * The web dashboard (Next.js, App Router, sources in web/) served on the API's own port: the API
 * server answers /graphql, /files, /upload and /healthz and hands every other request to
 * `fallback` (ServerOptions.fallback in server/app/server.ts).
 *
 * Next needs a production build (`next build web`). On a fresh machine there is none, so the first
 * start builds it (about a minute on 2 cores) and says so; a build older than the sources is
 * rebuilt the same way. While it builds, the API already answers and pages get a short 503 page
 * that reloads itself.
 *
 * Usage (what `searchlight start` does):
 *   const web = mountWeb({ log });
 *   const server = await startServer({ ..., fallback: web.fallback });
 *   ... await web.close() on shutdown
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** Inputs of the build: when any is newer than .next/BUILD_ID the build is stale. */
const SOURCE_ENTRIES = ['app', 'components', 'lib', 'next.config.ts', 'tsconfig.json'];

export type BuildState = { built: true } | { built: false; reason: string };

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs; // a deleted file shows up as a newer directory mtime
  for (const e of fs.readdirSync(p)) max = Math.max(max, newestMtime(path.join(p, e)));
  return max;
}

/** Whether web/.next holds a production build at least as new as the sources. */
export function webBuildState(dir: string = WEB_DIR): BuildState {
  const id = path.join(dir, '.next', 'BUILD_ID');
  if (!fs.existsSync(id)) return { built: false, reason: 'no production build yet (web/.next/BUILD_ID is missing)' };
  const builtAt = fs.statSync(id).mtimeMs;
  const changed = SOURCE_ENTRIES.find((e) => newestMtime(path.join(dir, e)) > builtAt);
  return changed ? { built: false, reason: `web/${changed} changed since the last build` } : { built: true };
}

/** Runs `next build <dir>` in a child process, streaming its output to `log`. */
export function buildWeb(dir: string = WEB_DIR, log: (line: string) => void = () => undefined): Promise<void> {
  const nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nextBin, 'build', dir], {
      cwd: path.dirname(path.resolve(dir)),
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        log(`web build: ${line.trimEnd()}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`next build ${dir} failed (${signal ?? `exit ${code}`}); last output:\n${tail.join('\n')}`));
    });
  });
}

/** Builds web/ when it has no build or a stale one. */
export async function ensureWebBuild(dir: string = WEB_DIR, log: (line: string) => void = () => undefined): Promise<void> {
  const state = webBuildState(dir);
  if (state.built) return;
  log(`building the web app: ${state.reason}; this takes about a minute`);
  const t0 = Date.now();
  await buildWeb(dir, log);
  log(`web app built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface WebMount {
  /** For ServerOptions.fallback: serves the dashboard (503 "starting" page until it is ready). */
  fallback: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** Resolves when pages are served; rejects when the build or Next's start-up failed. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface WebOptions {
  dir?: string;
  log?: (line: string) => void;
  /** Skip the build check and serve whatever web/.next holds (default false). */
  skipBuild?: boolean;
}

const STARTING_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>Searchlight — starting</title></head><body style="font:16px system-ui;margin:4rem auto;max-width:36rem;color:#222">
<h1>Searchlight</h1><p>The web app is being built on this first start (about a minute). This page reloads by itself.</p>
<p>The API is already up at <a href="/graphql">/graphql</a>.</p></body></html>`;

/** Builds (if needed) and starts Next in this process; see the module comment. */
export function mountWeb(opts: WebOptions = {}): WebMount {
  const dir = opts.dir ?? WEB_DIR;
  const log = opts.log ?? ((l: string) => process.stderr.write(`[searchlight] ${l}\n`));
  let handler: Handler | undefined;
  let failure: Error | undefined;
  let warmed = false;
  let app: { close?: () => Promise<void> } | undefined;

  const ready = (async () => {
    if (!opts.skipBuild) await ensureWebBuild(dir, log);
    // `next` is CommonJS; its default export is the factory (createServer).
    const mod = (await import('next')) as unknown as { default: (o: object) => NextApp };
    const nextApp = mod.default({ dir, dev: false, quiet: true });
    await nextApp.prepare();
    app = nextApp;
    handler = nextApp.getRequestHandler() as Handler;
    log('web app ready');
  })();
  ready.catch((e: Error) => {
    failure = e;
    log(`web app unavailable: ${e.message}`);
  });

  return {
    ready,
    async fallback(req, res) {
      // Browsers ask for /favicon.ico whenever a document names no icon yet (the starting page, a
      // reload before the head is parsed): the app's icon is web/app/icon.svg, served at /icon.svg.
      if (new URL(req.url ?? '/', 'http://localhost').pathname === '/favicon.ico') {
        res.writeHead(308, { location: '/icon.svg', 'cache-control': 'public, max-age=86400' });
        res.end();
        return;
      }
      if (handler) {
        if (!warmed) {
          warmed = true;
          setTimeout(() => void warmUp(`http://127.0.0.1:${req.socket.localPort}`), 0);
        }
        return handler(req, res);
      }
      const body = failure
        ? `<!doctype html><title>Searchlight</title><h1>Searchlight</h1><p>The web app failed to start; see the server log. The API is up at /graphql.</p>`
        : STARTING_PAGE;
      res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'retry-after': '3', 'cache-control': 'no-store' });
      res.end(body);
    },
    async close() {
      await app?.close?.();
    },
  };
}

/**
 * Next loads a route's server code on its first request (a few hundred ms on a busy machine). The
 * first page served triggers one plain request to each route, in the background, so the first
 * user's later navigations do not pay for it. The pages are client-rendered shells: these
 * requests carry no credentials and read no data.
 */
const WARM_ROUTES = [
  '/',
  '/login',
  '/datasets',
  '/datasets/0',
  '/mazes/0',
  '/models',
  '/models/0',
  '/playground',
  '/findings',
  '/circuits/0',
  '/experiments/0',
];

async function warmUp(base: string): Promise<void> {
  for (const route of WARM_ROUTES) {
    await fetch(base + route, { headers: { 'x-searchlight-warmup': '1' } }).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
  }
}

interface NextApp {
  prepare(): Promise<void>;
  getRequestHandler(): unknown;
  close?: () => Promise<void>;
}
