/**
 * `path-patching` (issue 19; the research plan's "at some point, path-patching"; Wang et al. 2022,
 * "Interpretability in the Wild", §3; Goldowsky-Dill et al. 2023): how much of a corrupted input's
 * effect flows from a sender head to chosen receivers only.
 *
 * For each sender head (l_s, h_s), on clean/corrupted maze pairs (pairs.ts, as activation patching):
 *   1. run the clean prompt with the sender's output (attn.hook_z) taken from the corrupted run and
 *      every other head after it frozen to its clean output (MLPs recomputed, as in Wang et al.'s
 *      IOI path patching, so paths through MLPs count; `freeze` = none turns the freezing off);
 *   2. receivers `logits`: read the metric from that run (the sender's effect on the unembedding
 *      through the residual stream and MLPs only); receivers `heads`: record the receiver heads'
 *      q/k/v inputs (attn.hook_q/k/v at `receiverLayer`) in run 1 and run the clean prompt again with
 *      only those patched in, then read the metric.
 * Metric: the logit difference at the decision position (pairs.ts), normalised as
 *   (LD_patched − LD_clean) / (LD_clean − LD_corrupt)
 * so 0 = the path carries none of the corrupted input's effect and −1 = all of it (NaN where clean
 * and corrupted agree). Senders at or after the receivers' layer cannot reach them: NaN.
 *
 * Output per pair: `senders` [pairs, n_layers, n_heads] normalised, `senders.raw` (the patched LD),
 * and `senders.mean` [n_layers, n_heads]; TransformerLens' head_all_pos shape. Every sender of a
 * pair runs in one batch per `rowsPerRun` rows (per-row interventions, engine.runWithInterventions).
 */
import type { Intervention, OnnxEngine } from '../model/engine.js';
import { nanMean, num, tensor } from './collect.js';
import { InterpError } from './context.js';
import { defineParams, type SchemaParams } from './params.js';
import { ldGap, type PatchPairRow, pairsSummary, patchFields, type PreparedPair, preparePairs } from './patch-common.js';
import { defineKind, type NamedTensor } from './types.js';

const { sites: _sites, ...pairFields } = patchFields(4, ['head_all_pos']);

export const paramsSchema = defineParams({
  ...pairFields,
  receivers: {
    type: 'string',
    doc: 'where the path ends: the logits, or the q/k/v inputs of heads at receiverLayer',
    choices: ['logits', 'heads'],
    enum: 'PathReceivers',
    default: 'logits',
  },
  receiverLayer: {
    type: 'int',
    doc: 'layer of the receiver heads (receivers = heads)',
    min: 0,
    max: (m) => m.cfg.n_layers - 1,
    default: (m) => m.cfg.n_layers - 1,
  },
  receiverHeads: { type: 'int[]', doc: 'receiver heads (receivers = heads; default all)', min: 0, max: (m) => m.cfg.n_heads - 1, default: [], minItems: 0 },
  receiverInputs: {
    type: 'string[]',
    doc: 'which inputs of the receiver heads are patched',
    choices: ['q', 'k', 'v'],
    enum: 'HeadInput',
    default: ['q', 'k', 'v'],
    minItems: 1,
  },
  freeze: {
    type: 'string',
    doc: 'other heads downstream of the sender: frozen to their clean outputs (path patching) or recomputed (activation patching)',
    choices: ['heads', 'none'],
    enum: 'PathFreeze',
    default: 'heads',
  },
  rowsPerRun: { type: 'int', doc: 'patched runs per ONNX call', min: 1, max: 256, default: 16 },
});

export type PathPatchingParams = SchemaParams<typeof paramsSchema>;

/** Receivers `heads`: their layer, the heads (`"all"` when the param was empty) and the inputs patched. */
export interface PathReceiverHeads {
  layer: number;
  heads: number[] | 'all';
  inputs: PathPatchingParams['receiverInputs'];
}

/**
 * Where a stored path-patching run's paths end, as component names: `['unembed']` for the logits,
 * else its receiver heads (`L<layer>H<h>`, every head of the layer for "all"); for component
 * pages and circuits built from the result.
 */
