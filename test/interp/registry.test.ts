/**
 * The registry: fifteen kinds, each with a describe text and a schema; every kind runs with `{}` on a
 * model's own kind of maze (defaults inferred from its vocabulary) and returns a JSON-safe summary
 * and well-formed tensors; deterministic given the seed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultGrid } from '../../server/interp/context.js';
import { describeKind, kindNames, resolveParams, runExperiment } from '../../server/interp/index.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { ctxOf, mazeConfig, randomModel, storedSae } from './helpers.js';

const KINDS = [
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
];

describe('registry', () => {
  it('lists the fifteen kinds with params and defaults', () => {
    expect(kindNames()).toEqual(KINDS);
    for (const k of KINDS) {
      const d = describeKind(k);
      expect(d.describe.length).toBeGreaterThan(20);
      expect(d.params.length).toBeGreaterThan(0);
    }
  });

  it('importing the registry (to list kinds or validate params) does not load ONNX Runtime', () => {
    const dir = mkdtempSync(join(tmpdir(), 'interp-light-'));
    try {
      const index = fileURLToPath(new URL('../../server/interp/index.ts', import.meta.url));
      const script = join(dir, 'probe.mts');
      writeFileSync(
        script,
        `import { createRequire } from 'node:module';
const m = await import(${JSON.stringify(index)});
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('onnxruntime'));
console.log(JSON.stringify({ kinds: m.kindNames().length, ort: loaded.length }));`,
      );
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ kinds: 15, ort: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('infers the default grid from the vocabulary and n_ctx', () => {
    const model = randomModel('nano', 3);
    expect(defaultGrid(model.cfg, model.vocab)).toBe(3);
    expect(resolveParams('probes', model, {}).grid).toBe(3);
    // A vocabulary for 8×8 but n_ctx 192: the largest spanning-tree sequence that fits is 6×6.
    const vocab8 = getTokenizer('aotp-ut').vocab(8);
    expect(defaultGrid(mazeConfig('nano', 8, 192), vocab8)).toBe(6); // 7×7 needs 253 tokens
    expect(defaultGrid(mazeConfig('nano', 8, 512), vocab8)).toBe(8);
    // No coordinates at all: 5.
    expect(defaultGrid(mazeConfig('nano', 8, 512), vocab8.slice(0, 11))).toBe(5);
    expect(() => resolveParams('nope', model, {})).toThrow(/unknown experiment kind "nope"; known kinds: attention/);
  });

  const model = randomModel('nano', 3, 71);
  for (const kind of KINDS) {
    it(`${kind} runs with {} (sae-intervention: an SAE and a low AUC bar) and is deterministic`, async () => {
      const progress: number[] = [];
      // sae-intervention edits a trained SAE: a small one of this model (connections scored at ';').
      const withSae =
        kind === 'sae-intervention' ? { ...ctxOf(model, 1), sae: storedSae(await runExperiment('sae', ctxOf(model, 2), { steps: 20, count: 20 })) } : undefined;
      const raw = kind === 'sae-intervention' ? { count: 8, minAuc: 0.5 } : {};
      const ctx = () => withSae ?? ctxOf(model, 1);
      const a = await runExperiment(kind, ctx(), raw, (f) => progress.push(f));
      expect(a.kind).toBe(kind);
      expect(a.summary.kind).toBe(kind);
      expect(JSON.parse(JSON.stringify(a.summary))).toBeTruthy();
      expect(a.tensors.length).toBeGreaterThan(0);
      for (const t of a.tensors) expect(t.data.length).toBe(t.shape.reduce((x, y) => x * y, 1));
      expect(progress[progress.length - 1]).toBe(1);
      expect(progress.every((f) => f >= 0 && f <= 1)).toBe(true);
      if (kind === 'probes' || kind === 'behavior') return; // the heavier defaults: determinism is checked in their own tests
      const b = await runExperiment(kind, ctx(), raw);
      expect(JSON.stringify(b.summary)).toBe(JSON.stringify(a.summary));
    });
  }
});
