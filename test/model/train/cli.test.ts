import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../server/cli/io.js';
import { modelCommands } from '../../../server/cli/model.js';
import { evalCommand, trainCommand } from '../../../server/cli/train.js';
import { generateMaze, mazeRng } from '../../../server/maze/generate.js';
import { Rng } from '../../../server/maze/rng.js';
import { getTokenizer } from '../../../server/maze/tokenize/index.js';
import { readNpyFile } from '../../../server/model/npy.js';
import { readSafetensorsFile } from '../../../server/model/safetensors.js';
import { loadCheckpoint } from '../../../server/model/train/checkpoint.js';
import { initRng, type RunSpec } from '../../../server/model/train/trainer.js';
import { initWeights, loadModel } from '../../../server/model/weights.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'searchlight-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs a command in-process with `input` on stdin; returns what it wrote. */
async function cli(cmd: { run(argv: string[], io: CliIO): Promise<void> }, argv: string[], input = ''): Promise<{ out: string; err: string }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  stdin.end(input);
  await cmd.run(argv, { stdin, stdout, stderr });
  return { out, err };
}

const tok = getTokenizer('aotp-ut');
const text = (k: number) => tok.tokenizeToText(generateMaze({ generator: 'dfs', rows: 3 }, mazeRng(99, k)), new Rng(k));

