/**
 * Experiments through the API against a real server: a small random-weight model imported with
 * importModel; runExperiment validates on the API thread (BAD_USER_INPUT naming the field, nothing
 * written; FORBIDDEN for viewers), runs the kind in a job, and stores summary and tensors that the
 * API and the /files routes serve (sha256-checked, equal to a direct run of the kind), the summary
 * typed per kind as Experiment.result; cancelling removes what an attempt wrote and keeps the
 * experiment as CANCELLED.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, asc, eq } from 'drizzle-orm';
import { decodeMaze } from '../../server/db/mazes.js';
import { experiments, mazes as mazesTable } from '../../server/db/schema.js';
import { type ExperimentSummary, type StoredSae, type SummaryOf, createInterpModel, kindNames, runExperiment } from '../../server/interp/index.js';
import { jumpReluSaeLens, storedSae } from '../interp/helpers.js';
import { paramsInputField } from '../../server/graphql/experiment-params.js';
import { EXPERIMENT_PARAMS } from '../../web/lib/generated/params.js';
import { type GraphQLObjectType, getNamedType, isObjectType } from 'graphql/index.js';
import { loadSchema } from '../../schema/codegen.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { PRESETS } from '../../server/model/config.js';
import { decodeNpy } from '../../server/model/npy.js';
import { decodeSafetensors } from '../../server/model/safetensors.js';
import { parseSaeLens } from '../../server/interp/sae/format.js';
import { activate, preActivations } from '../../server/interp/sae/sae.js';
import { decodeModel, encodeModel, initWeights } from '../../server/model/weights.js';
import { codes, CREATE_DATASET, type Harness, sqlCount, sqlOne, sqlRows, startHarness, waitForJob } from './helpers.js';

const GRID = 3;
let h: Harness;
let modelBytes: Uint8Array;
let modelId: string;
let datasetId: string;

const RUN = `mutation($modelId: ID!, $params: ExperimentParamsInput!, $datasetId: ID, $seed: Int) {
  runExperiment(modelId: $modelId, params: $params, datasetId: $datasetId, seed: $seed) {
    id kind status params { __typename ... on ExperimentJobParams { kind experimentId modelId checkpointId seed datasetId split params { __typename ${EXPERIMENT_PARAMS} } } }
  }
}`;
const EXPERIMENT = `query($id: ID!) { experiment(id: $id) {
  id kind params { __typename ${EXPERIMENT_PARAMS} } seed status error result { __typename } downloadUrl mazeSvg(cellSize: 20) createdAt
  tensors { name dtype shape bytes sha256 downloadUrl }
  job { id status result { experimentId kind tensors } } model { id } checkpoint { id sha256 } dataset { id } createdBy { name }
} }`;

const counts = async () => ({
  jobs: await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM jobs'),
  experiments: await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM experiments'),
});
const get = (url: string, token = h.tokens.researcher) => fetch(`${h.server.url}${url}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/** ExperimentParamsInput running `kind` with `params` (in the API's spelling). */
const input = (kind: string, params: unknown) => ({ [paramsInputField(kind)]: params });

/** The job, with its experiment's row id (ExperimentJobParams.experimentId is the global id). */
async function run(kind: string, params: unknown, extra: Record<string, unknown> = {}) {
  const r = await h.gql(RUN, { modelId, params: input(kind, params), ...extra });
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  const job = r.data.runExperiment as { id: string; kind: string; status: string; params: { __typename: string; experimentId: string } };
  expect(job.params.__typename).toBe('ExperimentJobParams');
  return { ...job, params: { ...job.params, experimentId: Number(job.params.experimentId.split(':')[1]) } };
}

/** What the experiment row stores: the params as run and the summary, as the kind wrote them. */
async function stored(experimentId: number): Promise<{ params: Record<string, unknown>; summary: ExperimentSummary | null }> {
  const [row] = await h.server.app.handle.db.select().from(experiments).where(eq(experiments.id, experimentId));
  return { params: row.params as Record<string, unknown>, summary: row.summary as ExperimentSummary | null };
}

async function runToEnd(kind: string, params: unknown, extra: Record<string, unknown> = {}) {
  const job = await run(kind, params, extra);
  const done = await waitForJob(h, job.id);
  expect(done.status, done.error ?? '').toBe('COMPLETED');
  const e = (await h.gql(EXPERIMENT, { id: `Experiment:${job.params.experimentId}` })).data.experiment;
  return { job, done, e, row: await stored(job.params.experimentId) };
}

beforeAll(async () => {
  h = await startHarness();
  const tok = getTokenizer('aotp-ut');
  const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(GRID), n_ctx: 128, tokenizer: 'aotp-ut' };
  modelBytes = encodeModel(cfg, initWeights(cfg, new Rng(5), { scale: 3 }), [...tok.vocab(GRID)]);
  const m = await h.gql('mutation($b: String!) { importModel(name: "random nano", base64: $b) { id } }', { b: Buffer.from(modelBytes).toString('base64') });
  modelId = m.data.importModel.id;
  const ds = await waitForJob(
    h,
    (await h.gql(CREATE_DATASET, { input: { name: 'threes', generator: 'dfs', grid: GRID, count: 12, seed: 4, testFraction: 0.5 } })).data.createDataset.id,
  );
  datasetId = ds.result.datasetId;
});
afterAll(async () => h?.close());

