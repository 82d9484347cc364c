'use client';
/**
 * A playground run: greedy decoding of the maze's prompt (`generatePath`, on a stored maze or an
 * edited one sent by value), then one forward pass
 * over the completed sequence caching every layer's attention pattern and resid_post
 * (`runForward` with hooks; the cache is content-addressed, so re-running a shared URL is served
 * from the stored cache), then the tensors as .npy: patterns [1, n_heads, T, T] and
 * resid_post [1, T, d_model] per layer, and ln_final / unembed weights for the logit lens.
 */
import { useEffect, useState } from 'react';
import { GqlError, gql } from '../../../lib/graphql';
import type { LensWeights } from '../../../lib/lens';
import { type NpyTensor, fetchNpy } from '../../../lib/npy';
import { GENERATE_PATH } from '../MazeView.queries';
import { RUN_FORWARD } from './useRun.queries';
import type { MazeSpec } from '../../../lib/mazeEdit';
import type { ModelConfig } from '../../../lib/types';

export interface RunResult {
  tokens: string[];
  /** Index of the first generated token (just after <PATH_START>). */
  pathStart: number;
  predicted: Array<[number, number] | null>;
  metrics: Record<string, unknown>;
  patterns: NpyTensor[];
  resid: NpyTensor[];
  lens: LensWeights;
}

/** A stored maze (`mazeId`) or an edited one given by value (`maze`); `mazeKey` names either. */
export interface RunInput {
  modelId: string;
  mazeId?: string;
  maze?: MazeSpec;
  mazeKey: string;
  checkpointId: string;
  config: ModelConfig;
}

export function useRun(input: RunInput | null): { result?: RunResult; error?: Error; busy: boolean; phase: string } {
  const [state, setState] = useState<{ result?: RunResult; error?: Error; busy: boolean; phase: string }>({ busy: false, phase: '' });
  const key = input ? `${input.modelId}|${input.mazeKey}|${input.checkpointId}` : '';
  useEffect(() => {
    if (!input) {
      setState({ busy: false, phase: '' });
      return;
    }
    let cancelled = false;
    const phase = (p: string): void => {
      if (!cancelled) setState((s) => ({ ...s, busy: true, phase: p, error: undefined }));
    };
    (async () => {
      const { config: cfg } = input;
      phase('decoding the path');
      const gen = (
        await gql<{ generatePath: { tokens: string; path: Array<[number, number] | null>; metrics: Record<string, unknown> } }>(GENERATE_PATH, {
          modelId: input.modelId,
          mazeId: input.mazeId ?? null,
          maze: input.maze ?? null,
        })
      ).generatePath;
      const tokens = gen.tokens.split(' ');
      const layers = Array.from({ length: cfg.n_layers }, (_, l) => l);
      const hooks = [...layers.map((l) => `blocks.${l}.attn.hook_pattern`), ...layers.map((l) => `blocks.${l}.hook_resid_post`)];
      phase('caching activations');
      const fwd = (await gql<{ runForward: { cacheId: string } }>(RUN_FORWARD, { modelId: input.modelId, tokens: gen.tokens, hooks })).runForward;
      phase('loading tensors');
      const cache = (h: string): Promise<NpyTensor> => fetchNpy(`/files/caches/${fwd.cacheId}/${h}.npy`);
      const ckpt = input.checkpointId.split(':')[1];
      const weight = (n: string): Promise<NpyTensor> => fetchNpy(`/files/checkpoints/${ckpt}/${n}.npy`);
      // ln_final has a gain for LN and RMS models and a bias for LN only (TL normalization_type).
      const norm = cfg.normalization_type;
      const [patterns, resid, lnW, lnB, WU, bU] = await Promise.all([
        Promise.all(layers.map((l) => cache(`blocks.${l}.attn.hook_pattern`))),
        Promise.all(layers.map((l) => cache(`blocks.${l}.hook_resid_post`))),
        norm === 'LN' || norm === 'RMS' ? weight('ln_final.w') : null,
        norm === 'LN' ? weight('ln_final.b') : null,
        weight('unembed.W_U'),
        weight('unembed.b_U'),
      ]);
      const result: RunResult = {
        tokens,
        pathStart: tokens.indexOf('<PATH_START>') + 1,
        predicted: gen.path,
        metrics: gen.metrics,
        patterns,
        resid,
        lens: { lnW: lnW?.data ?? null, lnB: lnB?.data ?? null, norm, WU: WU.data, bU: bU.data, dModel: cfg.d_model, dVocab: cfg.d_vocab, eps: cfg.eps },
      };
      if (!cancelled) setState({ result, busy: false, phase: '' });
    })().catch((e: unknown) => {
      if (!cancelled) setState({ busy: false, phase: '', error: e instanceof Error ? e : new GqlError([{ message: String(e) }]) });
    });
    return () => {
      cancelled = true;
    };
    // `key` stands for `input` (a new object on every render of the caller).
  }, [key]);
  return state;
}
