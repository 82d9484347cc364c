/**
 * Dashboard performance on localhost (a measurement script, not a test):
 *   - the maze explorer rendering 500 thumbnails: time to all 500 in the DOM and painted, long
 *     tasks while rendering, and frame times while scrolling through them;
 *   - every page's load: navigation start → its main content visible (median of warm loads,
 *     and the first, cold, load).
 * Run: npx tsx test/e2e/perf.ts   (prints a table; writes test-artifacts/perf.json)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { probeDirectionIndex } from '../../web/lib/experiments.js';
import { ARTIFACTS, buildWeb, createAccounts, launchBrowser, logIn, randomModelFile, startServer, tempDataDir } from './harness.js';

const RUNS = 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Every document records its long tasks (main-thread work over 50 ms, the Long Tasks API) from its
 * start, so a page load's longest can be read once it is ready.
 */
async function recordLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __pageLong: number[] };
    w.__pageLong = [];
    new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__pageLong.push(e.duration))).observe({ type: 'longtask', buffered: true });
  });
}

/** Navigation → `ready` painted, in ms, and the longest task the page ran meanwhile (0 when none was over 50 ms). */
async function timeTo(page: Page, url: string, ready: string): Promise<{ ms: number; longestTaskMs: number }> {
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForSelector(ready, { timeout: 30_000 });
  // Until the next frame is painted, not just until the DOM has it.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const ms = Date.now() - t0;
  const long = await page.evaluate(() => (window as unknown as { __pageLong?: number[] }).__pageLong ?? []);
  return { ms, longestTaskMs: Math.round(Math.max(0, ...long)) };
}

async function explorer(page: Page, base: string, datasetId: string) {
  await page.goto(`${base}/login`); // a page without the grid, to start from
  await page.evaluate(() => {
    const w = window as unknown as { __long: number[] };
    w.__long = [];
    new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: 'longtask', buffered: false });
  });
  const t0 = Date.now();
  await page.goto(`${base}/datasets/${datasetId}?size=500`, { waitUntil: 'commit' });
  await page.evaluate(() => {
    const w = window as unknown as { __long: number[] };
    w.__long = [];
    new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: 'longtask', buffered: true });
  });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=thumbs] a.thumb').length === 500, null, { timeout: 60_000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const renderMs = Date.now() - t0;
  const longTasks = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
  // Scroll through the grid one step per frame, recording frame intervals.
  const frames = await page.evaluate(async () => {
    const dts: number[] = [];
    let last = performance.now();
    const max = document.documentElement.scrollHeight - innerHeight;
    for (let y = 0; y <= max; y += 120) {
      scrollTo(0, y);
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      dts.push(now - last);
      last = now;
    }
    return dts;
  });
  const sorted = [...frames].sort((a, b) => a - b);
  return {
    thumbnails: 500,
    renderMs,
    longTasks: { count: longTasks.length, totalMs: Math.round(longTasks.reduce((a, b) => a + b, 0)), maxMs: Math.round(Math.max(0, ...longTasks)) },
    scroll: {
      frames: frames.length,
      p50Ms: +sorted[Math.floor(sorted.length / 2)].toFixed(1),
      p95Ms: +sorted[Math.floor(sorted.length * 0.95)].toFixed(1),
      maxMs: +sorted[sorted.length - 1].toFixed(1),
      over50ms: frames.filter((f) => f > 50).length,
    },
  };
}

