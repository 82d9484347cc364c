/**
 * TransformerLens architecture fields (server/model/config.ts): validation with errors that name the
 * field, a stored config that leaves TL's defaults out (so files of the standard architecture read
 * and write as before), parameter sets per variant, the TL buffers a rotary model's file carries,
 * and inferring a variant's config from a TL state_dict's shapes.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { architecture, type ModelConfig, paramShapes, PRESETS, validateConfig } from '../../server/model/config.js';
import { decodeSafetensors, encodeSafetensorsRaw, type RawTensor } from '../../server/model/safetensors.js';
import { decodeModel, encodeModel, initWeights } from '../../server/model/weights.js';
import { rotaryTables } from '../../server/model/rotary.js';

const base: ModelConfig = { ...PRESETS.nano, n_ctx: 16, d_vocab: 7, tokenizer: 'aotp-ut' };
const vocab = ['<PAD>', '<ADJLIST_START>', '(0,0)', '(0,1)', '<-->', ';', '<PATH_END>'];

describe('architecture fields', () => {
  it("leave TL's defaults out of the stored config and fill them in for the engines", () => {
    const explicit = validateConfig({
      ...base,
      positional_embedding_type: 'standard',
      normalization_type: 'LN',
      attn_only: false,
      parallel_attn_mlp: false,
      d_vocab_out: -1,
      rotary_base: 10000,
      rotary_adjacent_pairs: false,
      gated_mlp: false,
      attention_dir: 'causal',
    });
    expect(explicit).toEqual(base);
    expect(architecture(base)).toEqual({
      positional: 'standard',
      rotary_dim: 0,
      rotary_base: 10000,
      rotary_adjacent_pairs: false,
      normalization: 'LN',
      attn_only: false,
      parallel_attn_mlp: false,
      d_vocab_out: 7,
    });
    const rotary = validateConfig({ ...base, positional_embedding_type: 'rotary', rotary_dim: 2, rotary_base: 500, normalization_type: null, d_vocab_out: 5 });
    expect(rotary).toMatchObject({ positional_embedding_type: 'rotary', rotary_dim: 2, rotary_base: 500, normalization_type: null, d_vocab_out: 5 });
    expect(validateConfig(rotary)).toEqual(rotary); // idempotent
  });

  it('refuses bad or unsupported values, naming the field', () => {
    const bad = (extra: Record<string, unknown>) => () => validateConfig({ ...base, ...extra });
    expect(bad({ act_fn: 'solu_ln' })).toThrow(
      'config.act_fn must be one of gelu_new, gelu, relu, silu, gelu_fast, gelu_pytorch_tanh; got "solu_ln" (SoLU and gated MLPs are not supported)',
    );
    expect(bad({ positional_embedding_type: 'alibi' })).toThrow('config.positional_embedding_type must be "standard" or "rotary", got "alibi"');
    expect(bad({ positional_embedding_type: 'rotary' })).toThrow(
      'config.rotary_dim must be an even integer in [2, d_head = 4] for rotary positions, got undefined',
    );
    expect(bad({ positional_embedding_type: 'rotary', rotary_dim: 3 })).toThrow('config.rotary_dim must be an even integer');
    expect(bad({ positional_embedding_type: 'rotary', rotary_dim: 6 })).toThrow('[2, d_head = 4]');
    expect(bad({ rotary_adjacent_pairs: true })).toThrow('config.rotary_adjacent_pairs is set but positional_embedding_type is "standard"');
    expect(bad({ normalization_type: 'BatchNorm' })).toThrow(
      'config.normalization_type must be one of "LN", "LNPre", "RMS", "RMSPre" or null, got "BatchNorm"',
    );
    expect(bad({ attn_only: true, parallel_attn_mlp: true })).toThrow('config.attn_only and config.parallel_attn_mlp cannot both be true');
    expect(bad({ attn_only: 'yes' })).toThrow('config.attn_only must be true or false, got "yes"');
    expect(bad({ d_vocab_out: 0 })).toThrow('config.d_vocab_out must be -1 (= d_vocab) or an integer in [1, 1048576], got 0');
    expect(bad({ gated_mlp: true })).toThrow("config.gated_mlp = true asks for gated MLPs, which Searchlight's engine does not implement");
    expect(bad({ attention_dir: 'bidirectional' })).toThrow('config.attention_dir = "bidirectional" asks for bidirectional attention');
    expect(bad({ n_key_value_heads: 1 })).toThrow('grouped-query attention');
    expect(bad({ attn_scale: 3 })).toThrow("config.attn_scale = 3: only TL's default √d_head = 2 is implemented");
    expect(validateConfig({ ...base, attn_scale: 2 })).toEqual(base);
  });

  it('gives each variant exactly its parameters', () => {
    const names = (extra: Partial<ModelConfig>) => paramShapes({ ...base, ...extra }).map(([n]) => n);
    expect(names({})).toContain('pos_embed.W_pos');
    expect(names({ positional_embedding_type: 'rotary', rotary_dim: 2 })).not.toContain('pos_embed.W_pos');
    expect(names({ normalization_type: 'RMS' }).filter((n) => n.includes('ln'))).toEqual([
      'blocks.0.ln1.w',
      'blocks.0.ln2.w',
      'blocks.1.ln1.w',
      'blocks.1.ln2.w',
      'ln_final.w',
    ]);
    for (const norm of ['LNPre', 'RMSPre', null] as const) expect(names({ normalization_type: norm }).filter((n) => n.includes('ln'))).toEqual([]);
    expect(names({ attn_only: true }).filter((n) => n.includes('mlp') || n.includes('ln2'))).toEqual([]);
    expect(new Map(paramShapes({ ...base, d_vocab_out: 5 })).get('unembed.W_U')).toEqual([8, 5]);
  });

  it("writes a rotary model's TL buffers (rotary_sin/cos [min(n_ctx, 2048), rotary_dim]) and reads the file back", () => {
    const cfg: ModelConfig = { ...base, positional_embedding_type: 'rotary', rotary_dim: 4, rotary_adjacent_pairs: true };
    const w = initWeights(cfg, new Rng(1));
    const bytes = encodeModel(cfg, w, vocab);
    const { tensors } = decodeSafetensors(bytes);
    const { sin, cos } = rotaryTables(architecture(cfg), 16);
    expect(tensors.get('blocks.1.attn.rotary_sin')).toMatchObject({ shape: [16, 4], data: sin });
    expect(tensors.get('blocks.0.attn.rotary_cos')).toMatchObject({ shape: [16, 4], data: cos });
    // TL's GPT-J layout: angle(p, j) = p / base^(⌊j/2⌋ / (R/2)); position 3, dimension 3 → 3 / 10000^(1/2).
    expect(sin[3 * 4 + 3]).toBeCloseTo(Math.sin(3 / 100), 7);
    const back = decodeModel(bytes);
    expect(back.cfg).toEqual(cfg);
    expect(back.unknownTensors).toEqual([]);
  });

  it('infers a variant from a TL state_dict without a config: rotary_dim from rotary_sin, n_ctx from the mask, RMS from ln weights, attn_only, d_vocab_out', () => {
    const cfg: ModelConfig = { ...base, positional_embedding_type: 'rotary', rotary_dim: 2, normalization_type: 'RMS', attn_only: true, d_vocab_out: 6 };
    const w = initWeights(cfg, new Rng(2));
    const raw: RawTensor[] = paramShapes(cfg).map(([name, shape]) => ({ name, dtype: 'F32', shape, bytes: new Uint8Array(w.get(name)!.buffer) }));
    for (let l = 0; l < cfg.n_layers; l++) {
      raw.push({ name: `blocks.${l}.attn.mask`, dtype: 'BOOL', shape: [16, 16], bytes: new Uint8Array(256) });
      raw.push({ name: `blocks.${l}.attn.rotary_sin`, dtype: 'F32', shape: [16, 2], bytes: new Uint8Array(128) });
    }
    const loaded = decodeModel(encodeSafetensorsRaw(raw), { vocab });
    expect(loaded.cfg).toEqual({ ...cfg, d_mlp: 32 }); // attn_only: d_mlp is not in the shapes; 4·d_model
    expect(loaded.unknownTensors).toEqual([]);
    // No ln weights at all: LNPre, RMSPre and none look alike, so the caller must say.
    const pre: ModelConfig = { ...base, normalization_type: 'LNPre' };
    const rawPre: RawTensor[] = paramShapes(pre).map(([name, shape]) => ({
      name,
      dtype: 'F32',
      shape,
      bytes: new Uint8Array(shape.reduce((a, b) => a * b, 1) * 4),
    }));
    expect(() => decodeModel(encodeSafetensorsRaw(rawPre), { vocab })).toThrow('the file has no ln weights; give normalization_type');
    expect(decodeModel(encodeSafetensorsRaw(rawPre), { vocab, config: { normalization_type: 'LNPre' } }).cfg).toEqual(pre);
  });
});