export function receiverNames(receivers: 'logits' | PathReceiverHeads, n_heads: number): { names: string[]; layer: number | null } {
  if (receivers === 'logits') return { names: ['unembed'], layer: null };
  const heads = receivers.heads === 'all' ? Array.from({ length: n_heads }, (_, h) => h) : receivers.heads;
  return { names: heads.map((h) => `L${receivers.layer}H${h}`), layer: receivers.layer };
}

/** A sender head and its mean normalised path-patched effect (finite). */
export interface PathSender {
  layer: number;
  head: number;
  effect: number;
}

/** `path-patching`'s summary (stored as JSON; served as Experiment.result, PathPatchingSummary). */
export interface PathPatchingSummary {
  kind: 'path-patching';
  pair: PathPatchingParams['pair'];
  /** Where the paths end: the string "logits", or the receiver heads. */
  receivers: 'logits' | PathReceiverHeads;
  freeze: PathPatchingParams['freeze'];
  pairs: PatchPairRow[];
  skipped_mazes: number;
  /** Up to 8 senders, most negative effect first. */
  strongest: PathSender[];
}

interface Activations {
  /** [n_layers] of [T, H, d_head]: attn.hook_z by layer. */
  z: Float32Array[];
}

async function headOutputs(engine: OnnxEngine, tokens: Int32Array): Promise<Activations> {
  const L = engine.cfg.n_layers;
  const names = Array.from({ length: L }, (_, l) => `blocks.${l}.attn.hook_z`);
  const r = await engine.runWithCache(tokens, 1, tokens.length, { names });
  return { z: names.map((n) => r.cache.get(n)!.data) }; // each [1, T, H, d_head]
}

/** Logit difference at the last position of each of `rows` rows. */
function lastLds(logits: Float32Array, rows: number, T: number, V: number, pp: PreparedPair): number[] {
  return Array.from({ length: rows }, (_, r) => pp.metric(logits.subarray((r * T + T - 1) * V, (r * T + T) * V)));
}

/**
 * The path-patched logit difference of each sender (l, h) of one pair, [n_layers * n_heads], NaN
 * for senders that cannot reach the receivers.
 */
export async function pathPatchPair(engine: OnnxEngine, pp: PreparedPair, p: PathPatchingParams): Promise<Float32Array> {
  const { n_layers: L, n_heads: H, d_vocab: V } = engine.cfg;
  const clean = pp.pair.clean;
  const T = clean.length;
  const [cl, co] = [await headOutputs(engine, clean), await headOutputs(engine, pp.pair.corrupt)];
  const end = p.receivers === 'logits' ? L : p.receiverLayer; // senders must sit before this layer
  const senders: Array<[number, number]> = [];
  for (let l = 0; l < end; l++) for (let h = 0; h < H; h++) senders.push([l, h]);
  const out = new Float32Array(L * H).fill(NaN);
  const heads = p.receiverHeads.length > 0 ? [...new Set(p.receiverHeads)] : Array.from({ length: H }, (_, h) => h);
  const inputs = [...new Set(p.receiverInputs)].map((x) => `blocks.${p.receiverLayer}.attn.hook_${x}`);

  for (let s = 0; s < senders.length; s += p.rowsPerRun) {
    const group = senders.slice(s, s + p.rowsPerRun);
    const B = group.length;
    const tokens = new Int32Array(B * T); // [B, T]: the clean prompt in every row
    for (let b = 0; b < B; b++) tokens.set(clean, b * T);
    const ivs: Intervention[] = [];
    group.forEach(([ls, hs], b) => {
      // The sender carries its corrupted output; everything upstream of it is clean anyway.
      ivs.push({ hook: `blocks.${ls}.attn.hook_z`, kind: 'replace', rows: [b], heads: [hs], value: co.z[ls] });
      if (p.freeze === 'heads') {
        // Same layer: heads run in parallel, so they cannot read the sender; later layers up to the
        // receivers are frozen to clean so the effect reaches the receivers through the residual only.
        for (let l = ls + 1; l < end; l++) ivs.push({ hook: `blocks.${l}.attn.hook_z`, kind: 'replace', rows: [b], value: cl.z[l] });
      }
    });
    let lds: number[];
    if (p.receivers === 'logits') {
      const r = await engine.runWithInterventions(tokens, B, T, ivs, { names: [] });
      lds = lastLds(r.logits, B, T, V, pp);
    } else {
      const first = await engine.runWithInterventions(tokens, B, T, ivs, { names: inputs });
      const second: Intervention[] = [];
      for (const name of inputs) {
        const act = first.cache.get(name)!.data; // [B, T, H, d_head]
        const per = act.length / B;
        for (let b = 0; b < B; b++) second.push({ hook: name, kind: 'replace', rows: [b], heads, value: act.subarray(b * per, (b + 1) * per) });
      }
      const r = await engine.runWithInterventions(tokens, B, T, second, { names: [] });
      lds = lastLds(r.logits, B, T, V, pp);
    }
    group.forEach(([l, h], b) => (out[l * H + h] = lds[b]));
  }
  return out;
}

