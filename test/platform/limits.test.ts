import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { parse } from 'graphql/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_COST, MAX_DOCUMENT_TOKENS, operationCost } from '../../server/graphql/limits.js';
import { type Harness, codes, startHarness } from './helpers.js';

let h: Harness;
let ws: Client;
beforeAll(async () => {
  h = await startHarness();
  ws = createClient({
    url: h.server.graphqlUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${h.tokens.viewer}` },
    retryAttempts: 0,
    lazy: true,
  });
});
afterAll(async () => {
  await ws?.dispose();
  await h?.close();
});

// The findings page's query, with the page size as a variable (web/lib/fragments.ts' ANNOTATION_FIELDS).
const FIELDS =
  'id target { kind layer head neuron hook position experimentId } body status tags evidence { label url } version createdAt updatedAt score myVote author { id name } comments { id body createdAt author { name } }';
const FINDINGS = `query Findings($modelId: ID!, $n: Int) { annotations(modelId: $modelId, first: $n) { totalCount edges { node { ${FIELDS} } } } }`;
const literal = (n: number) => `query Findings($modelId: ID!) { annotations(modelId: $modelId, first: ${n}) { totalCount edges { node { ${FIELDS} } } } }`;

describe("the web app's own operations", () => {
  it('each costs less than the limit at the page sizes it asks for (CI once saw the findings page refused when a field was added)', async () => {
    // Every document of web/**/*.queries.ts (where the web app's operations live).
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && e.name !== 'node_modules' && e.name !== '.next') walk(p);
        else if (e.name.endsWith('.queries.ts')) files.push(p);
      }
    };
    walk(fileURLToPath(new URL('../../web', import.meta.url)));
    const ops: Record<string, unknown> = {};
    for (const f of files) Object.assign(ops, await import(f));
    const over: string[] = [];
    let measured = 0;
    for (const [name, text] of Object.entries(ops)) {
      if (typeof text !== 'string' || !/^\s*(query|mutation|subscription)\b/.test(text)) continue;
      // A page size sent as a variable is the caller's choice (measured at send time); literal and default ones are fixed here.
      if (/first:\s*\$/.test(text)) continue;
      const c = operationCost(h.server.schema, parse(text), undefined, {});
      measured++;
      if (c && c.cost >= MAX_COST) over.push(`${name} ${c.cost}`);
    }
    expect(measured).toBeGreaterThan(40);
    expect(over).toEqual([]);
  });
});

describe('query cost uses the actual values of variables', () => {
  it('a variable `first` costs exactly what the same literal costs; an omitted one costs the schema default (20)', () => {
    const schema = h.server.schema;
    const byVar = (n: number | undefined) => operationCost(schema, parse(FINDINGS), undefined, { modelId: 'Model:1', ...(n === undefined ? {} : { n }) })!.cost;
    const byLit = (n: number) => operationCost(schema, parse(literal(n)), undefined, { modelId: 'Model:1' })!.cost;
    expect(byVar(20)).toBe(byLit(20));
    expect(byVar(100)).toBe(byLit(100));
    expect(byVar(undefined)).toBe(byLit(20));
    expect(byVar(20)).toBeLessThan(MAX_COST);
    expect(byVar(500)).toBeGreaterThan(MAX_COST); // the largest page of this query really is too expensive
  });

  it('the SAE fields are priced as the work they do: one latent page is cheap, a page of experiments each with one is refused', () => {
    const schema = h.server.schema;
    const cost = (q: string) => operationCost(schema, parse(q), undefined, {})!.cost;
    const one = cost('{ experiment(id: "Experiment:1") { saeFeature(latent: 0) { latent } saeFeaturesFor(property: "cell", category: "(0,0)") { latent } } }');
    expect(one).toBeGreaterThanOrEqual(1_200);
    expect(one).toBeLessThan(MAX_COST);
    expect(cost('{ experiments(first: 100) { edges { node { saeFeature(latent: 0) { latent } } } } }')).toBeGreaterThan(MAX_COST);
    expect(cost('{ experiments(first: 20) { edges { node { saeActivations(tokens: "a") { position } } } } }')).toBeGreaterThan(MAX_COST);
  });

  it('over HTTP, the findings query with `first: $n` runs for an ordinary page size (it used to be priced as 500 items)', async () => {
    const r = await h.gql(FINDINGS, { modelId: 'Model:1', n: 20 }, h.tokens.viewer);
    expect(r.errors).toBeUndefined();
    expect(r.data.annotations).toEqual({ totalCount: 0, edges: [] });
    const omitted = await h.gql(FINDINGS, { modelId: 'Model:1' }, h.tokens.viewer);
    expect(omitted.errors).toBeUndefined();
  });

  it('over HTTP, the same query asking for a large page through the variable is still refused before running (400, BAD_USER_INPUT)', async () => {
    const res = await fetch(h.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.tokens.viewer}` },
      body: JSON.stringify({ query: FINDINGS, variables: { modelId: 'Model:1', n: 500 } }),
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(codes(body)).toEqual(['BAD_USER_INPUT']);
    expect(body.errors[0].message).toMatch(/^operation Findings may cost \d+ \(fields × page sizes\); the limit is 50000/);
    expect(body.errors[0].extensions).toMatchObject({ limit: 'cost', maxCost: MAX_COST });
    expect(body.errors[0].extensions).not.toHaveProperty('http');
    expect(body.data).toBeUndefined();
  });

  it("over WebSocket, the same limits apply with the variables' values", async () => {
    const run = (n: number) =>
      new Promise<{ data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> }>((resolve, reject) => {
        let out: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } = {};
        ws.subscribe(
          { query: FINDINGS, variables: { modelId: 'Model:1', n } },
          {
            next: (v) => {
              out = v as typeof out;
            },
            error: (e) => (Array.isArray(e) ? resolve({ errors: e }) : reject(e)),
            complete: () => resolve(out),
          },
        );
      });
    const ok = await run(20);
    expect(ok.errors).toBeUndefined();
    expect(ok.data).toEqual({ annotations: { totalCount: 0, edges: [] } });
    const refused = await run(500);
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors?.[0].message).toMatch(/may cost \d+ .*the limit is 50000/);
    expect(refused.errors?.[0].extensions).not.toHaveProperty('http');
  });
});

