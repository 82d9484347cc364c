import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { PRESETS } from '../../server/model/config.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { CREATE_DATASET, type Harness, startHarness } from './helpers.js';

let h: Harness;
const clients: Client[] = [];
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await h?.close();
});

function wsClient(token: string | null, extra: { headers?: Record<string, string> } = {}): Client {
  const url = h.server.graphqlUrl.replace(/^http/, 'ws');
  class HeaderWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: extra.headers });
    }
  }
  const c = createClient({
    url,
    webSocketImpl: HeaderWebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(c);
  return c;
}

/**
 * Collects every `next` payload of one subscription until it completes, errors or `until` holds;
 * `values` is the live array, so a test can wait for one event before causing the next.
 */
function collect<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  until?: (v: T) => boolean,
): Promise<{ values: T[]; errors: unknown[] }> & { values: T[] } {
  const values: T[] = [];
  const errors: unknown[] = [];
  const done = new Promise<{ values: T[]; errors: unknown[] }>((resolve) => {
    const dispose = client.subscribe<T>(
      { query, variables },
      {
        next: (v) => {
          if (v.errors) errors.push(...v.errors);
          if (v.data) values.push(v.data as T);
          if (v.data && until?.(v.data as T)) {
            dispose();
            resolve({ values, errors });
          }
        },
        error: (e) => {
          errors.push(e);
          resolve({ values, errors });
        },
        complete: () => resolve({ values, errors }),
      },
    );
  });
  return Object.assign(done, { values });
}

/** Resolves once `values` holds `n` entries. */
async function untilCount(values: unknown[], n: number): Promise<void> {
  while (values.length < n) await new Promise((r) => setTimeout(r, 10));
}

