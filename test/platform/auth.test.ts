import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens } from '../../server/db/schema.js';
import { codes, CREATE_DATASET, type Harness, sqlRows, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ rateLimit: { burst: 3, perMinute: 0.001 } });
});
afterAll(async () => h?.close());

const DS = { name: 'auth', generator: 'dfs', grid: 3, count: 2, seed: 1 };

describe('authentication', () => {
  it('me is null without credentials, and every other operation answers UNAUTHENTICATED', async () => {
    expect((await h.gql('{ me { id } }', {}, null)).data).toEqual({ me: null });
    for (const q of ['{ datasets { totalCount } }', '{ jobs { totalCount } }', '{ models { totalCount } }', '{ job(id: "Job:1") { id } }']) {
      expect(codes(await h.gql(q, {}, null)), q).toEqual(['UNAUTHENTICATED']);
    }
    expect(codes(await h.gql(CREATE_DATASET, { input: DS }, null))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await h.gql('{ datasets { totalCount } }', {}, 'sl_not-a-real-token'))).toEqual(['UNAUTHENTICATED']);
  });

  it('a bearer token identifies its user, and only its sha256 is stored', async () => {
    const r = await h.gql('{ me { id name role } }', {}, h.tokens.viewer);
    expect(r.data.me).toMatchObject({ name: 'victor', role: 'VIEWER' });
    const stored = await h.server.app.handle.db.select().from(apiTokens);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    for (const t of Object.values(h.tokens)) {
      expect(stored.some((s) => s.tokenHash === t || s.tokenHash.includes(t))).toBe(false);
      expect(stored.some((s) => /^[0-9a-f]{64}$/.test(s.tokenHash))).toBe(true);
    }
  });

  it('password login sets an httpOnly session cookie that authenticates later requests; logout ends it', async () => {
    const bad = await h.gql('mutation { login(name: "ada", password: "wrong password") { id } }', {}, null);
    expect(codes(bad)).toEqual(['UNAUTHENTICATED']);
    const res = await fetch(h.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { login(name: "ada", password: "correct horse battery") { name role } }' }),
    });
    expect((await res.json()).data.login).toEqual({ name: 'ada', role: 'ADMIN' });
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/searchlight_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
    const cookie = setCookie.split(';')[0];
    const me = await h.gql('{ me { name } }', {}, null, { cookie });
    expect(me.data.me).toEqual({ name: 'ada' });
    await h.gql('mutation { logout }', {}, null, { cookie });
    expect((await h.gql('{ me { name } }', {}, null, { cookie })).data.me).toBeNull();
  });

  it('a revoked API token stops working', async () => {
    const made = await h.gql('mutation { createApiToken(name: "script") { token apiToken { id prefix revoked } } }', {}, h.tokens.viewer);
    const { token, apiToken } = made.data.createApiToken;
    expect(token.startsWith(apiToken.prefix)).toBe(true);
    expect((await h.gql('{ me { name } }', {}, token)).data.me.name).toBe('victor');
    await h.gql('mutation($id: ID!) { revokeApiToken(id: $id) { revoked } }', { id: apiToken.id }, h.tokens.viewer);
    expect((await h.gql('{ me { name } }', {}, token)).data.me).toBeNull();
  });

  it('a token made with expiresInDays works until then and is refused after; a lifetime out of range is BAD_USER_INPUT', async () => {
    const made = (await h.gql('mutation { createApiToken(name: "notebook", expiresInDays: 7) { token apiToken { id expiresAt } } }', {}, h.tokens.viewer)).data
      .createApiToken;
    const expires = Date.parse(made.apiToken.expiresAt);
    expect(Math.abs(expires - (Date.now() + 7 * 86_400_000))).toBeLessThan(60_000);
    expect((await h.gql('{ me { name } }', {}, made.token)).data.me.name).toBe('victor');
    // Its time comes (moved into the past rather than waiting a week).
    await sqlRows(h.server.app.handle, 'UPDATE api_tokens SET expires_at = ? WHERE id = ?', Date.now() - 1, Number(made.apiToken.id.split(':')[1]));
    expect((await h.gql('{ me { name } }', {}, made.token)).data.me).toBeNull();
    const bad = await h.gql('mutation { createApiToken(name: "forever", expiresInDays: 0) { token } }', {}, h.tokens.viewer);
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0].message).toBe('expiresInDays must be an integer between 1 and 3650, got 0');
  });
});

describe('authorization by role', () => {
  it('viewers read but may not create, run, annotate or manage users (FORBIDDEN, nothing written)', async () => {
    expect(codes(await h.gql('{ datasets { totalCount } }', {}, h.tokens.viewer))).toEqual([]);
    expect(codes(await h.gql(CREATE_DATASET, { input: DS }, h.tokens.viewer))).toEqual(['FORBIDDEN']);
    expect(codes(await h.gql('mutation { createUser(input: {name: "x", role: VIEWER}) { token } }', {}, h.tokens.viewer))).toEqual(['FORBIDDEN']);
    expect(
      codes(await h.gql('mutation { createAnnotation(input: {modelId: "Model:1", target: {embed: true}, body: "x"}) { id } }', {}, h.tokens.viewer)),
    ).toEqual(['FORBIDDEN']);
    expect((await h.gql('{ jobs { totalCount } }', {}, h.tokens.viewer)).data.jobs.totalCount).toBe(0);
  });

  it('researchers may not manage users; admins may', async () => {
    expect(codes(await h.gql('{ users { name } }', {}, h.tokens.researcher))).toEqual(['FORBIDDEN']);
    const made = await h.gql(
      'mutation { createUser(input: {name: "grace", role: RESEARCHER, password: "compiler1952"}) { user { name role } token } }',
      {},
      h.tokens.admin,
    );
    expect(made.data.createUser.user).toEqual({ name: 'grace', role: 'RESEARCHER' });
    expect((await h.gql('{ me { name } }', {}, made.data.createUser.token)).data.me.name).toBe('grace');
    const all = await h.gql('{ users { name } }', {}, h.tokens.admin);
    expect(all.data.users.map((u: { name: string }) => u.name)).toEqual(['ada', 'rosalind', 'victor', 'grace']);
  });

  it('only the creator of a job or an admin may cancel it', async () => {
    const job = (await h.gql(CREATE_DATASET, { input: { ...DS, count: 1 } }, h.tokens.researcher)).data.createDataset;
    const other = (await h.gql('mutation { createUser(input: {name: "mallory", role: RESEARCHER}) { token } }', {}, h.tokens.admin)).data.createUser.token;
    expect(codes(await h.gql('mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: job.id }, other))).toEqual(['FORBIDDEN']);
    expect(codes(await h.gql('mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: job.id }, h.tokens.viewer))).toEqual(['FORBIDDEN']);
  });

  it('compute mutations are rate-limited per user (RATE_LIMITED with a retry hint), other users unaffected', async () => {
    // burst 3 in this harness; the previous test used one of the researcher's.
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await h.gql(CREATE_DATASET, { input: DS }, h.tokens.researcher));
    const limited = results.find((r) => codes(r).includes('RATE_LIMITED'));
    expect(limited?.errors?.[0].extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect(codes(await h.gql(CREATE_DATASET, { input: DS }, h.tokens.admin))).toEqual([]);
  });
});
