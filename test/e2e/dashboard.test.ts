/**
 * The dashboard end to end, in Debian's chromium against a real server (temporary data directory,
 * ephemeral port): log in → create a dataset and watch its job finish → open a maze → run a model
 * in the playground and see the attention overlay → annotate a head → a colleague's page shows
 * the annotation live → concurrent circuit edits meet CONFLICT and lose nothing. Every page must
 * run without console errors. Screenshots go to test-artifacts/.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import {
  type Server,
  type Watched,
  buildWeb,
  createAccounts,
  launchBrowser,
  logIn,
  randomModelFile,
  screenshot,
  startServer,
  tempDataDir,
  watchedPage,
} from './harness.js';
import { TARGET_LIST_HINT } from '../../web/components/views/findings/target.js';

const ALICE = { name: 'alice', role: 'researcher', password: 'alice-secret-1' };
const BOB = { name: 'bob', role: 'researcher', password: 'bob-secret-12' };

let server: Server;
let browser: Browser;
let aliceCtx: BrowserContext;
let bobCtx: BrowserContext;
let alice: Watched;
let bob: Watched;
let base: string;
let modelId = ''; // short id, e.g. "1"
let mazeId = '';

const page = (): Page => alice.page;

describe('Searchlight dashboard end to end', () => {
  beforeAll(async () => {
    await buildWeb();
    const dataDir = tempDataDir();
    await createAccounts(dataDir, [ALICE, BOB]);
    server = await startServer(dataDir);
    base = server.url;
    browser = await launchBrowser();
    aliceCtx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    bobCtx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    alice = await watchedPage(aliceCtx);
    bob = await watchedPage(bobCtx);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  it('sends a visitor to /login, and a password login lands on the overview, which names Searchlight', async () => {
    await page().goto(`${base}/datasets?generator=dfs`);
    await page().waitForURL(/\/login\?next=/);
    expect(decodeURIComponent(new URL(page().url()).searchParams.get('next') ?? '')).toBe('/datasets?generator=dfs');
    await logIn(page(), base, ALICE.name, ALICE.password);
    expect(await page().textContent('header')).toContain('Searchlight');
    await page().waitForSelector('text=demo: 5x5 DFS mazes');
    const cookies = await aliceCtx.cookies();
    expect(cookies.find((c) => c.name === 'searchlight_session')?.httpOnly).toBe(true);
    await screenshot(page(), '01-overview');
    // /favicon.ico, which a browser asks for when a document names no icon yet, is the app's icon (no 404 in the console).
    const ico = await fetch(`${base}/favicon.ico`, { redirect: 'manual' });
    expect([ico.status, ico.headers.get('location')]).toEqual([308, '/icon.svg']);
    const icon = await fetch(`${base}/icon.svg`);
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
    expect(alice.errors).toEqual([]);
  });

  it('creates a dataset from the form; its job streams progress to COMPLETED and the explorer pages its mazes', async () => {
    await page().goto(`${base}/datasets`);
    await page().fill('input[name=name]', 'e2e wilson 6x6');
    await page().selectOption('select[name=generator]', 'wilson');
    await page().fill('input[name=grid]', '6');
    await page().fill('input[name=count]', '3000');
    await page().fill('input[name=seed]', '5');
    await page().click('button:has-text("Create dataset")');
    await page().waitForSelector('[data-testid=job]');
    expect(page().url()).toMatch(/[?&]job=\d+/); // the watched job is part of the URL
    await page().waitForSelector('[data-testid=job][data-status=COMPLETED]', { timeout: 90_000 });
    expect(await page().getAttribute('[role=progressbar]', 'aria-valuenow')).toBe('100');
    await screenshot(page(), '02-dataset-created');
    await page().click('[data-testid=open-dataset]');
    await page().waitForSelector('[data-testid=thumbs] a.thumb');
    expect(await page().locator('[data-testid=thumbs] a.thumb').count()).toBe(100);
    // Each thumbnail is the API's SVG of a 6×6 maze, with its solution drawn.
    const thumb = page().locator('[data-testid=thumbs] a.thumb svg').first();
    expect([await thumb.getAttribute('data-rows'), await thumb.getAttribute('data-cols')]).toEqual(['6', '6']);
    expect(await thumb.locator('polyline.solution, circle.origin').count()).toBeGreaterThan(0);
    await screenshot(page(), '03-maze-explorer');
    // The view's state is in the URL: a shared link restores the split, page size and paging.
    await page().click('button:has-text("Next →")');
    await page().waitForURL(/after=/);
    await page()
      .locator('[data-testid=thumbs] a.thumb small')
      .first()
      .filter({ hasText: /^#100 / })
      .waitFor();
    const firstOnPage2 = await page().locator('[data-testid=thumbs] a.thumb small').first().textContent();
    const shared = page().url();
    const other = await aliceCtx.newPage();
    await other.goto(shared);
    await other.waitForSelector('[data-testid=thumbs] a.thumb');
    expect(await other.locator('[data-testid=thumbs] a.thumb small').first().textContent()).toBe(firstOnPage2);
    await other.close();
    expect(alice.errors).toEqual([]);
  });

  it('shows a maze with its token sequence; hovering a token lights its cell and hovering a cell lights its tokens', async () => {
    await page().locator('[data-testid=thumbs] a.thumb').first().click();
    await page().waitForURL(/\/mazes\/\d+/);
    mazeId = /\/mazes\/(\d+)/.exec(page().url())![1];
    await page().waitForSelector('[data-testid=tokens] .tok');
    const tok = page().locator('[data-testid=tokens] .tok.cell').first();
    const cell = (await tok.getAttribute('data-cell'))!;
    await tok.hover();
    expect(await page().getAttribute(`.card rect.cell[data-cell="${cell}"]`, 'class')).toContain('lit');
    await page().hover('.card rect.cell[data-cell="0,0"]');
    const lit = page().locator('[data-testid=tokens] .tok.lit');
    expect(await lit.count()).toBeGreaterThan(0);
    expect(new Set(await lit.evaluateAll((els) => els.map((e) => e.getAttribute('data-cell'))))).toEqual(new Set(['0,0']));
    await screenshot(page(), '04-maze');
    expect(alice.errors).toEqual([]);
  });

  it('imports a model, runs it in the playground, and draws each head’s attention over the maze cells', async () => {
    await page().goto(`${base}/models`);
    await page().setInputFiles('input[name=model-file]', randomModelFile(server.dataDir));
    await page().fill('input[name=model-name]', 'random demo (untrained)');
    await page().click('button:has-text("Import")');
    await page().waitForURL(/\/models\/\d+$/);
    modelId = /\/models\/(\d+)/.exec(page().url())![1];
    await page().waitForSelector('th:text-is("n_layers")');
    expect(await page().textContent('th:text-is("n_layers") + td')).toBe('4');
    await screenshot(page(), '05-model');
    // Evaluated on the dataset's test split: each rate with its 95% interval, the table scrolling rather than clipping.
    await page().click('button:has-text("Evaluate")');
    await page().waitForSelector('[data-testid=evals] tbody tr', { timeout: 90_000 });
    expect(await page().locator('[data-testid=evals] thead th').allTextContents()).toContain('target_reached_rate');
    expect(await page().locator('[data-testid=evals] tbody tr').first().locator('.ci').first().textContent()).toMatch(/^\[\d\.\d\d, \d\.\d\d\]$/);
    // Wider than its card, it scrolls inside it (.scroll-x) instead of clipping the last columns.
    expect(await page().$eval('[data-testid=evals]', (t) => getComputedStyle(t.parentElement as HTMLElement).overflowX)).toBe('auto');

    await page().goto(`${base}/playground?model=${modelId}&maze=${mazeId}`);
    await page().click('[data-testid=run]:not([disabled])');
    await page().waitForSelector('[data-testid=head-grid] .head', { timeout: 60_000 });
    expect(await page().locator('[data-testid=head-grid] .head').count()).toBe(16); // 4 layers × 4 heads
    // A head's attention from one query position sums to 1 over all keys, cells and specials.
    const sum = await page()
      .locator('[data-head="0.0"] rect.cell')
      .evaluateAll((els) => els.reduce((s, e) => s + Number(e.getAttribute('data-attn')), 0));
    const off = Number((/(\d+)% off-cell/.exec((await page().textContent('[data-head="0.0"] header')) ?? '') ?? [])[1]);
    expect(sum).toBeGreaterThan(0);
    expect(sum + off / 100).toBeCloseTo(1, 1);
    expect(await page().locator('[data-testid=logit-lens] tbody tr').count()).toBe(4);
    expect(page().url()).toContain('run=1');
    // Each head's name opens its component page.
    expect(await page().getAttribute('[data-testid="head-page-0.1"]', 'href')).toBe(`/models/${modelId}/components/L0H1`);
    // One colour scale for every head: the faintest head's hottest cell is no longer drawn at full colour.
    // (The checkbox follows the URL, so it is clicked and the page awaited rather than `check`ed.)
    const hottestFill = () =>
      page().evaluate(() => {
        const heads = [...document.querySelectorAll('[data-testid=head-grid] .head')];
        const faint = heads.reduce((a, b) =>
          Number(a.querySelector('[data-max]')!.getAttribute('data-max')) <= Number(b.querySelector('[data-max]')!.getAttribute('data-max')) ? a : b,
        );
        const cells = [...faint.querySelectorAll<SVGRectElement>('rect.cell')];
        const top = cells.reduce((a, b) => (Number(a.getAttribute('data-attn')) >= Number(b.getAttribute('data-attn')) ? a : b));
        return top.style.fill;
      });
    const perHead = await hottestFill();
    const fillIsNot = (prev: string) =>
      page().waitForFunction((p) => {
        const heads = [...document.querySelectorAll('[data-testid=head-grid] .head')];
        const faint = heads.reduce((a, b) =>
          Number(a.querySelector('[data-max]')!.getAttribute('data-max')) <= Number(b.querySelector('[data-max]')!.getAttribute('data-max')) ? a : b,
        );
        const cells = [...faint.querySelectorAll<SVGRectElement>('rect.cell')];
        const top = cells.reduce((a, b) => (Number(a.getAttribute('data-attn')) >= Number(b.getAttribute('data-attn')) ? a : b));
        return top.style.fill !== p;
      }, prev);
    await page().click('input[name=shared-scale]');
    await page().waitForURL(/scale=shared/);
    await fillIsNot(perHead);
    expect(await page().isChecked('input[name=shared-scale]')).toBe(true);
    const shared = await hottestFill();
    await page().click('input[name=shared-scale]');
    await page().waitForURL((u) => !u.searchParams.has('scale') || u.searchParams.get('scale') === '');
    await fillIsNot(shared);
    expect(await hottestFill()).toBe(perHead);
    await page().click('button[aria-label="next step"]');
    await page().waitForURL(/pos=\d+/);
    await screenshot(page(), '06-playground');
    expect(alice.errors).toEqual([]);
  });

  it('edits a maze in the playground by clicking a wall, runs the model on the edited maze, and keeps the edit in a shareable URL', async () => {
    const tokens = (): Promise<string[]> => page().locator('[data-testid=tokens] span').allTextContents();
    // Is the edge a–b listed in the adjacency part of the sequence (either order)?
    const listsEdge = (t: string[], a: string, b: string): boolean =>
      t.slice(0, t.indexOf('<ADJLIST_END>')).some((x, i) => x === '<-->' && [t[i - 1], t[i + 1]].sort().join() === [a, b].sort().join());
    await page().goto(`${base}/playground?model=${modelId}&maze=${mazeId}`);
    await page().click('[data-testid=edit-maze]:not([disabled])');
    await page().waitForURL(/edit=\d+x\d+_/);
    await page().click('[data-testid=run]:not([disabled])');
    await page().waitForSelector('[data-testid=head-grid] .head', { timeout: 60_000 });
    const before = await tokens();
    const editBefore = new URL(page().url()).searchParams.get('edit');

    // Open a wall (closing a passage of a DFS maze could cut the target off, which the server refuses
    // and the Run button then waits on): the first closed edge (r,c)–(r,c+1), found from the prompt.
    let r = 0;
    while (listsEdge(before, `(${r},0)`, `(${r},1)`)) r++;
    const [a, b] = [`(${r},0)`, `(${r},1)`];
    // A click on the line between the two cells toggles that wall and drops the stale run.
    const box = (await page().locator(`[data-testid=maze-editor] rect.cell[data-cell="${r},0"]`).boundingBox())!;
    await page().mouse.click(box.x + box.width, box.y + box.height / 2);
    await page().waitForFunction((prev) => new URL(location.href).searchParams.get('edit') !== prev, editBefore);
    await page().waitForSelector('[data-testid=head-grid]', { state: 'detached' });
    await page().click('[data-testid=run]:not([disabled])');
    await page().waitForSelector('[data-testid=head-grid] .head', { timeout: 60_000 });
    const after = await tokens();
    // The model was prompted with the edited maze: the edge flipped, the prompt grew or shrank by
    // one adjacency entry ("a <--> b ;"), and the rest of the prompt (endpoints) is unchanged.
    expect(listsEdge(after, a, b)).toBe(true);
    const promptLen = (t: string[]): number => t.indexOf('<PATH_START>') + 1;
    expect(promptLen(after) - promptLen(before)).toBe(4);
    expect(after.slice(after.indexOf('<ADJLIST_END>'), promptLen(after))).toEqual(before.slice(before.indexOf('<ADJLIST_END>'), promptLen(before)));
    await screenshot(page(), '06b-playground-edited');

    // The URL restores the edited maze and its run.
    const shared = page().url();
    expect(shared).toContain('run=1');
    await page().goto(shared);
    await page().waitForSelector('[data-testid=head-grid] .head', { timeout: 60_000 });
    expect(await tokens()).toEqual(after);
    expect(alice.errors).toEqual([]);
    // Leave the stored maze's run open for the next test.
    await page().goto(`${base}/playground?model=${modelId}&maze=${mazeId}&run=1`);
    await page().waitForSelector('[data-testid=head-grid] .head', { timeout: 60_000 });
  });

  it('intervenes from the playground: zeroing the last residual changes the rollout beside the model’s own, the URL keeps it, and clearing undoes it', async () => {
    await page().goto(`${base}/playground?model=${modelId}&maze=${mazeId}&run=1`);
    await page().waitForSelector('[data-testid=head-grid] .head', { timeout: 60_000 });
    await page().selectOption('select[name=iv-hook]', 'blocks.3.hook_resid_post');
    await page().selectOption('select[name=iv-kind]', 'zero');
    await page().click('[data-testid=iv-add]');
    await page().waitForURL(/iv=/);
    await page().waitForSelector('[data-testid=intervened]', { timeout: 60_000 });
    expect(await page().textContent('[data-testid=iv-same]')).toBe('The rollout changed.');
    expect(await page().textContent('[data-testid=interventions] li code')).toBe('zero blocks.3.hook_resid_post (every position)');
    // A bad list entry is refused in the form, naming the field.
    await page().fill('input[name=iv-positions]', '5-x');
    await page().click('[data-testid=iv-add]');
    expect(await page().textContent('[data-testid=interventions] .error')).toBe('positions: "5-x" is not a number or a range a-b');
    await screenshot(page(), '06c-playground-intervened');
    // The URL reproduces the intervened run.
    const shared = page().url();
    await page().goto(shared);
    await page().waitForSelector('[data-testid=intervened]', { timeout: 60_000 });
    await page().click('[data-testid=iv-clear]');
    await page().waitForSelector('[data-testid=intervened]', { state: 'detached' });
    expect(new URL(page().url()).searchParams.get('iv') ?? '').toBe('');
    expect(alice.errors).toEqual([]);
    await page().goto(`${base}/playground?model=${modelId}&maze=${mazeId}&run=1`);
    await page().waitForSelector('[data-testid=head-grid] .head', { timeout: 60_000 });
  });

  it('annotates a head from the playground, and a colleague’s open findings page shows it, its comments and votes without reloading', async () => {
    await logIn(bob.page, base, BOB.name, BOB.password);
    await bob.page.goto(`${base}/findings?model=${modelId}`);
    await bob.page.waitForSelector('text=No findings yet for this model');

    await page().click('[data-testid="annotate-0.1"]');
    await page().waitForURL(/\/findings\?.*target=head%3A0\.1|\/findings\?.*target=head:0\.1/);
    await page().waitForSelector('[data-testid=annotation-form] .sub:text("head:0.1")');
    await page().fill('textarea[name=body]', 'L0H1 **copies the target** into `<PATH_START>`.\n\n<img src=x onerror="window.__pwned=1">');
    await page().fill('input[name=tags]', 'target, e2e');
    await page().click('button:has-text("Post finding")');
    await page().waitForSelector('article[data-annotation] strong:text("copies the target")');

    // Bob's page, never reloaded, shows it as it happens.
    const card = bob.page.locator('article[data-annotation]');
    await card.locator('strong:text("copies the target")').waitFor();
    expect(await card.locator('.target').textContent()).toBe('L0H1');
    expect(await card.locator('img').count()).toBe(0); // markdown is sanitised: raw HTML in a body is dropped, never rendered
    expect(await card.textContent()).not.toContain('onerror');
    expect(await bob.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await bob.page.textContent('[data-testid=feed]')).toContain('alice posted L0H1');
    const evidence = await card.locator('a:has-text("view")').getAttribute('href');
    expect(evidence).toContain(`/playground?model=${modelId}`); // reopens the exact view

    await card.locator('input[name=comment]').fill('Does it survive patching the target?');
    await card.locator('button:has-text("Comment")').click();
    await card.locator('button[aria-label="vote up"]').click();
    await page().locator('article[data-annotation] .comment:has-text("survive patching")').waitFor();
    await page().locator('article[data-annotation] [data-testid=score]:text-is("1")').waitFor();
    await screenshot(page(), '07-findings-alice');
    await screenshot(bob.page, '08-findings-bob');
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });

  it('edits a finding’s further targets in its card: they show, here and live on a colleague’s page, as links to their component pages; a bad entry is named and nothing is saved', async () => {
    await page().goto(`${base}/findings?model=${modelId}`);
    const id = await page()
      .locator('article[data-annotation]', { has: page().locator('strong:text("copies the target")') })
      .getAttribute('data-annotation');
    // By its id: while it is edited, the card shows the form instead of its body.
    const card = page().locator(`article[data-annotation="${id}"]`);
    const also = card.locator('a.target.also');
    expect(await also.count()).toBe(0);
    const version = async (): Promise<number> => Number(/edited \(v(\d+)\)/.exec((await card.locator('.head-line').textContent()) ?? '')?.[1] ?? 1);
    const before = await version();

    await card.locator('button:text-is("Edit")').click();
    const input = card.locator('input[name=edit-also-about]');
    expect(await input.inputValue()).toBe('');
    await input.fill('mlp:1, head:2.0');
    expect(await card.locator('[role=alert]').count()).toBe(0);
    await card.locator('form button:text-is("Save")').click();
    await input.waitFor({ state: 'detached' });
    await also.nth(1).waitFor();
    const shown = async (l: typeof also): Promise<Array<[string, string | null]>> =>
      l.evaluateAll((els) => els.map((e): [string, string | null] => [e.textContent ?? '', e.getAttribute('href')]));
    const expected: Array<[string, string]> = [
      ['MLP1', `/models/${modelId}/components/L1.mlp`],
      ['L2H0', `/models/${modelId}/components/L2H0`],
    ];
    expect(await shown(also)).toEqual(expected);
    expect(await also.evaluateAll((els) => els.map((e) => e.tagName))).toEqual(['A', 'A']);
    expect(await card.locator('.target:not(.also)').textContent()).toBe('L0H1'); // the main target is unchanged
    const after = await version();
    expect(after).toBe(before + 1);
    // Bob's findings page, open since the last test and never reloaded, shows the new targets live.
    const bobAlso = bob.page.locator(`article[data-annotation="${id}"] a.target.also`);
    await bobAlso.nth(1).waitFor();
    expect(await shown(bobAlso)).toEqual(expected);
    // The link opens the component's page.
    await also.first().click();
    await page().waitForURL(`${base}/models/${modelId}/components/L1.mlp`);
    await page().goBack();
    await card.waitFor();

    // A bad entry: the form names it with the hint, and Save sends nothing.
    const updates: string[] = [];
    const onRequest = (r: Request): void => {
      if (r.url().endsWith('/graphql') && (r.postData() ?? '').includes('UpdateAnnotation')) updates.push(r.postData() ?? '');
    };
    page().on('request', onRequest);
    await card.locator('button:text-is("Edit")').click();
    expect(await input.inputValue()).toBe('mlp:1, head:2.0'); // the stored targets, in the form they are typed
    await input.fill('mlp:1, banana, head:3.1');
    const hint = card.locator('form [role=alert]');
    await hint.waitFor();
    expect(await hint.textContent()).toBe(`“banana” is not a target: ${TARGET_LIST_HINT}`);
    await card.locator('form button:text-is("Save")').click();
    expect(await input.isVisible()).toBe(true); // the form stays open with the draft
    expect(await input.inputValue()).toBe('mlp:1, banana, head:3.1');
    expect(await hint.textContent()).toContain('“banana”');
    await screenshot(page(), '07b-findings-also-about');
    // Fixing the entry clears the hint.
    await input.fill('mlp:1, head:3.1');
    await hint.waitFor({ state: 'detached' });
    await card.locator('form button:text-is("Cancel")').click();
    await page().reload();
    await card.waitFor();
    await also.nth(1).waitFor();
    expect(await shown(also)).toEqual(expected);
    expect(await version()).toBe(after);
    page().off('request', onRequest);
    expect(updates).toEqual([]);
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });

  it('a circuit follows the other editor live; an edit made on a version not yet seen is refused with CONFLICT, shows the current circuit, and is re-applied so both survive', async () => {
    await page().goto(`${base}/models/${modelId}`);
    await page().fill('input[name=circuit-name]', 'e2e circuit');
    await page().click('button:has-text("Create")');
    await page().waitForURL(/\/circuits\/\d+$/);
    const circuitUrl = page().url();
    // Only its owner (and the editors they name, and admins) may change it: bob reads it until alice names him.
    await bob.page.goto(circuitUrl);
    await bob.page.waitForSelector('[data-testid=circuit-editors]:has-text("you can read it")');
    expect(await bob.page.locator('button:has-text("Add edge")').count()).toBe(0);
    await page().fill('input[name=circuit-editors]', 'bob');
    await page().click('button:has-text("Save editors")');
    await page().waitForSelector('[data-testid=circuit-editors]:has-text("alice (owner), bob")');
    await bob.page.waitForSelector('button:has-text("Add edge")'); // his view turns editable live
    // Bob's live updates pass through a route that can hold them, to stage a race below.
    let hold = false;
    const held: Array<() => void> = [];
    await bob.page.routeWebSocket(/\/graphql$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => (hold ? held.push(() => ws.send(m)) : ws.send(m)));
    });
    await bob.page.reload();
    await bob.page.waitForSelector('[data-testid=circuit-version]:text-is("1")');
    await page().waitForSelector('[data-testid=circuit-version]:text-is("1")');

    const addEdge = async (p: Page, from: string, to: string, label: string): Promise<void> => {
      await p.selectOption('select[name=edge-from]', from);
      await p.selectOption('select[name=edge-to]', to);
      await p.fill('input[name=edge-label]', label);
      await p.click('button:has-text("Add edge")');
    };
    await addEdge(page(), 'L0H1', 'L1H0', 'alice: moves target');
    await page().waitForSelector('[data-testid=circuit-version]:text-is("2")');
    // Bob sees alice's edit without reloading.
    await bob.page.waitForSelector('[data-testid=circuit-version]:text-is("2")');
    expect(await bob.page.textContent('[data-testid=edges]')).toContain('alice: moves target');

    // A race: alice edits again before bob's view hears of it, and bob's edit, made on version 2, is refused.
    hold = true;
    await addEdge(page(), 'L1H0', 'unembed', 'alice: writes the move');
    await page().waitForSelector('[data-testid=circuit-version]:text-is("3")');
    await addEdge(bob.page, 'embed', 'L0H1', 'bob: reads coordinates');
    await bob.page.waitForSelector('[data-testid=conflict]');
    expect(await bob.page.textContent('[data-testid=conflict]')).toContain('CONFLICT');
    expect(await bob.page.textContent('[data-testid=edges]')).toContain('alice: writes the move'); // the current state
    await screenshot(bob.page, '09-circuit-conflict');
    hold = false;
    for (const send of held.splice(0)) send(); // the late event (version 3) changes nothing now
    await bob.page.click('button:has-text("Re-apply my edit")');
    await bob.page.waitForSelector('[data-testid=circuit-version]:text-is("4")');
    const edges = await bob.page.textContent('[data-testid=edges]');
    expect(edges).toContain('alice: moves target');
    expect(edges).toContain('alice: writes the move');
    expect(edges).toContain('bob: reads coordinates');
    // And alice sees bob's edit live.
    await page().waitForSelector('[data-testid=circuit-version]:text-is("4")');
    expect(await page().textContent('[data-testid=edges]')).toContain('bob: reads coordinates');
    await screenshot(bob.page, '10-circuit');
    // The circuits index (in the nav) lists it with its model and editors, and links back to it.
    await bob.page.click('nav >> text=Circuits');
    await bob.page.waitForSelector('[data-testid=circuits] >> text=e2e circuit');
    expect(await bob.page.textContent('[data-testid=circuits]')).toContain('alice, bob');
    await bob.page.click('[data-testid=circuits] >> text=e2e circuit');
    await bob.page.waitForURL(circuitUrl);
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });

  it('a weighed circuit draws each edge as thick as its weight, names the weight in its tooltip and the edges table, and keeps the weights through an edit in the page', async () => {
    // The page offers no weight field (weights come from experiments), so the circuit is made through the page's own API.
    const made = await page().evaluate(async (model) => {
      interface Made {
        id: string;
        version: number;
        graph: { nodes: unknown[] };
      }
      const call = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
        const r = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await r.json()) as { data?: T; errors?: Array<{ message: string }> };
        if (body.errors?.length || !body.data) throw new Error(body.errors?.map((e) => e.message).join('; ') ?? 'no data');
        return body.data;
      };
      const c = (
        await call<{ createCircuit: Made }>(
          'mutation($m: ID!, $n: String!) { createCircuit(modelId: $m, name: $n) { id version graph { nodes { id label kind layer head } } } }',
          { m: `Model:${model}`, n: 'e2e weighed circuit' },
        )
      ).createCircuit;
      const u = (
        await call<{ updateCircuit: Made }>(
          'mutation($id: ID!, $v: Int!, $g: CircuitGraphInput) { updateCircuit(id: $id, version: $v, graph: $g) { id version graph { nodes { id } } } }',
          {
            id: c.id,
            v: c.version,
            g: {
              nodes: c.graph.nodes,
              edges: [
                { from: 'L0H1', to: 'L1H0', label: 'weak link', weight: 0.2 },
                { from: 'L1H0', to: 'unembed', label: 'strong link', weight: 1.0 },
              ],
            },
          },
        )
      ).updateCircuit;
      return { id: String(u.id), version: Number(u.version) };
    }, modelId);
    expect(made.version).toBe(2);
    await page().goto(`${base}/circuits/${made.id.replace(/^Circuit:/, '')}`);
    await page().waitForSelector('[data-testid=circuit-version]:text-is("2")');
    const weak = page().locator('[data-testid=circuit-diagram] path[data-edge="L0H1->L1H0"]');
    const strong = page().locator('[data-testid=circuit-diagram] path[data-edge="L1H0->unembed"]');
    await strong.waitFor({ state: 'attached' }); // a straight edge has a flat box, which Playwright counts as not visible
    const drawn = async (l: typeof weak): Promise<{ attr: number; css: number; weight: string | null; title: string }> =>
      l.evaluate((e) => ({
        attr: Number(e.getAttribute('stroke-width')),
        css: Number.parseFloat(getComputedStyle(e).strokeWidth),
        weight: e.getAttribute('data-weight'),
        title: e.querySelector('title')?.textContent ?? '',
      }));
    const w = await drawn(weak);
    const s = await drawn(strong);
    // Thickness grows with |weight|: the heavier edge is drawn wider, as set and as rendered.
    expect(w.attr).toBeGreaterThan(0);
    expect(s.attr).toBeGreaterThan(w.attr);
    expect(s.css).toBeGreaterThan(w.css);
    expect(w.css).toBeCloseTo(w.attr, 5);
    expect([w.weight, s.weight]).toEqual(['0.2', '1']);
    // Each edge's weight is named in its tooltip and in the edges table.
    expect(w.title).toBe('L0H1 → L1H0: weak link (weight 0.200)');
    expect(s.title).toBe('L1H0 → unembed: strong link (weight 1.00)');
    const rows = await page()
      .locator('[data-testid=edges] tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.querySelector('td.mono')?.textContent ?? '', tr.querySelector('[data-testid=edge-weight]')?.textContent ?? '']),
      );
    expect(rows).toEqual([
      ['L0H1 → L1H0', '0.200'],
      ['L1H0 → unembed', '1.00'],
    ]);
    await screenshot(page(), '10b-circuit-weights');

    // An edge added in the page is unweighed (drawn plain) and leaves the others' weights and widths as they were.
    await page().selectOption('select[name=edge-from]', 'embed');
    await page().selectOption('select[name=edge-to]', 'L0H1');
    await page().fill('input[name=edge-label]', 'reads the maze');
    await page().click('button:has-text("Add edge")');
    await page().waitForSelector('[data-testid=circuit-version]:text-is("3")');
    const plain = page().locator('[data-testid=circuit-diagram] path[data-edge="embed->L0H1"]');
    await plain.waitFor({ state: 'attached' });
    const p = await drawn(plain);
    expect(p.weight).toBeNull();
    expect(p.title).toBe('embed → L0H1: reads the maze');
    expect(await drawn(weak)).toEqual(w);
    expect(await drawn(strong)).toEqual(s);
    await page().reload();
    await page().waitForSelector('[data-testid=circuit-version]:text-is("3")');
    await strong.waitFor({ state: 'attached' });
    expect(await drawn(weak)).toEqual(w);
    expect(await drawn(strong)).toEqual(s);
    expect(alice.errors).toEqual([]);
  });

  it('a model trained from the form appears in the models list when its job ends, without a reload', async () => {
    await page().goto(`${base}/models`);
    await page().waitForSelector('input[name=train-name]');
    await page().fill('input[name=train-name]', 'e2e nano run');
    await page().selectOption('select[name=train-preset]', 'nano');
    await page().fill('input[name=train-steps]', '3');
    await page().click('button:has-text("Start training")');
    await page().waitForURL(/job=\d+/);
    await page().waitForSelector('table a:text-is("e2e nano run")', { timeout: 30_000 });
    expect(alice.errors).toEqual([]);
  });

  it("the demo searcher's page shows the evaluation made during its training beside the evaluations table's rows", async () => {
    await page().goto(`${base}/models`);
    await page().click('table a:has-text("searcher:")');
    await page().waitForURL(/\/models\/\d+$/);
    await page().waitForSelector('[data-testid=evals] tbody tr');
    const label = await page().locator('[data-testid=evals] tbody tr td:first-child', { hasText: 'during training' }).first().textContent();
    expect(label).toMatch(/^model · during training \(step \d+\)$/);
    // The heuristic baseline of that evaluation beside it (read back from the run's log).
    const step = /step (\d+)/.exec(label!)![1];
    const baseline = page().locator('[data-testid=evals] tbody tr', { hasText: `baseline · during training (step ${step})` });
    expect(await baseline.count()).toBe(1);
    const column = (await page().locator('[data-testid=evals] thead th').allTextContents()).indexOf('exact_path_rate');
    expect(column).toBeGreaterThan(0);
    expect(await baseline.locator('td').nth(column).textContent()).toMatch(/^0\.\d+/);
    expect(alice.errors).toEqual([]);
  });
});
