/**
 * Model.component (a component's page): evidence gathered from the model's stored experiments,
 * each value checked against the experiment's own tensor or summary, and activity over a
 * dataset's test mazes checked against a runForward cache of the same sequence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramsInputField } from '../../server/graphql/experiment-params.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { PRESETS } from '../../server/model/config.js';
import { decodeSafetensors } from '../../server/model/safetensors.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { readResultTensor } from '../../server/services/experiments.js';
import { codes, CREATE_DATASET, type Harness, sqlRows, startHarness, waitForJob } from './helpers.js';

const GRID = 3;
let h: Harness;
let modelId: string;
let datasetId: string;
const ids: Record<string, number> = {};

const RUN = `mutation($modelId: ID!, $params: ExperimentParamsInput!, $datasetId: ID) {
  runExperiment(modelId: $modelId, params: $params, datasetId: $datasetId) { id params { ... on ExperimentJobParams { experimentId } } }
}`;
const COMPONENT = `query($m: ID!, $name: String!) { model(id: $m) { component(name: $name) {
  name kind layer head neuron evidence { experiment { id kind } kind measure value rank of }
} } }`;
const ACTIVITY = `query($m: ID!, $name: String!, $d: ID, $n: Int, $x: Int) { model(id: $m) { component(name: $name) {
  activity(datasetId: $d, mazes: $n, examples: $x) { dataset { id } mazes splitSize positions byClassMeasure byClass { class value n }
    examples { maze { id rows cols } position token value cell heat tokens values } }
} } }`;

/** The value of one stored tensor of experiment `id`. */
async function tensor(id: number, name: string): Promise<{ shape: number[]; data: ArrayLike<number> }> {
  const [row] = await sqlRows<{ id: number; experiment_id: number; name: string; path: string; sha256: string; dtype: string; shape: string }>(
    h.server.app.handle,
    'SELECT * FROM results WHERE experiment_id = ? AND name = ?',
    id,
    name,
  );
  const r = await readResultTensor(h.server.app.handle.store, { ...row, experimentId: row.experiment_id } as never);
  return { shape: r.shape, data: r.data };
}

beforeAll(async () => {
  h = await startHarness();
  const tok = getTokenizer('aotp-ut');
  const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(GRID), n_ctx: 128, tokenizer: 'aotp-ut' };
  const bytes = encodeModel(cfg, initWeights(cfg, new Rng(6), { scale: 3 }), [...tok.vocab(GRID)]);
  modelId = (await h.gql('mutation($b: String!) { importModel(name: "pages", base64: $b) { id } }', { b: Buffer.from(bytes).toString('base64') })).data
    .importModel.id;
  const ds = await waitForJob(
    h,
    (await h.gql(CREATE_DATASET, { input: { name: 'threes', generator: 'dfs', grid: GRID, count: 16, seed: 4, testFraction: 0.5 } })).data.createDataset.id,
  );
  datasetId = ds.result.datasetId;
  const params: Record<string, unknown> = {
    dla: { count: 3 },
    'activation-patching': { count: 2, sites: ['head_all_pos', 'mlp_out'] },
    'adjacency-heads': { count: 2 },
    weights: {},
    attention: { count: 2, query: 'last' },
    'path-patching': { count: 1 },
  };
  for (const [kind, p] of Object.entries(params)) {
    const r = await h.gql(RUN, { modelId, params: { [paramsInputField(kind)]: p }, datasetId: kind === 'weights' ? null : datasetId });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const done = await waitForJob(h, r.data.runExperiment.id);
    expect(done.status, done.error ?? '').toBe('COMPLETED');
    ids[kind] = Number(r.data.runExperiment.params.experimentId.split(':')[1]);
  }
});
afterAll(async () => h?.close());

