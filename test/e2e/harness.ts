/**
 * End-to-end harness: a real Searchlight server (child process, temporary data directory,
 * ephemeral port), accounts made with the platform's own account code, and Debian's chromium
 * driven by playwright-core with every console error and page error collected.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { createUser } from '../../server/services/accounts.js';
import { openDb } from '../../server/db/client.js';
import { migrateDb } from '../../server/db/migrate.js';
import { ensureWebBuild } from '../../server/app/web.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { type ModelConfig, PRESETS } from '../../server/model/config.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Server {
  url: string;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

/** Builds web/ if its build is missing or stale (minutes on a fresh checkout). */
export async function buildWeb(): Promise<void> {
  await ensureWebBuild(undefined, (l) => process.stderr.write(`${l}\n`));
}

/** Creates accounts in `dataDir` before the server starts; returns nothing secret but the passwords given. */
export async function createAccounts(dataDir: string, accounts: Array<{ name: string; role: string; password: string }>): Promise<void> {
  const handle = openDb(dataDir);
  try {
    migrateDb(handle.sqlite);
    for (const a of accounts) await createUser(handle.db, a);
  } finally {
    handle.close();
  }
}

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'searchlight-e2e-'));
}

/** How the server is started: `searchlight start` (what `npm start` runs: API, web app, demo seed). */
export function launchCommand(dataDir: string): string[] {
  return [path.join(ROOT, 'bin/searchlight.js'), 'start', '--port', '0', '--data', dataDir];
}

export async function startServer(dataDir: string): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, launchCommand(dataDir), {
    cwd: ROOT,
    env: { ...process.env, SEARCHLIGHT_WEB_SKIP_BUILD: '1', SEARCHLIGHT_EXIT_WITH_PARENT: '1', NODE_ENV: 'production' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http[^"]+)"|listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] ?? m[2]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${log}`)));
  });
  // The API listens before the web app is ready (it answers 503 meanwhile).
  for (let i = 0; ; i++) {
    const status = await fetch(`${url}/login`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (i > 600) throw new Error(`the web app did not come up at ${url}/login (last status ${status}):\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    dataDir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless'] });
}

export interface Watched {
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
}

export async function watchedPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export async function logIn(page: Page, base: string, name: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);
  await page.waitForSelector(`[data-testid=me]:has-text("${name}")`);
}

/**
 * A randomly initialised model with the demo preset's shape for mazes up to 6×6 (aotp-ut), as a
 * safetensors file: it stands in for the trained demo model, which the repository does not ship
 * yet. Its attention patterns are real (softmax over a causal mask), just not meaningful.
 */
export function randomModelFile(dir: string): string {
  const vocab = [...getTokenizer('aotp-ut').vocab(6)];
  const cfg: ModelConfig = { ...PRESETS.demo, d_vocab: vocab.length, tokenizer: 'aotp-ut' };
  const file = path.join(dir, 'random-demo.safetensors');
  fs.writeFileSync(file, encodeModel(cfg, initWeights(cfg, new Rng(7)), vocab));
  return file;
}
