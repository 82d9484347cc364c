/**
 * The Python client (clients/python) against a real server, run as a user would: Debian's python3
 * with requests + numpy (CI installs them), the walkthrough script whose cells the notebook holds.
 * Its numbers are checked against this side's own computation: logits against the pure-TS reference
 * forward, the state_dict against the weights imported, the mazes against the GraphQL answers.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramShapes, PRESETS } from '../../server/model/config.js';
import { referenceForward } from '../../server/model/reference.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer, tokensToIds } from '../../server/maze/tokenize/index.js';
import { readResultTensor } from '../../server/services/experiments.js';
import { CREATE_DATASET, type Harness, sqlRows, startHarness, waitForJob } from './helpers.js';
import { python, pythonReady, ROOT, runCommand } from './spawn.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const runPython = (args: string[], env: Record<string, string>) => runCommand(python, args, { PYTHONPATH: `${ROOT}clients/python`, ...env });

describe.skipIf(!pythonReady)('the Python client', () => {
  it('walks through a model, a dataset, run_with_cache, the state_dict, an experiment and a finding, with numbers that match ours', async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), n_ctx: 64, tokenizer: 'aotp-ut' };
    const weights = initWeights(cfg, new Rng(11));
    const vocab = [...tok.vocab(3)];
    const b64 = Buffer.from(encodeModel(cfg, weights, vocab)).toString('base64');
    const modelId = (await h.gql('mutation($b: String!) { importModel(name: "py-nano", base64: $b) { id } }', { b: b64 })).data.importModel.id;
    const job = (await h.gql(CREATE_DATASET, { input: { name: 'py-3x3', generator: 'dfs', grid: 3, count: 12, seed: 4, testFraction: 0.25 } })).data
      .createDataset;
    const datasetId = (await waitForJob(h, job.id)).result.datasetId;

    const r = await runPython(['clients/python/examples/walkthrough.py', modelId, datasetId], {
      SEARCHLIGHT_URL: h.server.url,
      SEARCHLIGHT_TOKEN: h.tokens.researcher,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);

    // The config HookedTransformerConfig takes: TL fields only.
    expect(out.tl_config).toEqual({
      d_model: 8,
      n_layers: 2,
      n_heads: 2,
      d_head: 4,
      d_mlp: 32,
      d_vocab: cfg.d_vocab,
      d_vocab_out: cfg.d_vocab,
      n_ctx: 64,
      act_fn: 'gelu_new',
      eps: 1e-5,
      normalization_type: 'LN',
      positional_embedding_type: 'standard',
      attn_only: false,
      parallel_attn_mlp: false,
      model_name: 'py-nano',
    });

    // Mazes: every one, with maze-dataset's connection_list matching the connections GraphQL gives.
    expect(out.mazes).toBe(12);
    const m0 = (
      await h.gql('query($id: ID!) { dataset(id: $id) { mazes(first: 1) { edges { node { id origin target solution connections tokens } } } } }', {
        id: datasetId,
      })
    ).data.dataset.mazes.edges[0].node;
    expect(out.maze0).toMatchObject({ id: m0.id, origin: m0.origin, target: m0.target, solution: m0.solution });
    const open = new Set((m0.connections as number[][][]).map(([a, b]) => JSON.stringify([a, b].sort((x, y) => x[0] - y[0] || x[1] - y[1]))));
    let fromList = 0;
    out.maze0.connection_list.forEach((plane: number[][], d: number) =>
      plane.forEach((row, r0) =>
        row.forEach((v, c0) => {
          if (!v) return;
          fromList++;
          expect(open.has(JSON.stringify([[r0, c0], d === 0 ? [r0 + 1, c0] : [r0, c0 + 1]]))).toBe(true);
        }),
      ),
    );
    expect(fromList).toBe(open.size);

    // run_with_cache: the last position's logits equal our reference forward's; TL shapes, batch first.
    const prompt = (m0.tokens as string).split('<PATH_START>')[0].trim().split(' ').concat('<PATH_START>');
    const ids = tokensToIds(prompt, vocab);
    const T = ids.length;
    const ref = referenceForward(cfg, weights, { B: 1, T, data: ids }).logits.subarray((T - 1) * cfg.d_vocab, T * cfg.d_vocab);
    expect(out.tokens_shape).toEqual([1, T]);
    expect(out.logits).toHaveLength(cfg.d_vocab);
    out.logits.forEach((v: number, i: number) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-4));
    expect(out.cache_shapes).toEqual({
      'blocks.0.hook_resid_post': [1, T, 8],
      'blocks.0.attn.hook_pattern': [1, 2, T, T],
      'blocks.1.attn.hook_pattern': [1, 2, T, T],
    });
    expect(out.pattern_rows_sum_to_one).toBe(true);

    // state_dict: every parameter by its TL name and shape, with the imported values.
    for (const [name, shape] of paramShapes(cfg)) expect(out.state_dict[name], name).toEqual(shape);
    expect(out.W_E_00).toBeCloseTo(weights.get('embed.W_E')![0], 6);

    // An experiment run and awaited, its tensors as arrays; a finding with it as evidence.
    expect(out.experiment.status).toBe('COMPLETED');
    // The params as run, typed by the kind (every default filled in for this 3×3, 2-layer model).
    expect(out.experiment.params).toEqual({ generator: 'dfs', grid: 3, count: 2, layers: [0, 1], query: 'path_start', patterns: true });
    // The typed result, every field of the kind's summary type, selected from the server's schema.
    expect(out.experiment.result).toMatchObject({ __typename: 'AttentionSummary', kind: 'attention', mazes: 2 });
    expect(out.experiment.result.tokens.length).toBeGreaterThan(0);
    expect(out.experiment.result.query_token).toEqual(expect.any(String));
    // `layers` clashes with LogitLensSummary.layers (a list of objects): fetched aliased, named back.
    expect(out.experiment.result.layers).toEqual(expect.arrayContaining([0]));
    expect(Object.keys(out.experiment.result).filter((k) => k.includes('__') && k !== '__typename')).toEqual([]);
    expect(Object.keys(out.experiment.tensors).length).toBeGreaterThan(0);
    // A probe as a direction: what it reads, and its P(label) at the prompt's last position from the
    // Python side's run_with_cache equals σ(w·resid_pre 0 + b) with resid_pre 0 = W_E[token] + W_pos[T − 1].
    expect(out.direction).toMatchObject({
      label: 'cell (1,1) is the target, at path tokens, from blocks.0.hook_resid_pre',
      hook: 'blocks.0.hook_resid_pre',
      w_shape: [8],
    });
    const d = (await h.gql('query($e: ID!) { experiment(id: $e) { probeDirection(index: 4) { bias } } }', { e: out.direction.id })).data.experiment;
    const [row] = await sqlRows<{ experiment_id: number; name: string; path: string; sha256: string }>(
      h.server.app.handle,
      "SELECT * FROM results WHERE experiment_id = ? AND name = 'directions'",
      Number(out.direction.id.split(':')[1]),
    );
    const W = (await readResultTensor(h.server.app.handle.store, { ...row, experimentId: row.experiment_id } as never)).data; // [direction, d_model]
    const WE = weights.get('embed.W_E')!;
    const WP = weights.get('pos_embed.W_pos')!;
    let z = d.probeDirection.bias;
    for (let k = 0; k < 8; k++) z += W[4 * 8 + k] * (WE[ids[T - 1] * 8 + k] + WP[(T - 1) * 8 + k]);
    expect(out.direction.p_last).toBeCloseTo(1 / (1 + Math.exp(-z)), 4);
    expect(out.finding).toMatchObject({ target: { kind: 'head', layer: 0, head: 0 }, status: 'HYPOTHESIS' });
    const stored = (await h.gql('query($m: ID!) { annotations(modelId: $m) { edges { node { body evidence { label url } } } } }', { m: modelId })).data
      .annotations.edges;
    expect(stored[0].node.body).toBe('Head 0.0 attends to the target at <PATH_START>.');
    expect(out.error).toBe('Model:999999 does not exist');
  });

  it("the notebook holds the walkthrough's cells, so what the test runs is what a reader runs", () => {
    const nb = JSON.parse(fs.readFileSync(`${ROOT}clients/python/examples/walkthrough.ipynb`, 'utf8')) as {
      cells: Array<{ cell_type: string; source: string[]; metadata: { tags?: string[] } }>;
    };
    const script = fs.readFileSync(`${ROOT}clients/python/examples/walkthrough.py`, 'utf8');
    // Every cell but the parameters cell (ids instead of sys.argv) appears verbatim in the script.
    const code = nb.cells.filter((c) => c.cell_type === 'code' && !c.metadata.tags?.includes('parameters')).map((c) => c.source.join('').trim());
    expect(code.length).toBeGreaterThanOrEqual(6);
    for (const cell of code) expect(script).toContain(cell);
  });

  it('names features and directions as finding targets the way the API takes them', async () => {
    const r = await runPython(
      [
        '-c',
        'import json; from searchlight.client import _target_input as t; print(json.dumps([t({"kind": "feature", "experimentId": 7, "latent": 3}), t({"kind": "direction", "experimentId": "Experiment:9", "index": 40})]))',
      ],
      {},
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([{ feature: { sae: 'Experiment:7', latent: 3 } }, { direction: { probes: 'Experiment:9', index: 40 } }]);
  });

  it("without a token it says how to get one; a bad token is the server's UNAUTHENTICATED message", async () => {
    const none = await runPython(['-c', 'import searchlight; searchlight.Client()'], { SEARCHLIGHT_URL: h.server.url, SEARCHLIGHT_TOKEN: '' });
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no API token: pass token=\.\.\. or set SEARCHLIGHT_TOKEN/);
    const bad = await runPython(
      ['-c', 'import searchlight\ntry:\n  searchlight.Client(token="sl_nope").model("Model:1")\nexcept searchlight.SearchlightError as e:\n  print(e.code, e)'],
      { SEARCHLIGHT_URL: h.server.url },
    );
    expect(bad.stdout.trim()).toMatch(/^UNAUTHENTICATED /);
  });
});
