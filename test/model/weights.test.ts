import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { paramShapes, PRESETS, type ModelConfig } from '../../server/model/config.js';
import { decodeSafetensors, encodeSafetensors, encodeSafetensorsRaw, type RawTensor } from '../../server/model/safetensors.js';
import { decodeModel, encodeModel, inferConfig, initWeights, loadModel, ModelFileError, saveModel } from '../../server/model/weights.js';

const cfg: ModelConfig = { ...PRESETS.nano, n_ctx: 16, d_vocab: 7, tokenizer: 'aotp-ut' };
const vocab = ['<PAD>', '<ADJLIST_START>', '(0,0)', '(0,1)', '<-->', ';', '<PATH_END>'];

/** The state dict of `cfg` as F32 tensors, in paramShapes order. */
function stateDict(weights = initWeights(cfg, new Rng(1))) {
  return paramShapes(cfg).map(([name, shape]) => ({ name, shape, data: weights.get(name)! }));
}

describe('initWeights', () => {
  it('follows TransformerLens gpt2 init: W_* ~ N(0, 0.8/sqrt(d_model)·scale), biases 0, LayerNorm w 1', () => {
    const big: ModelConfig = { ...PRESETS.tiny, d_vocab: 50, n_ctx: 64, tokenizer: 'aotp-ut' };
    const w = initWeights(big, new Rng(3), { scale: 2 });
    const std = (2 * 0.8) / Math.sqrt(big.d_model);
    const W_in = w.get('blocks.1.mlp.W_in')!; // 32 × 128 = 4096 draws
    const mean = W_in.reduce((a, b) => a + b, 0) / W_in.length;
    const sd = Math.sqrt(W_in.reduce((a, b) => a + (b - mean) ** 2, 0) / W_in.length);
    expect(Math.abs(mean)).toBeLessThan(0.1 * std);
    expect(sd / std).toBeGreaterThan(0.95);
    expect(sd / std).toBeLessThan(1.05);
    for (const name of ['blocks.0.attn.b_Q', 'blocks.2.mlp.b_out', 'unembed.b_U', 'ln_final.b', 'blocks.3.ln2.b']) {
      expect(w.get(name)!.every((v) => v === 0)).toBe(true);
    }
    for (const name of ['blocks.0.ln1.w', 'blocks.3.ln2.w', 'ln_final.w']) expect(w.get(name)!.every((v) => v === 1)).toBe(true);
    for (const [name, shape] of paramShapes(big)) expect(w.get(name)!.length).toBe(shape.reduce((a, b) => a * b, 1));
  });

  it('is determined by the seed', () => {
    const a = initWeights(cfg, new Rng(5));
    expect(initWeights(cfg, new Rng(5))).toEqual(a);
    expect(initWeights(cfg, new Rng(6)).get('embed.W_E')).not.toEqual(a.get('embed.W_E'));
  });
});

