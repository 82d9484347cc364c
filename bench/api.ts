/**
 * `npm run bench -- api [--seconds 60] [--warmup 3] [--clients 100] [--rate R] [--url URL --token T] [--background train|dataset|none]
 *   [--database sqlite|postgres|both] [--postgres URL]`
 *
 * 100 concurrent clients issue metadata queries (datasets, jobs, models, a dataset's maze page,
 * me) for `--seconds`, while a training job (the `demo` preset on a 6×6 dataset, in its worker
 * thread) runs in the background; reports p50/p90/p99/max latency, throughput and errors. Goal
 * from the platform issue: p99 < 100 ms and zero errors while a training job runs.
 *
 * Two load models:
 * - closed loop (default): each client sends its next query the moment the last one returns. This
 *   measures the server's saturation throughput; latency then follows Little's law
 *   (≈ clients / throughput), whatever the server does per request.
 * - open loop (`--rate R`): the clients together send R queries/s on a fixed schedule (each client
 *   every clients/R s), and a query's latency counts from when it was due, not when it was sent, so
 *   a slow server cannot hide its backlog (no "coordinated omission", as in wrk2). This is the
 *   latency a team's scripts and browsers see at that request rate. Each client has one query in
 *   flight: when latency exceeds clients/R, the sent rate falls below R and the run overruns
 *   --seconds; the report then shows requestsPerSecond below R, and the backlog in the latencies.
 *
 * `--database both` runs the same load on the embedded SQLite and on PostgreSQL (a fresh database
 * created on the server at --postgres, default SEARCHLIGHT_TEST_POSTGRES or
 * postgres://postgres@127.0.0.1:5432/postgres, dropped after), one after the other, and reports
 * PostgreSQL's figures as ratios of SQLite's.
 *
 * Without --url the bench starts its own server in a child process (so clients and server do not
 * share an event loop) on a fresh data directory, with a seeded dataset and the rate limit lifted.
 * `--background dataset` loads the worker with large createDataset jobs instead. The first
 * `--warmup` seconds (default 3) run the same load unmeasured (reported apart: count, errors, max), and
 * the clients use node:http keep-alive connections — the generator shares the cores it measures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../server/errors.js';

interface Options {
  seconds: number;
  /** Seconds of unmeasured load before measuring (its errors are reported apart and fail the goal). */
  warmup: number;
  clients: number;
  /** Open-loop total request rate (queries/s); undefined = closed loop. */
  rate?: number;
  url?: string;
  token?: string;
  background: 'train' | 'dataset' | 'none';
  database: 'sqlite' | 'postgres' | 'both';
  /** Maintenance database on the PostgreSQL server, where the bench creates (and drops) its own. */
  postgres: string;
}

function parse(argv: string[]): Options {
  const o: Options = {
    seconds: 60,
    warmup: 3,
    clients: 100,
    background: 'train',
    database: 'sqlite',
    postgres: process.env.SEARCHLIGHT_TEST_POSTGRES?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres',
  };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    const num = (name: string): number => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new UserError(`bench api: ${name} must be a positive number, got ${JSON.stringify(v)}`);
      return n;
    };
    if (k === '--seconds') (o.seconds = num(k)), i++;
    else if (k === '--warmup') {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new UserError(`bench api: --warmup must be a number of seconds ≥ 0, got ${JSON.stringify(v)}`);
      (o.warmup = n), i++;
    } else if (k === '--clients') (o.clients = Math.round(num(k))), i++;
    else if (k === '--rate') (o.rate = num(k)), i++;
    else if (k === '--url') (o.url = v), i++;
    else if (k === '--token') (o.token = v), i++;
    else if (k === '--background') {
      if (v !== 'train' && v !== 'dataset' && v !== 'none')
        throw new UserError(`bench api: --background must be train, dataset or none, got ${JSON.stringify(v)}`);
      o.background = v;
      i++;
    } else if (k === '--database') {
      if (v !== 'sqlite' && v !== 'postgres' && v !== 'both')
        throw new UserError(`bench api: --database must be sqlite, postgres or both, got ${JSON.stringify(v)}`);
      o.database = v;
      i++;
    } else if (k === '--postgres') {
      if (!/^postgres(ql)?:\/\//.test(v ?? '')) throw new UserError(`bench api: --postgres must be a postgres:// URL, got ${JSON.stringify(v)}`);
      o.postgres = v;
      i++;
    } else
      throw new UserError(
        `bench api: unknown option ${k}; options: --seconds N --warmup S --clients N --rate R --url URL --token T --background train|dataset|none --database sqlite|postgres|both --postgres URL`,
      );
  }
  if (o.url && !o.token) throw new UserError('bench api: --url needs --token (an API token of a researcher)');
  if (o.url && o.database !== 'sqlite')
    throw new UserError('bench api: --database picks the database of the server the bench starts; with --url the server is yours');
  return o;
}

