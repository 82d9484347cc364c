/**
 * The hook table (server/model/hooks.ts) is the one list of hook points: names, shapes, geometry and
 * the ONNX graph's last-block pruning all derive from it, so these checks pin what it derives.
 */
import { describe, expect, it } from 'vitest';
import { PRESETS, type ModelConfig } from '../../server/model/config.js';
import { allHookNames, blockHookNames, checkHookNames, HOOK_TABLE, hookDims, HookError, hookGeometry, hookShapes } from '../../server/model/hooks.js';

const cfg: ModelConfig = { ...PRESETS.nano, n_layers: 3, d_vocab: 11, tokenizer: 'aotp-ut' };

describe('hook table', () => {
  it('names every TL hook once, in forward order: embeddings, 18 per block, ln_final', () => {
    const names = allHookNames(cfg);
    // The table also holds hook_rot_q/hook_rot_k, which only rotary models have.
    expect(names.length).toBe(HOOK_TABLE.length - 2 + (cfg.n_layers - 1) * (blockHookNames(0).length - 2));
    expect(names.length).toBe(4 + 18 * cfg.n_layers);
    expect(new Set(names).size).toBe(names.length);
    expect(names.slice(0, 3)).toEqual(['hook_embed', 'hook_pos_embed', 'blocks.0.hook_resid_pre']);
    expect(names.slice(-3)).toEqual(['blocks.2.hook_resid_post', 'ln_final.hook_scale', 'ln_final.hook_normalized']);
    expect(hookShapes(cfg, 2, 5).map(([n]) => n)).toEqual([...names, 'logits']);
  });

  it('derives shapes from geometry: hookShapes is hookDims of each hook', () => {
    for (const [name, shape] of hookShapes(cfg, 2, 5)) {
      if (name === 'logits') expect(shape).toEqual([2, 5, cfg.d_vocab]);
      else expect(hookDims(cfg, hookGeometry(cfg, name), 2, 5), name).toEqual(shape);
    }
    expect(hookGeometry(cfg, 'blocks.1.attn.hook_result')).toEqual({ name: 'blocks.1.attn.hook_result', layer: 1, layout: 'bthf', feature: cfg.d_model });
    expect(hookGeometry(cfg, 'ln_final.hook_scale')).toEqual({ name: 'ln_final.hook_scale', layer: cfg.n_layers, layout: 'btf', feature: 1 });
    expect(hookGeometry(cfg, 'hook_pos_embed').layer).toBe(-1);
  });

  it('marks as query-only every block hook except what keys and values are made of', () => {
    expect(blockHookNames(2, (e) => !e.queryOnly)).toEqual([
      'blocks.2.hook_resid_pre',
      'blocks.2.ln1.hook_scale',
      'blocks.2.ln1.hook_normalized',
      'blocks.2.attn.hook_k',
      'blocks.2.attn.hook_v',
      'blocks.2.attn.hook_rot_k',
    ]);
    expect(blockHookNames(2, (e) => !!e.queryOnly)).toHaveLength(14);
  });

  it('refuses names TL does not have for this config, naming them', () => {
    expect(() => hookGeometry(cfg, 'blocks.3.hook_resid_pre')).toThrow('unknown hook point "blocks.3.hook_resid_pre": the model has 3 blocks');
    expect(() => hookGeometry(cfg, 'blocks.01.hook_resid_pre')).toThrow('the model has 3 blocks');
    for (const bad of ['blocks.0.hook_embed', 'blocks.0.ln_final.hook_scale', 'attn.hook_q', 'logits'])
      expect(() => hookGeometry(cfg, bad)).toThrow(
        `unknown hook point "${bad}" (TransformerLens names, e.g. blocks.0.hook_resid_pre, blocks.1.attn.hook_pattern)`,
      );
    expect(() => checkHookNames(cfg, ['hook_embed', 'blocks.0.nope'], 'runForward')).toThrow(HookError);
    expect(() => checkHookNames(cfg, allHookNames(cfg))).not.toThrow();
  });

  it('follows the architecture: each variant has exactly the hooks TL creates for it, and a missing one is named with the reason', () => {
    const block = (c: ModelConfig) =>
      allHookNames(c)
        .filter((n) => n.startsWith('blocks.0.'))
        .map((n) => n.slice('blocks.0.'.length));
    const rotary: ModelConfig = { ...cfg, positional_embedding_type: 'rotary', rotary_dim: 2 };
    expect(allHookNames(rotary)).not.toContain('hook_pos_embed');
    expect(block(rotary).slice(3, 8)).toEqual(['attn.hook_q', 'attn.hook_k', 'attn.hook_v', 'attn.hook_rot_q', 'attn.hook_rot_k']);
    expect(() => checkHookNames(rotary, ['hook_pos_embed'], 'runForward')).toThrow(
      'runForward: the model has no hook point "hook_pos_embed": the model uses rotary positions (no pos_embed)',
    );
    expect(() => hookGeometry(cfg, 'blocks.0.attn.hook_rot_q')).toThrow('the model has learned positions (no rotary)');

    const attnOnly: ModelConfig = { ...cfg, attn_only: true };
    expect(block(attnOnly)).toEqual([
      'hook_resid_pre',
      'ln1.hook_scale',
      'ln1.hook_normalized',
      'attn.hook_q',
      'attn.hook_k',
      'attn.hook_v',
      'attn.hook_attn_scores',
      'attn.hook_pattern',
      'attn.hook_z',
      'attn.hook_result',
      'hook_attn_out',
      'hook_resid_post',
    ]);
    expect(() => hookGeometry(attnOnly, 'blocks.1.hook_mlp_out')).toThrow(
      'the model has no hook point "blocks.1.hook_mlp_out": the model is attn_only (no MLPs)',
    );

    const parallel: ModelConfig = { ...cfg, parallel_attn_mlp: true };
    expect(block(parallel)).not.toContain('hook_resid_mid');
    expect(block(parallel)).toContain('ln2.hook_normalized');

    const none: ModelConfig = { ...cfg, normalization_type: null };
    expect(allHookNames(none).filter((n) => n.includes('ln'))).toEqual([]);
    expect(() => hookGeometry(none, 'ln_final.hook_scale')).toThrow('normalization_type null');
    for (const norm of ['LNPre', 'RMS', 'RMSPre'] as const) expect(allHookNames({ ...cfg, normalization_type: norm })).toEqual(allHookNames(cfg));

    expect(hookShapes({ ...cfg, d_vocab_out: 5 }, 2, 3).at(-1)).toEqual(['logits', [2, 3, 5]]);
  });
});
