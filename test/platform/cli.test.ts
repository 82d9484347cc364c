import fs from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { userCommands } from '../../server/cli/users.js';
import type { CliIO } from '../../server/cli/io.js';
import path from 'node:path';
import { expCommands } from '../../server/cli/exp.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { Rng } from '../../server/maze/rng.js';
import { PRESETS } from '../../server/model/config.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { DEMO_DATASET, readManifest, seedDemo } from '../../server/services/seed.js';
import { startServer } from '../../server/app/server.js';
import { sqlOne, sqlRows, startHarness, tempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function io(stdin = ''): { io: CliIO; out: () => string } {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += d));
  return { io: { stdin: Readable.from([stdin]), stdout, stderr: new PassThrough() }, out: () => out };
}

describe('searchlight users', () => {
  it('create prints the new API token as the last line, and that token authenticates against the API', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const c = io('s3cret-passphrase\n');
    await userCommands.create.run(['--name', 'alice', '--role', 'researcher', '--password-stdin', '--data', dir], c.io);
    const lines = c.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/created user alice \(researcher\), id User:1, with a password/);
    const token = lines.at(-1)!;
    expect(token).toMatch(/^sl_[A-Za-z0-9_-]{43}$/);

    const s = await startServer({ dataDir: dir, port: 0, log: () => undefined });
    try {
      const r = await fetch(s.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { name role } }' }),
      });
      expect((await r.json()).data.me).toEqual({ name: 'alice', role: 'RESEARCHER' });
      const login = await fetch(s.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { login(name: "alice", password: "s3cret-passphrase") { name } }' }),
      });
      expect((await login.json()).data.login.name).toBe('alice');
    } finally {
      await s.close();
    }
    const l = io();
    await userCommands.list.run(['--data', dir], l.io);
    expect(l.out()).toMatch(/^User:1\talice\tresearcher\t/);
  });

  it('refuses a duplicate name, a bad role and a short password with one clear message', async () => {
    const dir = tempDir();
    dirs.push(dir);
    await userCommands.create.run(['--name', 'bob', '--role', 'viewer', '--data', dir], io().io);
    await expect(userCommands.create.run(['--name', 'bob', '--role', 'viewer', '--data', dir], io().io)).rejects.toThrow(/a user named "bob" already exists/);
    await expect(userCommands.create.run(['--name', 'eve', '--role', 'root', '--data', dir], io().io)).rejects.toThrow(
      /--role must be one of viewer, researcher, admin/,
    );
    await expect(userCommands.create.run(['--name', 'eve', '--role', 'viewer', '--password', 'short', '--data', dir], io().io)).rejects.toThrow(
      /password must be at least 8 characters/,
    );
  });
});

