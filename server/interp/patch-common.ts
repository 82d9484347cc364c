/**
 * What activation and attribution patching share: the sites (with TransformerLens'
 * get_act_patch_* output shapes), preparing pairs (fixing `bad`, the clean and corrupted logit
 * differences), and packing per-pair results into padded tensors plus aggregates by token class.
 *
 * Sites and shapes (per pair):  resid_pre / attn_out / mlp_out  [n_layers, pos]
 *                               head_by_pos (attn.hook_z)       [n_layers, pos, n_heads]
 *                               head_all_pos (attn.hook_z)      [n_layers, n_heads]
 * Pairs differ in length, so per-pair tensors are padded to the longest with NaN; by-class
 * aggregates pool every (pair, position) of a class: TOKEN_CLASSES, then `changed` (positions
 * where clean and corrupted differ) and `last` (the decision position, whose logits are read).
 */
import type { ModelConfig } from '../model/config.js';
import type { OnnxEngine } from '../model/engine.js';
import { nanMean, num, tensor } from './collect.js';
import { encoder, loadMazes, mazeFields, requireUnified } from './context.js';
import { buildPairs, PAIR_KINDS, resolveBad, type PatchPair } from './pairs.js';
import type { FieldSpec, ModelInfo, ParamsOf } from './params.js';
import { mapPositions, TOKEN_CLASSES } from './positions.js';
import type { ExperimentContext, NamedTensor } from './types.js';

export const SITES = ['resid_pre', 'attn_out', 'mlp_out', 'head_by_pos', 'head_all_pos'] as const;
export type Site = (typeof SITES)[number];
export const PATCH_CLASSES = [...TOKEN_CLASSES, 'changed', 'last'] as const;
export type PatchClass = (typeof PATCH_CLASSES)[number];

/** One clean/corrupted pair as the patching kinds' summaries list it (summary.pairs). */
export interface PatchPairRow {
  /** Human-readable change, e.g. "target (3,4) → (0,2)". */
  change: string;
  /** Tokens of the clean (and corrupted) prompt. */
  length: number;
  /** Index into the clean path of the decision cell. */
  decision_path_index: number;
  /** Positions where clean and corrupted differ. */
  changed_positions: number[];
  /** The clean next move and the best wrong token, as token strings. */
  good: string;
  bad: string;
  clean_logit_diff: number | null;
  corrupt_logit_diff: number | null;
}

/** One value per patched site; a site not run is absent. */
export type PerSite<T> = Partial<Record<Site, T>>;

export function patchFields(countDefault: number, sitesDefault: Site[]) {
  return {
    ...mazeFields(countDefault, 1000),
    pair: { type: 'string', doc: 'how the corrupted prompt differs (pairs.ts)', choices: PAIR_KINDS, enum: 'PairKind', default: 'target' },
    sites: {
      type: 'string[]',
      doc: 'activations patched (mlp_out only in models with MLPs)',
      choices: SITES,
      enum: 'PatchSite',
      // An attn_only model has no hook_mlp_out: its default leaves that site out (asking for it is an error naming why).
      default: (m: ModelInfo) => (m.cfg.attn_only ? sitesDefault.filter((s) => s !== 'mlp_out') : sitesDefault),
      defaultDoc: `${sitesDefault.join(', ')}${sitesDefault.includes('mlp_out') ? ' (without mlp_out in attn_only models)' : ''}`,
    },
  } satisfies Record<string, FieldSpec>;
}

/** The params every patching kind has: the maze source, the pair and the sites. */
export type PatchParams = ParamsOf<ReturnType<typeof patchFields>>;

export function siteShape(cfg: ModelConfig, site: Site, T: number): number[] {
  if (site === 'head_by_pos') return [cfg.n_layers, T, cfg.n_heads];
  if (site === 'head_all_pos') return [cfg.n_layers, cfg.n_heads];
  return [cfg.n_layers, T];
}

export interface PreparedPair {
  pair: PatchPair;
  good: number;
  bad: number;
  cleanLd: number;
  corruptLd: number;
  /** [T] index into PATCH_CLASSES of each position's token class. */
  classes: Int32Array;
  /** Logit difference of the last position's logits. */
  metric: (last: Float32Array) => number;
}

/** Builds up to `count` pairs (one per maze, skipping mazes that offer no such change) and runs them clean and corrupted. */
export async function preparePairs(
  ctx: ExperimentContext,
  p: PatchParams,
  engine: OnnxEngine,
): Promise<{ prepared: PreparedPair[]; skipped: number; mazes: number }> {
  requireUnified(ctx.model, 'patching');
  const { cfg, vocab } = ctx.model;
  const V = cfg.d_vocab;
  // Some mazes offer no change of the asked kind; draw up to 4× as many mazes as pairs wanted.
  const mazes = loadMazes(ctx, { ...p, count: p.count * 4 });
  const { pairs, skipped } = buildPairs(p.pair, mazes, encoder(ctx.model), ctx.seed, p.count);
  const prepared: PreparedPair[] = [];
  for (const pair of pairs) {
    const T = pair.clean.length;
    const last = async (tokens: Int32Array) => (await engine.forward(tokens, 1, T)).slice((T - 1) * V, T * V);
    const cleanLast = await last(pair.clean);
    const good = pair.good,
      bad = resolveBad(pair, cleanLast);
    const metric = (l: Float32Array) => l[good] - l[bad];
    const sp = mapPositions(pair.clean, vocab, pair.cleanMaze);
    const classes = Int32Array.from(sp.classes, (c) => TOKEN_CLASSES.indexOf(c));
    prepared.push({ pair, good, bad, cleanLd: metric(cleanLast), corruptLd: metric(await last(pair.corrupt)), classes, metric });
  }
  return { prepared, skipped, mazes: mazes.length };
}