describe('a component page', () => {
  it('a head gathers what each experiment measured about it, with the values and ranks the experiments stored', async () => {
    const r = await h.gql(COMPONENT, { m: modelId, name: 'L1H0' });
    expect(r.errors).toBeUndefined();
    const c = r.data.model.component;
    expect(c).toMatchObject({ name: 'L1H0', kind: 'head', layer: 1, head: 0, neuron: null });
    type Ev = { experiment: { id: string; kind: string }; kind: string; measure: string; value: number | null; rank: number | null; of: number | null };
    const ev = c.evidence as Ev[];
    // Newest experiment first; each kind that measures heads contributes.
    expect([...new Set(ev.map((e) => e.kind))]).toEqual(['path-patching', 'attention', 'weights', 'adjacency-heads', 'activation-patching', 'dla']);
    const one = (kind: string, measure: RegExp) => {
      const found = ev.filter((e) => e.kind === kind && measure.test(e.measure));
      expect(found, `${kind} ${measure}`).toHaveLength(1);
      return found[0];
    };

    const senders = await tensor(ids['path-patching'], 'senders.mean'); // [layer, head]
    expect(one('path-patching', /as a sender to the logits/).value).toBeCloseTo(senders.data[2], 6);

    // dla: by_class [class, component]; L1H0 is component 2 + H + 1 + 1 + 0 (embed, pos_embed, L0H0, L0H1, L0.b_O, L0.mlp).
    const byClass = await tensor(ids.dla, 'by_class');
    const C = byClass.shape[1];
    const j = 2 + 2 + 2; // embed, pos_embed, L0H0, L0H1, L0.b_O, L0.mlp → L1H0
    const fork = one('dla', /at forks/);
    expect(fork.value).toBeCloseTo(byClass.data[0 * C + j], 6);
    const row = Array.from({ length: C }, (_, i) => Math.abs(byClass.data[i]));
    expect(fork.rank).toBe(row.filter((v, i) => v > row[j] || (v === row[j] && i < j)).length + 1);
    expect(fork.of).toBe(C);

    // activation patching: head_all_pos.mean [layer, head] at [1, 0], ranked among the 4 heads.
    const mean = await tensor(ids['activation-patching'], 'head_all_pos.mean');
    const patch = one('activation-patching', /all positions/);
    expect(patch.value).toBeCloseTo(mean.data[2], 6);
    expect(patch.of).toBe(Array.from(mean.data).filter(Number.isFinite).length);

    // adjacency-heads and weights: the summary's own row for (1, 0).
    const adj = (
      await h.gql('query($id: ID!) { experiment(id: $id) { result { ... on AdjacencyHeadsSummary { ranked { rank layer head lattice } } } } }', {
        id: `Experiment:${ids['adjacency-heads']}`,
      })
    ).data.experiment.result.ranked.find((x: { layer: number; head: number }) => x.layer === 1 && x.head === 0);
    expect(one('adjacency-heads', /rank by mass/)).toMatchObject({ value: adj.lattice, rank: adj.rank, of: 4 });
    expect(one('weights', /QK correlation/).of).toBeGreaterThan(0);

    // attention: its largest class of class_mass [layer, head, class].
    const mass = await tensor(ids.attention, 'class_mass');
    const nC = mass.shape[2];
    const li = 1; // layers [0, 1]
    const masses = Array.from({ length: nC }, (_, k) => mass.data[(li * 2 + 0) * nC + k]);
    expect(one('attention', /largest class/).value).toBeCloseTo(Math.max(...masses), 6);
    expect(ev.every((e) => e.experiment.kind === e.kind)).toBe(true);
  });

  it('an MLP gathers its DLA and its mlp_out patching; a neuron has no stored measure', async () => {
    const mlp = (await h.gql(COMPONENT, { m: modelId, name: 'MLP0' })).data.model.component;
    expect(mlp.name).toBe('L0.mlp');
    expect(mlp.evidence.map((e: { kind: string }) => e.kind).sort()).toEqual(['activation-patching', 'dla', 'dla']);
    const neuron = (await h.gql(COMPONENT, { m: modelId, name: 'L0N31' })).data.model.component;
    expect(neuron).toMatchObject({ kind: 'neuron', layer: 0, neuron: 31, head: null, evidence: [] });
  });

  it('refuses a name that is not a component or is outside the model, saying which', async () => {
    const bad = async (name: string) => {
      const r = await h.gql(COMPONENT, { m: modelId, name });
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      return r.errors![0].message;
    };
    expect(await bad('L2H0')).toBe('component "L2H0": layer 2 does not exist (the model has 2)');
    expect(await bad('L0H2')).toBe('component "L0H2": head 2 does not exist (the model has 2)');
    expect(await bad('L0N32')).toBe('component "L0N32": neuron 32 does not exist (the model has 32)');
    expect(await bad('head 1')).toMatch(/^component "head 1" is not a component name: write L<layer>H<head>/);
  });

  it("a head's activity: attention from path positions by key class sums to 1; its strongest mazes are the runForward pattern's rows", async () => {
    const r = await h.gql(ACTIVITY, { m: modelId, name: 'L1H1', d: datasetId });
    expect(r.errors).toBeUndefined();
    const a = r.data.model.component.activity;
    expect(a).toMatchObject({ dataset: { id: datasetId }, mazes: 8, splitSize: 8 });
    expect(a.byClass.reduce((s: number, c: { value: number }) => s + c.value, 0)).toBeCloseTo(1, 5);
    expect(a.byClass.every((c: { n: number }) => c.n === a.positions)).toBe(true);
    expect(a.examples).toHaveLength(6);
    const values = a.examples.map((x: { value: number }) => x.value);
    expect(values).toEqual([...values].sort((x, y) => y - x));
    const top = a.examples[0];
    // The same sequence through runForward's cache: the query row of head 1 in layer 1.
    const f = await h.gql('mutation($m: ID!, $t: String!) { runForward(modelId: $m, tokens: $t, hooks: ["blocks.1.attn.hook_pattern"]) { cacheUrl } }', {
      m: modelId,
      t: top.tokens.join(' '),
    });
    const bytes = new Uint8Array(
      await (await fetch(`${h.server.url}${f.data.runForward.cacheUrl}`, { headers: { authorization: `Bearer ${h.tokens.researcher}` } })).arrayBuffer(),
    );
    const pattern = decodeSafetensors(bytes).tensors.get('blocks.1.attn.hook_pattern')!; // [1, H, T, T]
    const T = top.tokens.length;
    const rowAt = Array.from({ length: T }, (_, k) => pattern.data[(1 * T + top.position) * T + k]);
    top.values.forEach((v: number, k: number) => expect(v).toBeCloseTo(rowAt[k], 5));
    // Its value is the most attention on one cell: the sum over the cell's key positions.
    const [rr, cc] = top.cell;
    const onCell = rowAt.reduce((s, v, k) => (k <= top.position && top.tokens[k] === `(${rr},${cc})` ? s + v : s), 0);
    expect(top.value).toBeCloseTo(onCell, 5);
    expect(top.heat[rr * top.maze.cols + cc]).toBeCloseTo(onCell, 5);
    expect(Math.max(...top.heat)).toBeCloseTo(top.value, 6);
    expect(['(', '<']).toContain(top.token[0]); // a path query: a cell or <PATH_END>… tokens
  });

  it("a neuron's and an MLP's activity: per-class means over every position; more mazes than the split holds is refused", async () => {
    const n = (await h.gql(ACTIVITY, { m: modelId, name: 'L0N3', d: datasetId, n: 4, x: 2 })).data.model.component.activity;
    expect(n.mazes).toBe(4);
    expect(n.byClass.reduce((s: number, c: { n: number }) => s + c.n, 0)).toBe(n.positions);
    expect(n.examples).toHaveLength(2);
    expect(n.examples[0].value).toBe(Math.max(...n.examples[0].values));
    const mlp = (await h.gql(ACTIVITY, { m: modelId, name: 'L1.mlp', d: datasetId, n: 2, x: 1 })).data.model.component.activity;
    expect(mlp.byClassMeasure).toMatch(/mlp_out/);
    expect(Math.min(...mlp.examples[0].values)).toBeGreaterThanOrEqual(0); // norms

    const over = await h.gql(ACTIVITY, { m: modelId, name: 'L0N3', d: datasetId, n: 9 });
    expect(codes(over)).toEqual(['BAD_USER_INPUT']);
    expect(over.errors![0].message).toMatch(/test split holds 8 mazes, fewer than the 9 asked for/);
    const none = await h.gql(ACTIVITY, { m: modelId, name: 'L0N3' });
    expect(none.errors![0].message).toMatch(/was not trained on a stored dataset; name one with datasetId/);
    const viewer = await h.gql(ACTIVITY, { m: modelId, name: 'L0N3', d: datasetId }, h.tokens.viewer);
    expect(codes(viewer)).toEqual(['FORBIDDEN']);
  });
});

