/**
 * A JumpReLU `sae` experiment through GraphQL end to end: its `l0` and `bandwidth` params travel
 * from SaeParamsInput to the stored, typed SaeParams and into the summary (architecture jumprelu,
 * l0_coefficient, bandwidth); values outside the kind's bounds are refused with BAD_USER_INPUT
 * naming the field, writing nothing. Findings whose further targets (alsoAbout) are its features:
 * stored in order, returned, found by the feature; a latent outside [0, d_sae) or an SAE of another
 * model refused naming the entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { PRESETS } from '../../server/model/config.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { codes, type Harness, sqlCount, startHarness, waitForJob } from './helpers.js';

const GRID = 3;
let h: Harness;
let modelId: string;
let otherModelId: string;
/** The jumprelu sae experiment (global id) and its number of latents. */
let saeId: string;
let d_sae: number;

const L0 = 0.25;
const BANDWIDTH = 0.05;
const SAE = { architecture: 'jumprelu', l0: L0, bandwidth: BANDWIDTH, count: 3, steps: 6, batch: 32, buffer: 256, expansion: 2, lr: 0.003 };

const RUN = `mutation($modelId: ID!, $params: ExperimentParamsInput!) {
  runExperiment(modelId: $modelId, params: $params) {
    id params { ... on ExperimentJobParams { experimentId params { __typename ... on SaeParams { architecture l0 bandwidth steps batch } } } }
  }
}`;
const EXPERIMENT = `query($id: ID!) { experiment(id: $id) {
  id kind status
  params { __typename ... on SaeParams { architecture l0 bandwidth l1 k steps batch buffer expansion lr } }
  result { __typename ... on SaeSummary { kind architecture d_in d_sae topk l1_coefficient l0_coefficient bandwidth steps batch } }
} }`;
const CREATE = `mutation($i: CreateAnnotationInput!) { createAnnotation(input: $i) {
  id target { kind layer head } alsoAbout { kind experimentId latent layer head }
} }`;
const BY_TARGET = 'query($m: ID!, $t: ComponentTargetInput) { annotations(modelId: $m, target: $t) { totalCount edges { node { id } } } }';

async function importModel(name: string, seed: number): Promise<string> {
  const tok = getTokenizer('aotp-ut');
  const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(GRID), n_ctx: 128, tokenizer: 'aotp-ut' };
  const bytes = encodeModel(cfg, initWeights(cfg, new Rng(seed), { scale: 3 }), [...tok.vocab(GRID)]);
  const r = await h.gql('mutation($n: String!, $b: String!) { importModel(name: $n, base64: $b) { id } }', {
    n: name,
    b: Buffer.from(bytes).toString('base64'),
  });
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return r.data.importModel.id;
}

const experimentCount = () => sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM experiments');
const annotationCount = async (m = modelId) => (await h.gql(BY_TARGET, { m })).data.annotations.totalCount as number;

beforeAll(async () => {
  h = await startHarness();
  modelId = await importModel('jumprelu home', 5);
  otherModelId = await importModel('jumprelu stranger', 6);
});
afterAll(async () => h?.close());

describe('a jumprelu sae experiment through GraphQL', () => {
  it('stores the l0 and bandwidth it was given as typed SaeParams, and its summary says jumprelu with them', async () => {
    const r = await h.gql(RUN, { modelId, params: { sae: SAE } });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const job = r.data.runExperiment;
    // The job carries the params as parsed (the kind's schema filled the rest in).
    expect(job.params.params).toEqual({ __typename: 'SaeParams', architecture: 'jumprelu', l0: L0, bandwidth: BANDWIDTH, steps: 6, batch: 32 });
    const done = await waitForJob(h, job.id);
    expect(done.status, done.error ?? '').toBe('COMPLETED');
    saeId = job.params.experimentId;

    const e = (await h.gql(EXPERIMENT, { id: saeId })).data.experiment;
    expect(e).toMatchObject({ id: saeId, kind: 'sae', status: 'COMPLETED' });
    // Echoed as given, the untouched relu/topk coefficients at their defaults.
    expect(e.params).toEqual({
      __typename: 'SaeParams',
      architecture: 'jumprelu',
      l0: L0,
      bandwidth: BANDWIDTH,
      l1: 5,
      k: 16,
      steps: 6,
      batch: 32,
      buffer: 256,
      expansion: 2,
      lr: 0.003,
    });
    const s = e.result;
    expect(s).toMatchObject({
      __typename: 'SaeSummary',
      kind: 'sae',
      architecture: 'jumprelu',
      l0_coefficient: L0,
      bandwidth: BANDWIDTH,
      l1_coefficient: null,
      steps: 6,
      batch: 32,
    });
    expect(s.d_sae).toBe(2 * s.d_in);
    d_sae = s.d_sae;
  });

  it('refuses an l0 or bandwidth outside the schema’s bounds with BAD_USER_INPUT naming the field, writing nothing', async () => {
    const before = await experimentCount();
    const refused = async (params: Record<string, unknown>, message: string) => {
      const r = await h.gql(RUN, { modelId, params: { sae: { ...SAE, ...params } } });
      expect(codes(r), JSON.stringify(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].message).toContain(message);
      expect(r.data?.runExperiment ?? null).toBeNull();
    };
    await refused({ bandwidth: 0 }, 'params.bandwidth: must be a number in [0.000001, 10]; got 0');
    await refused({ bandwidth: -0.01 }, 'params.bandwidth: must be a number in [0.000001, 10]; got -0.01');
    await refused({ bandwidth: 11 }, 'params.bandwidth: must be a number in [0.000001, 10]; got 11');
    await refused({ l0: -1 }, 'params.l0: must be a number in [0, 1000]; got -1');
    await refused({ l0: 1001 }, 'params.l0: must be a number in [0, 1000]; got 1001');
    expect(await experimentCount()).toBe(before);
    // The bounds are inclusive: λ 0 (no penalty) and the smallest bandwidth are accepted as far as the job.
    const edge = await h.gql(RUN, { modelId, params: { sae: { ...SAE, l0: 0, bandwidth: 1e-6, steps: 1 } } });
    expect(edge.errors, JSON.stringify(edge.errors)).toBeUndefined();
    expect(edge.data.runExperiment.params.params).toMatchObject({ l0: 0, bandwidth: 1e-6 });
    expect((await waitForJob(h, edge.data.runExperiment.id)).status).toBe('COMPLETED');
  });
});

