import fs from 'node:fs';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../../server/model/npy.js';
import { PRESETS } from '../../server/model/config.js';
import { decodeModel, encodeModel, initWeights } from '../../server/model/weights.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { codes, CREATE_DATASET, type Harness, sqlCount, sqlRows, startHarness, waitForJob } from './helpers.js';

let h: Harness;
let modelBytes: Uint8Array;
let modelId: string;
let mazeId: string;
let mazeTokens: string;
beforeAll(async () => {
  h = await startHarness();
  const tok = getTokenizer('aotp-ut');
  const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(4), n_ctx: 128, tokenizer: 'aotp-ut' };
  modelBytes = encodeModel(cfg, initWeights(cfg, new Rng(3), { scale: 4 }), [...tok.vocab(4)]);
  const job = (await h.gql(CREATE_DATASET, { input: { name: 'fours', generator: 'dfs', grid: 4, count: 3, seed: 2 } })).data.createDataset;
  const done = await waitForJob(h, job.id);
  const m = (await h.gql('query($id: ID!) { dataset(id: $id) { mazes(first: 1) { edges { node { id tokens } } } } }', { id: done.result.datasetId })).data
    .dataset.mazes.edges[0].node;
  mazeId = m.id;
  mazeTokens = m.tokens;
});
afterAll(async () => h?.close());

const auth = () => ({ authorization: `Bearer ${h.tokens.researcher}` });

