/**
 * Experiments end to end in Debian's chromium against a real server: a researcher imports a model,
 * creates each experiment kind from the form on /experiments (kind select, params prefilled with
 * the model's defaults, JSON editor), watches its job's progress until the result is drawn, and
 * sees the kind's view (patching heatmap with token labels, attention overlay on the maze, lens
 * and probe charts, DLA bars, adjacency ranking, retargeting by layer, embedding scatter,
 * behaviour table). View state lives in the URL and survives a reload; bad params are refused
 * with the field named. No console errors anywhere. Screenshots go to test-artifacts/exp-*.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import type { ModelConfig } from '../../server/model/config.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { formatParams } from '../../web/components/views/experiment/CreateExperiment.js';
import {
  type Server,
  type Watched,
  buildWeb,
  createAccounts,
  launchBrowser,
  logIn,
  screenshot as fullShot,
  startServer,
  tempDataDir,
  watchedPage,
} from './harness.js';

const CAROL = { name: 'carol', role: 'researcher', password: 'carol-secret-1' };
// 4 layers × 4 heads over the 5×5 aotp-ut vocabulary: small enough to run every kind in seconds.
const GRID = 5;
const L = 4;
const H = 4;

let server: Server;
let browser: Browser;
let carol: Watched;
let base: string;
let modelId = '';
/** Experiment ids by kind, as the kinds loop ran them. */
const expIds: Record<string, string> = {};

const page = (): Page => carol.page;

/** A full-page screenshot from the top (the sticky header would otherwise land mid-page). */
async function screenshot(p: Page, name: string): Promise<void> {
  await p.evaluate(() => window.scrollTo(0, 0));
  await fullShot(p, name);
}

function modelFile(dir: string): string {
  const vocab = [...getTokenizer('aotp-ut').vocab(GRID)];
  const cfg: ModelConfig = {
    d_model: 32,
    n_layers: L,
    n_heads: H,
    d_head: 8,
    d_mlp: 64,
    n_ctx: 160,
    act_fn: 'gelu_new',
    eps: 1e-5,
    d_vocab: vocab.length,
    tokenizer: 'aotp-ut',
  };
  const file = path.join(dir, 'random-e2e.safetensors');
  fs.writeFileSync(file, encodeModel(cfg, initWeights(cfg, new Rng(11), { scale: 3 }), vocab));
  return file;
}

/** Opens the form for `kind` (by URL), waits for its defaults, runs `params`, and waits for the drawn result. */
async function runFromForm(kind: string, params: Record<string, unknown>): Promise<string> {
  await page().goto(`${base}/experiments?model=${modelId}&kind=${kind}`);
  await page().waitForFunction(() => (document.querySelector('textarea[name=params]') as HTMLTextAreaElement | null)?.value.includes('"'));
  await page().click('[data-testid=params-json]'); // the advanced JSON editor
  await page().fill('textarea[name=params]', formatParams(params));
  await page().click('[data-testid=run-experiment]:not([disabled])');
  await page().waitForURL(/\/experiments\/\d+$/);
  await page().waitForSelector('[data-testid=result]', { timeout: 150_000 });
  return /\/experiments\/(\d+)/.exec(page().url())![1];
}