const QUERIES: Array<{ name: string; query: string; vars?: (ds: string | null) => Record<string, unknown> }> = [
  {
    name: 'datasets',
    query: '{ datasets(first: 10) { totalCount edges { node { id name generator grid count status mazeCount } } pageInfo { hasNextPage endCursor } } }',
  },
  { name: 'jobs', query: '{ jobs(first: 10) { totalCount edges { node { id kind status progress { phase done total } attempts createdBy { name } } } } }' },
  { name: 'models', query: '{ models(first: 10) { totalCount edges { node { id name status config { d_model n_layers n_heads d_vocab } } } } }' },
  { name: 'me', query: '{ me { id name role } }' },
  {
    name: 'dataset.mazes',
    query: 'query($id: ID!) { dataset(id: $id) { id name mazes(first: 10) { edges { node { id index origin target pathLength } } } } }',
    vars: (ds) => ({ id: ds ?? 'Dataset:1' }),
  },
];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (x: number): number => Math.round(x * 100) / 100;

/**
 * One POST /graphql over a keep-alive connection. node:http rather than fetch: with fetch the
 * generator, which shares the cores with the server it measures, was the bottleneck (a CPU profile
 * of the server showed it idle 26% of a run; the same 15 s run went from 1,130 to 2,077 req/s with
 * this and the server's cache-control plugin off).
 */
