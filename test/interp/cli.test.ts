/**
 * `searchlight exp`: list shows every kind with defaults; run with --params '{}' prints a summary;
 * --out writes the JSON and a sibling .safetensors holding the tensors; bad input exits 2 with a
 * one-line message naming the problem.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { expCommands, tensorsPath } from '../../server/cli/exp.js';
import { isUserError } from '../../server/errors.js';
import { UsageError } from '../../server/cli/args.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../server/model/safetensors.js';
import { saveModel } from '../../server/model/weights.js';
import { mazeConfig, randomWeights } from './helpers.js';
import { cli as main } from '../cli/run.js';

const dir = mkdtempSync(join(tmpdir(), 'interp-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `exp <command> …` in-process as main.ts would: user errors → exit 2 and one stderr line. */
async function exp(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough(),
    stderr = new PassThrough();
  const out: string[] = [],
    err: string[] = [];
  stdout.on('data', (b: Buffer) => out.push(b.toString()));
  stderr.on('data', (b: Buffer) => err.push(b.toString()));
  const [cmd, ...rest] = argv;
  let code = 0;
  try {
    await expCommands[cmd].run(rest, { stdin: Readable.from(['']), stdout, stderr });
  } catch (e) {
    if (!(e instanceof UsageError || isUserError(e))) throw e;
    err.push(`searchlight: ${(e as Error).message}\n`);
    code = 2;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const weightsFile = join(dir, 'nano.safetensors');
const cfg = mazeConfig('nano', 3);
const ready = saveModel(weightsFile, cfg, randomWeights(cfg, 3), [...getTokenizer('aotp-ut').vocab(3)]);

describe('exp CLI', () => {
  it('list names every kind with its parameters; --weights makes the defaults concrete', async () => {
    await ready;
    const r = await exp(['list']);
    expect(r.code).toBe(0);
    for (const k of [
      'attention',
      'logit-lens',
      'dla',
      'activation-patching',
      'attribution-patching',
      'probes',
      'weights',
      'adjacency-heads',
      'retarget',
      'behavior',
      'lookahead',
    ])
      expect(r.stdout).toContain(`${k}\n`);
    const j = JSON.parse((await exp(['list', '--json', '--weights', weightsFile])).stdout) as Array<{
      kind: string;
      params: Array<{ name: string; default: unknown }>;
    }>;
    expect(j.find((k) => k.kind === 'logit-lens')!.params.find((p) => p.name === 'grid')!.default).toBe(3);
  });

  it("run <kind> --params '{}' prints the summary with params as run and tensor shapes", async () => {
    await ready;
    const r = await exp(['run', 'logit-lens', '--weights', weightsFile, '--params', '{}', '--quiet']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ kind: 'logit-lens', seed: 0, params: { grid: 3, generator: 'dfs' } });
    expect(doc.tensors.find((t: { name: string }) => t.name === 'accuracy').shape).toEqual([cfg.n_layers + 1]);
  });

  it('--out writes the JSON and a sibling .safetensors; progress goes to stderr', async () => {
    await ready;
    const out = join(dir, 'attn.json');
    const r = await exp(['run', 'attention', '--weights', weightsFile, '--out', out, '--seed', '4']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/exp attention: 100% done/);
    expect(tensorsPath(out)).toBe(join(dir, 'attn.safetensors'));
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.tensors_file).toBe('attn.safetensors');
    const { tensors, metadata } = decodeSafetensors(readFileSync(tensorsPath(out)));
    expect(metadata.kind).toBe('attention');
    for (const t of doc.tensors as Array<{ name: string; shape: number[] }>) expect(tensors.get(t.name)!.shape).toEqual(t.shape);
  });

  it('bad input exits 2 naming the problem', async () => {
    await ready;
    expect((await exp(['run', 'probes', '--weights', weightsFile, '--params', '{"count": 0}'])).stderr).toMatch(
      /params\.count: must be an integer in \[1, 100000\]; got 0/,
    );
    expect((await exp(['run', 'probes', '--weights', weightsFile, '--params', '{nope'])).stderr).toMatch(/--params is not valid JSON/);
    expect((await exp(['run', 'tarot', '--weights', weightsFile])).stderr).toMatch(/unknown kind "tarot"/);
    expect((await exp(['run', '--weights', weightsFile])).stderr).toMatch(/name the experiment kind/);
    const missing = await exp(['run', 'dla', '--weights', join(dir, 'none.safetensors')]);
    expect(missing.code).toBe(2);
  });

  it('an SAE trained with --out edits in sae-intervention (--sae) and measures again from its SAELens folder (--sae-lens) to the same figures', async () => {
    await ready;
    const out = join(dir, 'sae.json');
    const trained = await exp([
      'run',
      'sae',
      '--weights',
      weightsFile,
      '--quiet',
      '--out',
      out,
      '--params',
      '{"steps": 20, "count": 6, "expansion": 2, "k": 3}',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    const edited = await exp(['run', 'sae-intervention', '--weights', weightsFile, '--quiet', '--sae', out, '--params', '{"count": 4, "minAuc": 0.5}']);
    expect(edited.code, edited.stderr).toBe(0);
    expect(JSON.parse(edited.stdout).summary).toMatchObject({ kind: 'sae-intervention', hook: 'blocks.0.hook_resid_post', mazes: 4 });
    // The same weights as SAELens saves them, measured untrained on the same held-out mazes.
    const lens = join(dir, 'lens');
    mkdirSync(lens);
    const { tensors } = decodeSafetensors(readFileSync(tensorsPath(out)));
    writeFileSync(
      join(lens, 'sae_weights.safetensors'),
      encodeSafetensors(['W_enc', 'b_enc', 'W_dec', 'b_dec'].map((name) => ({ name, ...tensors.get(name)! }))),
    );
    writeFileSync(
      join(lens, 'cfg.json'),
      JSON.stringify({ architecture: 'topk', d_in: 8, d_sae: 16, k: 3, apply_b_dec_to_input: true, metadata: { hook_name: 'blocks.0.hook_resid_post' } }),
    );
    const measured = await exp(['run', 'sae', '--weights', weightsFile, '--quiet', '--sae-lens', lens, '--params', '{"count": 6}']);
    expect(measured.code, measured.stderr).toBe(0);
    const again = JSON.parse(measured.stdout).summary;
    expect(again).toMatchObject({ steps: 0, d_sae: 16, topk: 3 });
    expect(again.eval.explained_variance).toBeCloseTo(doc.summary.eval.explained_variance, 4);
    expect((await exp(['run', 'sae', '--weights', weightsFile, '--sae-lens', join(dir, 'nowhere')])).stderr).toMatch(
      /--sae-lens .*nowhere: no cfg\.json there/,
    );
    expect((await exp(['run', 'dla', '--weights', weightsFile, '--sae-lens', lens])).stderr).toMatch(/--sae-lens is for the sae kind, not dla/);

    // model solve --sae --features: an edit that changes nothing (scale 1) leaves every rollout; bad edits are usage errors.
    const prompts = (await main(['mazes', 'generate', '--grid', '3', '--count', '3', '--seed', '4'])).stdout;
    const plain = await main(['model', 'solve', '--weights', weightsFile, '--max-new', '6'], prompts);
    const same = await main(
      ['model', 'solve', '--weights', weightsFile, '--max-new', '6', '--sae', out, '--features', '[{"latent": 2, "mode": "scale", "value": 1}]'],
      prompts,
    );
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toBe(plain.stdout);
    const strong = await main(
      ['model', 'solve', '--weights', weightsFile, '--max-new', '6', '--sae', out, '--features', '[{"latent": 2, "mode": "set", "value": 500}]'],
      prompts,
    );
    expect(strong.code, strong.stderr).toBe(0);
    expect((await main(['model', 'solve', '--weights', weightsFile, '--sae', out, '--features', '[{"latent": 99, "mode": "zero"}]'], prompts)).stderr).toMatch(
      /--features: entry 0 must be \{latent: 0…15, mode: set\|scale\|zero/,
    );
    expect((await main(['model', 'solve', '--weights', weightsFile, '--features', '[]'], prompts)).stderr).toMatch(/--features needs --sae/);

    // An SAE result names the model it was made on: another model (same width) is refused, an old result without it warned about.
    const other = join(dir, 'other.safetensors');
    const otherCfg = mazeConfig('nano', 3);
    await saveModel(other, otherCfg, randomWeights(otherCfg, 99), [...getTokenizer('aotp-ut').vocab(3)]);
    const wrong = await main(['model', 'solve', '--weights', other, '--sae', out, '--features', '[{"latent": 2, "mode": "zero"}]'], prompts);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/model solve: --sae .*sae\.json was trained on another model \(.*, sha256 [0-9a-f]{12}…\), not .*other\.safetensors/);
    expect((await exp(['run', 'sae-intervention', '--weights', other, '--quiet', '--sae', out])).stderr).toMatch(
      /exp run: --sae .* was trained on another model/,
    );
    const old = join(dir, 'old-sae.json');
    const doc0 = JSON.parse(readFileSync(out, 'utf8'));
    delete doc0.model_sha256;
    writeFileSync(old, JSON.stringify(doc0));
    writeFileSync(tensorsPath(old), readFileSync(tensorsPath(out)));
    const warned = await main(
      ['model', 'solve', '--weights', weightsFile, '--max-new', '2', '--sae', old, '--features', '[{"latent": 2, "mode": "scale", "value": 1}]'],
      prompts,
    );
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toMatch(/does not record the model it was trained on \(no model_sha256\)/);
  });
});