describe('subscriptions over graphql-ws on /graphql', () => {
  it('jobProgress streams a createDataset job from its current state through progress to COMPLETED, then ends', async () => {
    const job = (await h.gql(CREATE_DATASET, { input: { name: 'watched', generator: 'dfs', grid: 6, count: 5000, seed: 11 } })).data.createDataset;
    type P = { jobProgress: { id: string; status: string; progress: { done?: number; total?: number } | null } };
    const { values, errors } = await collect<P>(
      wsClient(h.tokens.viewer),
      'subscription($id: ID!) { jobProgress(id: $id) { id status progress { phase done total } } }',
      { id: job.id },
    );
    expect(errors).toEqual([]);
    const statuses = values.map((v) => v.jobProgress.status);
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(statuses).toContain('RUNNING');
    const done = values.map((v) => v.jobProgress.progress?.done ?? 0);
    // Progress only moves forward and ends at the total.
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(done.at(-1)).toBe(5000);
    expect(
      values.some((v) => v.jobProgress.status === 'RUNNING' && (v.jobProgress.progress?.done ?? 0) > 0 && (v.jobProgress.progress?.done ?? 0) < 5000),
    ).toBe(true);
  });

  it('a subscription without credentials is refused with UNAUTHENTICATED', async () => {
    const { values, errors } = await collect(wsClient(null), 'subscription { jobProgress(id: "Job:1") { id } }', {});
    expect(values).toEqual([]);
    expect(JSON.stringify(errors)).toMatch(/UNAUTHENTICATED/);
  });

  it('a WebSocket handshake from a foreign Origin is refused (browsers attach cookies cross-site: WebSocket hijacking)', async () => {
    const c = wsClient(h.tokens.viewer, { headers: { origin: 'http://evil.example' } });
    const { values, errors } = await collect(c, 'subscription { jobProgress(id: "Job:1") { id } }', {});
    expect(values).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
  });

  it("annotationEvents delivers a colleague's new annotation and comment as they happen", async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), n_ctx: 64, tokenizer: 'aotp-ut' };
    const bytes = encodeModel(cfg, initWeights(cfg, new Rng(1)), [...tok.vocab(3)]);
    const model = (await h.gql('mutation($b: String!) { importModel(name: "nano", base64: $b) { id } }', { b: Buffer.from(bytes).toString('base64') })).data
      .importModel;
    type E = { annotationEvents: { kind: string; annotation: { body: string }; comment: { body: string } | null; actor: { name: string } } };
    const sub = collect<E>(
      wsClient(h.tokens.viewer),
      'subscription($m: ID!) { annotationEvents(modelId: $m) { kind annotation { body } comment { body } actor { name } } }',
      { m: model.id },
      (v) => v.annotationEvents.kind === 'COMMENTED',
    );
    // graphql-ws subscribes asynchronously: publish until the subscriber is listening.
    const topic = `annotations:${model.id.split(':')[1]}`;
    while (h.server.app.pubsub.listenerCount(topic) === 0) await new Promise((r) => setTimeout(r, 10));
    const a = (
      await h.gql('mutation($m: ID!) { createAnnotation(input: {modelId: $m, target: {head: {layer: 1, head: 0}}, body: "attends to the target"}) { id } }', {
        m: model.id,
      })
    ).data.createAnnotation;
    await h.gql('mutation($a: ID!) { addComment(annotationId: $a, body: "seen it too") { id } }', { a: a.id }, h.tokens.admin);
    const { values, errors } = await sub;
    expect(errors).toEqual([]);
    expect(values.map((v) => v.annotationEvents.kind)).toEqual(['CREATED', 'COMMENTED']);
    expect(values[0].annotationEvents).toMatchObject({ annotation: { body: 'attends to the target' }, actor: { name: 'rosalind' } });
    expect(values[1].annotationEvents).toMatchObject({ comment: { body: 'seen it too' }, actor: { name: 'ada' } });
  });

  it('annotationEvents reads each event fresh: later events show the comments and score as they are then, not as first loaded', async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), n_ctx: 64, tokenizer: 'aotp-ut' };
    const bytes = encodeModel(cfg, initWeights(cfg, new Rng(2)), [...tok.vocab(3)]);
    const model = (await h.gql('mutation($b: String!) { importModel(name: "nano-fresh", base64: $b) { id } }', { b: Buffer.from(bytes).toString('base64') }))
      .data.importModel;
    type E = { annotationEvents: { kind: string; annotation: { score: number; comments: Array<{ body: string }> } } };
    const sub = collect<E>(
      wsClient(h.tokens.viewer),
      'subscription($m: ID!) { annotationEvents(modelId: $m) { kind annotation { score comments { body } } } }',
      { m: model.id },
      (v) => v.annotationEvents.kind === 'VOTED',
    );
    const topic = `annotations:${model.id.split(':')[1]}`;
    while (h.server.app.pubsub.listenerCount(topic) === 0) await new Promise((r) => setTimeout(r, 10));
    const a = (
      await h.gql('mutation($m: ID!) { createAnnotation(input: {modelId: $m, target: {mlp: {layer: 0}}, body: "MLP0 writes the next cell"}) { id } }', {
        m: model.id,
      })
    ).data.createAnnotation;
    // Each event is read when it is delivered, so the next change waits for it (on PostgreSQL,
    // delivery goes through LISTEN/NOTIFY and CI once saw CREATED arrive after the comment).
    await untilCount(sub.values, 1);
    await h.gql('mutation($a: ID!) { addComment(annotationId: $a, body: "replicated on 5x5") { id } }', { a: a.id }, h.tokens.admin);
    await untilCount(sub.values, 2);
    await h.gql('mutation($a: ID!) { vote(annotationId: $a, value: 1) { id } }', { a: a.id }, h.tokens.admin);
    const { values, errors } = await sub;
    expect(errors).toEqual([]);
    expect(
      values.map((v) => [v.annotationEvents.kind, v.annotationEvents.annotation.comments.map((c) => c.body), v.annotationEvents.annotation.score]),
    ).toEqual([
      ['CREATED', [], 0],
      ['COMMENTED', ['replicated on 5x5'], 0],
      ['VOTED', ['replicated on 5x5'], 1],
    ]);
    // Unsubscribing closes the per-event stream and with it the topic listener (no leak).
    while (h.server.app.pubsub.listenerCount(topic) > 0) await new Promise((r) => setTimeout(r, 10));
  });

  it('circuitChanged delivers the circuit after each edit by anyone (graph, then editors) to every viewer; an unknown circuit ends with NOT_FOUND', async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), n_ctx: 64, tokenizer: 'aotp-ut' };
    const model = (
      await h.gql('mutation($b: String!) { importModel(name: "nano-circuit", base64: $b) { id } }', {
        b: Buffer.from(encodeModel(cfg, initWeights(cfg, new Rng(4)), [...tok.vocab(3)])).toString('base64'),
      })
    ).data.importModel;
    const c = (
      await h.gql('mutation($m: ID!) { createCircuit(modelId: $m, name: "live", graph: {nodes: [{id: "L0H0"}, {id: "L1H1"}], edges: []}) { id version } }', {
        m: model.id,
      })
    ).data.createCircuit;
    type E = { circuitChanged: { version: number; graph: { edges: Array<{ label: string | null }> }; editors: Array<{ name: string }> } };
    const sub = collect<E>(
      wsClient(h.tokens.viewer),
      'subscription($id: ID!) { circuitChanged(id: $id) { version graph { edges { label } } editors { name } } }',
      { id: c.id },
      (v) => v.circuitChanged.editors.length > 0,
    );
    const topic = `circuits:${c.id.split(':')[1]}`;
    while (h.server.app.pubsub.listenerCount(topic) === 0) await new Promise((r) => setTimeout(r, 10));
    const edit = await h.gql(
      'mutation($id: ID!) { updateCircuit(id: $id, version: 1, graph: {nodes: [{id: "L0H0"}, {id: "L1H1"}], edges: [{from: "L0H0", to: "L1H1", label: "moves"}]}) { version } }',
      { id: c.id },
    );
    expect(edit.errors).toBeUndefined();
    await untilCount(sub.values, 1);
    // A stale edit is refused and publishes nothing.
    const stale = await h.gql('mutation($id: ID!) { updateCircuit(id: $id, version: 1, name: "stale") { version } }', { id: c.id });
    expect(stale.errors?.[0].extensions?.code).toBe('CONFLICT');
    await h.gql('mutation($id: ID!) { setCircuitEditors(id: $id, names: ["ada"]) { version } }', { id: c.id });
    const { values, errors } = await sub;
    expect(errors).toEqual([]);
    expect(
      values.map((v) => [v.circuitChanged.version, v.circuitChanged.graph.edges.map((e) => e.label), v.circuitChanged.editors.map((e) => e.name)]),
    ).toEqual([
      [2, ['moves'], []],
      [2, ['moves'], ['ada']],
    ]);

    const gone = await collect<E>(wsClient(h.tokens.viewer), 'subscription { circuitChanged(id: "Circuit:9999") { version } }', {});
    expect(JSON.stringify(gone.errors)).toMatch(/Circuit:9999 not found/);
  });

  it('a subscription whose token is revoked ends with UNAUTHENTICATED at its next event instead of delivering it', async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), n_ctx: 64, tokenizer: 'aotp-ut' };
    const model = (
      await h.gql('mutation($b: String!) { importModel(name: "nano-revoke", base64: $b) { id } }', {
        b: Buffer.from(encodeModel(cfg, initWeights(cfg, new Rng(3)), [...tok.vocab(3)])).toString('base64'),
      })
    ).data.importModel;
    const made = (await h.gql('mutation { createApiToken(name: "for-a-notebook") { token apiToken { id } } }', {}, h.tokens.viewer)).data.createApiToken;
    type E = { annotationEvents: { kind: string; annotation: { body: string } } };
    const values: E[] = [];
    const errors: unknown[] = [];
    let firstSeen!: () => void;
    const first = new Promise<void>((r) => (firstSeen = r));
    const done = new Promise<void>((resolve) => {
      wsClient(made.token).subscribe<E>(
        { query: 'subscription($m: ID!) { annotationEvents(modelId: $m) { kind annotation { body } } }', variables: { m: model.id } },
        {
          next: (v) => {
            if (v.errors) errors.push(...v.errors);
            if (v.data) {
              values.push(v.data as E);
              firstSeen();
            }
          },
          error: (e) => {
            errors.push(e);
            resolve();
          },
          complete: () => resolve(),
        },
      );
    });
    const topic = `annotations:${model.id.split(':')[1]}`;
    while (h.server.app.pubsub.listenerCount(topic) === 0) await new Promise((r) => setTimeout(r, 10));
    const a = (
      await h.gql('mutation($m: ID!) { createAnnotation(input: {modelId: $m, target: {head: {layer: 0, head: 1}}, body: "before"}) { id } }', { m: model.id })
    ).data.createAnnotation;
    await first; // delivered while the token was valid
    expect((await h.gql('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', { id: made.apiToken.id }, h.tokens.viewer)).errors).toBeUndefined();
    await h.gql('mutation($a: ID!) { addComment(annotationId: $a, body: "after revocation") { id } }', { a: a.id });
    await done; // completes: the stream ended
    expect(values.map((v) => v.annotationEvents.annotation.body)).toEqual(['before']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      message: expect.stringMatching(/no longer valid \(revoked, expired or signed out\)/),
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect(h.server.app.pubsub.listenerCount(topic)).toBe(0);
  });
});
