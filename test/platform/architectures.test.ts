/**
 * TransformerLens architecture variants through the API: a rotary RMS model imports with its TL
 * config fields visible, TL weight processing applied on import (GraphQL `processing`, and the raw
 * route's query flags) is recorded in the lineage and keeps the model's predictions, its rotary
 * hooks are cached, an experiment job runs on it, and a d_vocab_out the maze platform cannot use is
 * refused with nothing written. generatePath with interventions and SAE feature edits; an SAE is
 * refused (featureEdits, saeActivations) on another model or on weights newer than it was trained on.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { type ModelConfig, PRESETS } from '../../server/model/config.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { paramsInputField } from '../../server/graphql/experiment-params.js';
import { storeCheckpoint } from '../../server/services/training.js';
import { codes, CREATE_DATASET, type Harness, sqlCount, sqlOne, startHarness, waitForJob } from './helpers.js';

let h: Harness;
let mazeTokens: string;
let mazeId: string;
const tok = getTokenizer('aotp-ut');
const cfg: ModelConfig = {
  ...PRESETS.nano,
  d_vocab: tok.vocabSize(3),
  n_ctx: 128,
  tokenizer: 'aotp-ut',
  positional_embedding_type: 'rotary',
  rotary_dim: 2,
  normalization_type: 'RMS',
  act_fn: 'silu',
};
const bytes = () => encodeModel(cfg, initWeights(cfg, new Rng(5), { scale: 3 }), [...tok.vocab(3)]);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

beforeAll(async () => {
  h = await startHarness();
  const job = (await h.gql(CREATE_DATASET, { input: { name: 'threes', generator: 'dfs', grid: 3, count: 3, seed: 2 } })).data.createDataset;
  const done = await waitForJob(h, job.id);
  const node = (await h.gql('query($id: ID!) { dataset(id: $id) { mazes(first: 1) { edges { node { id tokens } } } } }', { id: done.result.datasetId })).data
    .dataset.mazes.edges[0].node;
  mazeTokens = node.tokens;
  mazeId = node.id;
});
afterAll(async () => h?.close());

const IMPORT = `mutation($n: String!, $b: String!, $p: WeightProcessingInput) { importModel(name: $n, base64: $b, processing: $p) {
  id config { positional_embedding_type rotary_dim rotary_base rotary_adjacent_pairs normalization_type attn_only parallel_attn_mlp d_vocab_out act_fn }
  lineage { processing } hookNames } }`;
const FORWARD =
  'mutation($m: ID!, $t: String!, $h: [String!]) { runForward(modelId: $m, tokens: $t, hooks: $h, topK: 3) { topK { token logit prob } cacheId } }';

describe('architecture variants through the API', () => {
  let plain: string;
  it('imports a rotary RMS silu model: TL config fields with defaults filled in, rotary hooks listed, no pos_embed', async () => {
    const r = await h.gql(IMPORT, { n: 'rotary', b: b64(bytes()) });
    expect(r.errors).toBeUndefined();
    const m = r.data.importModel;
    plain = m.id;
    expect(m.config).toEqual({
      positional_embedding_type: 'rotary',
      rotary_dim: 2,
      rotary_base: 10000,
      rotary_adjacent_pairs: false,
      normalization_type: 'RMS',
      attn_only: false,
      parallel_attn_mlp: false,
      d_vocab_out: cfg.d_vocab,
      act_fn: 'silu',
    });
    expect(m.lineage.processing).toEqual([]);
    expect(m.hookNames).toContain('blocks.1.attn.hook_rot_k');
    expect(m.hookNames).not.toContain('hook_pos_embed');
    const f = await h.gql(FORWARD, { m: m.id, t: mazeTokens, h: ['blocks.0.attn.hook_rot_q'] });
    expect(f.errors).toBeUndefined();
    expect(f.data.runForward.cacheId).toMatch(/^[0-9a-f]{64}$/);
    const bad = await h.gql(FORWARD, { m: m.id, t: mazeTokens, h: ['hook_pos_embed'] });
    expect(bad.errors![0].message).toContain('the model has no hook point "hook_pos_embed": the model uses rotary positions (no pos_embed)');
  });

  it('applies TL weight processing on import (recorded in the lineage) and the predictions stay the same', async () => {
    const r = await h.gql(IMPORT, { n: 'rotary-processed', b: b64(bytes()), p: { fold_ln: true, center_unembed: true, fold_value_biases: true } });
    expect(r.errors).toBeUndefined();
    const m = r.data.importModel;
    expect(m.config.normalization_type).toBe('RMSPre');
    expect(m.lineage.processing).toHaveLength(3);
    expect(m.lineage.processing[0]).toMatch(/^fold_ln: RMS gains folded/);
    const a = (await h.gql(FORWARD, { m: plain, t: mazeTokens })).data.runForward.topK;
    const b = (await h.gql(FORWARD, { m: m.id, t: mazeTokens })).data.runForward.topK;
    expect(b.map((t: { token: string }) => t.token)).toEqual(a.map((t: { token: string }) => t.token));
    b.forEach((t: { prob: number }, i: number) => expect(t.prob).toBeCloseTo(a[i].prob, 4));

    const post = (q: string) =>
      fetch(`${h.server.url}/upload/model?name=raw-rotary&${q}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${h.tokens.researcher}` },
        body: Buffer.from(bytes()),
      });
    const ok = await post('fold_ln=1');
    expect(ok.status).toBe(200);
    expect((await ok.json()).config).toMatchObject({ normalization_type: 'RMSPre' });
    const badFlag = await post('fold_ln=yes');
    expect(badFlag.status).toBe(400);
    expect(await badFlag.text()).toContain('fold_ln must be 1/true or 0/false, got \\"yes\\"');
  });

  it('runs an experiment job (dla) on the rotary model', async () => {
    const r = await h.gql('mutation($m: ID!, $p: ExperimentParamsInput!) { runExperiment(modelId: $m, params: $p) { id } }', {
      m: plain,
      p: { [paramsInputField('dla')]: { count: 3 } },
    });
    expect(r.errors).toBeUndefined();
    const job = await waitForJob(h, r.data.runExperiment.id);
    expect(job.status).toBe('COMPLETED');
  });

  it('refuses d_vocab_out ≠ d_vocab (a maze model reads its prediction back as input), writing nothing', async () => {
    const wide: ModelConfig = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), d_vocab_out: 5, n_ctx: 128, tokenizer: 'aotp-ut' };
    const before = await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM models');
    const r = await h.gql(IMPORT, { n: 'wide', b: b64(encodeModel(wide, initWeights(wide, new Rng(1)), [...tok.vocab(3)])) });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toBe(
      `importModel: d_vocab_out is 5 but d_vocab is ${wide.d_vocab}; a maze model predicts its next token from its own vocabulary, so they must be equal`,
    );
    expect(await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM models')).toBe(before);
  });
});

describe('generatePath with interventions', () => {
  const GEN = `mutation($m: ID!, $z: ID, $iv: [InterventionInput!]) { generatePath(modelId: $m, mazeId: $z, interventions: $iv) { tokens path metrics { exact_path steps } } }`;
  let modelId: string;
  beforeAll(async () => {
    const standard: ModelConfig = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), n_ctx: 128, tokenizer: 'aotp-ut' };
    const r = await h.gql(IMPORT, { n: 'iv', b: b64(encodeModel(standard, initWeights(standard, new Rng(8), { scale: 3 }), [...tok.vocab(3)])) });
    modelId = r.data.importModel.id;
  });

  it('zero, mean, replace and add act at every decoding step; an intervention that changes nothing leaves the rollout', async () => {
    const base = await h.gql(GEN, { m: modelId, z: mazeId });
    expect(base.errors, JSON.stringify(base.errors)).toBeUndefined();
    const same = await h.gql(GEN, { m: modelId, z: mazeId, iv: [{ hook: 'blocks.0.hook_resid_post', kind: 'add', value: [0] }] });
    expect(same.data.generatePath).toEqual(base.data.generatePath);
    const zeroed = await h.gql(GEN, { m: modelId, z: mazeId, iv: [{ hook: 'blocks.1.hook_resid_post', kind: 'zero' }] });
    expect(zeroed.errors).toBeUndefined();
    expect(zeroed.data.generatePath.tokens).not.toBe(base.data.generatePath.tokens);
    const mixed = await h.gql(GEN, {
      m: modelId,
      z: mazeId,
      iv: [
        { hook: 'blocks.0.attn.hook_z', kind: 'mean', heads: [1] },
        { hook: 'blocks.1.mlp.hook_post', kind: 'replace', features: [3, 4], value: [2.5] },
        { hook: 'blocks.0.attn.hook_pattern', kind: 'zero', heads: [0], positions: [40, 41, 42] },
      ],
    });
    expect(mixed.errors).toBeUndefined();
    expect(mixed.data.generatePath.tokens.startsWith(mazeTokens.slice(0, mazeTokens.indexOf('<PATH_START>')))).toBe(true);
  });

  it('bad interventions are BAD_USER_INPUT naming the intervention', async () => {
    const bad = async (iv: object[], msg: string) => {
      const r = await h.gql(GEN, { m: modelId, z: mazeId, iv });
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].message).toContain(msg);
    };
    await bad(
      [{ hook: 'blocks.0.hook_resid_pre', kind: 'add', value: [1, 2] }],
      'generatePath: intervention 0 (add blocks.0.hook_resid_pre): value has 2 numbers',
    );
    await bad([{ hook: 'blocks.0.attn.hook_rot_q', kind: 'zero' }], 'the model has no hook point "blocks.0.attn.hook_rot_q"');
    await bad([{ hook: 'blocks.0.mlp.hook_post', kind: 'zero', features: [999] }], 'feature 999 is outside [0, 32)');
    await bad(
      Array.from({ length: 65 }, () => ({ hook: 'blocks.0.hook_resid_pre', kind: 'zero' })),
      'at most 64 per run',
    );
  });

  it('featureEdits: an SAE latent scaled by 1 leaves the rollout; bad edits and the wrong experiment are BAD_USER_INPUT', async () => {
    const run = async (kind: string, params: object) => {
      const r = await h.gql(
        'mutation($m: ID!, $p: ExperimentParamsInput!) { runExperiment(modelId: $m, params: $p) { id params { ... on ExperimentJobParams { experimentId } } } }',
        {
          m: modelId,
          p: { [paramsInputField(kind)]: params },
        },
      );
      expect(r.errors).toBeUndefined();
      const job = await waitForJob(h, r.data.runExperiment.id);
      expect(job.status).toBe('COMPLETED');
      return r.data.runExperiment.params.experimentId as string;
    };
    const sae = await run('sae', { steps: 20, count: 12, hook: 'blocks.0.hook_resid_post', classes: ['path'] });
    const GENF = `mutation($m: ID!, $z: ID, $f: FeatureEditsInput) { generatePath(modelId: $m, mazeId: $z, featureEdits: $f) { tokens } }`;
    const base = (await h.gql(GENF, { m: modelId, z: mazeId })).data.generatePath.tokens;
    const same = await h.gql(GENF, { m: modelId, z: mazeId, f: { sae, edits: [{ latent: 2, mode: 'scale', value: 1 }] } });
    expect(same.errors).toBeUndefined();
    expect(same.data.generatePath.tokens).toBe(base);
    const bad = async (f: object, msg: string) => {
      const r = await h.gql(GENF, { m: modelId, z: mazeId, f });
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].message).toContain(msg);
    };
    await bad({ sae, edits: [{ latent: 9999, mode: 'zero' }] }, 'generatePath: featureEdits.edits[0].latent must be an integer in [0, ');
    await bad({ sae, edits: [{ latent: 1, mode: 'set' }] }, 'generatePath: featureEdits.edits[0]: set needs a value');
    const dla = await run('dla', { count: 2 });
    await bad({ sae: dla, edits: [{ latent: 1, mode: 'zero' }] }, 'is a dla run; feature edits need a finished sae experiment');
  });
});

describe('an SAE acts only on the weights it was trained on', () => {
  const standard: ModelConfig = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), n_ctx: 128, tokenizer: 'aotp-ut' };
  const weightsOf = (seed: number) => encodeModel(standard, initWeights(standard, new Rng(seed), { scale: 3 }), [...tok.vocab(3)]);
  const GENF = `mutation($m: ID!, $z: ID, $f: FeatureEditsInput) { generatePath(modelId: $m, mazeId: $z, featureEdits: $f) { tokens } }`;
  const ACTS = 'query($id: ID!, $t: String!) { experiment(id: $id) { saeActivations(tokens: $t, top: 3) { position token latents { latent } } } }';
  const caches = () => sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM activation_caches');

  it("generatePath's featureEdits and saeActivations refuse an SAE of another model or of an earlier checkpoint, naming both, computing nothing", async () => {
    const imported = async (name: string, seed: number) => {
      const r = await h.gql(IMPORT, { n: name, b: b64(weightsOf(seed)) });
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      return r.data.importModel.id as string;
    };
    const modelId = await imported('sae home', 11);
    const otherId = await imported('sae stranger', 12);
    const r = await h.gql(
      'mutation($m: ID!, $p: ExperimentParamsInput!) { runExperiment(modelId: $m, params: $p) { id params { ... on ExperimentJobParams { experimentId checkpointId } } } }',
      { m: modelId, p: { [paramsInputField('sae')]: { count: 3, steps: 6, batch: 32, buffer: 256, expansion: 2, k: 3, hook: 'blocks.0.hook_resid_post' } } },
    );
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect((await waitForJob(h, r.data.runExperiment.id)).status).toBe('COMPLETED');
    const sae = r.data.runExperiment.params.experimentId as string;
    const saeRow = Number(sae.split(':')[1]);
    const [m, other] = [modelId, otherId].map((id) => Number(id.split(':')[1]));
    const trainedOn = (await sqlOne<{ checkpoint_id: number }>(h.server.app.handle, 'SELECT checkpoint_id FROM experiments WHERE id = ?', saeRow))!
      .checkpoint_id;
    expect(r.data.runExperiment.params.checkpointId).toBe(`Checkpoint:${trainedOn}`);
    const edits = [{ latent: 0, mode: 'scale', value: 1 }];

    // On the weights it was trained on, both run.
    const ok = await h.gql(GENF, { m: modelId, z: mazeId, f: { sae, edits } });
    expect(ok.errors, JSON.stringify(ok.errors)).toBeUndefined();
    const live = await h.gql(ACTS, { id: sae, t: mazeTokens });
    expect(live.errors, JSON.stringify(live.errors)).toBeUndefined();
    expect(live.data.experiment.saeActivations).toHaveLength(mazeTokens.split(' ').length);

    // Another model: refused by generatePath, naming the SAE's model and the one asked for.
    const refused = async (res: Promise<{ data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> }>, message: string) => {
      const before = await caches();
      const out = await res;
      expect(codes(out)).toEqual(['BAD_USER_INPUT']);
      expect(out.errors![0].message).toBe(message);
      expect(out.data?.generatePath ?? out.data?.experiment?.saeActivations ?? null).toBeNull();
      expect(await caches()).toBe(before); // nothing run: no activation cache written
    };
    await refused(
      h.gql(GENF, { m: otherId, z: mazeId, f: { sae, edits } }),
      `generatePath: featureEdits: Experiment:${saeRow}'s SAE was trained on Model:${m}, not Model:${other}`,
    );

    // The model moves on (a later checkpoint with other weights): the SAE no longer fits its latest weights.
    const file = `${h.dataDir}/later.safetensors`;
    fs.writeFileSync(file, weightsOf(13));
    await storeCheckpoint(h.server.app.handle, m, 50, file);
    const latest = (await sqlOne<{ id: number }>(h.server.app.handle, 'SELECT id FROM checkpoints WHERE model_id = ? AND step = 50', m))!.id;
    expect(latest).not.toBe(trainedOn);
    await refused(
      h.gql(GENF, { m: modelId, z: mazeId, f: { sae, edits } }),
      `generatePath: featureEdits: Experiment:${saeRow} trained its SAE on Checkpoint:${trainedOn}, but the model's latest is Checkpoint:${latest}`,
    );
    await refused(
      h.gql(ACTS, { id: sae, t: mazeTokens }),
      `saeActivations: Experiment:${saeRow} trained its SAE on Checkpoint:${trainedOn}, but the model's latest is Checkpoint:${latest}; train an SAE on the current weights`,
    );
    // The model itself still decodes (on its new weights): only the SAE is refused.
    const plain = await h.gql(GENF, { m: modelId, z: mazeId });
    expect(plain.errors, JSON.stringify(plain.errors)).toBeUndefined();
  });
});