describe('first start', () => {
  it('seeds the demo workspace once: a demo dataset built by a normal job', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const s = await startServer({ dataDir: dir, port: 0, log: () => undefined });
    try {
      const noModelDir = tempDir();
      dirs.push(noModelDir);
      expect(await seedDemo(s.app, noModelDir)).toEqual([expect.stringMatching(/^demo dataset queued \(Job:1\)$/)]);
      expect(await seedDemo(s.app, noModelDir)).toEqual([]);
      await s.runner.idle();
      const ds = await sqlRows(s.app.handle, 'SELECT name, status, maze_count AS n FROM datasets');
      expect(ds).toEqual([{ name: DEMO_DATASET.name, status: 'READY', n: DEMO_DATASET.count }]);
    } finally {
      await s.close();
    }
  });

  it('seeds the models of data/demo/workspace.json once, each finding with its evidence imported as a COMPLETED experiment', async () => {
    // A demo folder as the repository ships one: a model, an `exp run --out` result, the manifest.
    const demo = tempDir();
    dirs.push(demo);
    const tok = getTokenizer('aotp-ut');
    const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), tokenizer: 'aotp-ut' };
    fs.writeFileSync(path.join(demo, 'tiny.safetensors'), encodeModel(cfg, initWeights(cfg, new Rng(9)), [...tok.vocab(3)], { step: '300' }));
    fs.mkdirSync(path.join(demo, 'findings'));
    // The run's log, as the trainer writes it; it runs past the shipped snapshot (step 300).
    fs.writeFileSync(
      path.join(demo, 'train.log'),
      [
        'train: starting 400 updates of 16 3x3 dfs mazes on onnx',
        'step 100/400  loss 0.9000  lr 5.00e-4  |g| 1.436*  11,770 tok/s  ETA 1m',
        'eval @200 (200 held-out mazes, 2.1 s): loss 0.5000  exact 32.0% (baseline 39.5%)  valid 33.5% (baseline 39.5%)  target 99.0%',
        'checkpoint @250: x.safetensors',
        'step 300/400  loss 0.4000  lr 1.00e-3  |g| 1.093  11,878 tok/s  ETA 10s',
        'step 400/400  loss 0.3000  lr 1.00e-3  |g| 1.093  11,878 tok/s  ETA 0s',
      ].join('\n'),
    );
    await expCommands.run.run(
      ['weights', '--weights', path.join(demo, 'tiny.safetensors'), '--seed', '5', '--quiet', '--out', path.join(demo, 'findings/tiny-weights.json')],
      io().io,
    );
    const manifest = {
      models: [
        {
          file: 'tiny.safetensors',
          log: 'train.log',
          name: 'tiny searcher',
          findings: [
            {
              target: { kind: 'embed' },
              status: 'SUPPORTED',
              tags: ['geometry'],
              body: 'Embeddings of **adjacent** cells are close.',
              evidence: 'findings/tiny-weights.json',
            },
            { target: { kind: 'head', layer: 1, head: 0 }, status: 'HYPOTHESIS', tags: [], body: 'No evidence yet.' },
            {
              target: { kind: 'experiment' },
              status: 'SUPPORTED',
              tags: [],
              body: 'About its own evidence.',
              evidence: 'findings/tiny-weights.json',
              views: [{ label: 'a page of it', path: 'directions/3' }],
            },
          ],
        },
      ],
    };
    fs.writeFileSync(path.join(demo, 'workspace.json'), JSON.stringify(manifest));
    const h = await startHarness();
    try {
      const lines = await seedDemo(h.server.app, demo);
      expect(lines).toEqual([
        expect.stringMatching(/^demo dataset queued/),
        expect.stringMatching(/^demo model "tiny searcher" imported \(Model:\d+\) from data\/demo\/tiny.safetensors with 3 findings$/),
      ]);
      expect(await seedDemo(h.server.app, demo)).toEqual([]);
      const q = await h.gql(
        '{ models(first: 5) { edges { node { id name lineage { source } } } } experiments { edges { node { id kind status seed tensors { name } } } } }',
      );
      const model = q.data.models.edges.find((e: { node: { name: string } }) => e.node.name === 'tiny searcher').node;
      expect(model.lineage.source).toBe('demo');
      // Its training curve, read from the run's log up to the snapshot's step.
      const curve = (await h.gql('query($id: ID!) { model(id: $id) { trainingCurve { step name value } } }', { id: model.id })).data.model.trainingCurve;
      expect(curve.map((p: { step: number; name: string; value: number }) => `${p.name}@${p.step}=${p.value}`).sort()).toEqual(
        [
          'train/loss@100=0.9',
          'train/lr@100=0.0005',
          'eval/loss@200=0.5',
          'eval/exact_path_rate@200=0.32',
          'eval/valid_rollout_rate@200=0.335',
          'baseline/exact_path_rate@200=0.395',
          'train/loss@300=0.4',
          'train/lr@300=0.001',
        ].sort(),
      );
      const exp = q.data.experiments.edges.map((e: { node: unknown }) => e.node).at(-1); // newest first: the first finding's is the oldest
      const written = JSON.parse(fs.readFileSync(path.join(demo, 'findings/tiny-weights.json'), 'utf8'));
      expect(exp).toMatchObject({ kind: 'weights', status: 'COMPLETED', seed: 5 });
      const row = await sqlOne<{ summary: unknown }>(h.server.app.handle, 'SELECT summary FROM experiments WHERE id = ?', Number(exp.id.split(':')[1]));
      expect(typeof row?.summary === 'string' ? JSON.parse(row.summary) : row?.summary).toEqual(written.summary);
      expect(exp.tensors.map((t: { name: string }) => t.name)).toEqual(written.tensors.map((t: { name: string }) => t.name));
      const a = await h.gql(
        'query($m: ID!) { annotations(modelId: $m) { edges { node { target { kind layer head } status tags body evidence { label url } author { name } } } } }',
        {
          m: model.id,
        },
      );
      const [third, second, first] = a.data.annotations.edges.map((e: { node: unknown }) => e.node);
      expect(first).toEqual({
        target: { kind: 'embed', layer: null, head: null },
        status: 'SUPPORTED',
        tags: ['geometry'],
        body: 'Embeddings of **adjacent** cells are close.',
        evidence: [{ label: 'weights (seed 5)', url: `/experiments/${exp.id.split(':')[1]}` }],
        author: null,
      });
      expect(second).toMatchObject({ target: { kind: 'head', layer: 1, head: 0 }, evidence: [] });
      // {"kind": "experiment"} without an id: the finding names its own evidence experiment.
      const own = await h.gql('query($m: ID!) { annotations(modelId: $m, first: 1) { edges { node { target { kind experimentId } evidence { url } } } } }', {
        m: model.id,
      });
      const node = own.data.annotations.edges[0].node;
      expect(node.target.kind).toBe('experiment');
      expect(node.evidence[0].url).toBe(`/experiments/${node.target.experimentId.split(':')[1]}`);
      // A view of the evidence: one of its pages, linked beside it.
      expect(node.evidence[1]).toEqual({ url: `/experiments/${node.target.experimentId.split(':')[1]}/directions/3` });
      expect(third.body).toBe('About its own evidence.');
    } finally {
      await h.close();
    }
  });

  it('refuses a manifest mistake naming the file and the field', () => {
    const demo = tempDir();
    dirs.push(demo);
    const write = (v: unknown) => fs.writeFileSync(path.join(demo, 'workspace.json'), typeof v === 'string' ? v : JSON.stringify(v));
    write('{"models": [');
    expect(() => readManifest(demo)).toThrow(/^data\/demo\/workspace.json is not valid JSON: /);
    write({ models: [{ file: '../x.safetensors', name: 'x', findings: [] }] });
    expect(() => readManifest(demo)).toThrow('data/demo/workspace.json: models[0].file must be a .safetensors file in data/demo');
    write({ models: [{ file: 'x.safetensors', name: 'x', findings: [{ target: { kind: 'head', layer: 0 }, status: 'SUPPORTED', tags: [], body: 'b' }] }] });
    expect(() => readManifest(demo)).toThrow(
      'data/demo/workspace.json: models[0].findings[0].target.head must be a non-negative integer for kind "head", got undefined',
    );
    write({ models: [{ file: 'x.safetensors', name: 'x', findings: [{ target: { kind: 'embed' }, status: 'TRUE', tags: [], body: 'b' }] }] });
    expect(() => readManifest(demo)).toThrow('models[0].findings[0].status must be one of HYPOTHESIS, SUPPORTED, REFUTED');
    const viewed = (views: unknown) => ({
      models: [
        {
          file: 'x.safetensors',
          name: 'x',
          findings: [{ target: { kind: 'embed' }, status: 'SUPPORTED', tags: [], body: 'b', evidence: 'findings/e.json', views }],
        },
      ],
    });
    write(viewed([{ label: 'p', path: '../../login' }]));
    expect(() => readManifest(demo)).toThrow('models[0].findings[0].views[0].path must be "directions/<n>" or "features/<n>", got "../../login"');
    write(viewed([{ path: 'directions/1' }]));
    expect(() => readManifest(demo)).toThrow('models[0].findings[0].views[0].label must be a non-empty string');
  });
});