describe('experiments API', () => {
  it("experimentKinds lists the fifteen kinds with their params; with a model the defaults are that model's", async () => {
    const r = await h.gql(
      `query($m: ID) { experimentKinds(modelId: $m) { kind describe paramsType inputField params { name type doc enum choices defaultDoc hasDefault }
        defaults { __typename ${EXPERIMENT_PARAMS} } } }`,
      { m: modelId },
    );
    expect(r.errors).toBeUndefined();
    type Listed = { kind: string; describe: string; paramsType: string; inputField: string; defaults: Record<string, unknown> | null };
    const kinds = r.data.experimentKinds as Array<
      Listed & { params: Array<{ name: string; enum: string | null; choices: string[] | null; defaultDoc: string | null }> }
    >;
    expect(kinds.map((k) => k.kind)).toEqual([
      'attention',
      'logit-lens',
      'dla',
      'activation-patching',
      'attribution-patching',
      'path-patching',
      'geometry',
      'probes',
      'weights',
      'adjacency-heads',
      'retarget',
      'behavior',
      'lookahead',
      'sae',
      'sae-intervention',
    ]);
    const attention = kinds.find((k) => k.kind === 'attention')!;
    expect(attention.describe).toMatch(/Attention patterns/);
    expect(attention).toMatchObject({ paramsType: 'AttentionParams', inputField: 'attention' });
    // Every default filled in for this model: the vocabulary covers 3×3, nano has 2 layers.
    expect(attention.defaults).toEqual({
      __typename: 'AttentionParams',
      generator: 'dfs',
      grid: GRID,
      count: 1,
      p: null,
      layers: [0, 1],
      query: 'path_start',
      patterns: true,
    });
    expect(attention.params.find((p) => p.name === 'layers')?.defaultDoc).toBe('every layer');
    // Choices as the API spells them (the enum's values), the enum named.
    const pair = kinds.find((k) => k.kind === 'activation-patching')!.params.find((p) => p.name === 'pair')!;
    expect(pair).toMatchObject({ enum: 'PairKind', choices: ['target', 'origin', 'add_wall_on', 'add_wall_off', 'remove_wall_on', 'remove_wall_off'] });
    expect(kinds.find((k) => k.kind === 'logit-lens')!.inputField).toBe('logitLens');
    // Without a model there are no concrete defaults to give.
    const generic = (await h.gql('{ experimentKinds { kind defaults { __typename } params { name defaultDoc hasDefault } } }')).data.experimentKinds;
    const genericAttention = generic.find((k: { kind: string }) => k.kind === 'attention');
    expect(genericAttention.defaults).toBeNull();
    expect(genericAttention.params.find((p: { name: string }) => p.name === 'layers')).toEqual({ name: 'layers', defaultDoc: 'every layer', hasDefault: true });
    expect(genericAttention.params.find((p: { name: string }) => p.name === 'p')).toEqual({ name: 'p', defaultDoc: null, hasDefault: false });
    // Bounds for the web form: fixed ones always, model-dependent ones (the last layer) only with a model.
    const bounds = async (m: string | null) =>
      (await h.gql('query($m: ID) { experimentKinds(modelId: $m) { kind params { name min max } } }', { m })).data.experimentKinds
        .find((k: { kind: string }) => k.kind === 'attention')
        .params.filter((p: { name: string }) => p.name === 'layers' || p.name === 'count');
    expect(await bounds(null)).toEqual([
      { name: 'count', min: 1, max: 100000 },
      { name: 'layers', min: 0, max: null },
    ]);
    expect((await bounds(modelId)).find((p: { name: string }) => p.name === 'layers')).toEqual({ name: 'layers', min: 0, max: 1 }); // the nano model's last layer
  });

  it('runs attention: the experiment exists from the start, completes, and serves its summary, tensors and maze', async () => {
    const job = await run('attention', { count: 2 }, { seed: 7 });
    expect(job.kind).toBe('experiment');
    const id = `Experiment:${job.params.experimentId}`;
    const early = (await h.gql(EXPERIMENT, { id })).data.experiment;
    expect(early).toMatchObject({ kind: 'attention', seed: 7, job: { id: job.id }, model: { id: modelId }, createdBy: { name: 'rosalind' } });
    // As run, typed by the kind (p unset: null).
    expect(early.params).toEqual({
      __typename: 'AttentionParams',
      generator: 'dfs',
      grid: GRID,
      count: 2,
      p: null,
      layers: [0, 1],
      query: 'path_start',
      patterns: true,
    });
    if (early.status !== 'COMPLETED') expect(early).toMatchObject({ result: null, tensors: [], downloadUrl: null });

    const done = await waitForJob(h, job.id);
    expect(done.status, done.error ?? '').toBe('COMPLETED');
    expect(done.result).toMatchObject({ experimentId: id, kind: 'attention' });
    const e = (await h.gql(EXPERIMENT, { id })).data.experiment;
    expect(e.status).toBe('COMPLETED');
    const row = await stored(job.params.experimentId);
    expect(row.summary).toMatchObject({ kind: 'attention', mazes: 2, layers: [0, 1], query_token: '<PATH_START>', grid: [GRID, GRID] });
    expect(e.result).toEqual({ __typename: 'AttentionSummary' });
    const byName = new Map<string, { shape: number[]; sha256: string; bytes: number; downloadUrl: string; dtype: string }>(
      e.tensors.map((t: { name: string }) => [t.name, t]),
    );
    expect([...byName.keys()]).toEqual(['tokens', 'cell_of_position', 'cells', 'other', 'pattern', 'class_mass']);
    expect(byName.get('cells')!.shape).toEqual([2, 2, GRID, GRID]); // [layer, head, row, col]
    expect(byName.get('cells')!.dtype).toBe('float32');
    expect(e.checkpoint.sha256).toBe(sha(modelBytes));
    // The maze the overlay refers to, drawn from the stored tokens.
    expect(e.mazeSvg).toMatch(/^<svg[^>]*data-rows="3"[^>]*data-cols="3"/);

    // One tensor as .npy: the stored file, its sha256 in the header and in the API.
    const res = await get(byName.get('cells')!.downloadUrl);
    expect(res.status).toBe(200);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(res.headers.get('x-content-sha256')).toBe(sha(body));
    expect(sha(body)).toBe(byName.get('cells')!.sha256);
    expect(body.length).toBe(byName.get('cells')!.bytes);
    const cells = decodeNpy(body);
    expect(cells.shape).toEqual([2, 2, GRID, GRID]);
    // Each head's attention from the query sums to 1 over cells and non-cell tokens.
    const other = decodeNpy(new Uint8Array(await (await get(byName.get('other')!.downloadUrl)).arrayBuffer()));
    for (let lh = 0; lh < 4; lh++) {
      const s = Array.from(cells.data.subarray(lh * 9, lh * 9 + 9)).reduce((a, b) => a + b, 0) + other.data[lh];
      expect(s).toBeCloseTo(1, 4);
    }
    // The whole result as .safetensors: every tensor, same values, provenance in the metadata.
    const all = await get(e.downloadUrl);
    expect(all.status).toBe(200);
    const st = decodeSafetensors(new Uint8Array(await all.arrayBuffer()));
    expect([...st.tensors.keys()].sort()).toEqual([...byName.keys()].sort());
    expect(Array.from(st.tensors.get('cells')!.data)).toEqual(Array.from(cells.data));
    expect(st.metadata).toMatchObject({ experiment: id, kind: 'attention', seed: '7', model: modelId, checkpoint_sha256: sha(modelBytes) });
    expect(JSON.parse(st.metadata.params)).toEqual(row.params);
    // Authorized like the field: any signed-in user (a viewer too), nobody anonymous.
    expect((await get(e.downloadUrl, h.tokens.viewer)).status).toBe(200);
    expect((await get(e.downloadUrl, '')).status).toBe(401);
    expect((await get(`/files/experiments/${job.params.experimentId}/nope.npy`)).status).toBe(404);
    // Files on disk match their rows.
    for (const row of await sqlRows<{ path: string; sha256: string }>(
      h.server.app.handle,
      'SELECT path, sha256 FROM results WHERE experiment_id = ?',
      job.params.experimentId,
    )) {
      expect(sha(fs.readFileSync(path.join(h.dataDir, row.path)))).toBe(row.sha256);
    }
  });

  it("runs logit-lens on a dataset's test split; the stored tensors equal a direct run of the kind with the same params and seed", async () => {
    const { e, row } = await runToEnd('logit-lens', { count: 4, detail: 1 }, { datasetId, seed: 3 });
    expect(e.dataset).toEqual({ id: datasetId });
    expect(e.params).toMatchObject({ __typename: 'LogitLensParams', generator: 'dfs', grid: GRID, count: 4, topK: 5, detail: 1 });
    expect(row.params).toEqual({ generator: 'dfs', grid: GRID, count: 4, topK: 5, detail: 1 });
    expect(row.summary).toMatchObject({ kind: 'logit-lens', mazes: 4 });
    expect((row.summary as SummaryOf<'logit-lens'>).layers.map((l) => l.layer)).toEqual(['resid_pre 0', 'resid_pre 1', 'resid_post 1']);
    expect(e.mazeSvg).toContain('<svg');

    // The same mazes (the dataset's test split, in order), model and seed, run in this process.
    const rows = await h.server.app.handle.db
      .select()
      .from(mazesTable)
      .where(and(eq(mazesTable.datasetId, Number(datasetId.split(':')[1])), eq(mazesTable.split, 'test')))
      .orderBy(asc(mazesTable.idx))
      .limit(4);
    const mazes = rows.map((r) => decodeMaze(r));
    const loaded = decodeModel(modelBytes);
    const model = createInterpModel({ cfg: loaded.cfg, weights: loaded.weights, vocab: loaded.vocab! }, { threads: 1 });
    try {
      const direct = await runExperiment('logit-lens', { model, seed: 3, mazes: { mazes } }, row.params);
      for (const name of ['accuracy', 'correct_prob', 'maze0.rank']) {
        const t = e.tensors.find((x: { name: string }) => x.name === name);
        const served = decodeNpy(new Uint8Array(await (await get(t.downloadUrl)).arrayBuffer()));
        const want = direct.tensors.find((x) => x.name === name)!;
        expect(served.shape).toEqual(want.shape);
        expect(Array.from(served.data)).toEqual(Array.from(want.data));
      }
    } finally {
      await model.dispose();
    }
  });

  it('serves each summary typed as Experiment.result (one member per kind), equal to the summary the kind stored', async () => {
    // Full selections of three members; the stored summary is the JSON they must agree with.
    const TYPED = `query($id: ID!) { experiment(id: $id) { kind result { __typename
      ... on AttentionSummary { kind mazes layers query query_position query_token grid tokens classes max_row_sum_error top_cells { layer head cell mass } }
      ... on DlaSummary { kind mazes components classes counts { fork corridor start end } mean_logit_diff { fork corridor start end }
        top_at_forks { component mean } top_at_corridors { component mean } max_sum_error }
      ... on PathPatchingSummary { kind pair receivers { kind layer heads inputs } freeze skipped_mazes strongest { layer head effect }
        pairs { change length decision_path_index changed_positions good bad clean_logit_diff corrupt_logit_diff } }
    } } }`;
    const typed = async (kind: string, params: unknown) => {
      const job = await run(kind, params);
      const done = await waitForJob(h, job.id);
      expect(done.status, done.error ?? '').toBe('COMPLETED');
      const r = await h.gql(TYPED, { id: `Experiment:${job.params.experimentId}` });
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      const { summary } = await stored(job.params.experimentId);
      return {
        ...(r.data.experiment as { kind: string; result: Record<string, unknown> & { __typename: string } }),
        summary: summary as unknown as Record<string, unknown>,
      };
    };

    // A numeric query: the JSON keeps the number, the typed field (a String) its digits.
    const att = await typed('attention', { count: 1, query: '5', patterns: false });
    expect(att.summary.query).toBe(5);
    expect(att.result).toEqual({ __typename: 'AttentionSummary', ...att.summary, query: '5' });
    expect(att.result.top_cells).toHaveLength(2 * 2); // nano: 2 layers × 2 heads

    // Per-class objects: one field per class, the same numbers as the JSON's keys.
    const dla = await typed('dla', { count: 2, detail: 0 });
    expect(dla.result).toEqual({ __typename: 'DlaSummary', ...dla.summary });
    expect(Object.keys(dla.result.counts as object)).toEqual(['fork', 'corridor', 'start', 'end']);

    // receivers: JSON {layer, heads, inputs}; typed, one object that names its kind.
    const pp = await typed('path-patching', { count: 2, receivers: 'heads', receiverLayer: 1, receiverHeads: [0], receiverInputs: ['q', 'k'] });
    expect(pp.summary.receivers).toEqual({ layer: 1, heads: [0], inputs: ['q', 'k'] });
    expect(pp.result).toEqual({ __typename: 'PathPatchingSummary', ...pp.summary, receivers: { kind: 'heads', layer: 1, heads: [0], inputs: ['q', 'k'] } });
    expect((pp.result.pairs as unknown[]).length).toBeGreaterThan(0);

    // The untyped `summary` is gone: `result` is the one way to read it.
    const intro = await h.gql('{ __type(name: "Experiment") { fields(includeDeprecated: true) { name isDeprecated } } }');
    const fields = intro.data.__type.fields as Array<{ name: string; isDeprecated: boolean }>;
    expect(fields.find((f) => f.name === 'summary')).toBeUndefined();
    expect(fields.find((f) => f.name === 'result')?.isDeprecated).toBe(false);
  });

  it("serves an SAE in SAELens' layout (sae_weights.safetensors and cfg.json) and each latent's feature page data", async () => {
    const { job, e } = await runToEnd('sae', { count: 3, steps: 6, batch: 32, buffer: 256, expansion: 2, k: 3, classes: ['sep', 'adj_cell'] });
    const id = job.params.experimentId;
    const cfgRes = await get(`/files/experiments/${id}/sae/cfg.json`);
    expect(cfgRes.status).toBe(200);
    const cfg = await cfgRes.json();
    expect(cfg).toMatchObject({
      architecture: 'topk',
      d_in: 8,
      d_sae: 16,
      k: 3,
      dtype: 'float32',
      apply_b_dec_to_input: true,
      normalize_activations: 'none',
      hook_name: 'blocks.0.hook_resid_post',
      hook_layer: 0,
      activation_fn_str: 'topk',
      activation_fn_kwargs: { k: 3 },
      context_size: 128,
      model_name: 'random nano',
      metadata: {
        hook_name: 'blocks.0.hook_resid_post',
        model_name: 'random nano',
        searchlight: { experiment: `Experiment:${id}`, token_classes: ['sep', 'adj_cell'] },
      },
    });
    const st = decodeSafetensors(new Uint8Array(await (await get(`/files/experiments/${id}/sae/sae_weights.safetensors`)).arrayBuffer()));
    expect([...st.tensors.keys()].sort()).toEqual(['W_dec', 'W_enc', 'b_dec', 'b_enc']);
    expect(st.tensors.get('W_enc')!.shape).toEqual([8, 16]);
    expect(st.tensors.get('W_dec')!.shape).toEqual([16, 8]);
    for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec']) {
      const t = e.tensors.find((x: { name: string }) => x.name === name);
      const npy = decodeNpy(new Uint8Array(await (await get(t.downloadUrl)).arrayBuffer()));
      expect(Array.from(st.tensors.get(name)!.data)).toEqual(Array.from(npy.data));
    }
    // The feature page's data: a latent that fires, with its examples drawn on their mazes.
    const FEATURE = `query($id: ID!, $l: Int!) { experiment(id: $id) { saeFeature(latent: $l, examples: 3) {
      latent density meanActivation maxActivation histogram { from to count }
      examples { maze position activation token tokens activations svg(cellSize: 20) }
      logitsUp { token weight } logitsDown { token weight } neighbours { latent cosine } encodes { property category auc } } } }`;
    const density = decodeNpy(
      new Uint8Array(await (await get(e.tensors.find((x: { name: string }) => x.name === 'feature_density').downloadUrl)).arrayBuffer()),
    );
    const latent = Array.from(density.data).indexOf(Math.max(...density.data));
    const f = await h.gql(FEATURE, { id: `Experiment:${id}`, l: latent });
    expect(f.errors, JSON.stringify(f.errors)).toBeUndefined();
    const feat = f.data.experiment.saeFeature;
    expect(feat.latent).toBe(latent);
    expect(feat.density).toBeCloseTo(density.data[latent], 5);
    expect(feat.examples.length).toBeGreaterThan(0);
    expect(feat.examples.length).toBeLessThanOrEqual(3);
    const ex = feat.examples[0];
    expect(ex.activation).toBeCloseTo(feat.maxActivation, 5);
    expect(ex.activations[ex.position]).toBeCloseTo(ex.activation, 5);
    expect(ex.token).toBe(ex.tokens[ex.position]);
    expect([';', ...ex.tokens.filter((t: string) => /^\(\d+,\d+\)$/.test(t))]).toContain(ex.token); // a row of the classes trained on
    expect(ex.svg).toMatch(/^<svg[^>]*data-rows="3"/);
    expect(feat.histogram).toHaveLength(20);
    // Exact over every held-out row: the histogram counts the rows the density says it fires on.
    const heldOut = ((await stored(id)).summary as SummaryOf<'sae'>).eval.rows;
    expect(feat.histogram.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBe(Math.round(feat.density * heldOut));
    expect(feat.histogram.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBeGreaterThan(0);
    expect(feat.logitsUp).toHaveLength(5); // nano's resid_post writes the residual stream
    expect(feat.neighbours.length).toBeGreaterThan(0);
    expect(feat.encodes.map((x: { property: string }) => x.property)).toEqual(expect.arrayContaining(['connection', 'cell']));
    // The latents active along a sequence, run now: at the example's position, this latent at the
    // activation the held-out run stored.
    const ACTS = 'query($id: ID!, $t: String!) { experiment(id: $id) { saeActivations(tokens: $t, top: 8) { position token latents { latent activation } } } }';
    const live = await h.gql(ACTS, { id: `Experiment:${id}`, t: ex.tokens.join(' ') });
    expect(live.errors, JSON.stringify(live.errors)).toBeUndefined();
    const at = live.data.experiment.saeActivations[ex.position];
    expect(at.token).toBe(ex.token);
    expect(at.latents.find((x: { latent: number }) => x.latent === latent)?.activation).toBeCloseTo(ex.activation, 4);
    expect(live.data.experiment.saeActivations).toHaveLength(ex.tokens.length);
    expect(codes(await h.gql(ACTS, { id: `Experiment:${id}`, t: ex.tokens.join(' ') }, h.tokens.viewer))).toEqual(['FORBIDDEN']);
    // Search: the latents that best pick out one connection (either order of its cells) or cell.
    const FOR =
      'query($id: ID!, $p: String!, $c: String!) { experiment(id: $id) { saeFeaturesFor(property: $p, category: $c, first: 5) { latent auc density } } }';
    const forEdge = (await h.gql(FOR, { id: `Experiment:${id}`, p: 'connection', c: '(0,1)-(0,0)' })).data.experiment.saeFeaturesFor;
    expect(forEdge.length).toBe(5);
    expect(forEdge.map((x: { auc: number }) => x.auc)).toEqual([...forEdge.map((x: { auc: number }) => x.auc)].sort((a, b) => b - a));
    const aucs = decodeNpy(new Uint8Array(await (await get(e.tensors.find((x: { name: string }) => x.name === 'auc.connection').downloadUrl)).arrayBuffer()));
    // (0,0)-(0,1) is lattice edge 6 of a 3x3 grid: the 6 down edges come first (probes.ts latticeEdges).
    expect(forEdge[0].auc).toBeCloseTo(Math.max(...Array.from(aucs.data.subarray(6 * 16, 7 * 16)).filter(Number.isFinite)), 5);
    // The other properties: the cell's degree (named categories), the maze's target (a cell).
    expect((await h.gql(FOR, { id: `Experiment:${id}`, p: 'degree', c: 'Fork' })).data.experiment.saeFeaturesFor.length).toBeGreaterThan(0);
    expect((await h.gql(FOR, { id: `Experiment:${id}`, p: 'target', c: '(2,2)' })).errors).toBeUndefined();
    expect((await h.gql(FOR, { id: `Experiment:${id}`, p: 'colour', c: 'red' })).errors![0].message).toBe(
      'saeFeaturesFor: property must be one of connection, cell, on_solution, degree, target, origin, future; got "colour"',
    );
    const wrong = await h.gql(FOR, { id: `Experiment:${id}`, p: 'connection', c: '(0,0)-(2,2)' });
    expect(wrong.errors![0].message).toMatch(/saeFeaturesFor: "\(0,0\)-\(2,2\)" is not a connection of the 3x3 grid; write it like "\(0,0\)-\(1,0\)"/);
    const bad = await h.gql(FEATURE, { id: `Experiment:${id}`, l: 16 });
    expect(bad.errors![0].message).toBe('saeFeature: latent must be an integer in [0, 16), got 16');
    // Round trip: the SAELens files imported back are measured as they are, on the same held-out
    // mazes, to the same figures.
    const IMPORT = 'mutation($i: ImportSaeInput!) { importSae(input: $i) { id params { ... on ExperimentJobParams { experimentId } } } }';
    const weightsB64 = Buffer.from(await (await get(`/files/experiments/${id}/sae/sae_weights.safetensors`)).arrayBuffer()).toString('base64');
    const cfgText = JSON.stringify(cfg);
    const imp = await h.gql(IMPORT, { i: { modelId, cfg: cfgText, weights: weightsB64, classes: ['sep', 'adj_cell'], count: 3 } });
    expect(imp.errors, JSON.stringify(imp.errors)).toBeUndefined();
    expect((await waitForJob(h, imp.data.importSae.id)).status).toBe('COMPLETED');
    const importedId = Number(imp.data.importSae.params.experimentId.split(':')[1]);
    const original = await stored(id);
    const imported = await stored(importedId);
    expect(imported.summary).toMatchObject({ kind: 'sae', steps: 0, rows_trained: 0, curve: [], d_sae: 16, topk: 3 });
    const [eo, ei] = [(original.summary as SummaryOf<'sae'>).eval, (imported.summary as SummaryOf<'sae'>).eval];
    expect(ei.rows).toBe(eo.rows);
    expect(ei.explained_variance).toBeCloseTo(eo.explained_variance as number, 4);
    expect(ei.loss_recovered).toBeCloseTo(eo.loss_recovered as number, 4);
    // Refused before anything is queued, naming what is wrong.
    const jobsBefore = (await counts()).jobs;
    const refusedImport = async (i: Record<string, unknown>, message: RegExp) => {
      const r = await h.gql(IMPORT, { i: { modelId, cfg: cfgText, weights: weightsB64, ...i } });
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].message).toMatch(message);
    };
    await refusedImport({ cfg: '{"d_in": 8' }, /^importSae: cfg\.json: /);
    await refusedImport(
      { cfg: JSON.stringify({ ...cfg, normalize_activations: 'expected_average_only_in' }) },
      /normalize_activations "expected_average_only_in" is not supported/,
    );
    await refusedImport({ cfg: JSON.stringify({ ...cfg, d_sae: 32 }) }, /W_enc is \[8, 16\], cfg\.json's d_in and d_sae need \[8, 32\]/);
    await refusedImport({ cfg: JSON.stringify({ ...cfg, rescale_acts_by_decoder_norm: true }) }, /rescale_acts_by_decoder_norm is not supported/);
    await refusedImport(
      { cfg: JSON.stringify({ ...cfg, hook_name: 'blocks.0.mlp.hook_post', metadata: {} }) },
      /cfg\.json d_in is 8, but blocks\.0\.mlp\.hook_post of Model:\d+ has 32 features/,
    );
    await refusedImport({ weights: Buffer.from('not safetensors at all').toString('base64') }, /sae_weights\.safetensors: not a safetensors file/);
    expect((await counts()).jobs).toBe(jobsBefore);
    // Another kind has no SAE files, and says where its tensors are.
    const other = await run('dla', { count: 1, detail: 0 });
    await waitForJob(h, other.id);
    const no = await get(`/files/experiments/${other.params.experimentId}/sae/cfg.json`);
    expect(no.status).toBe(404);
    expect(await no.text()).toMatch(/is a dla experiment, not an SAE; its tensors are at \/files\/experiments\/\d+\.safetensors/);

    // Editing this SAE's latents inside the model: the job loads the SAE the params name.
    const edit = await runToEnd('sae-intervention', { sae: id, count: 4, minAuc: 0.5 });
    const summary = (await stored(edit.job.params.experimentId)).summary as SummaryOf<'sae-intervention'>;
    expect(summary).toMatchObject({ kind: 'sae-intervention', sae: id, hook: 'blocks.0.hook_resid_post', mazes: 4 });
    expect(summary.remove.trials + summary.add.trials).toBeGreaterThanOrEqual(0);
    const refused = async (sae: number, message: RegExp) => {
      const r = await h.gql(RUN, { modelId, params: input('sae-intervention', { sae }) });
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].message).toMatch(message);
    };
    await refused(other.params.experimentId, /params\.sae: Experiment:\d+ is a dla experiment, not an sae one/);
    await refused(999_999, /params\.sae: Experiment:999999 does not exist/);

    // A finding about one latent: checked against the SAE, listed by target, linked both ways.
    const CREATE = `mutation($i: CreateAnnotationInput!) { createAnnotation(input: $i) { id target { kind experimentId latent } } }`;
    const finding = (target: unknown) =>
      h.gql(CREATE, { i: { modelId, target, body: 'Fires at the second cell of entries for (0,1)-(0,2).', status: 'HYPOTHESIS' } });
    const made = await finding({ feature: { sae: `Experiment:${id}`, latent } });
    expect(made.errors, JSON.stringify(made.errors)).toBeUndefined();
    expect(made.data.createAnnotation.target).toEqual({ kind: 'feature', experimentId: `Experiment:${id}`, latent });
    expect((await finding({ feature: { sae: `Experiment:${id}`, latent: 16 } })).errors![0].message).toBe(
      'target.feature.latent must be an integer in [0, 16), got 16',
    );
    expect((await finding({ feature: { sae: `Experiment:${other.params.experimentId}`, latent: 0 } })).errors![0].message).toMatch(
      /target\.feature\.sae: Experiment:\d+ is a dla experiment, not an sae one/,
    );
    const byTarget = async (l: number) =>
      (
        await h.gql('query($m: ID!, $t: ComponentTargetInput!) { annotations(modelId: $m, target: $t) { totalCount edges { node { id } } } }', {
          m: modelId,
          t: { feature: { sae: `Experiment:${id}`, latent: l } },
        })
      ).data.annotations;
    expect(await byTarget(latent)).toEqual({ totalCount: 1, edges: [{ node: { id: made.data.createAnnotation.id } }] });
    expect((await byTarget((latent + 1) % 16)).totalCount).toBe(0);
  });

  it("an imported JumpReLU SAE downloads in SAELens' layout with its threshold (the same values) and cfg.json's architecture jumprelu", async () => {
    const [d_in, d_sae] = [8, 16];
    // Gemma Scope's layout: b_dec is not subtracted from the input (folded into b_enc on import).
    const { W, file: weights, cfg: cfgText } = jumpReluSaeLens(new Rng(21), d_in, d_sae, 0.05);
    const imp = await h.gql('mutation($i: ImportSaeInput!) { importSae(input: $i) { id params { ... on ExperimentJobParams { experimentId } } } }', {
      i: { modelId, cfg: cfgText, weights: Buffer.from(weights).toString('base64'), count: 3 },
    });
    expect(imp.errors, JSON.stringify(imp.errors)).toBeUndefined();
    const done = await waitForJob(h, imp.data.importSae.id);
    expect(done.status, done.error ?? '').toBe('COMPLETED');
    const id = Number(imp.data.importSae.params.experimentId.split(':')[1]);

    const cfgRes = await get(`/files/experiments/${id}/sae/cfg.json`);
    expect(cfgRes.status).toBe(200);
    const cfg = await cfgRes.json();
    expect(cfg).toMatchObject({
      architecture: 'jumprelu',
      activation_fn_str: 'jumprelu',
      d_in,
      d_sae,
      dtype: 'float32',
      apply_b_dec_to_input: true, // b_dec was folded into b_enc: the exported weights subtract it
      normalize_activations: 'none',
      hook_name: 'blocks.0.hook_resid_post',
      model_name: 'random nano',
    });
    expect(cfg).not.toHaveProperty('k');
    const res = await get(`/files/experiments/${id}/sae/sae_weights.safetensors`);
    expect(res.status).toBe(200);
    const exported = new Uint8Array(await res.arrayBuffer());
    const st = decodeSafetensors(exported);
    expect([...st.tensors.keys()].sort()).toEqual(['W_dec', 'W_enc', 'b_dec', 'b_enc', 'threshold']);
    expect(st.tensors.get('threshold')!.shape).toEqual([d_sae]);
    expect(Array.from(st.tensors.get('threshold')!.data)).toEqual(Array.from(W.threshold));
    // The other tensors are the ones imported, b_enc with b_dec·W_enc folded in.
    const asImported = parseSaeLens(cfgText, weights);
    for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const)
      expect(Array.from(st.tensors.get(name)!.data), name).toEqual(Array.from(asImported.weights[name]));
    expect(Array.from(st.tensors.get('b_dec')!.data)).toEqual(Array.from(W.b_dec));
    // The export read back by an SAELens reader encodes as the import did, the thresholds cutting some latents.
    const back = parseSaeLens(JSON.stringify(cfg), exported);
    expect(back.shape).toMatchObject({ architecture: 'jumprelu', d_in, d_sae });
    const n = 6;
    const x = Float32Array.from({ length: n * d_in }, (_, i) => Math.sin(i * 1.7) * 2);
    const want = activate(asImported.shape, preActivations(asImported.shape, asImported.weights, x, n), n);
    const got = activate(back.shape, preActivations(back.shape, back.weights, x, n), n);
    expect(Array.from(got)).toEqual(Array.from(want));
    const fired = Array.from(want).filter((v) => v > 0).length;
    expect(fired).toBeGreaterThan(0);
    expect(fired).toBeLessThan(n * d_sae);
  });

  it('refuses bad requests with BAD_USER_INPUT naming the field, writing nothing', async () => {
    const before = await counts();
    const bad = async (vars: Record<string, unknown>, message: RegExp) => {
      const { kind = 'attention', params = {}, ...rest } = vars;
      const r = await h.gql(RUN, { modelId, params: typeof kind === 'string' ? input(kind, params) : params, ...rest });
      // GraphQL may report more than one thing wrong with an input (an unknown kind also sets none).
      expect(new Set(codes(r)), JSON.stringify(r)).toEqual(new Set(['BAD_USER_INPUT']));
      expect(r.errors![0].message).toMatch(message);
    };
    // The typed input refuses a kind, field or value it does not have, naming it.
    await bad({ kind: null, params: { attentionIsh: {} } }, /Field "attentionIsh" is not defined by type "ExperimentParamsInput"/);
    await bad({ kind: null, params: { attention: {}, dla: {} } }, /Exactly one key must be specified for OneOf type "ExperimentParamsInput"/);
    await bad({ kind: null, params: {} }, /Exactly one key must be specified for OneOf type "ExperimentParamsInput"/);
    await bad({ params: { colour: 'red' } }, /Field "colour" is not defined by type "AttentionParamsInput"/);
    await bad({ kind: 'probes', params: [1, 2] }, /Expected type "ProbesParamsInput" to be an object/);
    await bad({ kind: 'activation-patching', params: { pair: 'sideways' } }, /Value "sideways" does not exist in "PairKind" enum/);
    // The kind's own schema: bounds and model-dependent limits, as the CLI reports them.
    await bad({ params: { layers: [0, 7] } }, /params\.layers\[1\]: must be an integer in \[0, 1\]; got 7/);
    await bad({ kind: 'logit-lens', params: { grid: 99 } }, /params\.grid: must be an integer in \[2, 64\]/);
    await bad({ params: { query: 'middle' } }, /params\.query: must be an integer in \[0, ∞\] or one of "path_start"/);
    await bad({ modelId: 'Model:999' }, /modelId: Model:999 does not exist/);
    await bad({ modelId: 'Dataset:1' }, /is a Dataset id, but a Model id is expected|modelId must be a Model id/);
    await bad({ seed: -1 }, /seed must be an integer between 0 and 4294967295/);
    await bad({ kind: 'weights', datasetId }, /datasetId: kind weights does not run on a set of mazes/);
    await bad({ kind: 'logit-lens', datasetId, params: { grid: 2 } }, /params\.grid is 2 but Dataset:\d+'s mazes are grid 3/);
    await bad({ kind: 'logit-lens', datasetId: 'Dataset:999' }, /datasetId: Dataset:999 does not exist/);
    expect(await counts()).toEqual(before);
  });

  it('refuses viewers with FORBIDDEN (nothing written) and lets them read', async () => {
    const before = await counts();
    const r = await h.gql(RUN, { modelId, params: input('attention', {}) }, h.tokens.viewer);
    expect(codes(r)).toEqual(['FORBIDDEN']);
    expect(await counts()).toEqual(before);
    expect(codes(await h.gql(RUN, { modelId, params: input('attention', {}) }, null))).toEqual(['UNAUTHENTICATED']);
    const list = await h.gql(
      `query($m: ID!) { experiments(modelId: $m, first: 5) { totalCount edges { node { id kind status } } } }`,
      { m: modelId },
      h.tokens.viewer,
    );
    expect(list.errors).toBeUndefined();
    expect(list.data.experiments.totalCount).toBeGreaterThanOrEqual(2);
  });

  it('lists experiments newest first with cursor paging and filters; evaluations are not experiments; node(id) finds one', async () => {
    const m = Number(modelId.split(':')[1]);
    await h.server.app.handle.db.insert(experiments).values({ kind: 'evaluate', modelId: m, params: {}, summary: {}, createdAt: Date.now() });
    const Q = `query($m: ID, $k: String, $after: String) { experiments(modelId: $m, kind: $k, first: 1, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id kind } } } }`;
    const all = (await h.gql('query($m: ID) { experiments(modelId: $m, first: 50) { totalCount edges { node { id kind } } } }', { m: modelId })).data
      .experiments;
    expect(all.edges.every((x: { node: { kind: string } }) => x.node.kind !== 'evaluate')).toBe(true);
    const ids = all.edges.map((x: { node: { id: string } }) => Number(x.node.id.split(':')[1]));
    expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    expect(all.totalCount).toBe(ids.length);
    const p1 = (await h.gql(Q, { m: modelId })).data.experiments;
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const p2 = (await h.gql(Q, { m: modelId, after: p1.pageInfo.endCursor })).data.experiments;
    expect(p2.edges[0].node.id).toBe(all.edges[1].node.id);
    const lens = (await h.gql(Q, { k: 'logit-lens' })).data.experiments;
    expect(lens.totalCount).toBe(1);
    const node = await h.gql('query($id: ID!) { node(id: $id) { id ... on Experiment { kind status } } }', { id: all.edges[0].node.id });
    expect(node.data.node).toMatchObject({ id: all.edges[0].node.id, status: 'COMPLETED' });
    const evalRow = (await sqlOne<{ id: number }>(h.server.app.handle, "SELECT id FROM experiments WHERE kind = 'evaluate'"))!.id;
    expect((await h.gql(EXPERIMENT, { id: `Experiment:${evalRow}` })).data.experiment).toBeNull();
  });

  it('cancels a queued and a running experiment: both end CANCELLED, keep their experiment and leave no results or files', async () => {
    // Long enough to be caught running: 1000 patching pairs, one patched run per ONNX call.
    const long = await run('activation-patching', { count: 1000, rowsPerRun: 1, sites: ['resid_pre'] });
    const queued = await run('attention', { count: 1 });
    const c1 = await h.gql('mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: queued.id });
    expect(c1.data.cancelJob.status).toBe('CANCELLED');
    for (;;) {
      const j = (
        await h.gql('query($id: ID!) { job(id: $id) { status progress { phase done total message modelId datasetId experimentId } } }', { id: long.id })
      ).data.job;
      if (j.status === 'RUNNING' && j.progress?.phase === 'running' && j.progress.done > 0) break;
      expect(j.status).not.toMatch(/COMPLETED|FAILED|CANCELLED/);
      await new Promise((r) => setTimeout(r, 50));
    }
    await h.gql('mutation($id: ID!) { cancelJob(id: $id) { status } }', { id: long.id });
    const done = await waitForJob(h, long.id);
    expect(done.status).toBe('CANCELLED');
    for (const j of [long, queued]) {
      const e = (await h.gql(EXPERIMENT, { id: `Experiment:${j.params.experimentId}` })).data.experiment;
      expect(e).toMatchObject({ status: 'CANCELLED', result: null, tensors: [], downloadUrl: null, mazeSvg: null });
      expect(e.error).toMatch(/cancelled by rosalind/);
      expect(fs.existsSync(path.join(h.dataDir, 'results', `experiment-${j.params.experimentId}`))).toBe(false);
      expect((await get(`/files/experiments/${j.params.experimentId}.safetensors`)).status).toBe(404);
    }
    expect(await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM results WHERE experiment_id = ?', long.params.experimentId)).toBe(0);
  });
  it('every kind: a summary as the kind stores it resolves as its typed result, every field selected, reading as its JSON', async () => {
    // Summaries from the kinds themselves (small params), stored as the job handler stores them;
    // rows written directly, since the jobs path is covered above. After the listing test: these rows count.
    const loaded = decodeModel(modelBytes);
    const model = createInterpModel({ cfg: loaded.cfg, weights: loaded.weights, vocab: loaded.vocab! }, { threads: 1 });
    const PARAMS: Record<string, unknown> = {
      attention: { count: 1, query: 4 },
      'logit-lens': { count: 2 },
      dla: { count: 2 },
      'activation-patching': { count: 1, sites: ['resid_pre', 'head_all_pos'] },
      'attribution-patching': { count: 1, sites: ['mlp_out'] },
      'path-patching': { count: 1 },
      geometry: { count: 3, methods: ['pca'], maxPoints: 50, k: 3 },
      probes: { count: 10, iters: 3, backend: 'js', targets: ['target', 'edge'], layers: [0] },
      weights: {},
      'adjacency-heads': { count: 2 },
      retarget: { count: 1, layers: [1] },
      behavior: { count: 1, sizes: [2], generators: ['dfs'] },
      lookahead: { count: 4 },
      sae: { count: 2, steps: 4, batch: 16, buffer: 256, expansion: 2, k: 2 },
      'sae-intervention': { count: 3, minAuc: 0.5 },
    };
    const summaries: ExperimentSummary[] = [];
    try {
      let sae: StoredSae | undefined;
      for (const kind of kindNames()) {
        const out = await runExperiment(kind, { model, seed: 1, ...(sae ? { sae } : {}) }, PARAMS[kind]);
        if (kind === 'sae') sae = storedSae(out); // the next kind edits this SAE
        summaries.push(out.summary);
      }
    } finally {
      await model.dispose();
    }
    const m = Number(modelId.split(':')[1]);

    // Every field of every member, aliased by its type (fields of one name differ in type across kinds).
    const schema = loadSchema();
    const select = (t: GraphQLObjectType): string =>
      `{ ${Object.values(t.getFields())
        .map((f) => {
          const n = getNamedType(f.type);
          return `${t.name}__${f.name}: ${f.name}${isObjectType(n) ? ` ${select(n)}` : ''}`;
        })
        .join(' ')} }`;
    const members = kindNames().map((k) => schema.getType(`${k.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}Summary`) as GraphQLObjectType);
    const Q = `query($id: ID!) { experiment(id: $id) { result { __typename ${members.map((t) => `... on ${t.name} ${select(t)}`).join(' ')} } } }`;
    // Back to field names, nulls dropped (an absent JSON key is a null field).
    const plain = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(plain)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .filter(([k, x]) => x !== null && k !== '__typename')
                .map(([k, x]) => [k.includes('__') ? k.slice(k.indexOf('__') + 2) : k, plain(x)]),
            )
          : v;
    // The JSON as the SDL shapes it: the two conversions of experiment-result.ts, and behavior's
    // AggregateMetrics without `defined` (the SDL type is shared with evaluations and leaves it out).
    const typedForm = (sm: ExperimentSummary): unknown => {
      if (sm.kind === 'attention') return { ...sm, query: String(sm.query) };
      if (sm.kind === 'path-patching') {
        const r = sm.receivers;
        return {
          ...sm,
          receivers: r === 'logits' ? { kind: 'logits' } : { kind: 'heads', layer: r.layer, heads: r.heads === 'all' ? null : r.heads, inputs: r.inputs },
        };
      }
      if (sm.kind === 'behavior') {
        const agg = (a: { defined?: unknown } | undefined) => (a ? { ...a, defined: null } : a);
        return { ...sm, rows: sm.rows.map((r) => ({ ...r, model: agg(r.model), baseline: agg(r.baseline) })) };
      }
      return sm;
    };

    for (const [i, sm] of summaries.entries()) {
      const column = JSON.parse(JSON.stringify(sm)) as unknown; // what the summary column holds
      const [{ id }] = await h.server.app.handle.db
        .insert(experiments)
        .values({ kind: sm.kind, modelId: m, params: {}, summary: column, createdAt: Date.now() })
        .returning({ id: experiments.id });
      const r = await h.gql(Q, { id: `Experiment:${id}` });
      expect(r.errors, `${sm.kind}: ${JSON.stringify(r.errors)}`).toBeUndefined();
      expect(r.data.experiment.result.__typename, sm.kind).toBe(members[i].name);
      expect(plain(r.data.experiment.result), sm.kind).toEqual(plain(JSON.parse(JSON.stringify(typedForm(sm)))));
    }
  });
});

describe('experiments on a dataset (after the listing tests: this adds an experiment)', () => {
  it("never caps a count silently: more mazes than the dataset's split holds is refused, a larger default becomes the split's size in the stored params", async () => {
    const before = await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM jobs');
    const r = await h.gql(RUN, { modelId, params: input('logit-lens', { count: 7 }), datasetId });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(/params\.count is 7 but Dataset:\d+'s test split has 6 mazes; ask for at most 6, or leave count out to use them all$/);
    expect(await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM jobs')).toBe(before);
    const ok = await h.gql(RUN, { modelId, params: input('logit-lens', {}), datasetId });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.runExperiment.params).toMatchObject({ kind: 'logit-lens', datasetId, split: 'test', params: { __typename: 'LogitLensParams', count: 6 } }); // the kind's default (200) was more than the split holds
    await waitForJob(h, ok.data.runExperiment.id);
  });
});