/** Denominator of the normalised metric, or NaN when clean and corrupted behave the same (|Δ| < 1e-4). */
export const ldGap = (pp: PreparedPair): number => {
  const g = pp.cleanLd - pp.corruptLd;
  return Math.abs(g) < 1e-4 ? NaN : g;
};

/**
 * Tensors of one site: `${site}` [pairs, ...shape] normalised, `${site}.raw`, and `${site}.by_class`
 * [n_layers, class(, head)] (position sites) or `${site}.mean` [n_layers, n_heads].
 * `normalise(v, pair)` maps a raw value to the normalised scale.
 */
export function packSite(
  cfg: ModelConfig,
  site: Site,
  prepared: readonly PreparedPair[],
  raw: readonly Float32Array[],
  normalise: (v: number, pp: PreparedPair) => number,
): NamedTensor[] {
  const { n_layers: L, n_heads: H } = cfg;
  const Tmax = Math.max(...prepared.map((pp) => pp.pair.clean.length));
  const shape = siteShape(cfg, site, Tmax);
  const per = shape.reduce((a, b) => a * b, 1);
  const P = prepared.length;
  const norm = new Float32Array(P * per).fill(NaN),
    rawPad = new Float32Array(P * per).fill(NaN);
  const nC = PATCH_CLASSES.length;
  const hAxis = site === 'head_by_pos' ? H : 1;
  const sums = new Float64Array(L * nC * hAxis),
    counts = new Float64Array(L * nC * hAxis);
  prepared.forEach((pp, i) => {
    const T = pp.pair.clean.length;
    const r = raw[i];
    if (site === 'head_all_pos') {
      for (let j = 0; j < L * H; j++) {
        rawPad[i * per + j] = r[j];
        norm[i * per + j] = normalise(r[j], pp);
      }
      return;
    }
    const changed = new Set(pp.pair.changed);
    for (let l = 0; l < L; l++) {
      for (let t = 0; t < T; t++) {
        const cls = [pp.classes[t], ...(changed.has(t) ? [nC - 2] : []), ...(t === T - 1 ? [nC - 1] : [])];
        for (let h = 0; h < hAxis; h++) {
          const v = r[(l * T + t) * hAxis + h];
          const nv = normalise(v, pp);
          const dst = i * per + (l * Tmax + t) * hAxis + h;
          rawPad[dst] = v;
          norm[dst] = nv;
          if (Number.isNaN(nv)) continue;
          for (const c of cls) {
            sums[(l * nC + c) * hAxis + h] += nv;
            counts[(l * nC + c) * hAxis + h]++;
          }
        }
      }
    }
  });
  const out = [tensor(site, [P, ...shape], norm), tensor(`${site}.raw`, [P, ...shape], rawPad)];
  if (site === 'head_all_pos') {
    const mean = Array.from({ length: L * H }, (_, j) => nanMean(Array.from({ length: P }, (_, i) => norm[i * per + j])));
    out.push(tensor(`${site}.mean`, [L, H], mean)); // [layer, head]
  } else {
    const byClass = sums.map((s, j) => (counts[j] > 0 ? s / counts[j] : NaN));
    out.push(tensor(`${site}.by_class`, site === 'head_by_pos' ? [L, nC, H] : [L, nC], byClass)); // [layer, class(, head)]
  }
  return out;
}

/** Token tensors of the pairs ([pairs, Tmax], padded with -1) and the pairs' summary rows. */
export function pairsSummary(vocab: readonly string[], prepared: readonly PreparedPair[]): { tensors: NamedTensor[]; rows: PatchPairRow[] } {
  const P = prepared.length;
  const Tmax = Math.max(...prepared.map((pp) => pp.pair.clean.length));
  const clean = new Float32Array(P * Tmax).fill(-1),
    corrupt = new Float32Array(P * Tmax).fill(-1);
  prepared.forEach((pp, i) => {
    clean.set(pp.pair.clean, i * Tmax);
    corrupt.set(pp.pair.corrupt, i * Tmax);
  });
  return {
    tensors: [tensor('pairs.clean', [P, Tmax], clean), tensor('pairs.corrupt', [P, Tmax], corrupt)], // [pair, pos] token ids
    rows: prepared.map((pp) => ({
      change: pp.pair.change,
      length: pp.pair.clean.length,
      decision_path_index: pp.pair.decision,
      changed_positions: pp.pair.changed,
      good: vocab[pp.good],
      bad: vocab[pp.bad],
      clean_logit_diff: num(pp.cleanLd),
      corrupt_logit_diff: num(pp.corruptLd),
    })),
  };
}