export const pathPatching = defineKind<PathPatchingParams, PathPatchingSummary>({
  kind: 'path-patching',
  describe:
    'Path patching (Wang et al. 2022): each head’s corrupted output sent to chosen receivers only — the logits, or the q/k/v inputs of heads at a later layer — with the other heads frozen to the clean run; normalised effect on the logit difference (0 none, −1 all).',
  paramsSchema,
  async run(ctx, p, progress) {
    if (p.receivers === 'heads' && p.receiverLayer === 0)
      throw new InterpError('receiverLayer 0 has no heads before it to send; choose a later layer or receivers "logits"');
    const engine = await ctx.model.engine();
    const { prepared, skipped, mazes } = await preparePairs(ctx, { ...p, sites: ['head_all_pos'] }, engine);
    if (prepared.length === 0) throw new InterpError(`no maze among ${mazes} offers a "${p.pair}" pair; try another pair kind or generator`);
    const { n_layers: L, n_heads: H } = ctx.model.cfg;
    const P = prepared.length;
    const raw = new Float32Array(P * L * H); // [pair, layer, head]
    const norm = new Float32Array(P * L * H);
    for (let i = 0; i < P; i++) {
      const pp = prepared[i];
      const r = await pathPatchPair(engine, pp, p);
      const gap = ldGap(pp);
      for (let j = 0; j < L * H; j++) {
        raw[i * L * H + j] = r[j];
        norm[i * L * H + j] = (r[j] - pp.cleanLd) / gap;
      }
      progress((i + 1) / P, `path-patched every sender of pair ${i + 1}/${P}`);
    }
    const mean = Array.from({ length: L * H }, (_, j) => nanMean(Array.from({ length: P }, (_, i) => norm[i * L * H + j])));
    const ps = pairsSummary(ctx.model.vocab, prepared);
    const tensors: NamedTensor[] = [
      tensor('senders', [P, L, H], norm),
      tensor('senders.raw', [P, L, H], raw),
      tensor('senders.mean', [L, H], mean), // [layer, head]
      ...ps.tensors,
    ];
    const ranked = mean
      .map((v, j) => ({ layer: Math.floor(j / H), head: j % H, effect: num(v) }))
      .filter((x): x is PathSender => x.effect !== null)
      .sort((a, b) => a.effect - b.effect);
    return {
      summary: {
        kind: 'path-patching',
        pair: p.pair,
        receivers:
          p.receivers === 'logits' ? 'logits' : { layer: p.receiverLayer, heads: p.receiverHeads.length ? p.receiverHeads : 'all', inputs: p.receiverInputs },
        freeze: p.freeze,
        pairs: ps.rows,
        skipped_mazes: skipped,
        // The senders whose path carries most of the corrupted input's effect (most negative first).
        strongest: ranked.slice(0, 8),
      } satisfies PathPatchingSummary,
      tensors,
    };
  },
});
