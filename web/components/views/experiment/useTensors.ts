'use client';
/**
 * Result tensors of an experiment, fetched as .npy over /files/experiments/<id>/<name>.npy (with
 * the session cookie) when a view needs them, and kept for the page's life: results never change
 * once stored, so a tensor is fetched once however often the view's URL state changes.
 */
import { useEffect, useState } from 'react';
import { type NpyTensor, fetchNpy } from '../../../lib/npy';
import type { ExperimentData } from './common';

const cache = new Map<string, Promise<NpyTensor>>();

function load(url: string): Promise<NpyTensor> {
  let p = cache.get(url);
  if (!p) {
    p = fetchNpy(url);
    cache.set(url, p);
    p.catch(() => cache.delete(url)); // a failed fetch may be retried
  }
  return p;
}

/** The named tensors (all of them, or none while any is loading); names the experiment lacks are an error. */
export function useTensors(e: ExperimentData, names: readonly string[]): { tensors: Record<string, NpyTensor> | undefined; error: Error | undefined } {
  const key = names.join('\n');
  const [state, setState] = useState<{ key: string; tensors?: Record<string, NpyTensor>; error?: Error }>({ key: '' });
  useEffect(() => {
    let live = true;
    const wanted = key ? key.split('\n') : [];
    const missing = wanted.filter((n) => !e.tensors.some((t) => t.name === n));
    if (missing.length) {
      setState({ key, error: new Error(`${e.id} has no tensor ${missing.join(', ')}; it has ${e.tensors.map((t) => t.name).join(', ')}`) });
      return;
    }
    Promise.all(wanted.map((n) => load(e.tensors.find((t) => t.name === n)!.downloadUrl))).then(
      (ts) => live && setState({ key, tensors: Object.fromEntries(wanted.map((n, i) => [n, ts[i]])) }),
      (err: unknown) => live && setState({ key, error: err as Error }),
    );
    return () => {
      live = false;
    };
  }, [e, key]);
  return state.key === key ? { tensors: state.tensors, error: state.error } : { tensors: undefined, error: undefined };
}
