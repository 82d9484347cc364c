/**
 * Our model files mean to TransformerLens what they mean to us: an independent NumPy forward with
 * HookedTransformer's semantics (test/model/python/tl_forward.py), reading the file with only
 * json + numpy and masking with the file's own attn.mask / attn.IGNORE buffers, gives the logits
 * our ONNX engine gives, for each activation function. Needs /usr/bin/python3 with numpy (CI
 * installs python3-numpy from Debian).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { ACT_FNS, PRESETS, type ModelConfig } from '../../server/model/config.js';
import { decodeNpy } from '../../server/model/npy.js';
import { OnnxEngine } from '../../server/model/onnx/engine.js';
import { encodeModel } from '../../server/model/weights.js';
import { randomWeights } from './fixtures.js';
import { architectureCases, maxAbsDiff } from './onnx/helpers.js';

const python = '/usr/bin/python3';
const ready = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const script = fileURLToPath(new URL('./python/tl_forward.py', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'searchlight-tl-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!ready)('TransformerLens semantics, checked from Python', () => {
  for (const act of ACT_FNS) {
    it(`a NumPy HookedTransformer forward of our file matches the ONNX engine within 1e-4 (tiny preset, ${act}, weights ×3)`, async () => {
      const tok = getTokenizer('aotp-ut');
      const cfg: ModelConfig = { ...PRESETS.tiny, act_fn: act, n_ctx: 64, d_vocab: tok.vocabSize(4), tokenizer: 'aotp-ut' };
      const weights = randomWeights(cfg, 11);
      const file = path.join(dir, `${act}.safetensors`);
      fs.writeFileSync(file, encodeModel(cfg, weights, [...tok.vocab(4)]));
      const rng = new Rng(`tl/${act}`);
      const B = 3,
        T = 40;
      const tokens = Int32Array.from({ length: B * T }, () => rng.int(cfg.d_vocab)); // [B, T]
      fs.writeFileSync(path.join(dir, 'tokens.json'), JSON.stringify(Array.from({ length: B }, (_, b) => Array.from(tokens.subarray(b * T, (b + 1) * T)))));
      const out = path.join(dir, `${act}.npy`);
      const r = spawnSync(python, [script, file, path.join(dir, 'tokens.json'), out], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const theirs = decodeNpy(fs.readFileSync(out)); // [B, T, d_vocab] float64
      expect(theirs.shape).toEqual([B, T, cfg.d_vocab]);
      const engine = await OnnxEngine.create(cfg, weights, { threads: 1 });
      try {
        const ours = await engine.forward(tokens, B, T); // [B, T, d_vocab]
        let diff = 0,
          scale = 0;
        for (let i = 0; i < ours.length; i++) {
          diff = Math.max(diff, Math.abs(ours[i] - Number(theirs.data[i])));
          scale = Math.max(scale, Math.abs(Number(theirs.data[i])));
        }
        expect(scale).toBeGreaterThan(1); // far from uniform: a wrong op cannot hide
        expect(diff).toBeLessThan(1e-4);
      } finally {
        await engine.dispose();
      }
    });
  }

  // Every architecture variant, checked hook by hook: the NumPy forward records each hook where TL
  // calls it (RMS's normalized before its gain, hook_rot_q/k after rotation, no resid_mid in
  // attn_only or parallel blocks), so names, shapes and values must all agree.
  for (const [label, base] of architectureCases()) {
    it(`${label}: NumPy HookedTransformer logits and every hook TL caches match the ONNX engine within 1e-4 (of the tensor's scale)`, async () => {
      const tok = getTokenizer('aotp-ut');
      const cfg: ModelConfig = {
        ...base,
        d_vocab: tok.vocabSize(4),
        tokenizer: 'aotp-ut',
        d_vocab_out: base.d_vocab_out === undefined ? undefined : tok.vocabSize(4) - 4,
      };
      const weights = randomWeights(cfg, 23);
      const slug = label.replace(/[^a-z0-9]+/gi, '-');
      const file = path.join(dir, `${slug}.safetensors`);
      fs.writeFileSync(file, encodeModel(cfg, weights, [...tok.vocab(4)]));
      const rng = new Rng(`tl/${slug}`);
      const B = 2,
        T = 17;
      const tokens = Int32Array.from({ length: B * T }, () => rng.int(cfg.d_vocab)); // [B, T]
      const tokFile = path.join(dir, `${slug}.json`);
      fs.writeFileSync(tokFile, JSON.stringify(Array.from({ length: B }, (_, b) => Array.from(tokens.subarray(b * T, (b + 1) * T)))));
      const hooksDir = fs.mkdtempSync(path.join(dir, `${slug}-hooks-`));
      const out = path.join(dir, `${slug}.npy`);
      const r = spawnSync(python, [script, file, tokFile, out, hooksDir], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const engine = await OnnxEngine.create(cfg, weights, { threads: 1 });
      try {
        const run = await engine.runWithCache(tokens, B, T);
        const theirNames = fs.readdirSync(hooksDir).map((f) => f.replace(/\.npy$/, ''));
        expect([...run.cache.keys()].sort()).toEqual(theirNames.sort());
        const compare = (name: string, ours: Float32Array, shape: number[], theirFile: string) => {
          const theirs = decodeNpy(fs.readFileSync(theirFile)); // float64, TL's shape
          expect(theirs.shape, name).toEqual(shape);
          const want = Float64Array.from(theirs.data as ArrayLike<number>);
          const scale = want.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 1);
          expect(maxAbsDiff(ours, want), name).toBeLessThan(1e-4 * scale);
        };
        compare('logits', run.logits, [B, T, cfg.d_vocab_out ?? cfg.d_vocab], out);
        for (const [name, act] of run.cache) compare(name, act.data, act.shape, path.join(hooksDir, `${name}.npy`));
      } finally {
        await engine.dispose();
      }
    });
  }
});