describe('saveModel / loadModel', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'searchlight-w-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips config, every weight bit for bit, vocab and extra metadata', async () => {
    const weights = initWeights(cfg, new Rng(9), { scale: 3 });
    const path = join(dir, 'm.safetensors');
    await saveModel(path, cfg, weights, vocab, { trained_steps: '0' });
    const loaded = await loadModel(path);
    expect(loaded.cfg).toEqual(cfg);
    expect(loaded.weights).toEqual(weights);
    expect(loaded.vocab).toEqual(vocab);
    expect(loaded.metadata.trained_steps).toBe('0');
    expect(JSON.parse(loaded.metadata.config)).toEqual(cfg);
    expect(loaded.unknownTensors).toEqual([]);
  });

  it('writes TransformerLens buffers (causal attn.mask, attn.IGNORE = -inf) so a strict load_state_dict succeeds', () => {
    const bytes = encodeModel(cfg, initWeights(cfg, new Rng(1)), vocab);
    const { tensors } = decodeSafetensors(bytes);
    const names = [...tensors.keys()].sort();
    const expected = [
      ...paramShapes(cfg).map(([n]) => n),
      ...Array.from({ length: cfg.n_layers }, (_, l) => [`blocks.${l}.attn.mask`, `blocks.${l}.attn.IGNORE`]).flat(),
    ].sort();
    expect(names).toEqual(expected);
    const mask = tensors.get('blocks.0.attn.mask')!;
    expect(mask.dtype).toBe('BOOL');
    expect(mask.shape).toEqual([cfg.n_ctx, cfg.n_ctx]);
    const n = cfg.n_ctx;
    for (const [q, k] of [
      [0, 0],
      [3, 2],
      [2, 3],
      [n - 1, n - 1],
      [0, n - 1],
    ])
      expect(mask.data[q * n + k]).toBe(k <= q ? 1 : 0);
    expect(tensors.get('blocks.1.attn.IGNORE')!.data[0]).toBe(-Infinity);
  });

  it('names the tensor and both shapes on a shape mismatch', () => {
    const sd = stateDict().map((t) => (t.name === 'blocks.1.attn.W_Q' ? { ...t, shape: [2, 8, 2, 2] } : t));
    const bytes = encodeSafetensors(sd, { config: JSON.stringify(cfg) });
    expect(() => decodeModel(bytes)).toThrow(ModelFileError);
    expect(() => decodeModel(bytes)).toThrow('tensor "blocks.1.attn.W_Q" has shape [2, 8, 2, 2] but the config expects [2, 8, 4]');
  });

  it('refuses NaN and ±Inf weights, naming the tensor, the value and where', () => {
    for (const [bad, shown] of [
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
    ] as const) {
      const sd = stateDict().map((t) => {
        if (t.name !== 'blocks.1.mlp.W_out') return t;
        const data = t.data.slice();
        data[7] = bad;
        return { ...t, data };
      });
      expect(() => decodeModel(encodeSafetensors(sd, { config: JSON.stringify(cfg) }))).toThrow(
        `tensor "blocks.1.mlp.W_out" holds ${shown} at flat index 7; weights must be finite`,
      );
    }
  });

  it("refuses a header over 1 MiB (a model's is a few kB): downloads parse it on the request path", () => {
    const bytes = encodeSafetensors(stateDict(), { config: JSON.stringify(cfg), padding: 'x'.repeat(1 << 20) });
    expect(() => decodeModel(bytes)).toThrow(/the safetensors header is \d+ bytes; a model file's header .* may be at most 1048576 bytes/);
  });

  it('names a missing tensor and its expected shape', () => {
    const bytes = encodeSafetensors(
      stateDict().filter((t) => t.name !== 'blocks.0.mlp.b_in'),
      { config: JSON.stringify(cfg) },
    );
    expect(() => decodeModel(bytes)).toThrow('missing tensor "blocks.0.mlp.b_in" (expected shape [32])');
  });

  it('loads a TransformerLens-style file: no metadata, BOOL attn.mask and IGNORE buffers, other dtypes', () => {
    // Everything as TL would save it in bfloat16: keep the top 16 bits of each float32.
    const weights = initWeights(cfg, new Rng(2));
    const raw: RawTensor[] = paramShapes(cfg).map(([name, shape]) => {
      const src = new Uint32Array(new Float32Array(weights.get(name)!).buffer);
      const bf = new Uint16Array(src.map((bits) => bits >>> 16));
      weights.set(name, new Float32Array(Uint32Array.from(bf, (h) => h << 16).buffer)); // what loading must give
      return { name, dtype: 'BF16', shape, bytes: new Uint8Array(bf.buffer) };
    });
    for (let l = 0; l < cfg.n_layers; l++) {
      raw.push({ name: `blocks.${l}.attn.mask`, dtype: 'BOOL', shape: [cfg.n_ctx, cfg.n_ctx], bytes: new Uint8Array(cfg.n_ctx ** 2) });
      raw.push({ name: `blocks.${l}.attn.IGNORE`, dtype: 'F32', shape: [], bytes: new Uint8Array(new Float32Array([-Infinity]).buffer) });
    }
    raw.push({ name: 'blocks.0.attn.extra', dtype: 'F32', shape: [1], bytes: new Uint8Array(4) });
    const loaded = decodeModel(encodeSafetensorsRaw(raw), { config: { act_fn: 'relu' }, vocab });
    expect(loaded.cfg).toEqual({ ...cfg, act_fn: 'relu' });
    expect(loaded.weights).toEqual(weights);
    expect(loaded.vocab).toEqual(vocab);
    expect(loaded.unknownTensors).toEqual(['blocks.0.attn.extra']);
  });

  it('gives vocab null when neither the file nor the caller has one', () => {
    expect(decodeModel(encodeSafetensors(stateDict())).vocab).toBeNull();
  });

  it('rejects bad vocabularies and reserved metadata keys', () => {
    const w = initWeights(cfg, new Rng(1));
    expect(() => encodeModel(cfg, w, vocab.slice(1))).toThrow('vocab has 6 tokens but config.d_vocab is 7');
    expect(() => encodeModel(cfg, w, [...vocab.slice(0, 6), '<PAD>'])).toThrow('vocab token "<PAD>" appears twice (again at id 6)');
    expect(() => encodeModel(cfg, w, vocab, { config: '{}' })).toThrow('extraMeta may not override "config"');
    w.delete('ln_final.b');
    expect(() => encodeModel(cfg, w, vocab)).toThrow('missing weight "ln_final.b" (expected shape [8])');
  });

  it('rejects a config in metadata that is not valid JSON or not valid', () => {
    expect(() => decodeModel(encodeSafetensors(stateDict(), { config: '{d_model' }))).toThrow(/__metadata__\.config is not valid JSON/);
    expect(() => decodeModel(encodeSafetensors(stateDict(), { config: JSON.stringify({ ...cfg, act_fn: 'swish' }) }))).toThrow(/config\.act_fn must be one of/);
  });

  it('prefixes file errors with the path', async () => {
    const path = join(dir, 'bad.safetensors');
    await writeFile(path, new Uint8Array(3));
    await expect(loadModel(path)).rejects.toThrow(`${path}: file too short`);
  });
});

describe('inferConfig', () => {
  it('recovers every shape-determined field of a config from its state-dict shapes', () => {
    for (const preset of ['nano', 'tiny', 'hallway', 'demo'] as const) {
      const c: ModelConfig = { ...PRESETS[preset], d_vocab: 39, tokenizer: 'aotp-ut' };
      expect(inferConfig(new Map(paramShapes(c)))).toEqual(c); // act_fn gelu_new and eps 1e-5 are the defaults
    }
  });

  it('takes act_fn and eps from the caller, and says which tensor it lacks', () => {
    expect(inferConfig(new Map(paramShapes(cfg)), { act_fn: 'gelu', eps: 1e-6 })).toMatchObject({ act_fn: 'gelu', eps: 1e-6 });
    const shapes = new Map(paramShapes(cfg));
    shapes.delete('pos_embed.W_pos');
    expect(() => inferConfig(shapes)).toThrow('cannot infer the config: tensor "pos_embed.W_pos" is missing');
  });
});
