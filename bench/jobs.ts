/**
 * `npm run bench -- jobs [--jobs 12] [--kind logit-lens] [--count 16] [--workers 1,2] [--redis URL]`
 *
 * Throughput of small experiment jobs through the BullMQ queues (issue 15) with 1 and then 2
 * `searchlight worker` processes (separate OS processes, one compute thread each), against an API
 * that runs no jobs itself: `--jobs` experiments of `--kind` on the demo model are queued at once
 * and timed from the first mutation to the last COMPLETED row. The anchor is the run with the
 * fewest workers, in the same invocation; the report gives each run's jobs/s and the ratio.
 *
 * Each run gets a fresh data directory and its own Redis key prefix. Needs Redis (default
 * SEARCHLIGHT_REDIS_URL or redis://127.0.0.1:6379). Pause other CPU work while it runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../server/app/server.js';
import { createUser } from '../server/services/accounts.js';
import { anyActive, listJobs } from '../server/services/jobs.js';
import { UserError } from '../server/errors.js';
import { paramsInputField } from '../server/graphql/experiment-params.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODEL = path.join(ROOT, 'data/demo/demo-5x5.safetensors');

interface Options {
  jobs: number;
  kind: string;
  count: number;
  workers: number[];
  redis: string;
}

function parse(argv: string[]): Options {
  const o: Options = { jobs: 12, kind: 'logit-lens', count: 16, workers: [1, 2], redis: process.env.SEARCHLIGHT_REDIS_URL?.trim() || 'redis://127.0.0.1:6379' };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    const int = (): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new UserError(`bench jobs: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
      return n;
    };
    if (k === '--jobs') o.jobs = int();
    else if (k === '--count') o.count = int();
    else if (k === '--kind') o.kind = String(v);
    else if (k === '--redis') o.redis = String(v);
    else if (k === '--workers') {
      o.workers = String(v)
        .split(',')
        .map((x) => Number(x));
      if (o.workers.some((n) => !Number.isInteger(n) || n < 1))
        throw new UserError(`bench jobs: --workers must list positive integers, got ${JSON.stringify(v)}`);
    } else throw new UserError(`bench jobs: unknown option ${k}; options: --jobs N --kind K --count N --workers 1,2 --redis URL`);
  }
  return o;
}

function startWorker(dataDir: string, redis: string, prefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/searchlight.js', 'worker', '--data', dataDir], {
    cwd: ROOT,
    env: { ...process.env, SEARCHLIGHT_REDIS_URL: redis, SEARCHLIGHT_REDIS_PREFIX: prefix, SEARCHLIGHT_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      if (/Searchlight worker \d+ serving/.test(out)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before serving: ${out}`)));
  });
}

async function runOnce(o: Options, workers: number): Promise<{ workers: number; seconds: number; admissionSeconds: number; jobsPerSecond: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'searchlight-bench-jobs-'));
  const prefix = `searchlight-bench-${crypto.randomBytes(4).toString('hex')}`;
  const server = await startServer({ dataDir: dir, port: 0, host: '127.0.0.1', log: () => undefined, redisUrl: o.redis, redisPrefix: prefix, jobWorkers: 0 });
  const procs: ChildProcess[] = [];
  try {
    const { token } = await createUser(server.app.handle.db, { name: 'bench', role: 'researcher' });
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: Record<string, { id: string }>; errors?: Array<{ message: string }> };
      if (body.errors) throw new Error(body.errors[0].message);
      return body.data!;
    };
    const modelId = (await gql('mutation($b: String!) { importModel(name: "demo", base64: $b) { id } }', { b: fs.readFileSync(MODEL).toString('base64') }))
      .importModel.id;
    for (let i = 0; i < workers; i++) procs.push(await startWorker(dir, o.redis, prefix));
    const t0 = performance.now();
    for (let i = 0; i < o.jobs; i++)
      await gql('mutation($m: ID!, $p: ExperimentParamsInput!, $s: Int) { runExperiment(modelId: $m, params: $p, seed: $s) { id } }', {
        m: modelId,
        s: i,
        p: { [paramsInputField(o.kind)]: { count: o.count } },
      });
    const admitted = (performance.now() - t0) / 1000;
    while (await anyActive(server.app.handle.db)) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - t0) / 1000;
    const failed = (await listJobs(server.app.handle.db, { limit: o.jobs + 1 })).filter((j) => j.status !== 'COMPLETED');
    if (failed.length > 0) throw new Error(`${failed.length} job(s) did not complete: ${failed[0].error ?? failed[0].status}`);
    // Admission (validation, rows, dispatch) runs on the API one mutation at a time; it bounds the
    // rate when jobs are short, so it is reported apart.
    return {
      workers,
      seconds: Number(seconds.toFixed(2)),
      admissionSeconds: Number(admitted.toFixed(2)),
      jobsPerSecond: Number((o.jobs / seconds).toFixed(3)),
    };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(argv: string[]): Promise<unknown> {
  const o = parse(argv);
  // Every job of the run is queued at once: lift the per-user cap and the mutation rate limit.
  process.env.SEARCHLIGHT_MAX_QUEUED_PER_USER = String(o.jobs + 1);
  process.env.SEARCHLIGHT_RATE_BURST = '1000000';
  process.env.SEARCHLIGHT_RATE_PER_MIN = '1000000';
  const runs = [];
  for (const w of o.workers) runs.push(await runOnce(o, w));
  const anchor = runs[0];
  return {
    jobs: o.jobs,
    kind: o.kind,
    params: { count: o.count },
    threadsPerWorker: 1,
    runs: runs.map((r) => ({ ...r, vsAnchor: Number((r.jobsPerSecond / anchor.jobsPerSecond).toFixed(2)) })),
    anchor: `${anchor.workers} worker(s), same run`,
  };
}