describe('findings whose further targets are features of the sae experiment', () => {
  it('are stored and returned in order, found by any of those features, and re-read the same', async () => {
    expect(saeId, 'the sae experiment of the first describe').toBeDefined();
    const latent = d_sae - 1;
    const made = await h.gql(CREATE, {
      i: {
        modelId,
        target: { head: { layer: 0, head: 1 } },
        alsoAbout: [{ feature: { sae: saeId, latent } }, { feature: { sae: saeId, latent: 0 } }],
        body: 'L0H1 writes what these two latents read.',
      },
    });
    expect(made.errors, JSON.stringify(made.errors)).toBeUndefined();
    const a = made.data.createAnnotation;
    expect(a.target).toEqual({ kind: 'head', layer: 0, head: 1 });
    expect(a.alsoAbout).toEqual([
      { kind: 'feature', experimentId: saeId, latent, layer: null, head: null },
      { kind: 'feature', experimentId: saeId, latent: 0, layer: null, head: null },
    ]);
    const reread = await h.gql('query($id: ID!) { annotation(id: $id) { alsoAbout { kind experimentId latent } } }', { id: a.id });
    expect(reread.data.annotation.alsoAbout).toEqual([
      { kind: 'feature', experimentId: saeId, latent },
      { kind: 'feature', experimentId: saeId, latent: 0 },
    ]);
    const byFeature = async (l: number) => (await h.gql(BY_TARGET, { m: modelId, t: { feature: { sae: saeId, latent: l } } })).data.annotations;
    expect(await byFeature(latent)).toEqual({ totalCount: 1, edges: [{ node: { id: a.id } }] });
    expect(await byFeature(0)).toEqual({ totalCount: 1, edges: [{ node: { id: a.id } }] });
    expect((await byFeature(1)).totalCount).toBe(0);
    expect((await h.gql(BY_TARGET, { m: modelId, t: { head: { layer: 0, head: 1 } } })).data.annotations.totalCount).toBe(1);
  });

  it('refuses a latent outside [0, d_sae) or an SAE of another model, naming alsoAbout[i], storing nothing', async () => {
    const before = { home: await annotationCount(modelId), other: await annotationCount(otherModelId) };
    const refused = async (m: string, alsoAbout: unknown[], message: string) => {
      const r = await h.gql(CREATE, { i: { modelId: m, target: { mlp: { layer: 0 } }, alsoAbout, body: 'x' } });
      expect(codes(r), JSON.stringify(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].message).toBe(message);
    };
    await refused(modelId, [{ feature: { sae: saeId, latent: d_sae } }], `alsoAbout[0]: feature.latent must be an integer in [0, ${d_sae}), got ${d_sae}`);
    await refused(modelId, [{ feature: { sae: saeId, latent: -1 } }], `alsoAbout[0]: feature.latent must be an integer in [0, ${d_sae}), got -1`);
    // The entry named is the bad one, not the first.
    await refused(
      modelId,
      [{ feature: { sae: saeId, latent: 0 } }, { feature: { sae: saeId, latent: d_sae + 5 } }],
      `alsoAbout[1]: feature.latent must be an integer in [0, ${d_sae}), got ${d_sae + 5}`,
    );
    const [n, home, other] = [saeId, modelId, otherModelId].map((id) => id.split(':')[1]);
    await refused(
      otherModelId,
      [{ feature: { sae: saeId, latent: 0 } }],
      `alsoAbout[0]: feature.sae: Experiment:${n} trained its SAE on Model:${home}, not Model:${other}`,
    );
    expect(await annotationCount(modelId)).toBe(before.home);
    expect(await annotationCount(otherModelId)).toBe(before.other);
  });
});