describe('searchlight model', () => {
  const w = () => join(dir, 'init.safetensors');

  it('init writes a model whose weights are the draw `train --seed S` starts from', async () => {
    const { out } = await cli(modelCommands.init, ['--preset', 'nano', '--grid', '3', '--seed', '4', '--out', w()]);
    expect(out).toMatch(/preset nano, 3x3 aotp-ut \(d_vocab 20\)/);
    const m = await loadModel(w());
    expect(m.cfg).toMatchObject({ d_model: 8, n_layers: 2, d_vocab: 20, tokenizer: 'aotp-ut' });
    expect(m.vocab).toEqual([...tok.vocab(3)]);
    const expected = initWeights(m.cfg, initRng(4));
    for (const [name, data] of expected) expect(m.weights.get(name), name).toEqual(data);
  });

  it('forward prints the argmax token per sequence and writes [pos, d_vocab] logits; onnx and tfjs agree within 1e-4', async () => {
    const t = text(0);
    const onnx = await cli(modelCommands.forward, ['--weights', w(), '--text', t, '--out', join(dir, 'a.npy')]);
    const tf = await cli(modelCommands.forward, ['--weights', w(), '--text', t, '--out', join(dir, 'b.npy'), '--engine', 'tfjs']);
    expect(tok.vocab(3)).toContain(onnx.out.trim());
    expect(tf.out).toBe(onnx.out);
    const [a, b] = [await readNpyFile(join(dir, 'a.npy')), await readNpyFile(join(dir, 'b.npy'))];
    expect(a.shape).toEqual([t.split(' ').length, 20]);
    let d = 0;
    for (let i = 0; i < a.data.length; i++) d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
    expect(d).toBeLessThan(1e-4);
    const many = await cli(modelCommands.forward, ['--weights', w(), '--engine', 'tfjs'], `${text(1)}\n${text(2)}\n`);
    expect(many.out.trim().split('\n')).toHaveLength(2);
    await expect(cli(modelCommands.forward, ['--weights', w(), '--text', '<ADJLIST_START> (9,9)'])).rejects.toThrow(
      /--text: token 1: "\(9,9\)" is not in the vocabulary/,
    );
  });

  it('cache saves the named hooks with the batch axis, as TransformerLens caches them', async () => {
    const t = text(0);
    const n = t.split(' ').length;
    const out = join(dir, 'cache.safetensors');
    await cli(modelCommands.cache, [
      '--weights',
      w(),
      '--text',
      t,
      '--hooks',
      'blocks.1.attn.hook_pattern,blocks.0.hook_resid_post,logits',
      '--out',
      out,
      '--engine',
      'tfjs',
    ]);
    const { tensors, metadata } = await readSafetensorsFile(out);
    expect(tensors.get('blocks.1.attn.hook_pattern')!.shape).toEqual([1, 2, n, n]);
    expect(tensors.get('blocks.0.hook_resid_post')!.shape).toEqual([1, n, 8]);
    expect(tensors.get('logits')!.shape).toEqual([1, n, 20]);
    expect(JSON.parse(metadata.tokens)).toHaveLength(n);
    await expect(cli(modelCommands.cache, ['--weights', w(), '--text', t, '--hooks', 'blocks.2.hook_resid_pre', '--out', out])).rejects.toThrow(
      /^unknown hook "blocks.2.hook_resid_pre"; hooks are TransformerLens names/,
    );
  });

  it('solve cuts full sequences after <PATH_START> and prints prompt + greedy continuation (both engines alike)', async () => {
    const lines = [text(3), text(4)];
    const a = await cli(modelCommands.solve, ['--weights', w(), '--max-new', '5'], lines.join('\n') + '\n');
    const b = await cli(modelCommands.solve, ['--weights', w(), '--max-new', '5', '--engine', 'tfjs'], lines.join('\n') + '\n');
    const got = a.out.trim().split('\n');
    expect(got).toHaveLength(2);
    got.forEach((g, i) => {
      const prompt = lines[i].slice(0, lines[i].indexOf('<PATH_START>') + '<PATH_START>'.length);
      expect(g.startsWith(prompt)).toBe(true);
      expect(g.split(' ').length - prompt.split(' ').length).toBeLessThanOrEqual(5);
    });
    expect(b.out).toBe(a.out);
    await expect(cli(modelCommands.solve, ['--weights', w()], '<ADJLIST_START> <ADJLIST_END>\n')).rejects.toThrow(/line 1: no <PATH_START>/);
  });

  it('solve --intervene decodes with interventions at every step: adding zero changes nothing, zeroing the last residual does; bad specs are usage errors', async () => {
    const lines = [text(3), text(4)].join('\n') + '\n';
    const plain = await cli(modelCommands.solve, ['--weights', w(), '--max-new', '5'], lines);
    const same = await cli(
      modelCommands.solve,
      ['--weights', w(), '--max-new', '5', '--intervene', '[{"hook":"blocks.0.hook_resid_post","kind":"add","value":[0]}]'],
      lines,
    );
    expect(same.out).toBe(plain.out);
    const zeroed = await cli(
      modelCommands.solve,
      ['--weights', w(), '--max-new', '5', '--intervene', '[{"hook":"blocks.1.hook_resid_post","kind":"zero"}]'],
      lines,
    );
    expect(zeroed.out).not.toBe(plain.out);
    const mean = await cli(
      modelCommands.solve,
      ['--weights', w(), '--max-new', '5', '--intervene', '[{"hook":"blocks.1.mlp.hook_post","kind":"mean","features":[0,1,2]}]'],
      lines,
    );
    expect(mean.out.trim().split('\n')).toHaveLength(2);
    await expect(cli(modelCommands.solve, ['--weights', w(), '--intervene', '{"hook":1}'], lines)).rejects.toThrow(/--intervene: give a JSON list of/);
    await expect(
      cli(modelCommands.solve, ['--weights', w(), '--intervene', '[{"hook":"blocks.0.attn.hook_pattern","kind":"add","value":[1]}]'], lines),
    ).rejects.toThrow(/--intervene: intervention 0 \(add blocks.0.attn.hook_pattern\): attention scores and patterns can only be zeroed/);
  });

  it('init --arch makes a TransformerLens architecture variant, and process folds its norms keeping the predictions', async () => {
    const rot = join(dir, 'rot.safetensors');
    const made = await cli(modelCommands.init, [
      '--preset',
      'nano',
      '--grid',
      '3',
      '--out',
      rot,
      '--arch',
      '{"positional_embedding_type":"rotary","rotary_dim":4,"normalization_type":"RMS"}',
    ]);
    expect(made.out).toMatch(/^wrote .*rot.safetensors: preset nano/);
    expect((await loadModel(rot)).cfg).toMatchObject({ positional_embedding_type: 'rotary', rotary_dim: 4, normalization_type: 'RMS' });
    await expect(cli(modelCommands.init, ['--preset', 'nano', '--grid', '3', '--out', rot, '--arch', '{"d_model":4}'])).rejects.toThrow(
      /--arch: "d_model" is not an architecture field/,
    );
    await expect(
      cli(modelCommands.init, ['--preset', 'nano', '--grid', '3', '--out', rot, '--arch', '{"positional_embedding_type":"rotary"}']),
    ).rejects.toThrow(/--arch: config.rotary_dim must be an even integer/);
    const folded = join(dir, 'rot-folded.safetensors');
    const p = await cli(modelCommands.process, ['--weights', rot, '--fold-ln', '--center-unembed', '--out', folded]);
    expect(p.out).toMatch(/fold_ln: RMS gains folded .* RMSPre/);
    expect((await loadModel(folded)).cfg.normalization_type).toBe('RMSPre');
    const lines = [text(5)].join('\n') + '\n';
    expect((await cli(modelCommands.solve, ['--weights', folded, '--max-new', '4'], lines)).out).toBe(
      (await cli(modelCommands.solve, ['--weights', rot, '--max-new', '4'], lines)).out,
    );
    await expect(cli(modelCommands.process, ['--weights', rot, '--out', folded])).rejects.toThrow(/no step chosen/);
  });

  it('grow inserts identity blocks (same logits, more layers) and train --init takes the grown architecture', async () => {
    const grown = join(dir, 'grown.safetensors');
    const g = await cli(modelCommands.grow, ['--weights', w(), '--at', '1,2', '--seed', '3', '--out', grown]);
    expect(g.out).toMatch(/2 → 4 layers \[0 new 1 new\]/);
    const t = text(1);
    const before = await cli(modelCommands.forward, ['--weights', w(), '--text', t, '--out', join(dir, 'g0.npy')]);
    const after = await cli(modelCommands.forward, ['--weights', grown, '--text', t, '--out', join(dir, 'g1.npy')]);
    expect(after.out).toBe(before.out);
    expect((await readNpyFile(join(dir, 'g1.npy'))).data).toEqual((await readNpyFile(join(dir, 'g0.npy'))).data);
    const m = await loadModel(grown);
    expect(m.cfg.n_layers).toBe(4);
    expect(JSON.parse(m.metadata['searchlight.grown'])).toMatchObject({ n_layers: 2, at: [1, 2], layers: [0, -1, 1, -1] });
    await expect(cli(modelCommands.grow, ['--weights', w(), '--at', '3', '--out', grown])).rejects.toThrow(
      /--at: block position 3 is out of range: a model with 2 layers takes positions 0 … 2/,
    );
    await expect(cli(modelCommands.grow, ['--weights', w(), '--at', '1,x', '--out', grown])).rejects.toThrow(/--at: "x" is not a layer position/);

    // No --preset and no --grid: the architecture and the grid (by its vocabulary) come from the --init file.
    const out = join(dir, 'deeper.safetensors');
    const r = await cli(trainCommand, ['--init', grown, '--steps', '2', '--batch', '2', '--warmup', '1', '--out', out, '--eval-every', '0']);
    expect(JSON.parse(r.out)).toMatchObject({ step: 2, stopped: false });
    expect((await loadModel(out)).cfg.n_layers).toBe(4);
    await expect(cli(trainCommand, ['--grid', '3', '--steps', '2', '--out', out])).rejects.toThrow(/a new run needs --preset \(or --init/);
    await expect(cli(trainCommand, ['--init', grown, '--preset', 'nano', '--grid', '3', '--steps', '2', '--out', out])).rejects.toThrow(
      /differs from this run's model in n_layers \(4 vs 2\)/,
    );
  });
});

describe('searchlight train / eval', () => {
  it('trains, refuses a resume that changes a setting, and eval reports model and baseline metrics', async () => {
    const out = join(dir, 'run.safetensors');
    const r = await cli(trainCommand, [
      '--preset',
      'nano',
      '--grid',
      '3',
      '--steps',
      '6',
      '--batch',
      '4',
      '--warmup',
      '1',
      '--engine',
      'tfjs',
      '--out',
      out,
      '--eval-every',
      '3',
      '--eval-count',
      '4',
      '--stop-at',
      '3',
    ]);
    expect(JSON.parse(r.out)).toMatchObject({ step: 3, steps: 6, stopped: true });
    expect(r.err).toMatch(/eval @3 \(4 held-out mazes/);
    await expect(cli(trainCommand, ['--out', out, '--resume', '--lr', '0.5'])).rejects.toThrow(/--lr 0.5 differs from the checkpoint's 0.001/);
    const resumed = await cli(trainCommand, ['--out', out, '--resume', '--eval-every', '0']);
    expect(JSON.parse(resumed.out)).toMatchObject({ step: 6, stopped: false });
    const e = JSON.parse((await cli(evalCommand, ['--weights', out, '--grid', '3', '--count', '5', '--seed', '8', '--engine', 'tfjs'])).out);
    expect(e.model.count).toBe(5);
    expect(e.baseline.count).toBe(5);
    expect(e.model.exact_path_rate).toBeGreaterThanOrEqual(0);
    await expect(cli(evalCommand, ['--weights', out, '--grid', '4', '--count', '1'])).rejects.toThrow(
      /a 4x4 grid needs 27 aotp-ut tokens, but the model's vocabulary has 20/,
    );
  });

  it('--grids, --balance and --curriculum are stored in the run, sized by the largest grid, and kept on resume', async () => {
    const out = join(dir, 'mixed.safetensors');
    const r = await cli(trainCommand, [
      '--preset',
      'nano',
      '--grids',
      '3,4',
      '--balance',
      'lookahead',
      '--curriculum',
      'grid:0.5',
      '--queries',
      '3',
      '--steps',
      '4',
      '--batch',
      '4',
      '--warmup',
      '1',
      '--out',
      out,
      '--eval-every',
      '0',
      '--stop-at',
      '2',
    ]);
    expect(r.err).toMatch(
      /starting 4 updates of 4 4x4 dfs mazes \(grids 3,4, balanced by lookahead, curriculum by grid over 0.5 of the run, 3 queries per maze\)/,
    );
    const ck = await loadCheckpoint<RunSpec>(out);
    expect(ck.run.sampling).toEqual({ grids: [3, 4], balance: 'lookahead', curriculum: { by: 'grid', fraction: 0.5 } });
    expect(ck.run.maze.rows).toBe(4);
    expect(ck.run.queries).toBe(3);
    expect(ck.cfg.d_vocab).toBe(tok.vocabSize(4));
    await expect(cli(trainCommand, ['--out', out, '--resume', '--queries', '2'])).rejects.toThrow(/--queries 2 differs from the checkpoint's 3/);
    await expect(cli(trainCommand, ['--out', out, '--resume', '--grids', '3,4,5'])).rejects.toThrow(/--grids "3,4,5" differs from the checkpoint's "3,4"/);
    expect(JSON.parse((await cli(trainCommand, ['--out', out, '--resume'])).out)).toMatchObject({ step: 4, stopped: false });
    await expect(cli(trainCommand, ['--preset', 'nano', '--grids', '3,x', '--steps', '2', '--out', out])).rejects.toThrow(
      /--grids takes grid sides separated by commas/,
    );
    await expect(cli(trainCommand, ['--preset', 'nano', '--curriculum', 'size:0.5', '--steps', '2', '--out', out])).rejects.toThrow(
      /--curriculum takes grid:F or lookahead:F/,
    );
    await expect(cli(trainCommand, ['--preset', 'nano', '--grid', '5', '--grids', '3,4', '--steps', '2', '--out', out])).rejects.toThrow(
      /largest of grids \(4\) must be the run's grid \(5\)/,
    );
  });
});