describe('a circuit built from evidence', () => {
  const BUILD = `mutation($e: ID!, $t: Float!, $name: String) { circuitFromExperiment(experimentId: $e, threshold: $t, name: $name) {
    id name model { id } graph { nodes { id } edges { from to label evidence weight } } } }`;
  type Edge = { from: string; to: string; label: string; evidence: string; weight: number };

  it('activation patching: every head at |effect| ≥ threshold → unembed, weighted by its head_all_pos mean, strongest first, linking to the experiment', async () => {
    const mean = Array.from((await tensor(ids['activation-patching'], 'head_all_pos.mean')).data); // [layer, head] → 4 heads
    const order = [0, 1, 2, 3].filter((i) => Number.isFinite(mean[i])).sort((a, b) => Math.abs(mean[b]) - Math.abs(mean[a]));
    const t = Math.abs(mean[order[1]]); // keeps the two strongest
    const r = await h.gql(BUILD, { e: `Experiment:${ids['activation-patching']}`, t });
    expect(r.errors).toBeUndefined();
    const c = r.data.circuitFromExperiment;
    expect(c.model.id).toBe(modelId);
    expect(c.name).toBe(`activation-patching ${ids['activation-patching']}, |effect| ≥ ${t}`);
    expect(c.graph.nodes.map((n: { id: string }) => n.id)).toEqual(['embed', 'pos_embed', 'L0H0', 'L0H1', 'MLP0', 'L1H0', 'L1H1', 'MLP1', 'unembed']);
    const edges = c.graph.edges as Edge[];
    expect(edges.map((e) => [e.from, e.to])).toEqual(order.slice(0, 2).map((i) => [`L${Math.floor(i / 2)}H${i % 2}`, 'unembed']));
    edges.forEach((e, k) => expect(e.weight).toBeCloseTo(mean[order[k]], 6));
    expect(edges.every((e) => e.evidence === `/experiments/${ids['activation-patching']}`)).toBe(true);
  });

  it('dla maps its components onto the nodes (L1.mlp → MLP1; biases have none); path-patching links senders to the logits', async () => {
    const d = (await h.gql(BUILD, { e: `Experiment:${ids.dla}`, t: 0, name: 'all of dla' })).data.circuitFromExperiment;
    const froms = (d.graph.edges as Edge[]).map((e) => e.from).sort();
    expect(froms).toEqual(['L0H0', 'L0H1', 'L1H0', 'L1H1', 'MLP0', 'MLP1', 'embed', 'pos_embed']);
    const p = (await h.gql(BUILD, { e: `Experiment:${ids['path-patching']}`, t: 0 })).data.circuitFromExperiment;
    // Paths ending at heads: each layer-0 sender → both receiver heads of layer 1 (later senders cannot reach them),
    // and the sender's page names those heads.
    const r = await h.gql(RUN, { modelId, params: { pathPatching: { count: 1, receivers: 'heads', receiverLayer: 1 } }, datasetId });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect((await waitForJob(h, r.data.runExperiment.id)).status).toBe('COMPLETED');
    const headsId = r.data.runExperiment.params.experimentId;
    const toHeads = (await h.gql(BUILD, { e: headsId, t: 0 })).data.circuitFromExperiment;
    const ends = (toHeads.graph.edges as Edge[]).map((e) => `${e.from}->${e.to}`).sort();
    expect(ends).toEqual(['L0H0->L1H0', 'L0H0->L1H1', 'L0H1->L1H0', 'L0H1->L1H1']);
    const sender = (await h.gql(COMPONENT, { m: modelId, name: 'L0H0' })).data.model.component.evidence as Array<{
      measure: string;
      experiment: { id: string };
    }>;
    expect(sender.find((e) => e.experiment.id === headsId)!.measure).toMatch(/as a sender to heads L1H0, L1H1 /);
    expect((p.graph.edges as Edge[]).every((e) => e.to === 'unembed' && /^path patching /.test(e.label))).toBe(true);
  });

  it('refuses kinds without component effects, a threshold nothing reaches (naming the largest), and viewers', async () => {
    const weights = await h.gql(BUILD, { e: `Experiment:${ids.weights}`, t: 0 });
    expect(codes(weights)).toEqual(['BAD_USER_INPUT']);
    expect(weights.errors![0].message).toBe(
      'circuitFromExperiment: a weights experiment measures no effect of components on each other; build a circuit from path-patching, activation-patching, attribution-patching, dla',
    );
    const high = await h.gql(BUILD, { e: `Experiment:${ids.dla}`, t: 1e9 });
    expect(high.errors![0].message).toMatch(
      /^circuitFromExperiment: no effect in Experiment:\d+ reaches \|1000000000\| \(the largest is [\d.e+-]+\); lower the threshold$/,
    );
    const negative = await h.gql(BUILD, { e: `Experiment:${ids.dla}`, t: -1 });
    expect(negative.errors![0].message).toBe('circuitFromExperiment: threshold must be a number ≥ 0, got -1');
    expect(codes(await h.gql(BUILD, { e: `Experiment:${ids.dla}`, t: 0 }, h.tokens.viewer))).toEqual(['FORBIDDEN']);
  });
});
