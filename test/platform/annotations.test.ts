import { createUser } from '../../server/services/accounts.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../server/model/config.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { codes, type Harness, sqlCount, sqlRows, startHarness } from './helpers.js';

let h: Harness;
let modelId: string;
beforeAll(async () => {
  h = await startHarness();
  const tok = getTokenizer('aotp-ut');
  const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), n_ctx: 64, tokenizer: 'aotp-ut' };
  const b = Buffer.from(encodeModel(cfg, initWeights(cfg, new Rng(1)), [...tok.vocab(3)])).toString('base64');
  modelId = (await h.gql('mutation($b: String!) { importModel(name: "nano", base64: $b) { id } }', { b })).data.importModel.id;
});
afterAll(async () => h?.close());

const CREATE = 'mutation($i: CreateAnnotationInput!) { createAnnotation(input: $i) { id version status tags body author { name } } }';
const UPDATE = 'mutation($i: UpdateAnnotationInput!) { updateAnnotation(input: $i) { id version body status } }';

describe('annotations', () => {
  it('an edit made on a stale version is refused with CONFLICT and the current state; nothing is overwritten', async () => {
    const a = (
      await h.gql(CREATE, { i: { modelId, target: { head: { layer: 1, head: 0 } }, body: 'L1H0 attends to the target', tags: ['attention', 'target'] } })
    ).data.createAnnotation;
    expect(a).toMatchObject({ version: 1, status: 'HYPOTHESIS', tags: ['attention', 'target'], author: { name: 'rosalind' } });
    const first = await h.gql(UPDATE, { i: { id: a.id, version: 1, status: 'SUPPORTED' } });
    expect(first.data.updateAnnotation).toMatchObject({ version: 2, status: 'SUPPORTED' });
    const stale = await h.gql(UPDATE, { i: { id: a.id, version: 1, body: 'overwrite attempt' } }, h.tokens.admin);
    expect(codes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors![0].extensions!.current).toMatchObject({ id: a.id, version: 2, status: 'SUPPORTED', body: 'L1H0 attends to the target' });
    const now = await h.gql('query($id: ID!) { annotation(id: $id) { body version status } }', { id: a.id });
    expect(now.data.annotation).toEqual({ body: 'L1H0 attends to the target', version: 2, status: 'SUPPORTED' });
  });

  it('only the author or an admin may edit; viewers may not annotate, comment or vote', async () => {
    const a = (await h.gql(CREATE, { i: { modelId, target: { mlp: { layer: 0 } }, body: 'MLP0 reads the adjacency list' } })).data.createAnnotation;
    const other = (await h.gql('mutation { createUser(input: {name: "peer", role: RESEARCHER}) { token } }', {}, h.tokens.admin)).data.createUser.token;
    expect(codes(await h.gql(UPDATE, { i: { id: a.id, version: 1, body: 'x' } }, other))).toEqual(['FORBIDDEN']);
    expect(codes(await h.gql(UPDATE, { i: { id: a.id, version: 1, body: 'edited by admin' } }, h.tokens.admin))).toEqual([]);
    expect(codes(await h.gql('mutation($a: ID!) { addComment(annotationId: $a, body: "hi") { id } }', { a: a.id }, h.tokens.viewer))).toEqual(['FORBIDDEN']);
    expect(codes(await h.gql('mutation($a: ID!) { vote(annotationId: $a, value: 1) { score } }', { a: a.id }, h.tokens.viewer))).toEqual(['FORBIDDEN']);
  });

  it('votes count once per user and can be withdrawn; comments list in order', async () => {
    const a = (await h.gql(CREATE, { i: { modelId, target: { embed: true }, body: 'embeddings encode lattice distance' } })).data.createAnnotation;
    const vote = (token: string, value: number) =>
      h.gql('mutation($a: ID!, $v: Int!) { vote(annotationId: $a, value: $v) { score myVote } }', { a: a.id, v: value }, token);
    await vote(h.tokens.researcher, 1);
    await vote(h.tokens.researcher, 1);
    expect((await vote(h.tokens.admin, 1)).data.vote).toEqual({ score: 2, myVote: 1 });
    expect((await vote(h.tokens.admin, 0)).data.vote).toEqual({ score: 1, myVote: 0 });
    expect(codes(await vote(h.tokens.admin, 5))).toEqual(['BAD_USER_INPUT']);
    await h.gql('mutation($a: ID!) { addComment(annotationId: $a, body: "first") { id } }', { a: a.id });
    await h.gql('mutation($a: ID!) { addComment(annotationId: $a, body: "second") { id } }', { a: a.id }, h.tokens.admin);
    const r = await h.gql('query($id: ID!) { annotation(id: $id) { comments { body author { name } } } }', { id: a.id });
    expect(r.data.annotation.comments).toEqual([
      { body: 'first', author: { name: 'rosalind' } },
      { body: 'second', author: { name: 'ada' } },
    ]);
  });

  it('annotations list newest first and search body and tags; invalid targets are BAD_USER_INPUT', async () => {
    const r = await h.gql('query($m: ID!) { annotations(modelId: $m, search: "ATTENDS") { totalCount edges { node { body } } } }', { m: modelId });
    expect(r.data.annotations.totalCount).toBe(1);
    const t = await h.gql('query($m: ID!) { annotations(modelId: $m, search: "target") { totalCount } }', { m: modelId });
    expect(t.data.annotations.totalCount).toBe(1);
    const all = await h.gql('query($m: ID!) { annotations(modelId: $m, first: 10) { totalCount edges { node { body } } } }', { m: modelId });
    expect(all.data.annotations.edges[0].node.body).toBe('embeddings encode lattice distance');
    const off = await h.gql(CREATE, { i: { modelId, target: { embed: false }, body: 'x' } });
    expect(off.errors![0].message).toBe(
      'target: set one of embed: true, pos_embed: true, unembed: true, head, mlp, neuron, hook, experiment, feature or direction',
    );
    const bad = await h.gql(CREATE, { i: { modelId, target: { head: { layer: -1, head: 0 } }, body: 'x' } });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0].message).toMatch(/target.layer must be a non-negative integer/);
  });

  it('a finding about several components: listed with each, found by any of them, its further targets replaced by an edit; repeats and too many refused', async () => {
    const TARGETS = 'target { kind layer head neuron } alsoAbout { kind layer head neuron }';
    const a = (
      await h.gql(`mutation($i: CreateAnnotationInput!) { createAnnotation(input: $i) { id ${TARGETS} } }`, {
        i: {
          modelId,
          target: { head: { layer: 0, head: 1 } },
          alsoAbout: [{ mlp: { layer: 1 } }, { neuron: { layer: 1, neuron: 7 } }],
          body: 'L0H1 writes the target; MLP1 (neuron 7) reads it',
        },
      })
    ).data.createAnnotation;
    expect(a.alsoAbout).toEqual([
      { kind: 'mlp', layer: 1, head: null, neuron: null },
      { kind: 'neuron', layer: 1, head: null, neuron: 7 },
    ]);
    const about = async (target: Record<string, unknown>) =>
      (
        await h.gql('query($m: ID!, $t: ComponentTargetInput!) { annotations(modelId: $m, target: $t) { totalCount edges { node { id } } } }', {
          m: modelId,
          t: target,
        })
      ).data.annotations;
    for (const t of [{ head: { layer: 0, head: 1 } }, { mlp: { layer: 1 } }, { neuron: { layer: 1, neuron: 7 } }])
      expect((await about(t)).edges.map((e: { node: { id: string } }) => e.node.id)).toContain(a.id);
    const before = (await about({ mlp: { layer: 1 } })).totalCount;

    // An edit replaces the further targets: MLP1 no longer finds it, the embedding does.
    const edited = await h.gql(`mutation($i: UpdateAnnotationInput!) { updateAnnotation(input: $i) { version ${TARGETS} } }`, {
      i: { id: a.id, version: 1, alsoAbout: [{ embed: true }] },
    });
    expect(edited.data.updateAnnotation).toMatchObject({ version: 2, alsoAbout: [{ kind: 'embed' }] });
    expect((await about({ mlp: { layer: 1 } })).totalCount).toBe(before - 1);
    expect((await about({ embed: true })).edges.map((e: { node: { id: string } }) => e.node.id)).toContain(a.id);

    const bad = async (alsoAbout: unknown[]) => {
      const r = await h.gql(CREATE, { i: { modelId, target: { head: { layer: 0, head: 0 } }, alsoAbout, body: 'x' } });
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      return r.errors![0].message;
    };
    expect(await bad([{ head: { layer: 0, head: 0 } }])).toBe('alsoAbout[0]: head:0.0 is already a target of this finding');
    expect(await bad([{ mlp: { layer: 0 } }, { mlp: { layer: 0 } }])).toBe('alsoAbout[1]: mlp:0 is already a target of this finding');
    expect(await bad(Array.from({ length: 9 }, (_, i) => ({ neuron: { layer: 0, neuron: i } })))).toBe('alsoAbout: at most 8 further targets, got 9');
    expect(await bad([{ neuron: { layer: 0, neuron: -1 } }])).toMatch(/^alsoAbout\[0\]: .*neuron must be a non-negative integer/);
    // Nothing of a refused finding was written.
    expect(await sqlCount(h.server.app.handle, "SELECT count(*) AS n FROM annotations WHERE body = 'x'")).toBe(0);
  });

  it('a circuit created without a graph starts with every component of its model as a node and no edges', async () => {
    const c = (
      await h.gql('mutation($m: ID!) { createCircuit(modelId: $m, name: "from scratch") { graph { nodes { id kind layer head } edges { from } } } }', {
        m: modelId,
      })
    ).data.createCircuit;
    expect(c.graph.nodes.map((n: { id: string }) => n.id)).toEqual(['embed', 'pos_embed', 'L0H0', 'L0H1', 'MLP0', 'L1H0', 'L1H1', 'MLP1', 'unembed']);
    expect(c.graph.nodes[2]).toEqual({ id: 'L0H0', kind: 'head', layer: 0, head: 0 });
    expect(c.graph.edges).toEqual([]);
    const missing = await h.gql('mutation { createCircuit(modelId: "Model:9999", name: "nowhere") { id } }');
    expect(codes(missing)).toEqual(['NOT_FOUND']);
  });

  it('circuits: a stale edit is refused with CONFLICT and the current graph; every change is in the audit log', async () => {
    const c = (
      await h.gql('mutation($m: ID!) { createCircuit(modelId: $m, name: "path-following", graph: {nodes: [{id: "L1H0"}], edges: []}) { id version } }', {
        m: modelId,
      })
    ).data.createCircuit;
    const up = (v: number, graph: unknown, token?: string) =>
      h.gql(
        'mutation($id: ID!, $v: Int!, $g: CircuitGraphInput) { updateCircuit(id: $id, version: $v, graph: $g) { version graph { nodes { id } edges { from to } } } }',
        { id: c.id, v, g: graph },
        token,
      );
    // The graph is checked before anything is stored: node ids unique, every edge between two nodes.
    const dup = await up(1, { nodes: [{ id: 'L1H0' }, { id: 'L1H0' }], edges: [] });
    expect(codes(dup)).toEqual(['BAD_USER_INPUT']);
    expect(dup.errors![0].message).toBe('updateCircuit: graph.nodes[1].id "L1H0" is used by an earlier node');
    const dangling = await up(1, { nodes: [{ id: 'L1H0' }], edges: [{ from: 'L1H0', to: 'MLP9' }] });
    expect(dangling.errors![0].message).toBe('updateCircuit: graph.edges[0].to "MLP9" is not a node of the graph');
    expect((await up(1, { nodes: [{ id: 'L1H0' }, { id: 'MLP2' }], edges: [] })).data.updateCircuit.version).toBe(2);
    const stale = await up(1, { nodes: [], edges: [] }, h.tokens.admin);
    expect(codes(stale)).toEqual(['CONFLICT']);
    // The current graph in the form the CircuitGraph type reads it (so a client can resend it as is).
    const blank = { label: null, kind: null, layer: null, head: null };
    expect((stale.errors![0].extensions!.current as { graph: unknown }).graph).toEqual({
      nodes: [
        { id: 'L1H0', ...blank },
        { id: 'MLP2', ...blank },
      ],
      edges: [],
    });
    // Only its creator or an admin may change it: another researcher is FORBIDDEN and nothing changes.
    const { token: other } = await createUser(h.server.app.handle.db, { name: 'another-researcher', role: 'researcher' });
    const theirs = await up(2, { nodes: [], edges: [] }, other);
    expect(codes(theirs)).toEqual(['FORBIDDEN']);
    expect(theirs.errors![0].message).toMatch(/updateCircuit: only its creator, the editors they named, or an admin may change it/);
    const now = (await h.gql('query($id: ID!) { circuit(id: $id) { version owner { name } } }', { id: c.id })).data.circuit;
    expect(now.version).toBe(2);
    expect(now.owner).not.toBeNull();
    expect((await up(2, { nodes: [{ id: 'L1H0' }], edges: [] }, h.tokens.admin)).data.updateCircuit.version).toBe(3);
    // The owner names editors (researchers): then they may change it; a viewer cannot be one.
    const SET = 'mutation($id: ID!, $n: [String!]!) { setCircuitEditors(id: $id, names: $n) { editors { name } canEdit } }';
    expect(codes(await h.gql(SET, { id: c.id, n: ['another-researcher'] }, other))).toEqual(['FORBIDDEN']);
    expect((await h.gql(SET, { id: c.id, n: ['victor'] })).errors![0].message).toBe('setCircuitEditors: victor is a viewer; editors need the researcher role');
    expect((await h.gql(SET, { id: c.id, n: ['nobody-here'] })).errors![0].message).toBe('setCircuitEditors: no user named "nobody-here"');
    expect((await h.gql(SET, { id: c.id, n: ['another-researcher'] })).data.setCircuitEditors).toEqual({
      editors: [{ name: 'another-researcher' }],
      canEdit: true,
    });
    expect((await h.gql('query($id: ID!) { circuit(id: $id) { canEdit } }', { id: c.id }, other)).data.circuit.canEdit).toBe(true);
    expect((await up(3, { nodes: [], edges: [] }, other)).data.updateCircuit.version).toBe(4);
    expect((await h.gql('query($id: ID!) { circuit(id: $id) { canEdit } }', { id: c.id }, h.tokens.viewer)).data.circuit.canEdit).toBe(false);
    expect((await h.gql('mutation($id: ID!) { updateCircuit(id: $id, version: 4, name: "  ") { id } }', { id: c.id })).errors![0].message).toBe(
      'updateCircuit: name must be 1-200 characters',
    );
    // Every model's circuits without modelId, most recently changed first; `first` is bounded.
    const all = (await h.gql('{ circuits { name model { id } } }')).data.circuits;
    expect(all[0]).toEqual({ name: 'path-following', model: { id: modelId } });
    expect((await h.gql('{ circuits(first: 501) { id } }')).errors![0].message).toBe('circuits: first must be an integer between 1 and 500, got 501');
    // A graph has a size limit: 10,000 nodes are refused and nothing is written.
    const circuitsBefore = await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM circuits');
    const huge = { nodes: Array.from({ length: 10_000 }, (_, i) => ({ id: `node-${i}-${'x'.repeat(20)}` })), edges: [] };
    const big = await h.gql('mutation($m: ID!, $g: CircuitGraphInput!) { createCircuit(modelId: $m, name: "big", graph: $g) { id } }', { m: modelId, g: huge });
    expect(codes(big)).toEqual(['BAD_USER_INPUT']);
    expect(big.errors![0].message).toBe('createCircuit: a circuit has at most 2000 nodes, got 10000');
    // …and a size limit in characters: 1,500 nodes with long labels (~320 kB) are refused too.
    const wide = { nodes: Array.from({ length: 1500 }, (_, i) => ({ id: `n${i}`, label: 'x'.repeat(200) })), edges: [] };
    const heavy = await h.gql('mutation($m: ID!, $g: CircuitGraphInput!) { createCircuit(modelId: $m, name: "big", graph: $g) { id } }', {
      m: modelId,
      g: wide,
    });
    expect(heavy.errors![0].message).toMatch(/^createCircuit: the graph is \d+ characters as JSON; a circuit holds at most 262144$/);
    expect(await sqlCount(h.server.app.handle, 'SELECT count(*) AS n FROM circuits')).toBe(circuitsBefore);
    const actions = await sqlRows(h.server.app.handle, "SELECT action, entity FROM audit_log WHERE entity IN ('circuit', 'annotation', 'comment') ORDER BY id");
    expect(actions).toEqual(
      expect.arrayContaining([
        { action: 'create', entity: 'circuit' },
        { action: 'update', entity: 'circuit' },
        { action: 'update', entity: 'annotation' },
        { action: 'vote', entity: 'annotation' },
        { action: 'create', entity: 'comment' },
      ]),
    );
  });
});