describe('models: import and download', () => {
  it('importModel (base64) stores the file and a checkpoint with its sha256; bad files are BAD_USER_INPUT with nothing written', async () => {
    const r = await h.gql(
      'mutation($b: String!) { importModel(name: "nano", base64: $b) { id name status config { d_model n_layers n_heads d_head d_mlp d_vocab n_ctx act_fn eps tokenizer } vocab parameterCount lineage { source jobId datasetId trainMazes seed preset ignoredTensors metadataKeys } checkpoints { id step sha256 bytes downloadUrl } } }',
      { b: Buffer.from(modelBytes).toString('base64') },
    );
    expect(r.errors).toBeUndefined();
    const m = r.data.importModel;
    modelId = m.id;
    expect(m).toMatchObject({ name: 'nano', status: 'READY', config: { d_model: 8, n_layers: 2 }, lineage: { source: 'import' } });
    expect(m.vocab.slice(0, 3)).toEqual(['<ADJLIST_START>', '<ADJLIST_END>', '<TARGET_START>']);
    expect(m.checkpoints).toHaveLength(1);
    expect(m.checkpoints[0].sha256).toBe(crypto.createHash('sha256').update(modelBytes).digest('hex'));

    const before = await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM models');
    const bad = await h.gql('mutation($b: String!) { importModel(name: "junk", base64: $b) { id } }', {
      b: Buffer.from('definitely not safetensors').toString('base64'),
    });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0].message).toMatch(/not a valid model file/);
    expect(codes(await h.gql('mutation { importModel(name: "x", base64: "@@@") { id } }'))).toEqual(['BAD_USER_INPUT']);
    expect(await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM models')).toBe(before);
  });

  it('checkpoints download as .safetensors (same bytes, sha256 header) and single tensors as .npy, with the API credentials', async () => {
    const url = `${h.server.url}/files/checkpoints/${modelId.split(':')[1]}.safetensors`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: auth() });
    expect(res.status).toBe(200);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(Buffer.compare(Buffer.from(body), Buffer.from(modelBytes))).toBe(0);
    expect(res.headers.get('x-content-sha256')).toBe(crypto.createHash('sha256').update(body).digest('hex'));
    const head = await fetch(url, { method: 'HEAD', headers: auth() });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(modelBytes.length);
    expect(head.headers.get('x-content-sha256')).toBe(res.headers.get('x-content-sha256'));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const npy = await fetch(`${h.server.url}/files/checkpoints/${modelId.split(':')[1]}/blocks.0.attn.W_Q.npy`, { headers: auth() });
    const arr = decodeNpy(new Uint8Array(await npy.arrayBuffer()));
    expect(arr.shape).toEqual([2, 8, 4]); // [n_heads, d_model, d_head]
    expect(Array.from(arr.data)).toEqual(Array.from(decodeModel(modelBytes).weights.get('blocks.0.attn.W_Q')!));
    expect((await fetch(`${h.server.url}/files/checkpoints/999.safetensors`, { headers: auth() })).status).toBe(404);
    // A malformed %-escape is the client's error: 400 with a message, not a 500.
    const bad = await fetch(`${h.server.url}/files/checkpoints/1/%E0%A4%A.npy`, { headers: auth() });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/malformed %-escape in the path segment/);
  });

  it('POST /upload/model imports a raw safetensors body (researcher role, octet-stream only)', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${h.server.url}/upload/model?name=raw-nano`, { method: 'POST', headers, body: Buffer.from(modelBytes) });
    expect((await post({ 'content-type': 'application/octet-stream' })).status).toBe(401);
    expect((await post({ 'content-type': 'application/octet-stream', authorization: `Bearer ${h.tokens.viewer}` })).status).toBe(403);
    expect((await post({ 'content-type': 'text/plain', ...auth() })).status).toBe(415);
    const ok = await post({ 'content-type': 'application/octet-stream', ...auth() });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ name: 'raw-nano', status: 'READY', config: { d_model: 8 } });
  });
});

describe('inference', () => {
  const FORWARD =
    'mutation($m: ID!, $t: String!, $h: [String!], $k: Int) { runForward(modelId: $m, tokens: $t, hooks: $h, topK: $k) { nextToken topK { token id logit prob } cacheId cacheUrl } }';

  it('runForward predicts the next token with top-k probabilities', async () => {
    const prompt = mazeTokens.slice(0, mazeTokens.indexOf('<PATH_START>') + '<PATH_START>'.length);
    const r = await h.gql(FORWARD, { m: modelId, t: prompt, k: 3 });
    expect(r.errors).toBeUndefined();
    const f = r.data.runForward;
    expect(f.topK).toHaveLength(3);
    expect(f.nextToken).toBe(f.topK[0].token);
    expect(f.topK[0].logit).toBeGreaterThanOrEqual(f.topK[1].logit);
    expect(f.topK.reduce((s: number, t: { prob: number }) => s + t.prob, 0)).toBeLessThanOrEqual(1 + 1e-6);
    expect(f.cacheId).toBeNull();
  });

  it('with hooks it stores a content-addressed activation cache: a repeat is served from it, and each hook downloads as .npy', async () => {
    const hooks = ['blocks.0.hook_resid_pre', 'blocks.1.attn.hook_pattern'];
    const a = (await h.gql(FORWARD, { m: modelId, t: mazeTokens, h: hooks })).data.runForward;
    expect(a.cacheId).toMatch(/^[0-9a-f]{64}$/);
    const b = (await h.gql(FORWARD, { m: modelId, t: mazeTokens, h: [...hooks].reverse() })).data.runForward;
    expect(b).toEqual(a);
    expect(await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM activation_caches')).toBe(1);
    const T = mazeTokens.split(' ').length;
    const pattern = decodeNpy(
      new Uint8Array(await (await fetch(`${h.server.url}/files/caches/${a.cacheId}/blocks.1.attn.hook_pattern.npy`, { headers: auth() })).arrayBuffer()),
    );
    expect(pattern.shape).toEqual([1, 2, T, T]); // [batch, head, query_pos, key_pos]
    // Attention patterns are causal softmaxes: each row sums to 1.
    let row = 0;
    for (let k = 0; k < T; k++) row += pattern.data[k];
    expect(row).toBeCloseTo(1, 5);
    expect((await fetch(`${h.server.url}${a.cacheUrl}`, { headers: auth() })).status).toBe(200);
  });

  it('activation caches are evicted least recently used first once they exceed SEARCHLIGHT_CACHE_MAX_BYTES (the newest always stays)', async () => {
    const rows = () =>
      sqlRows<{ key: string; path: string; bytes: number }>(
        h.server.app.handle,
        'SELECT key, path, bytes FROM activation_caches ORDER BY coalesce(last_used_at, created_at)',
      );
    const run = async (hook: string) => (await h.gql(FORWARD, { m: modelId, t: mazeTokens, h: [hook] })).data.runForward.cacheId as string;
    const first = await run('blocks.0.hook_resid_post');
    const one = (await rows()).find((r) => r.key === first)!;
    expect(fs.existsSync(`${h.dataDir}/${one.path}`)).toBe(true);
    const prev = process.env.SEARCHLIGHT_CACHE_MAX_BYTES;
    process.env.SEARCHLIGHT_CACHE_MAX_BYTES = String(2 * one.bytes + 10); // room for about two such caches
    try {
      await new Promise((r) => setTimeout(r, 5)); // distinct last-used times
      const second = await run('blocks.1.hook_resid_post');
      await new Promise((r) => setTimeout(r, 5));
      const third = await run('blocks.0.hook_resid_mid');
      const kept = await rows();
      expect(kept.map((r) => r.key)).toContain(third);
      expect(kept.map((r) => r.key)).toContain(second);
      expect(kept.map((r) => r.key)).not.toContain(first);
      expect(kept.reduce((n, r) => n + r.bytes, 0)).toBeLessThanOrEqual(2 * one.bytes + 10);
      expect(fs.existsSync(`${h.dataDir}/${one.path}`)).toBe(false);
      // Asked again, an evicted cache is simply recomputed.
      expect(await run('blocks.0.hook_resid_post')).toBe(first);
    } finally {
      if (prev === undefined) delete process.env.SEARCHLIGHT_CACHE_MAX_BYTES;
      else process.env.SEARCHLIGHT_CACHE_MAX_BYTES = prev;
    }
  });

  it('bad token sequences and hook names are BAD_USER_INPUT naming what was wrong and where', async () => {
    const r = await h.gql(FORWARD, { m: modelId, t: '<ADJLIST_START> (0,0) <--> (9,9)' });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(/token 3: "\(9,9\)" is not in the vocabulary/);
    // The mistake's kind, as the core named it where it found it, for clients that branch on it.
    expect(r.errors![0].extensions!.reason).toBe('TOKEN_OUTSIDE_VOCABULARY');
    const hk = await h.gql(FORWARD, { m: modelId, t: '<ADJLIST_START>', h: ['blocks.7.hook_resid_pre'] });
    expect(codes(hk)).toEqual(['BAD_USER_INPUT']);
    expect(hk.errors![0].message).toMatch(/^runForward: unknown hook "blocks.7.hook_resid_pre"/);
    expect(hk.errors![0].extensions!.reason).toBe('UNKNOWN_HOOK');
    const long = await h.gql(FORWARD, { m: modelId, t: Array(129).fill('<ADJLIST_START>').join(' ') });
    expect(long.errors![0]).toMatchObject({
      message: "runForward: 129 tokens exceed the model's context of 128",
      extensions: { code: 'BAD_USER_INPUT', reason: 'SEQUENCE_TOO_LONG' },
    });
    expect(codes(await h.gql(FORWARD, { m: 'Model:999', t: '<ADJLIST_START>' }))).toEqual(['NOT_FOUND']);
    expect(codes(await h.gql(FORWARD, { m: modelId, t: '<ADJLIST_START>' }, h.tokens.viewer))).toEqual(['FORBIDDEN']);
  });

  it('generatePath decodes greedily from the maze prompt and scores the prediction with the maze metrics', async () => {
    const r = await h.gql(
      'mutation($m: ID!, $z: ID!) { generatePath(modelId: $m, mazeId: $z) { tokens path metrics { exact_path valid_rollout target_reached node_overlap fork_decisions { correct total } predicted_length steps ended } } }',
      { m: modelId, z: mazeId },
    );
    expect(r.errors).toBeUndefined();
    const g = r.data.generatePath;
    const prompt = mazeTokens.slice(0, mazeTokens.indexOf('<PATH_START>') + '<PATH_START>'.length);
    expect(g.tokens.startsWith(`${prompt} `)).toBe(true); // the same seeded adjacency order as Maze.tokens
    expect(g.tokens.split(' ').length).toBeGreaterThan(prompt.split(' ').length);
    expect(g.metrics).toHaveProperty('exact_path');
    expect(g.metrics).toHaveProperty('fork_decisions');
    expect(Array.isArray(g.path)).toBe(true);
  });
});