describe('limits that cost nothing to check (issue 16)', () => {
  /** `levels` fragments, each spreading the one below `spreads` times: 10^levels expansions if each spread were walked anew. */
  const nested = (spreads: number, levels: number): string => {
    const frags = [`fragment F0 on User { id name }`];
    for (let l = 1; l <= levels; l++) frags.push(`fragment F${l} on User { ${Array.from({ length: spreads }, () => `...F${l - 1}`).join(' ')} }`);
    return `query Nested { me { ...F${levels} } } ${frags.join(' ')}`;
  };

  it('fragments are measured once per document: 10 spreads × 20 levels is priced (10^20 expansions) and refused without a token', async () => {
    // Expanded spread by spread this would never finish; memoised it is a few hundred steps.
    const r = operationCost(h.server.schema, parse(nested(10, 20)), undefined, {})!;
    expect(r.cost).toBeGreaterThan(1e19);
    const res = await fetch(h.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: nested(10, 20) }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].message).toMatch(/^operation Nested may cost .* the limit is 50000/);
    // The same shape kept small runs: fragments still work.
    const ok = await h.gql(nested(2, 3), {}, h.tokens.viewer);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.me.name).toBeTruthy();
  });

  it('introspection is inside the cost limit: one schema answer is allowed, a thousand aliased copies are not', async () => {
    const one = await h.gql('{ __schema { queryType { name } } }', {}, h.tokens.viewer);
    expect(one.data.__schema.queryType.name).toBe('Query');
    const many = `{ ${Array.from({ length: 1000 }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }`;
    const res = await fetch(h.server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: many }) });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.errors[0].message).toMatch(/may cost 5000000 .*the limit is 50000/);
    expect(body.data).toBeUndefined();
  });

  it('a document over the token limit is refused by the parser, over HTTP and WebSocket alike', async () => {
    const big = `{ ${Array.from({ length: MAX_DOCUMENT_TOKENS }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    const res = await fetch(h.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.tokens.viewer}` },
      body: JSON.stringify({ query: big }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].message).toMatch(/Document contains more th[ae][nt] 10000 tokens/);
    const viaWs = await new Promise<{ errors?: Array<{ message: string }> }>((resolve, reject) => {
      let result: { errors?: Array<{ message: string }> } = {};
      ws.subscribe(
        { query: big },
        {
          next: (r) => (result = r as never),
          error: (e) => resolve({ errors: Array.isArray(e) ? e : [e as { message: string }] }),
          complete: () => resolve(result),
        },
      );
      setTimeout(() => reject(new Error('no answer over WebSocket')), 4000);
    });
    expect(viaWs.errors?.[0].message).toMatch(/Document contains more th[ae][nt] 10000 tokens/);
  });

  it('without a valid token the body may hold 64 KiB, refused from the headers before it is read; signed in, the usual limit', async () => {
    const body = JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(100_000)}` });
    for (const authorization of [undefined, 'Bearer not-a-token']) {
      const res = await fetch(h.server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body,
      });
      expect(res.status).toBe(413);
      expect((await res.json()).errors[0].message).toMatch(/request body is \d+ bytes; the limit is 65536/);
    }
    const signedIn = await h.gql(`{ me { name } } # ${'x'.repeat(100_000)}`, {}, h.tokens.viewer);
    expect(signedIn.data.me.name).toBe('victor');
  });

  it('with anonymousIntrospection off (the production default) only signed-in callers may introspect', async () => {
    const g = await startHarness({ anonymousIntrospection: false });
    try {
      const ask = (token: string | null) => g.gql('{ __schema { queryType { name } } }', {}, token);
      const anon = await ask(null);
      expect(codes(anon)).toEqual(['UNAUTHENTICATED']);
      expect(anon.errors![0].message).toBe('introspection needs a signed-in caller on this server');
      expect((await ask(g.tokens.viewer)).data.__schema.queryType.name).toBe('Query');
      expect((await g.gql('{ me { name } }', {}, null)).data.me).toBeNull(); // other anonymous queries still answer
    } finally {
      await g.close();
    }
  });
});