describe('experiments in the dashboard', () => {
  beforeAll(async () => {
    await buildWeb();
    const dataDir = tempDataDir();
    await createAccounts(dataDir, [CAROL]);
    server = await startServer(dataDir);
    base = server.url;
    browser = await launchBrowser();
    carol = await watchedPage(await browser.newContext({ viewport: { width: 1400, height: 900 } }));
    await logIn(page(), base, CAROL.name, CAROL.password);
    await page().goto(`${base}/models`);
    await page().setInputFiles('input[name=model-file]', modelFile(dataDir));
    await page().fill('input[name=model-name]', 'random 4x4-head model');
    await page().click('button:has-text("Import")');
    await page().waitForURL(/\/models\/\d+$/);
    modelId = /\/models\/(\d+)/.exec(page().url())![1];
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  it('creates activation patching from the form: kind select fills the defaults, the job streams to COMPLETED, and the layer × position heatmap has the tokens on its axis', async () => {
    await page().click('[data-testid=new-experiment]');
    await page().waitForURL(new RegExp(`/experiments\\?model=${modelId}`));
    await page().selectOption('select[name=kind]', 'activation-patching');
    await page().waitForFunction(() => (document.querySelector('textarea[name=params]') as HTMLTextAreaElement).value.includes('"pair": "target"'));
    expect(page().url()).toContain('kind=activation-patching');
    expect(await page().inputValue('textarea[name=params]')).toContain(`"grid": ${GRID}`); // this model's default grid
    // The typed form: numbers with this model's bounds, choices as checkboxes; it writes the same JSON.
    expect(await page().getAttribute('input[name=param-count]', 'max')).toBe('1000');
    await page().fill('input[name=param-grid]', '4');
    await page().fill('input[name=param-count]', '3');
    await page().uncheck('input[name=param-sites][value=mlp_out]');
    const json = JSON.parse(await page().inputValue('textarea[name=params]'));
    expect(json).toMatchObject({ grid: 4, count: 3, sites: ['resid_pre', 'attn_out', 'head_all_pos'] });
    await screenshot(page(), 'exp-01-form');
    await page().click('[data-testid=run-experiment]');
    await page().waitForURL(/\/experiments\/\d+$/);
    // The job's live progress (a job worker takes a moment to start, so it is seen queued or running), then the drawn result.
    await page().waitForSelector('[data-testid=job] [role=progressbar]');
    expect(['QUEUED', 'RUNNING', 'COMPLETED']).toContain(await page().getAttribute('[data-testid=job]', 'data-status'));
    await screenshot(page(), 'exp-02-running');
    await page().waitForSelector('[data-testid=result] [data-testid=patching-heatmap]', { timeout: 150_000 });
    expect(await page().textContent('.page-title .badge')).toBe('COMPLETED');
    const heat = page().locator('[data-testid=patching-heatmap]');
    const cols = Number(await heat.getAttribute('data-cols'));
    expect(Number(await heat.getAttribute('data-rows'))).toBe(L);
    expect(await heat.locator('rect[data-v]').count()).toBe(L * cols);
    const labels = await heat.locator('text.col-label').allTextContents();
    expect(labels.some((l) => /ADJLIST_START/.test(l))).toBe(true);
    expect(labels.some((l) => /TARGET_START/.test(l))).toBe(true);
    expect(await heat.locator('text.col-label.marked').count()).toBeGreaterThan(0); // the changed target token
    expect(await page().locator('[data-testid=patching-by-class] rect[data-v]').count()).toBeGreaterThan(0);
    // Every column is labelled (no skipped tokens), and hovering reads a cell out with a crosshair.
    expect(labels).toHaveLength(cols);
    const firstCell = heat.locator('rect[data-v]').first();
    await firstCell.hover();
    await page().waitForSelector('[data-testid=patching-heatmap-crosshair]');
    expect(await page().textContent('[data-testid=patching-heatmap-readout]')).toMatch(/^L0 · 0 ADJLIST_START: normalised logit diff -?\d/);
    await screenshot(page(), 'exp-03-activation-patching');

    // Drill-down: a click on the layer-1 cell at the changed position opens the pair's clean and
    // corrupted mazes there, the changed cell outlined in each.
    const changedPos = Number((await heat.locator('text.col-label.marked').first().textContent())!.split(' ')[0]);
    await heat
      .locator('rect[data-v]')
      .nth(1 * cols + changedPos)
      .click();
    await page().waitForURL(new RegExp(`at=1\\.${changedPos}`));
    await page().waitForSelector('[data-testid=drill-clean] svg rect.cell.lit');
    await page().waitForSelector('[data-testid=drill-corrupt] svg rect.cell.lit');
    const litClean = await page().getAttribute('[data-testid=drill-clean] rect.cell.lit', 'data-cell');
    const litCorrupt = await page().getAttribute('[data-testid=drill-corrupt] rect.cell.lit', 'data-cell');
    expect(litClean).not.toBe(litCorrupt); // the target moved: a different cell at the changed position
    expect(await page().textContent('[data-testid=patching-drill] h3')).toContain(`L1 at position ${changedPos}`);
    await screenshot(page(), 'exp-03b-patching-drill');

    // Zoom: dragging over a block shows only it (the scale stays the whole map's); "Whole map" undoes it.
    const fillBefore = await heat
      .locator('rect[data-v]')
      .nth(1 * cols + 5)
      .getAttribute('fill');
    const a = (await heat.locator('rect[data-v]').nth(0).boundingBox())!;
    const b = (await heat
      .locator('rect[data-v]')
      .nth(1 * cols + 5)
      .boundingBox())!;
    await page().mouse.move(a.x + 2, a.y + 2);
    await page().mouse.down();
    await page().mouse.move(b.x + 2, b.y + 2, { steps: 4 });
    await page().mouse.up();
    await page().waitForSelector('[data-testid=patching-heatmap][data-shown="0:2,0:6"]');
    expect(await heat.locator('rect[data-v]').count()).toBe(2 * 6);
    expect(await heat.locator('text.col-label').count()).toBe(6);
    expect(
      await heat
        .locator('rect[data-v]')
        .nth(1 * 6 + 5)
        .getAttribute('fill'),
    ).toBe(fillBefore); // the whole map's colour scale
    await page().click('[data-testid=patching-heatmap-unzoom]');
    await page().waitForSelector(`[data-testid=patching-heatmap][data-shown="0:${L},0:${cols}"]`);
    // A zoom belongs to its data: zoomed again, then another pair drawn, the map shows whole.
    await page().mouse.move(a.x + 2, a.y + 2);
    await page().mouse.down();
    await page().mouse.move(b.x + 2, b.y + 2, { steps: 4 });
    await page().mouse.up();
    await page().waitForSelector('[data-testid=patching-heatmap][data-shown="0:2,0:6"]');
    await page().selectOption('select[name=pair]', '1');
    await page().waitForSelector(`[data-testid=patching-heatmap][data-shown^="0:${L},0:"]`); // every layer, every position of pair 1
    await page().selectOption('select[name=pair]', '0');

    // View state in the URL: the per-head site of pair 1 survives a reload.
    await page().selectOption('select[name=site]', 'head_all_pos');
    await page().selectOption('select[name=pair]', '1');
    await page().waitForURL(/site=head_all_pos/);
    expect(page().url()).toContain('pair=1');
    await page().reload();
    await page().waitForSelector('[data-testid=patching-heatmap][data-cols="4"]');
    expect(await page().inputValue('select[name=pair]')).toBe('1');
    expect(await page().locator('[data-testid=pairs] tr.selected').count()).toBe(1);
    expect(carol.errors).toEqual([]);
  });

  it('draws attention over the maze for every head; choosing a head shows its pattern and is kept in the URL', async () => {
    await runFromForm('attention', { count: 2 });
    await page().waitForSelector('[data-testid=attention-overlay] .head');
    expect(await page().locator('[data-testid=attention-overlay] .head').count()).toBe(L * H);
    // Cells are coloured by the head's attention from <PATH_START>.
    const attn = await page()
      .locator('[data-head="0.0"] rect.cell')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-attn'))));
    expect(attn).toHaveLength(GRID * GRID);
    expect(attn.some((v) => v > 0)).toBe(true);
    await page().click('[data-head="2.1"]');
    await page().waitForURL(/head=2\.1/);
    await page().waitForSelector('h3:has-text("Pattern of L2H1")');
    expect(Number(await page().getAttribute('[data-testid=pattern-heatmap]', 'data-rows'))).toBeGreaterThan(40);
    await screenshot(page(), 'exp-04-attention');
    expect(carol.errors).toEqual([]);
  });

  const kinds: Array<[kind: string, params: Record<string, unknown>, check: string, shot: string]> = [
    ['logit-lens', { count: 8 }, '[data-testid=lens-accuracy] circle', 'exp-05-logit-lens'],
    ['dla', { count: 8 }, '[data-testid=dla-bars] rect', 'exp-06-dla'],
    ['probes', { count: 60, iters: 60 }, '[data-testid=probe-accuracy] [data-series="control (shuffled)"] polyline', 'exp-07-probes'],
    ['adjacency-heads', { count: 8 }, '[data-testid=adjacency-table] tbody tr', 'exp-08-adjacency-heads'],
    ['retarget', { count: 8 }, '[data-testid=retarget-chart] circle', 'exp-09-retarget'],
    ['weights', {}, '[data-testid=embedding-scatter] circle.point', 'exp-10-weights'],
    [
      'behavior',
      { generators: ['dfs', 'wilson', 'percolation', 'open_field'], sizes: [3, 4, 5], count: 8 },
      '[data-testid=behavior-table] tbody tr',
      'exp-11-behavior',
    ],
    [
      'attribution-patching',
      { grid: 4, count: 2, sites: ['resid_pre', 'attn_out'] },
      '[data-testid=patching-heatmap] rect[data-v]',
      'exp-12-attribution-patching',
    ],
    ['lookahead', { count: 40 }, '[data-testid=lookahead-table] tbody tr', 'exp-12b-lookahead'],
    ['path-patching', { grid: 4, count: 2 }, '[data-testid=path-patching-heatmap] rect[data-v]', 'exp-12c-path-patching'],
    ['geometry', { grid: 4, count: 6, maxPoints: 80, k: 5 }, '[data-testid=geometry-scatter] circle.point', 'exp-12d-geometry'],
    [
      'sae',
      { count: 6, steps: 40, batch: 64, buffer: 512, expansion: 4, k: 4, classes: ['sep', 'adj_cell'] },
      '[data-testid=sae-density] rect[height]:not([height="0"])',
      'exp-12e-sae',
    ],
  ];
  for (const [kind, params, check, shot] of kinds) {
    it(`runs ${kind} from the form and draws its result`, async () => {
      expIds[kind] = await runFromForm(kind, params);
      await page().waitForSelector(check);
      expect(await page().locator(check).count()).toBeGreaterThan(0);
      if (kind === 'adjacency-heads') expect(await page().locator(check).count()).toBe(L * H);
      if (kind === 'weights') expect(await page().locator(check).count()).toBe(GRID * GRID);
      if (kind === 'logit-lens') {
        // Drill-down from a lens cell to maze 0 at that position, the cells involved outlined.
        await page().locator('[data-testid=lens-heatmap] rect[data-v]').nth(2).click();
        await page().waitForSelector('[data-testid=lens-drill-maze] svg rect.cell.lit');
        expect(await page().textContent('[data-testid=lens-drill] p')).toMatch(/^The lens’ top \d+: /);
      }
      // Rates carry their n and 95% interval: whiskers on the charts, intervals in the tables.
      if (kind === 'retarget') {
        expect(await page().locator('[data-testid=retarget-chart] path.ci').count()).toBeGreaterThan(0);
        // Drill-down: a layer's point opens the first mazes' rollouts there, the new target outlined.
        const asks: string[] = [];
        const onRequest = (r: { url(): string; postData(): string | null }) => {
          if (r.url().endsWith('/graphql') && r.postData()?.includes('parseMazeTokensList')) asks.push(r.postData()!);
        };
        page().on('request', onRequest);
        await page().locator('[data-testid=retarget-chart] circle[data-category="0"]').last().click(); // the topmost of the coinciding points
        await page().waitForURL(/layer=\d+/);
        await page().waitForSelector('[data-testid=retarget-rollout-maze] svg rect.cell.lit');
        expect(await page().locator('[data-testid=retarget-rollout]').count()).toBe(8);
        await page().waitForFunction(() => document.querySelectorAll('[data-testid=retarget-rollout-maze] svg').length === 8);
        page().off('request', onRequest);
        // The eight mazes are read back in one request, not one each.
        expect(asks).toHaveLength(1);
        expect((JSON.parse(asks[0]) as { variables: { items: unknown[] } }).variables.items).toHaveLength(8);
      }
      if (kind === 'lookahead') {
        expect(await page().locator('[data-testid=lookahead-table] .ci').first().textContent()).toMatch(/^\[\d\.\d\d, \d\.\d\d\]$/);
        // Drill-down: a bin opens its forks, each drawn on its maze with the way the model chose.
        const forks = Number(await page().locator('[data-testid=lookahead-table] tbody tr td:nth-child(2)').first().textContent());
        await page().locator('[data-testid=lookahead-table] tbody tr button.link').first().click();
        await page().waitForURL(/bin=\d+/);
        await page().waitForSelector('[data-testid=lookahead-fork-maze] svg rect.cell.lit');
        expect(await page().locator('[data-testid=lookahead-fork]').count()).toBe(Math.min(8, forks));
        expect(await page().textContent('[data-testid=lookahead-drill] h3')).toContain(`of ${forks}`);
        // (attached: a vertical or horizontal line has an empty bounding box, which playwright calls invisible)
        await page().waitForSelector('[data-testid=lookahead-fork-maze] polyline.overlay-predicted', { state: 'attached' });
        expect(await page().locator('[data-testid=lookahead-fork-maze] polyline.overlay-predicted').count()).toBe(Math.min(8, forks));
        // The bin with the most forks pages through them eight at a time.
        const counts = (await page().locator('[data-testid=lookahead-table] tbody tr td:nth-child(2)').allTextContents()).map(Number);
        const most = counts.indexOf(Math.max(...counts));
        expect(counts[most]).toBeGreaterThan(8);
        await page().locator('[data-testid=lookahead-table] tbody tr').nth(most).locator('button.link').click();
        await page().waitForSelector(`[data-testid=lookahead-drill] h3:has-text("1–8 of ${counts[most]}")`);
        await page().click('[data-testid=lookahead-drill] .pager button:has-text("Next")');
        await page().waitForURL(/from=8/);
        await page().waitForSelector(`[data-testid=lookahead-drill] h3:has-text("9–${Math.min(16, counts[most])} of ${counts[most]}")`);
        expect(await page().locator('[data-testid=lookahead-fork]').count()).toBe(Math.min(8, counts[most] - 8));
        await page().click('[data-testid=lookahead-drill] .pager button:has-text("Previous")');
        await page().waitForSelector(`[data-testid=lookahead-drill] h3:has-text("1–8 of ${counts[most]}")`);
        expect(await page().locator('[data-testid=lookahead-drill] .pager button:has-text("Previous")').isDisabled()).toBe(true);
      }
      if (kind === 'probes') {
        // Drill-down: a cell of the selectivity map opens its probe on the first test maze, the true target outlined.
        await page().selectOption('select[name=target]', 'target');
        await page().waitForURL(/target=target/);
        await page().locator('[data-testid=probe-selectivity] rect[data-v]').first().click();
        await page().waitForURL(/at=0\.0/);
        await page().waitForSelector('[data-testid=probe-drill-maze] svg rect.cell.lit');
        expect(await page().locator('[data-testid=probe-drill-maze] svg rect.cell.lit').count()).toBe(1);
        expect(await page().locator('[data-testid=probe-drill-maze] svg rect.cell[data-attn]').count()).toBe(GRID * GRID);
      }
      if (kind === 'path-patching') {
        // Its strongest senders link to their head pages.
        const firstSender = page().locator('[data-testid=path-patching-strongest] tbody tr a').first();
        expect(await firstSender.getAttribute('href')).toBe(`/models/${modelId}/components/${(await firstSender.textContent())!.trim()}`);
        // A circuit seeded from this result: every sender → the logits, weighted by its effect.
        const back = page().url();
        await page().fill('[data-testid=build-circuit] input[name=circuit-threshold]', '0');
        await page().click('[data-testid=build-circuit] button');
        await page().waitForURL(/\/circuits\/\d+$/);
        await page().waitForSelector('[data-testid=circuit-diagram] path[data-weight]');
        expect(await page().locator('[data-testid=circuit-diagram] path[data-weight]').count()).toBe(L * H);
        expect(await page().locator('[data-testid=edges] tbody tr').count()).toBe(L * H);
        expect(await page().locator('[data-testid=edge-weight]').first().textContent()).toMatch(/^-?\d/);
        await screenshot(page(), 'exp-12c2-circuit-from-path-patching');
        await page().goto(back);
        await page().waitForSelector(check);
      }
      if (kind === 'behavior') expect(await page().locator('[data-testid=behavior-table] .ci').count()).toBeGreaterThan(0);
      await screenshot(page(), shot);
      if (kind === 'sae') {
        const saeId = Number(/\/experiments\/(\d+)/.exec(page().url())![1]);
        // Search: the latents for one connection, linking to their pages.
        await page().fill('[data-testid=sae-search] input[name=sae-search]', '(0,1)-(0,0)');
        await page().click('[data-testid=sae-search] button');
        await page().waitForSelector('[data-testid=sae-search] tbody tr a');
        expect(await page().locator('[data-testid=sae-search] tbody tr').count()).toBe(8);
        // A feature page: its top activations drawn on their mazes, the tokens shaded.
        await page().click('[data-testid=sae-densest] a');
        await page().waitForURL(/\/experiments\/\d+\/features\/\d+$/);
        await page().waitForSelector('[data-testid=feature-example] svg rect.cell');
        expect(await page().locator('[data-testid=feature-example]').count()).toBeGreaterThan(0);
        expect(await page().locator('[data-testid=feature-tokens] .tok.current').count()).toBeGreaterThan(0);
        expect(await page().locator('[data-testid=feature-histogram] rect').count()).toBe(20);
        await screenshot(page(), 'exp-12f-sae-feature');
        // A finding about the latent, written from its page, listed there.
        const featureUrl = page().url();
        await page().click('[data-testid=feature-findings] a.button');
        await page().waitForSelector('[data-testid=annotation-form] input[name=latent]');
        await page().fill('[data-testid=annotation-form] textarea[name=body]', 'This latent fires at adjacency entries.');
        await page().click('[data-testid=annotation-form] button.primary');
        await page().waitForSelector('.annotation a.target');
        await page().goto(featureUrl);
        await page().waitForSelector('[data-testid=feature-findings] li');
        expect(await page().textContent('[data-testid=feature-findings] li')).toContain('This latent fires at adjacency entries.');
        // Its latents edited inside the model.
        await runFromForm('sae-intervention', { sae: saeId, count: 4, minAuc: 0.5 });
        await page().waitForSelector('[data-testid=sae-intervention-table] tbody tr');
        expect(await page().locator('[data-testid=sae-intervention-table] tbody tr').count()).toBe(2);
        await screenshot(page(), 'exp-12g-sae-intervention');
        // On a stored maze's page: the SAE's latents active at a clicked token.
        const mazeId = await page().evaluate(async () => {
          const gql = async (query: string, variables: Record<string, unknown> = {}) =>
            (
              await (
                await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) })
              ).json()
            ).data;
          const job = (await gql('mutation { createDataset(input: {name: "sae-maze", generator: dfs, grid: 5, count: 2, seed: 3}) { id } }')).createDataset;
          for (;;) {
            const j = (await gql('query($id: ID!) { job(id: $id) { status result { datasetId } } }', { id: job.id })).job;
            if (j.status === 'COMPLETED')
              return (await gql('query($id: ID!) { dataset(id: $id) { mazes(first: 1) { edges { node { id } } } } }', { id: j.result.datasetId })).dataset.mazes
                .edges[0].node.id as string;
            await new Promise((r) => setTimeout(r, 100));
          }
        });
        await page().goto(`${base}/mazes/${mazeId.split(':')[1]}?model=${modelId}`);
        await page().waitForSelector('[data-testid=sae-at-tokens] select[name=sae] option[value^="Experiment:"]', { state: 'attached' });
        await page().selectOption('[data-testid=sae-at-tokens] select[name=sae]', `Experiment:${saeId}`);
        await page().click('[data-testid=sae-at-tokens] .tok[data-pos="4"]');
        await page().waitForSelector('[data-testid=sae-token-latents] tbody tr');
        expect(await page().locator('[data-testid=sae-token-latents] tbody tr a').count()).toBeGreaterThan(0);
        await screenshot(page(), 'exp-12h-sae-on-maze');
        // Its latents edited while the model solves that maze in the playground: scaling one by 1
        // changes nothing; setting the first eight far above their range changes the rollout or at
        // least reports it, beside the model's own.
        await page().goto(`${base}/playground?model=${modelId}&maze=${mazeId.split(':')[1]}&run=1`);
        await page().waitForSelector('[data-testid=head-grid] .head', { timeout: 60_000 });
        await page().waitForSelector(`[data-testid=feature-edits] select[name=fe-sae] option[value="Experiment:${saeId}"]`, { state: 'attached' });
        await page().selectOption('[data-testid=feature-edits] select[name=fe-sae]', `Experiment:${saeId}`);
        await page().fill('[data-testid=feature-edits] input[name=fe-latent]', '3');
        await page().selectOption('[data-testid=feature-edits] select[name=fe-mode]', 'scale');
        await page().fill('[data-testid=feature-edits] input[name=fe-value]', '1');
        await page().click('[data-testid=fe-add]');
        await page().waitForURL(/fe=/);
        await page().waitForSelector('[data-testid=intervened]', { timeout: 60_000 });
        expect(await page().textContent('[data-testid=iv-same]')).toBe('The same rollout as without interventions.');
        await page().fill('[data-testid=feature-edits] input[name=fe-latent]', '9999');
        await page().click('[data-testid=fe-add]');
        expect(await page().textContent('[data-testid=feature-edits] .error')).toMatch(/^latent: give an integer in \[0, \d+\)$/);
        await screenshot(page(), 'exp-12i-sae-feature-edits');
        // Its SAELens files, imported back from the experiments page and measured as they are.
        const files = await page().evaluate(async (id) => {
          const b64 = async (u: string) => {
            const bytes = new Uint8Array(await (await fetch(u)).arrayBuffer());
            let s = '';
            for (const x of bytes) s += String.fromCharCode(x);
            return btoa(s);
          };
          return { cfg: await b64(`/files/experiments/${id}/sae/cfg.json`), weights: await b64(`/files/experiments/${id}/sae/sae_weights.safetensors`) };
        }, saeId);
        const lensDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sae-lens-'));
        fs.writeFileSync(path.join(lensDir, 'cfg.json'), Buffer.from(files.cfg, 'base64'));
        fs.writeFileSync(path.join(lensDir, 'sae_weights.safetensors'), Buffer.from(files.weights, 'base64'));
        await page().goto(`${base}/experiments?model=${modelId}`);
        await page().click('[data-testid=import-sae] summary');
        await page().setInputFiles('[data-testid=import-sae] input[name=sae-cfg]', path.join(lensDir, 'cfg.json'));
        await page().setInputFiles('[data-testid=import-sae] input[name=sae-weights]', path.join(lensDir, 'sae_weights.safetensors'));
        await page().fill('[data-testid=import-sae] input[name=sae-classes]', 'sep, adj_cell');
        await page().click('[data-testid=import-sae-run]');
        await page().waitForURL(/\/experiments\/\d+$/);
        await page().waitForSelector('[data-testid=sae-view]', { timeout: 150_000 });
        await page().waitForSelector('[data-testid=sae-imported]');
        await screenshot(page(), 'exp-12i-sae-imported');
        fs.rmSync(lensDir, { recursive: true, force: true });
      }
      expect(carol.errors).toEqual([]);
    });
  }

  it('refuses bad params with the field named (server) or the JSON error (client), and lists what ran on the model page', async () => {
    await page().goto(`${base}/experiments?model=${modelId}&kind=attention`);
    await page().waitForFunction(() => (document.querySelector('textarea[name=params]') as HTMLTextAreaElement | null)?.value.includes('"'));
    // An integer list typed as a range keeps what is typed while the JSON follows it.
    await page().fill('input[name=param-layers]', '');
    await page().type('input[name=param-layers]', '0-3');
    expect(await page().inputValue('input[name=param-layers]')).toBe('0-3');
    expect(JSON.parse(await page().inputValue('textarea[name=params]')).layers).toEqual([0, 1, 2, 3]);
    await page().click('[data-testid=params-json]');
    await page().fill('textarea[name=params]', '{"layers": [0, 9]}');
    await page().click('[data-testid=run-experiment]');
    await page().waitForSelector('[role=alert][data-code=BAD_USER_INPUT]');
    expect(await page().textContent('[role=alert]')).toContain('params.layers[1]: must be an integer in [0, 3]; got 9');
    await page().fill('textarea[name=params]', '{"count": 2,,}');
    await page().click('[data-testid=run-experiment]');
    await page().waitForSelector('[role=alert]:has-text("not valid JSON")');
    expect(page().url()).toMatch(/\/experiments\?/); // nothing was queued

    await page().goto(`${base}/models/${modelId}`);
    await page().waitForSelector('[data-testid=model-experiments] tbody tr');
    expect(await page().locator('[data-testid=model-experiments] tbody tr').count()).toBe(8); // newest 8 of 16
    await page().goto(`${base}/experiments?model=${modelId}`);
    await page().waitForSelector('[data-testid=experiments] tbody tr');
    expect(await page().locator('[data-testid=experiments] tbody tr').count()).toBe(16);
    expect(await page().locator('[data-testid=experiments] .badge.COMPLETED').count()).toBe(16);
    await screenshot(page(), 'exp-13-list');
    // Refusals are API answers shown in the page, not console errors.
    expect(carol.errors).toEqual([]);
  });

  it("a head's page from the adjacency table: what the experiments measured, its strongest test mazes drawn (each linking to its maze), and a finding written there links back", async () => {
    // Test mazes to read the head's activity on (the model was imported, so it names no dataset).
    const datasetId = await page().evaluate(async () => {
      const gql = async (query: string, variables: Record<string, unknown> = {}) =>
        (
          await (
            await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) })
          ).json()
        ).data;
      const job = (await gql('mutation { createDataset(input: {name: "head-page", generator: dfs, grid: 5, count: 24, seed: 9, testFraction: 0.5}) { id } }'))
        .createDataset;
      for (;;) {
        const j = (await gql('query($id: ID!) { job(id: $id) { status result { datasetId } } }', { id: job.id })).job;
        if (j.status === 'COMPLETED') return j.result.datasetId as string;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    await page().goto(`${base}/experiments/${expIds['adjacency-heads']}`);
    const first = page().locator('[data-testid=adjacency-table] tbody tr').first();
    const name = (await first.locator('td.mono a').textContent())!.trim();
    await first.locator('td.mono a').click();
    await page().waitForURL(new RegExp(`/models/${modelId}/components/${name}$`));
    await page().waitForSelector('[data-testid=component-evidence] tbody tr');
    const kinds = await page().locator('[data-testid=component-evidence] tbody tr td:first-child a').allTextContents();
    for (const k of ['adjacency-heads', 'dla', 'weights', 'path-patching']) expect(kinds.some((t) => t.startsWith(`${k} `))).toBe(true);
    // The adjacency rank shown is the table's: rank 1.
    const adjRow = page().locator('[data-testid=component-evidence] tbody tr', { hasText: 'rank by mass' });
    expect(await adjRow.locator('td').nth(3).textContent()).toBe(`1 of ${L * H}`);
    expect(await page().locator('[data-testid=component-siblings] a').count()).toBe(L * H - 1);

    await page().selectOption('[data-testid=component-activity] select[name=dataset]', datasetId.split(':')[1]);
    await page().waitForURL(/dataset=/);
    await page().waitForSelector('[data-testid=component-example] svg rect.cell', { timeout: 60_000 });
    expect(await page().textContent('[data-testid=component-activity-summary]')).toMatch(/^12 of 12 test mazes of head-page, \d+ positions; mean attention/);
    expect(await page().locator('[data-testid=component-example]').count()).toBe(6);
    expect(await page().locator('[data-testid=component-by-class] rect').count()).toBeGreaterThan(3);
    expect(await page().locator('[data-testid=component-example] .tok.current').count()).toBe(6);
    await screenshot(page(), 'exp-14-head-page');
    const pageUrl = page().url();

    // Drill down: the strongest maze's own page.
    await page().locator('[data-testid=component-example] a[href^="/mazes/"]').first().click();
    await page().waitForURL(/\/mazes\/\d+$/);
    await page().waitForSelector('svg rect.cell');

    // A finding written from the page is listed there, and its target links back to the page.
    await page().goto(pageUrl);
    await page().click('[data-testid=component-findings] a.button');
    await page().waitForSelector('[data-testid=annotation-form] textarea[name=body]');
    await page().fill('[data-testid=annotation-form] textarea[name=body]', `${name} attends to lattice neighbours.`);
    // About a second component too, with two evidence links.
    await page().fill('[data-testid=annotation-form] input[name=also-about]', 'mlp:1');
    await page().fill(
      '[data-testid=annotation-form] textarea[name=evidence]',
      `adjacency ranking | /experiments/${expIds['adjacency-heads']}\n/experiments/${expIds.dla}`,
    );
    await page().click('[data-testid=annotation-form] button.primary');
    await page().waitForSelector(`.annotation a.target:has-text("${name}")`);
    const card = page().locator('.annotation', { hasText: `${name} attends to lattice neighbours.` });
    expect(await card.locator('a.target.also').textContent()).toBe('MLP1');
    expect(await card.locator('.evidence a').allTextContents()).toEqual(['adjacency ranking ↗', 'view ↗']);
    await page().click(`.annotation a.target:has-text("${name}")`);
    await page().waitForURL(new RegExp(`/models/${modelId}/components/${name}`));
    await page().waitForSelector('[data-testid=component-findings] li');
    expect(await page().textContent('[data-testid=component-findings] li')).toContain(`${name} attends to lattice neighbours.`);
    // The MLP's page lists it too: a finding is found by any of its targets.
    await page().goto(`${base}/models/${modelId}/components/L1.mlp`);
    await page().waitForSelector('[data-testid=component-findings] li');
    expect(await page().textContent('[data-testid=component-findings] li')).toContain(`${name} attends to lattice neighbours.`);
    expect(carol.errors).toEqual([]);
  });

  it("a neuron's page: its activation by token class and its strongest test mazes drawn, its neighbours linked", async () => {
    await page().goto(`${base}/models/${modelId}/components/L1N3`);
    await page().waitForSelector('[data-testid=component-page]');
    expect(await page().textContent('h1')).toBe('L1N3');
    expect(await page().locator('[data-testid=component-siblings] a').allTextContents()).toEqual(['L1N2', 'L1N4']);
    // No experiment measures single neurons: the page says so, and shows its activity instead.
    expect(await page().textContent('[data-testid=component-evidence]')).toContain('none measures single neurons');
    await page().selectOption('[data-testid=component-activity] select[name=dataset]', { label: 'head-page (5×5)' });
    await page().waitForURL(/dataset=/);
    await page().waitForSelector('[data-testid=component-example] svg rect.cell', { timeout: 60_000 });
    expect(await page().textContent('[data-testid=component-activity-summary]')).toMatch(
      /^12 of 12 test mazes of head-page, \d+ positions; mean activation \(hook_post\) at positions of each class:$/,
    );
    expect(await page().locator('[data-testid=component-example]').count()).toBe(6);
    // Each example's maze is shaded by |activation| on its cells, and its tokens by the activation.
    expect(await page().locator('[data-testid=component-example]').first().locator('svg rect.cell[data-attn]').count()).toBe(GRID * GRID);
    expect(await page().locator('[data-testid=component-example] .tok.current').count()).toBe(6);
    await page().click('[data-testid=component-siblings] a:has-text("L1N4")');
    await page().waitForURL(/\/components\/L1N4/);
    await page().waitForSelector('[data-testid=component-siblings] strong:has-text("L1N4")');
    await screenshot(page(), 'exp-14c-neuron-page');
    expect(carol.errors).toEqual([]);
  });

  it("a probe's direction page from the probes drill-down: what it reads, its layer's probes on the grid, its activity and writers, and a finding about it", async () => {
    // The probe of "cell is the target" at path tokens, resid_pre 1: opened from the drill-down's link for its most probable cell.
    await page().goto(`${base}/experiments/${expIds.probes}?target=target&cls=path&at=3.1`);
    await page().waitForSelector('[data-testid=probe-directions] a');
    expect(await page().locator('[data-testid=probe-directions] a').count()).toBe(GRID * GRID);
    const best = page().locator('[data-testid=probe-directions] a:has(strong)');
    const cell = (await best.textContent())!.trim();
    await best.click();
    await page().waitForURL(new RegExp(`/experiments/${expIds.probes}/directions/\\d+$`));
    const index = Number(page().url().split('/').at(-1));
    await page().waitForSelector('[data-testid=direction-page]');
    expect(await page().textContent('h1')).toBe(`Probe direction ${index}`);
    expect(await page().textContent('[data-testid=direction-reads] td.mono')).toBe('blocks.1.hook_resid_pre');
    expect(await page().textContent('body')).toContain(`cell ${cell} is the target, at path tokens, from blocks.1.hook_resid_pre`);
    expect(await page().locator('[data-testid=direction-layers] tbody tr').count()).toBe(L + 1);
    expect(await page().locator('[data-testid=direction-layers] tbody tr strong').textContent()).toBe('resid_pre 1');
    expect(await page().locator('[data-testid=direction-sibling-map] rect[data-v]').count()).toBe(GRID * GRID);
    // The grid shows each cell's probe's cosine with this one (its own cell: 1), or on request its test ROC AUC.
    const cellOf = (r: number, c: number) =>
      page()
        .locator('[data-testid=direction-sibling-map] rect[data-v]')
        .nth(r * GRID + c);
    const [r0, c0] = cell.slice(1, -1).split(',').map(Number);
    expect(Number(await cellOf(r0, c0).getAttribute('data-v'))).toBeCloseTo(1, 5);
    const mapValues = () =>
      page()
        .locator('[data-testid=direction-sibling-map] rect[data-v]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-v')));
    const cosines = await mapValues();
    await page().selectOption('[data-testid=direction-siblings] select[name=map]', 'auc');
    await page().waitForURL(/map=auc/);
    await page().waitForSelector('[data-testid=direction-siblings] .sub:has-text("Test ROC AUC")');
    const aucs = await mapValues();
    expect(aucs).not.toEqual(cosines);
    expect(
      aucs
        .map(Number)
        .filter((v) => !Number.isNaN(v))
        .every((v) => v >= 0 && v <= 1),
    ).toBe(true);
    await page().selectOption('[data-testid=direction-siblings] select[name=map]', 'cosine');
    await page().waitForURL((u) => u.searchParams.get('map') === 'cosine');
    expect(await page().textContent('[data-testid=direction-logits]')).toMatch(/^raises .+; lowers .+/);

    // Its activity over the head page's test mazes: none of them the probes' own (those were generated).
    await page().selectOption('[data-testid=direction-activity] select[name=dataset]', { label: 'head-page (5×5)' });
    await page().waitForURL(/dataset=/);
    await page().waitForSelector('[data-testid=direction-example] svg rect.cell', { timeout: 60_000 });
    expect(await page().textContent('[data-testid=direction-activity-summary]')).toMatch(
      /^12 of 12 test mazes of head-page from #0, none of them among the probes’ own; \d+ positions\.$/,
    );
    expect(await page().textContent('[data-testid=direction-activity-auc]')).toMatch(
      /^At its path tokens here, P\(label\) separates the \d+ positions where the label is true from the \d+ where it is false with ROC AUC (\d\.\d+|n\/a \(one side is empty\)) \(0\.5: not at all\)\.$/,
    );
    expect(await page().locator('[data-testid=direction-example]').count()).toBe(6);
    expect(await page().locator('[data-testid=direction-example] svg rect.cell.lit').count()).toBe(6); // the probe's cell on each
    expect(await page().locator('[data-testid=direction-by-class] tbody tr.selected td').first().textContent()).toBe('path');
    // Writers before resid_pre 1: embed, pos_embed, layer 0's heads, b_O and MLP; heads and the MLP link to their pages.
    expect(await page().locator('[data-testid=direction-writers] tbody tr').count()).toBe(2 + H + 2);
    const writer = page().locator('[data-testid=direction-writers] tbody a').first();
    expect(await writer.getAttribute('href')).toBe(`/models/${modelId}/components/${encodeURIComponent((await writer.textContent())!.trim())}`);
    await screenshot(page(), 'exp-14b-direction-page');
    const pageUrl = page().url();

    // Another cell of the grid opens that cell's probe.
    const other = cell === '(0,0)' ? 1 : 0; // a cell of row 0 that is not this one
    await page().locator('[data-testid=direction-sibling-map] rect[data-v]').nth(other).click();
    await page().waitForURL((u) => /\/directions\/\d+$/.test(u.pathname) && Number(u.pathname.split('/').at(-1)) !== index);
    await page().waitForSelector('[data-testid=direction-page]');
    expect(await page().textContent('body')).toContain(`cell (0,${other}) is the target`);

    // A finding written from its page is listed there, and its target links back.
    await page().goto(pageUrl);
    await page().click('[data-testid=direction-findings] a.button');
    await page().waitForSelector('[data-testid=annotation-form] textarea[name=body]');
    expect(await page().inputValue('[data-testid=annotation-form] input[name=index]')).toBe(String(index));
    await page().fill('[data-testid=annotation-form] textarea[name=body]', `The target ${cell} is readable at resid_pre 1.`);
    await page().click('[data-testid=annotation-form] button.primary');
    const label = `probes ${expIds.probes} direction ${index}`;
    await page().waitForSelector(`.annotation a.target:has-text("${label}")`);
    await page().click(`.annotation a.target:has-text("${label}")`);
    await page().waitForURL(new RegExp(`/experiments/${expIds.probes}/directions/${index}$`));
    await page().waitForSelector('[data-testid=direction-findings] li');
    expect(await page().textContent('[data-testid=direction-findings] li')).toContain(`The target ${cell} is readable at resid_pre 1.`);
    expect(carol.errors).toEqual([]);
  });

  it('compares two runs of a kind side by side: ticked on the list, one chart with a series per run named by the params that differ', async () => {
    const first = expIds['logit-lens'];
    const second = await runFromForm('logit-lens', { count: 4 });
    await page().goto(`${base}/experiments?model=${modelId}`);
    await page().waitForSelector(`input[name=compare][value="${first}"]`);
    await page().click(`input[name=compare][value="${first}"]`);
    await page().waitForURL(new RegExp(`cmp=${first}$`));
    await page().click(`input[name=compare][value="${second}"]`);
    await page().waitForURL(new RegExp(`cmp=${first}(%2C|,)${second}$`));
    await page().click('[data-testid=compare-picked] a.button');
    await page().waitForURL(/\/experiments\/compare\?ids=/);
    await page().waitForSelector('[data-testid=compare-chart] g[data-series]');
    const series = await page()
      .locator('[data-testid=compare-chart] g[data-series]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-series')));
    expect(series).toEqual([`#${first} · count 8`, `#${second} · count 4`]);
    expect(await page().locator('[data-testid=compare-chart] path.ci').count()).toBeGreaterThan(0);
    const positions = page().locator('[data-testid=compare-table] tbody tr', { hasText: 'positions' });
    expect(await positions.locator('td').count()).toBe(3);
    await screenshot(page(), 'exp-15-compare');
    // Another kind's curve: two lookahead runs, one series each over the lookahead bins, with intervals.
    const look = await runFromForm('lookahead', { count: 20 });
    await page().goto(`${base}/experiments/compare?ids=${expIds.lookahead},${look}`);
    await page().waitForSelector('[data-testid=compare-chart] g[data-series]');
    expect(
      await page()
        .locator('[data-testid=compare-chart] g[data-series]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-series'))),
    ).toEqual([`#${expIds.lookahead} · count 40`, `#${look} · count 20`]);
    expect(await page().textContent('[data-testid=compare-chart]')).toContain('lookahead 1');
    expect(await page().locator('[data-testid=compare-chart] path.ci').count()).toBeGreaterThan(0);
    // Runs of different kinds are refused with the reason, not drawn.
    await page().goto(`${base}/experiments/compare?ids=${first},${expIds.dla}`);
    await page().waitForSelector('[data-testid=compare] [role=alert]');
    expect(await page().textContent('[data-testid=compare] [role=alert]')).toContain('different kinds');
    expect(carol.errors).toEqual([]);
  });
});
