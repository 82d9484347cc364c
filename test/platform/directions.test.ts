/**
 * Experiment.probeDirection (a probe direction's page) through GraphQL: the direction read from the
 * stored probes, its activity over a window of test mazes past the probes' own (checked against a
 * runForward cache of the same sequence), refusals that say what was wrong, and findings about it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { PRESETS, type Weights } from '../../server/model/config.js';
import { decodeSafetensors } from '../../server/model/safetensors.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { readResultTensor } from '../../server/services/experiments.js';
import { codes, CREATE_DATASET, type Harness, sqlRows, startHarness, waitForJob } from './helpers.js';

const GRID = 3;
let h: Harness;
let modelId: string;
let datasetId: string;
let probesId: string;
let dlaId: string;
let weights: Weights;
let vocab: string[];

const RUN = `mutation($modelId: ID!, $params: ExperimentParamsInput!, $datasetId: ID) {
  runExperiment(modelId: $modelId, params: $params, datasetId: $datasetId) { id params { ... on ExperimentJobParams { experimentId } } }
}`;
const DIRECTION = `query($e: ID!, $i: Int!) { experiment(id: $e) { probeDirection(index: $i) {
  experiment { id } index class layer hook target column cell edge label norm bias balancedAccuracy controlBalancedAccuracy
  auc controlAuc siblings { index column label cosine balancedAccuracy auc } acrossLayers { index label cosine balancedAccuracy auc } logitsUp { token weight } logitsDown { token weight }
} } }`;
const ACTIVITY = `query($e: ID!, $i: Int!, $n: Int, $o: Int, $x: Int) { experiment(id: $e) { probeDirection(index: $i) {
  activity(mazes: $n, offset: $o, examples: $x) { dataset { id } mazes offset splitSize overlap positions nTrue nFalse maxSumError
    byClass { class meanTrue nTrue meanFalse nFalse } writers { component meanTrue meanFalse }
    examples { maze { id } position token value label tokens values } }
} } }`;

async function tensor(id: string, name: string): Promise<{ shape: number[]; data: ArrayLike<number> }> {
  const [row] = await sqlRows<{ id: number; experiment_id: number; name: string; path: string; sha256: string; dtype: string; shape: string }>(
    h.server.app.handle,
    'SELECT * FROM results WHERE experiment_id = ? AND name = ?',
    Number(id.split(':')[1]),
    name,
  );
  const r = await readResultTensor(h.server.app.handle.store, { ...row, experimentId: row.experiment_id } as never);
  return { shape: r.shape, data: r.data };
}

async function run(kind: string, params: Record<string, unknown>): Promise<string> {
  const r = await h.gql(RUN, { modelId, params: { [kind]: params }, datasetId });
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  const done = await waitForJob(h, r.data.runExperiment.id);
  expect(done.status, done.error ?? '').toBe('COMPLETED');
  return r.data.runExperiment.params.experimentId;
}

beforeAll(async () => {
  h = await startHarness();
  const tok = getTokenizer('aotp-ut');
  const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(GRID), n_ctx: 128, tokenizer: 'aotp-ut' };
  weights = initWeights(cfg, new Rng(8), { scale: 3 });
  vocab = [...tok.vocab(GRID)];
  const bytes = encodeModel(cfg, weights, vocab);
  modelId = (await h.gql('mutation($b: String!) { importModel(name: "probed", base64: $b) { id } }', { b: Buffer.from(bytes).toString('base64') })).data
    .importModel.id;
  const ds = await waitForJob(
    h,
    (await h.gql(CREATE_DATASET, { input: { name: 'threes', generator: 'dfs', grid: GRID, count: 40, seed: 4, testFraction: 0.5 } })).data.createDataset.id,
  );
  datasetId = ds.result.datasetId;
  probesId = await run('probes', { count: 10, iters: 20, classes: ['path_start', 'path'], targets: ['target', 'edge'] });
  dlaId = await run('dla', { count: 2 });
});
afterAll(async () => h?.close());

// Two classes × 3 lens layers (nano has 2 layers) × (9 target cells + 12 edges).
const PER_LAYER = 9 + 12;

describe('a probe direction', () => {
  it('is read from the stored probes: what it reads, its weights’ norm, its geometry and logit weights', async () => {
    const index = (1 * 3 + 1) * PER_LAYER + 4; // path, resid_pre 1, target, cell (1,1)
    const r = await h.gql(DIRECTION, { e: probesId, i: index });
    expect(r.errors).toBeUndefined();
    const d = r.data.experiment.probeDirection;
    expect(d).toMatchObject({
      experiment: { id: probesId },
      index,
      class: 'path',
      layer: 'resid_pre 1',
      hook: 'blocks.1.hook_resid_pre',
      target: 'target',
      column: 4,
      cell: [1, 1],
      edge: null,
      label: 'cell (1,1) is the target, at path tokens, from blocks.1.hook_resid_pre',
    });
    const W = await tensor(probesId, 'directions');
    const D = W.shape[1];
    expect(W.shape[0]).toBe(2 * 3 * PER_LAYER);
    const w = Array.from({ length: D }, (_, k) => W.data[index * D + k]);
    expect(d.norm).toBeCloseTo(Math.sqrt(w.reduce((a, v) => a + v * v, 0)), 4);
    expect(d.bias).toBeCloseTo((await tensor(probesId, 'directions.bias')).data[index], 5);
    // NaN where the run's 2 test mazes hold one class only; the API says null there.
    const bal = (await tensor(probesId, 'directions.balanced')).data[index];
    if (Number.isNaN(bal)) expect(d.balancedAccuracy).toBeNull();
    else expect(d.balancedAccuracy).toBeCloseTo(bal, 5);
    expect(d.siblings.map((s: { label: string }) => s.label)).toEqual(['(0,0)', '(0,1)', '(0,2)', '(1,0)', '(1,1)', '(1,2)', '(2,0)', '(2,1)', '(2,2)']);
    expect(d.siblings[4]).toMatchObject({ index, cosine: expect.closeTo(1, 5) });
    expect(d.acrossLayers.map((s: { label: string }) => s.label)).toEqual(['resid_pre 0', 'resid_pre 1', 'resid_post 1']);
    expect(d.acrossLayers[1].index).toBe(index);
    // Every row's scores are its own stored column's (NaN where its 2 test mazes hold one class only: null).
    const [balT, aucT, caucT] = await Promise.all(['directions.balanced', 'directions.auc', 'directions.control_auc'].map((n) => tensor(probesId, n)));
    const orNull = (v: number) => (Number.isNaN(v) ? null : expect.closeTo(v, 5));
    for (const row of [...d.siblings, ...d.acrossLayers])
      expect(row).toMatchObject({ balancedAccuracy: orNull(balT.data[row.index]), auc: orNull(aucT.data[row.index]) });
    expect(d).toMatchObject({ auc: orNull(aucT.data[index]), controlAuc: orNull(caucT.data[index]) });
    // Some column has a test AUC (one target cell of 9 in 2 test mazes leaves most without one).
    expect([...d.siblings, ...d.acrossLayers].some((r: { auc: number | null }) => r.auc !== null)).toBe(true);
    // Logit weights: w·W_U of the imported weights, the 8 largest and smallest, by token.
    const W_U = weights.get('unembed.W_U')!; // [d_model, d_vocab]
    const V = W_U.length / D;
    const byToken = vocab.map((t, v) => ({ token: t, weight: w.reduce((a, x, k) => a + x * W_U[k * V + v], 0) })).sort((a, b) => b.weight - a.weight);
    expect(d.logitsUp).toEqual(byToken.slice(0, 8).map((x) => ({ token: x.token, weight: expect.closeTo(x.weight, 4) })));
    expect(d.logitsDown).toEqual(
      byToken
        .slice(-8)
        .reverse()
        .map((x) => ({ token: x.token, weight: expect.closeTo(x.weight, 4) })),
    );

    const edge = (await h.gql(DIRECTION, { e: probesId, i: 9 })).data.experiment.probeDirection; // path_start, resid_pre 0, the first edge
    expect(edge).toMatchObject({
      class: 'path_start',
      target: 'edge',
      column: 0,
      cell: null,
      edge: [
        [0, 0],
        [1, 0],
      ],
    });
    expect(edge.label).toBe('edge (0,0)-(1,0) is open, at <PATH_START>, from blocks.0.hook_resid_pre');
  });

  it('reads mazes past the probes’ own by default; its P(label) is σ(w·resid + b) on a runForward cache of the same maze', async () => {
    const index = (1 * 3 + 2) * PER_LAYER + 2; // path, resid_post 1 (the writers are every layer's), target (0,2)
    const r = await h.gql(ACTIVITY, { e: probesId, i: index, x: 3 });
    expect(r.errors).toBeUndefined();
    const a = r.data.experiment.probeDirection.activity;
    expect(a).toMatchObject({ dataset: { id: datasetId }, mazes: 10, offset: 10, splitSize: 20, overlap: 0 });
    expect(a.maxSumError).toBeLessThan(1e-3);
    expect(a.writers.map((w: { component: string }) => w.component)).toEqual([
      'embed',
      'pos_embed',
      ...[0, 1].flatMap((l) => [...Array.from({ length: PRESETS.nano.n_heads }, (_, hh) => `L${l}H${hh}`), `L${l}.b_O`, `L${l}.mlp`]),
    ]);
    expect(a.nTrue + a.nFalse).toBeGreaterThan(10);
    expect(a.examples).toHaveLength(3);
    const top = a.examples[0];
    expect(top.values[top.position]).toBeCloseTo(top.value, 6);
    expect(top.tokens[top.position]).toBe(top.token);
    const f = await h.gql('mutation($m: ID!, $t: String!) { runForward(modelId: $m, tokens: $t, hooks: ["blocks.1.hook_resid_post"]) { cacheUrl } }', {
      m: modelId,
      t: top.tokens.join(' '),
    });
    expect(f.errors).toBeUndefined();
    const bytes = new Uint8Array(
      await (await fetch(`${h.server.url}${f.data.runForward.cacheUrl}`, { headers: { authorization: `Bearer ${h.tokens.researcher}` } })).arrayBuffer(),
    );
    const resid = decodeSafetensors(bytes).tensors.get('blocks.1.hook_resid_post')!; // [1, T, d_model]
    const W = await tensor(probesId, 'directions');
    const D = W.shape[1];
    const b = (await tensor(probesId, 'directions.bias')).data[index];
    for (const t of [0, top.position, top.tokens.length - 1]) {
      let z = b;
      for (let k = 0; k < D; k++) z += W.data[index * D + k] * resid.data[t * D + k];
      expect(top.values[t]).toBeCloseTo(1 / (1 + Math.exp(-z)), 4);
    }
  });

  it('says how many of the mazes read the probes saw, and refuses windows the split does not hold', async () => {
    const index = 3;
    const overlapping = (await h.gql(ACTIVITY, { e: probesId, i: index, n: 12, o: 0, x: 0 })).data.experiment.probeDirection.activity;
    expect(overlapping).toMatchObject({ mazes: 12, offset: 0, overlap: 10, examples: [] });
    // 15 do not fit past the probes' 10 of 20, so the default window starts at 0 and says so.
    const wide = (await h.gql(ACTIVITY, { e: probesId, i: index, n: 15, x: 0 })).data.experiment.probeDirection.activity;
    expect(wide).toMatchObject({ mazes: 15, offset: 0, overlap: 10 });
    const tooMany = await h.gql(ACTIVITY, { e: probesId, i: index, n: 16, o: 5 });
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(tooMany.errors![0].message).toContain('holds 15 mazes from offset 5, fewer than the 16 asked for');
    // A probe reads cells of its own grid: a dataset of another is refused, naming both.
    const fours = await waitForJob(
      h,
      (await h.gql(CREATE_DATASET, { input: { name: 'fours', generator: 'dfs', grid: 2, count: 8, seed: 1, testFraction: 0.5 } })).data.createDataset.id,
    );
    const otherGrid = await h.gql(`query($e: ID!, $d: ID) { experiment(id: $e) { probeDirection(index: 3) { activity(datasetId: $d) { mazes } } } }`, {
      e: probesId,
      d: fours.result.datasetId,
    });
    expect(codes(otherGrid)).toEqual(['BAD_USER_INPUT']);
    expect(otherGrid.errors![0].message).toContain(`${fours.result.datasetId} holds 2×2 mazes, but the probes read cells of 3×3`);
    const badOffset = await h.gql(ACTIVITY, { e: probesId, i: index, o: 20 });
    expect(badOffset.errors![0].message).toContain('offset must be an integer in [0, 20)');
  });

  it('refuses an index outside the run, and is null on another kind', async () => {
    const r = await h.gql(DIRECTION, { e: probesId, i: 2 * 3 * PER_LAYER });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toContain(`direction ${2 * 3 * PER_LAYER} does not exist: this probes run stored ${2 * 3 * PER_LAYER}`);
    const other = await h.gql(DIRECTION, { e: dlaId, i: 0 });
    expect(other.errors).toBeUndefined();
    expect(other.data.experiment.probeDirection).toBeNull();
  });

  it('can be what a finding is about, found by it, and a bad one is refused naming the entry', async () => {
    const CREATE = 'mutation($i: CreateAnnotationInput!) { createAnnotation(input: $i) { id target { kind experimentId index } alsoAbout { kind index } } }';
    const made = await h.gql(CREATE, {
      i: {
        modelId,
        target: { direction: { probes: probesId, index: 40 } },
        alsoAbout: [{ direction: { probes: probesId, index: 41 } }],
        body: 'target (1,1) forms by resid_pre 1',
      },
    });
    expect(made.errors).toBeUndefined();
    expect(made.data.createAnnotation.target).toEqual({ kind: 'direction', experimentId: probesId, index: 40 });
    const found = await h.gql('query($m: ID!, $t: ComponentTargetInput) { annotations(modelId: $m, target: $t) { totalCount } }', {
      m: modelId,
      t: { direction: { probes: probesId, index: 41 } },
    });
    expect(found.data.annotations.totalCount).toBe(1);
    const outside = await h.gql(CREATE, { i: { modelId, target: { direction: { probes: probesId, index: 999 } }, body: 'x' } });
    expect(outside.errors![0].message).toContain(`target.direction.index must be an integer in [0, ${2 * 3 * PER_LAYER})`);
    const notProbes = await h.gql(CREATE, {
      i: { modelId, target: { mlp: { layer: 0 } }, alsoAbout: [{ direction: { probes: dlaId, index: 0 } }], body: 'x' },
    });
    expect(notProbes.errors![0].message).toContain('alsoAbout[0]');
    expect(notProbes.errors![0].message).toContain(`Experiment:${dlaId.split(':')[1]} is a dla experiment, not a probes one`);
  });
});