const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 1024 }), https: new https.Agent({ keepAlive: true, maxSockets: 1024 }) };
function post(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const tls = url.startsWith('https:');
    const req = (tls ? https : http).request(
      `${url}/graphql`,
      {
        method: 'POST',
        agent: tls ? agents.https : agents.http,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          try {
            const parsed = JSON.parse(text);
            if (parsed.errors) return reject(new Error(parsed.errors.map((e: { message: string }) => e.message).join('; ')));
            resolve(parsed.data);
          } catch (e) {
            reject(new Error(`bad JSON from the server: ${(e as Error).message}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A PostgreSQL database of the bench's own on the server of `maintenance` (dropped by `drop`). */
async function benchDatabase(maintenance: string): Promise<{ url: string; drop(): Promise<void> }> {
  const pg = (await import('pg')).default;
  const admin = async (text: string): Promise<void> => {
    const c = new pg.Client({ connectionString: maintenance });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  const name = `searchlight_bench_${crypto.randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(maintenance);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * Starts a server in a child process on a fresh data directory (and `databaseUrl`'s database, when
 * given); the child creates the researcher the load runs as and prints its token.
 */
async function startChildServer(databaseUrl?: string): Promise<{ url: string; token: string; dir: string; child: ChildProcess }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'searchlight-bench-'));
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--serve', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SEARCHLIGHT_RATE_BURST: '1000000', SEARCHLIGHT_RATE_PER_MIN: '1000000', SEARCHLIGHT_DATABASE_URL: databaseUrl ?? '' },
  });
  const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { url: string; token: string });
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with code ${code}`)));
  });
  return { url, token, dir, child };
}

/** Keeps one background job running until `stop()` (then cancels it); reports what it did. */
function backgroundJob(url: string, token: string, kind: 'train' | 'dataset', datasetId: string | null): { stop(): Promise<Record<string, unknown>> } {
  let running = true;
  let started = 0;
  let last: Record<string, unknown> = {};
  const loop = (async () => {
    while (running) {
      const job =
        kind === 'train'
          ? (
              await post(url, token, 'mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }', {
                i: { name: `bench ${started}`, preset: 'demo', datasetId, steps: 1_000_000, seed: started, batchSize: 32, checkpointEvery: 100 },
              })
            ).trainModel
          : (
              await post(url, token, 'mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }', {
                i: { name: `bench background ${started}`, generator: 'wilson', grid: 16, count: 200_000, seed: started },
              })
            ).createDataset;
      started++;
      for (;;) {
        const j = (await post(url, token, 'query($id: ID!) { job(id: $id) { status progress { phase done total } error } }', { id: job.id })).job;
        last = { status: j.status, progress: j.progress, error: j.error };
        if (!running) {
          await post(url, token, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: job.id }).catch(() => undefined);
          return;
        }
        if (j.status !== 'QUEUED' && j.status !== 'RUNNING') break;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { started, last };
    },
  };
}

export async function run(argv: string[]): Promise<unknown> {
  const o = parse(argv);
  if (o.database === 'sqlite') return measure(o);
  if (o.database === 'postgres') return measure(o, o.postgres);
  const sqlite = await measure(o);
  const postgres = await measure(o, o.postgres);
  const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  return {
    sqlite,
    postgres,
    postgresOverSqlite: {
      requestsPerSecond: ratio(postgres.requestsPerSecond, sqlite.requestsPerSecond),
      p50: ratio(postgres.latencyMs.p50, sqlite.latencyMs.p50),
      p99: ratio(postgres.latencyMs.p99, sqlite.latencyMs.p99),
    },
  };
}

/** One run of the load against a server the bench starts (SQLite, or PostgreSQL at `maintenance`) or the --url one. */
async function measure(o: Options, maintenance?: string) {
  const database = maintenance ? await benchDatabase(maintenance) : undefined;
  let server: Awaited<ReturnType<typeof startChildServer>> | undefined;
  const url = o.url ?? (server = await startChildServer(database?.url)).url;
  const token = o.token ?? server!.token;
  try {
    // Some data to read: a small dataset, built before the clock starts.
    let datasetId: string | null = null;
    if (server) {
      const job = (await post(url, token, 'mutation { createDataset(input: {name: "bench", generator: dfs, grid: 6, count: 500, seed: 1}) { id } }'))
        .createDataset;
      for (;;) {
        const j = (await post(url, token, 'query($id: ID!) { job(id: $id) { status result { datasetId } } }', { id: job.id })).job;
        if (j.status === 'COMPLETED') {
          datasetId = j.result.datasetId;
          break;
        }
        if (j.status !== 'QUEUED' && j.status !== 'RUNNING') throw new Error(`bench dataset job ${j.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } else {
      datasetId = (await post(url, token, '{ datasets(first: 1) { edges { node { id } } } }')).datasets.edges[0]?.node.id ?? null;
    }
    const bg = o.background !== 'none' ? backgroundJob(url, token, o.background, datasetId) : null;
    // Let the background job get going (a training job compiles its graphs first).
    await new Promise((r) => setTimeout(r, o.background === 'train' ? 5000 : 1000));
    const latencies: number[] = [];
    const perQuery: Record<string, number[]> = {};
    // Errors of the measured window; the warm-up's are counted apart and the goal needs both zero.
    let errors = 0;
    const errorSamples: string[] = [];
    // The three slowest measured queries, with when they were due (s from the start of measuring).
    const slowest: Array<{ query: string; atS: number; ms: number }> = [];
    // The first --warmup seconds run the same load unmeasured: against a fresh server the first wave
    // of 100 concurrent queries took 0.4–2.9 s in runs on the 2-core VM (a one-time start-up cost).
    const warm = { requests: 0, errors: 0, maxMs: 0 };
    // Open loop: client k's i-th query is due at start + (k/clients + i) × period.
    const period = o.rate ? (o.clients / o.rate) * 1000 : 0;
    const start = performance.now();
    const measureFrom = start + o.warmup * 1000;
    const end = measureFrom + o.seconds * 1000;
    const client = async (k: number): Promise<void> => {
      for (let i = k; ; i++) {
        let t0 = performance.now();
        if (period) {
          const due = start + (k / o.clients + (i - k)) * period;
          if (due >= end) break;
          if (due > t0) await new Promise((r) => setTimeout(r, due - t0));
          t0 = due;
        } else if (t0 >= end) break;
        const q = QUERIES[i % QUERIES.length];
        try {
          await post(url, token, q.query, q.vars?.(datasetId) ?? {});
          const dt = performance.now() - t0;
          if (t0 < measureFrom) {
            warm.requests++;
            warm.maxMs = Math.max(warm.maxMs, dt);
            continue;
          }
          latencies.push(dt);
          (perQuery[q.name] ??= []).push(dt);
          if (slowest.length < 3 || dt > slowest[2].ms) {
            slowest.push({ query: q.name, atS: round((t0 - measureFrom) / 1000), ms: round(dt) });
            slowest.sort((a, b) => b.ms - a.ms).splice(3);
          }
        } catch (e) {
          if (t0 < measureFrom) warm.errors++;
          else errors++;
          if (errorSamples.length < 5) errorSamples.push(`${q.name}: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: o.clients }, (_, k) => client(k)));
    const elapsed = (performance.now() - measureFrom) / 1000;
    const background = bg ? await bg.stop() : null;
    latencies.sort((a, b) => a - b);
    const stats = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { n: s.length, p50: round(percentile(s, 50)), p99: round(percentile(s, 99)) };
    };
    return {
      database: maintenance ? 'postgres' : o.url ? 'the server at --url' : 'sqlite',
      clients: o.clients,
      load: o.rate
        ? `open loop: ${o.rate} queries/s scheduled, latency from the due time`
        : 'closed loop: each client sends its next query when the last returns',
      warmup: { seconds: o.warmup, requests: warm.requests + warm.errors, errors: warm.errors, maxMs: round(warm.maxMs) },
      seconds: round(elapsed),
      requests: latencies.length + errors,
      requestsPerSecond: round((latencies.length + errors) / elapsed),
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p90: round(percentile(latencies, 90)),
        p99: round(percentile(latencies, 99)),
        max: round(latencies.at(-1) ?? NaN),
      },
      slowest,
      errors,
      errorSamples,
      perQuery: Object.fromEntries(Object.entries(perQuery).map(([k, v]) => [k, stats(v)])),
      background: bg
        ? { kind: o.background === 'train' ? 'trainModel (demo preset, 6x6 DFS, batch 32)' : 'createDataset (wilson 16x16, 200k mazes)', ...background }
        : 'none',
      goal: { p99Ms: 100, errors: 0, met: percentile(latencies, 99) < 100 && errors === 0 && warm.errors === 0 },
    };
  } finally {
    if (server) {
      server.child.kill('SIGTERM');
      await new Promise((r) => server!.child.once('exit', r));
      fs.rmSync(server.dir, { recursive: true, force: true });
    }
    await database?.drop();
  }
}

// Child-process mode: `node --import tsx bench/api.ts --serve <dataDir>`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === '--serve') {
  const { startServer } = await import('../server/app/server.js');
  const { createUser } = await import('../server/services/accounts.js');
  const s = await startServer({ dataDir: process.argv[3], port: 0, log: () => undefined });
  const { token } = await createUser(s.app.handle.db, { name: 'bench', role: 'researcher' });
  process.stdout.write(`${JSON.stringify({ url: s.url, token })}\n`);
  const stop = (): void => void s.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
