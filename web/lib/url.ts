'use client';
/**
 * View state lives in the URL's query string, so a shared URL restores the view. `set` merges a
 * patch (null/'' removes a key) and replaces (or pushes) the history entry with the native
 * History API, which Next's router observes: useSearchParams updates with no server round trip
 * (router.replace would fetch the route's payload again on every slider step).
 */
import { usePathname, useSearchParams } from 'next/navigation';
import { useCallback } from 'react';
import { shortId } from './graphql';

export type Patch = Record<string, string | number | null | undefined>;

export function useUrlState(): { get: (k: string, d?: string) => string; set: (p: Patch, push?: boolean) => void; params: URLSearchParams } {
  const sp = useSearchParams();
  const pathname = usePathname();
  const get = useCallback((k: string, d = ''): string => sp.get(k) ?? d, [sp]);
  const set = useCallback(
    (patch: Patch, push = false) => {
      const next = new URLSearchParams(sp.toString());
      for (const [k, v] of Object.entries(patch)) {
        if (v === null || v === undefined || v === '') next.delete(k);
        else next.set(k, String(v));
      }
      const qs = next.toString();
      const href = qs ? `${pathname}?${qs}` : pathname;
      if (push) window.history.pushState(null, '', href);
      else window.history.replaceState(null, '', href);
    },
    [sp, pathname],
  );
  return { get, set, params: new URLSearchParams(sp.toString()) };
}

/** An integer query parameter, clamped; `d` when absent or not a number. */
export function intParam(v: string, d: number, min = -Infinity, max = Infinity): number {
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : d;
}

/** A "row.col" query parameter (a clicked heatmap cell) with row < rows and col < cols; null when absent or outside. */
export function cellParam(v: string, rows: number, cols: number): [number, number] | null {
  const m = /^(\d+)\.(\d+)$/.exec(v);
  if (!m) return null;
  const [r, c] = [Number(m[1]), Number(m[2])];
  return r < rows && c < cols ? [r, c] : null;
}

/** The page of a component of a model (server Model.component: L1H0 a head, L1.mlp an MLP, L0N17 a neuron). */
export function componentPage(modelId: string, name: string): string {
  return `/models/${shortId(modelId)}/components/${encodeURIComponent(name)}`;
}

/** The page of head `head` of layer `layer`. */
export const headHref = (modelId: string, layer: number, head: number): string => componentPage(modelId, `L${layer}H${head}`);

/** The page of component `name` when it has one (heads, MLPs, neurons; not embed, pos_embed or biases, which DLA also names). */
export function componentHref(modelId: string, name: string): string | null {
  return /^L\d+(?:H\d+|N\d+|\.mlp)$/.test(name) ? componentPage(modelId, name) : null;
}

/** The page of latent `latent` of the SAE of experiment `experimentId` ("Experiment:N" or N). */
export function featureHref(experimentId: string | number, latent: number): string {
  return `/experiments/${shortId(String(experimentId))}/features/${latent}`;
}

/** The page of probe `index` of a probes experiment (a residual-stream direction). */
export function directionHref(experimentId: string | number, index: number): string {
  return `/experiments/${shortId(String(experimentId))}/directions/${index}`;
}