async function main(): Promise<void> {
  await buildWeb();
  const load0 = (await import('node:os')).loadavg()[0];
  const dataDir = tempDataDir();
  await createAccounts(dataDir, [{ name: 'perf', role: 'researcher', password: 'perf-password' }]);
  const server = await startServer(dataDir);
  const base = server.url;
  const browser = await launchBrowser();
  try {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    await logIn(page, base, 'perf', 'perf-password');
    // The seeded demo dataset (2,000 mazes) must be READY; then a model, a maze, a circuit.
    await page.goto(`${base}/datasets/1`);
    await page.waitForSelector('text=READY', { timeout: 60_000 });
    const up = await ctx.request.post(`${base}/upload/model?name=perf`, {
      data: fs.readFileSync(randomModelFile(dataDir)),
      headers: { 'content-type': 'application/octet-stream' },
    });
    const model = (await up.json()) as { id: string };
    const gql = async (query: string, variables: object): Promise<Record<string, { id: string }>> =>
      (
        (await (await ctx.request.post(`${base}/graphql`, { data: { query, variables }, headers: { 'content-type': 'application/json' } })).json()) as {
          data: Record<string, { id: string }>;
        }
      ).data;
    const circuit = (await gql('mutation($m: ID!) { createCircuit(modelId: $m, name: "perf", graph: {nodes: [], edges: []}) { id } }', { m: model.id }))
      .createCircuit;
    const mid = model.id.split(':')[1];
    // Two finished logit-lens runs for the compare view.
    const runs: string[] = [];
    for (const count of [4, 8]) {
      const job = (
        await gql(
          'mutation($m: ID!, $c: Int!) { runExperiment(modelId: $m, params: {logitLens: {count: $c}}) { id params { ... on ExperimentJobParams { experimentId } } } }',
          {
            m: model.id,
            c: count,
          },
        )
      ).runExperiment as unknown as { id: string; params: { experimentId: string } };
      for (;;) {
        const j = (await gql('query($id: ID!) { job(id: $id) { id status } }', { id: job.id })).job as unknown as { status: string };
        if (j.status === 'COMPLETED') break;
        if (j.status === 'FAILED' || j.status === 'CANCELLED') throw new Error(`perf: the logit-lens run ended ${j.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      runs.push(job.params.experimentId.split(':')[1]);
    }
    // A probes run on the demo dataset for a direction page (the probes of "cell (2,2) is the target" at path tokens, resid_pre 1).
    const probesJob = (
      await gql(
        'mutation($m: ID!) { runExperiment(modelId: $m, datasetId: "Dataset:1", params: {probes: {count: 100, iters: 50}}) { id params { ... on ExperimentJobParams { experimentId } } } }',
        { m: model.id },
      )
    ).runExperiment as unknown as { id: string; params: { experimentId: string } };
    for (;;) {
      const j = (await gql('query($id: ID!) { job(id: $id) { id status } }', { id: probesJob.id })).job as unknown as { status: string };
      if (j.status === 'COMPLETED') break;
      if (j.status === 'FAILED' || j.status === 'CANCELLED') throw new Error(`perf: the probes run ended ${j.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const probesId = probesJob.params.experimentId.split(':')[1];
    const summary = (
      (await gql(
        'query($e: ID!) { experiment(id: $e) { result { ... on ProbesSummary { classes probeLayers: layers targets grid label_columns { edge solution future target } } } } }',
        {
          e: probesJob.params.experimentId,
        },
      )) as unknown as { experiment: { result: Parameters<typeof probeDirectionIndex>[0] & { grid: number[] } } }
    ).experiment.result;
    const direction = probeDirectionIndex(summary, summary.classes.indexOf('path'), 1, summary.targets.indexOf('target'), 2 * summary.grid[1] + 2);
    const routes: Array<[string, string]> = [
      ['/', '[data-testid=running-jobs]'],
      ['/datasets', '[data-testid=datasets] tbody tr'],
      ['/datasets/1', '[data-testid=thumbs] a.thumb'],
      ['/mazes/1', '[data-testid=tokens] .tok'],
      ['/models', '[data-testid=models] tbody tr'],
      [`/models/${mid}`, 'th:text-is("n_layers")'],
      [`/playground?model=${mid}&maze=1`, '[data-testid=run]'],
      [`/findings?model=${mid}`, '[data-testid=findings]'],
      [`/circuits/${circuit.id.split(':')[1]}`, '[data-testid=circuit-version]'],
      [`/models/${mid}/components/L0H0`, '[data-testid=component-evidence]'],
      // The same page with its activity: 48 forward passes on the demo dataset's test mazes, drawn.
      [`/models/${mid}/components/L0H0?dataset=1`, '[data-testid=component-example] svg rect.cell'],
      [`/experiments/compare?ids=${runs.join(',')}`, '[data-testid=compare-chart] g[data-series]'],
      [`/experiments/${probesId}/directions/${direction}`, '[data-testid=direction-sibling-map] rect[data-v]'],
      // With its activity: up to 48 forward passes on the demo dataset's test mazes (past the probes' own when enough are left), with direct attribution, drawn.
      [`/experiments/${probesId}/directions/${direction}?dataset=1`, '[data-testid=direction-example] svg rect.cell'],
      ['/login', '[data-testid=me]'],
    ];
    const pages: Record<string, { coldMs: number; medianMs: number; maxMs: number; longestTaskMs: number }> = {};
    await recordLongTasks(page);
    for (const [route, ready] of routes) {
      const cold = await timeTo(page, base + route, ready);
      const warm: Array<{ ms: number; longestTaskMs: number }> = [];
      for (let i = 0; i < RUNS; i++) warm.push(await timeTo(page, base + route, ready));
      pages[route] = {
        coldMs: cold.ms,
        medianMs: median(warm.map((w) => w.ms)),
        maxMs: Math.max(...warm.map((w) => w.ms)),
        longestTaskMs: Math.max(cold.longestTaskMs, ...warm.map((w) => w.longestTaskMs)),
      };
    }
    const grid = await explorer(page, base, '1');
    const os = await import('node:os');
    // The figures depend on what else the machine runs: record its load.
    const result = {
      when: new Date().toISOString(),
      machine: `${os.cpus().length} CPUs`,
      loadAverage1m: { before: load0, after: os.loadavg()[0] },
      explorer: grid,
      pages,
    };
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, 'perf.json'), JSON.stringify(result, null, 2));
    console.log(
      `maze explorer, 500 thumbnails: ${grid.renderMs} ms to painted; long tasks ${grid.longTasks.count} (total ${grid.longTasks.totalMs} ms, max ${grid.longTasks.maxMs} ms); scroll frames p50 ${grid.scroll.p50Ms} ms, p95 ${grid.scroll.p95Ms} ms, max ${grid.scroll.maxMs} ms, ${grid.scroll.over50ms}/${grid.scroll.frames} over 50 ms`,
    );
    console.log(`machine: ${result.machine}, 1-min load average ${load0.toFixed(1)} → ${result.loadAverage1m.after.toFixed(1)}`);
    console.log('page load (navigation → content painted), ms; longest task: the longest main-thread task over 50 ms in any of its loads (0: none):');
    for (const [r, v] of Object.entries(pages))
      console.log(
        `  ${r.padEnd(42)} cold ${String(v.coldMs).padStart(5)}   warm median ${String(v.medianMs).padStart(5)}   max ${String(v.maxMs).padStart(5)}   longest task ${String(v.longestTaskMs).padStart(4)}`,
      );
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
