/**
 * `dla`: direct logit attribution of every component to the logit difference between the correct
 * next move and the best wrong token (the highest-logit other token), at each path position.
 *
 * The residual stream at the final position is a sum of components: hook_embed, hook_pos_embed,
 * each head's attn.hook_result, each layer's b_O, each hook_mlp_out. As TransformerLens'
 * `cache.apply_ln_to_stack` does, each component is centred and divided by the FROZEN final
 * LayerNorm scale of the actual run (ln_final.hook_scale), then projected on
 * ln_final.w ⊙ (W_U[:, good] − W_U[:, bad]). The constant ln_final.b·(W_U[:,good] − W_U[:,bad]) +
 * b_U[good] − b_U[bad] is one more component, so the components sum exactly (up to float rounding)
 * to the model's logit difference. Other architectures (TL normalization_type, positions, attn_only):
 * LNPre is LN with w = 1 and b = 0; RMS and RMSPre divide by the frozen scale without centring
 * (their scale is the root mean square); without normalization the components project on
 * W_U[:, good] − W_U[:, bad] directly; rotary models have no pos_embed component, attn_only models
 * no mlp components. Aggregated by position class: the path cells where the solution
 * forks (`forksAlongPath`), corridor cells, <PATH_START> (predicting the origin) and the last cell
 * (predicting <PATH_END>).
 */
import { forksAlongPath } from '../maze/analysis.js';
import { Rng } from '../maze/rng.js';
import { SPECIAL } from '../maze/tokenize/index.js';
import { forEachCached, num, tensor } from './collect.js';
import { encoder, loadMazes, mazeFields } from './context.js';
import { lensPositions } from './logit-lens.js';
import { defineParams, type SchemaParams } from './params.js';
import { defineKind, type NamedTensor } from './types.js';
import { architecture, type Architecture } from '../model/config.js';

export const paramsSchema = defineParams({
  ...mazeFields(32),
  detail: { type: 'int', doc: 'mazes whose per-position attributions are stored', min: 0, max: 16, default: 1 },
});

/** The params as run: declared once, by the fields above. */
export type DlaParams = SchemaParams<typeof paramsSchema>;

export const DLA_CLASSES = ['fork', 'corridor', 'start', 'end'] as const;
export type DlaClass = (typeof DLA_CLASSES)[number];

/** One value per position class, keyed in DLA_CLASSES order. */
export type PerDlaClass<T> = Record<DlaClass, T>;

/** A record over DLA_CLASSES, built key by key so its type names every class. */
function perClass<T>(f: (i: number) => T): PerDlaClass<T> {
  return { [DLA_CLASSES[0]]: f(0), [DLA_CLASSES[1]]: f(1), [DLA_CLASSES[2]]: f(2), [DLA_CLASSES[3]]: f(3) };
}

/** A component and its mean attribution at a class of positions. */
export interface DlaComponentMean {
  component: string;
  mean: number | null;
}

/** `dla`'s summary (stored as JSON; served as Experiment.result, DlaSummary). */
export interface DlaSummary {
  kind: 'dla';
  mazes: number;
  /** Component names in tensor order (dlaComponents). */
  components: string[];
  classes: typeof DLA_CLASSES;
  /** Positions of each class over all mazes. */
  counts: PerDlaClass<number>;
  mean_logit_diff: PerDlaClass<number | null>;
  /** The 10 largest |mean| components at forks / corridors. */
  top_at_forks: DlaComponentMean[];
  top_at_corridors: DlaComponentMean[];
  max_sum_error: number | null;
}

/** Component names in tensor order (pos_embed only with learned positions, mlp only with MLPs). */
export function dlaComponents(L: number, H: number, arch?: Pick<Architecture, 'positional' | 'attn_only' | 'normalization'>): string[] {
  const out = ['embed'];
  if (!arch || arch.positional === 'standard') out.push('pos_embed');
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) out.push(`L${l}H${h}`);
    out.push(`L${l}.b_O`);
    if (!arch?.attn_only) out.push(`L${l}.mlp`);
  }
  out.push(!arch || arch.normalization === 'LN' ? 'ln_final.b+b_U' : 'b_U');
  return out;
}

export const dla = defineKind<DlaParams, DlaSummary>({
  kind: 'dla',
  describe:
    'Direct logit attribution of embeddings, every head, every attention bias and MLP to the logit difference between the correct next move and the best wrong token, with the final LayerNorm scale frozen as TransformerLens does; aggregated at forks, corridors, start and end.',
  paramsSchema,
  async run(ctx, p, progress) {
    const { cfg, weights } = ctx.model;
    const { n_layers: L, n_heads: H, d_model: D, d_vocab: V } = cfg;
    const arch = architecture(cfg);
    const hasPos = arch.positional === 'standard';
    const hasMlp = !arch.attn_only;
    const norm = arch.normalization;
    const centre = norm === 'LN' || norm === 'LNPre'; // LayerNorm removes each component's mean; RMSNorm does not
    const mazes = loadMazes(ctx, p);
    const enc = encoder(ctx.model);
    const rng = new Rng(`dla/${ctx.seed}`);
    const seqs = mazes.map((m, i) => enc.encode(m, rng, `maze ${i}`));
    const engine = await ctx.model.engine();
    const names = ['hook_embed'];
    if (hasPos) names.push('hook_pos_embed');
    if (norm !== null) names.push('ln_final.hook_scale');
    for (let l = 0; l < L; l++) names.push(`blocks.${l}.attn.hook_result`, ...(hasMlp ? [`blocks.${l}.hook_mlp_out`] : []));
    const comps = dlaComponents(L, H, arch);
    const C = comps.length;
    const w = weights.get('ln_final.w'), // LN and RMS only
      b = weights.get('ln_final.b'), // LN only
      WU = weights.get('unembed.W_U')!,
      bU = weights.get('unembed.b_U')!;
    const sums = new Float64Array(DLA_CLASSES.length * C),
      ldSums = new Float64Array(DLA_CLASSES.length),
      counts = new Float64Array(DLA_CLASSES.length);
    let maxErr = 0;
    const tensors: NamedTensor[] = [];
    const dir = new Float64Array(D);

    await forEachCached(
      engine,
      seqs,
      names,
      (row) => {
        const seq = seqs[row.index];
        const maze = mazes[row.index];
        const pos = lensPositions(seq);
        const pathStart = pos[0];
        const forks = new Set(forksAlongPath(maze, maze.path).map((f) => f.index));
        const P = pos.length;
        const keep = row.index < p.detail;
        const out = new Float32Array(P * C),
          lds = new Float32Array(P),
          goods = new Float32Array(P),
          bads = new Float32Array(P),
          cls = new Float32Array(P);
        const scale = norm === null ? null : row.get('ln_final.hook_scale'); // [T, 1]
        const embed = row.get('hook_embed'),
          posEmbed = hasPos ? row.get('hook_pos_embed') : null; // [T, D]
        const results = Array.from({ length: L }, (_, l) => row.get(`blocks.${l}.attn.hook_result`)); // [T, H, D]
        const mlps = Array.from({ length: L }, (_, l) => (hasMlp ? row.get(`blocks.${l}.hook_mlp_out`) : null)); // [T, D]
        pos.forEach((t, j) => {
          const good = seq[t + 1];
          const lg = row.logits.subarray(t * V, (t + 1) * V);
          let bad = -1;
          for (let v = 0; v < V; v++) if (v !== good && (bad < 0 || lg[v] > lg[bad])) bad = v;
          let dirSum = 0,
            offset = bU[good] - bU[bad];
          for (let d = 0; d < D; d++) {
            const du = WU[d * V + good] - WU[d * V + bad];
            dir[d] = ((w ? w[d] : 1) * du) / (scale ? scale[t] : 1);
            dirSum += dir[d];
            if (b) offset += b[d] * du;
          }
          // Contribution of a component c [D]: (c − mean(c)) · dir = c·dir − mean(c)·Σ dir (no centring for RMS / none).
          const contrib = (c: ArrayLike<number>, o: number): number => {
            let dot = 0,
              mean = 0;
            for (let d = 0; d < D; d++) {
              dot += c[o + d] * dir[d];
              mean += c[o + d];
            }
            return centre ? dot - (mean / D) * dirSum : dot;
          };
          const row_ = new Float64Array(C);
          let k = 0;
          row_[k++] = contrib(embed, t * D);
          if (posEmbed) row_[k++] = contrib(posEmbed, t * D);
          for (let l = 0; l < L; l++) {
            for (let h = 0; h < H; h++) row_[k++] = contrib(results[l], (t * H + h) * D);
            row_[k++] = contrib(weights.get(`blocks.${l}.attn.b_O`)!, 0);
            const mlp = mlps[l];
            if (mlp) row_[k++] = contrib(mlp, t * D);
          }
          row_[k++] = offset;
          const ld = lg[good] - lg[bad];
          let total = 0;
          for (let c = 0; c < C; c++) total += row_[c];
          maxErr = Math.max(maxErr, Math.abs(total - ld));
          const pathIdx = t - pathStart - 1;
          const klass = t === pathStart ? 2 : good === SPECIAL.PATH_END ? 3 : forks.has(pathIdx) ? 0 : 1;
          for (let c = 0; c < C; c++) sums[klass * C + c] += row_[c];
          ldSums[klass] += ld;
          counts[klass]++;
          if (keep) {
            out.set(row_, j * C);
            lds[j] = ld;
            goods[j] = good;
            bads[j] = bad;
            cls[j] = klass;
          }
        });
        if (keep) {
          const k = `maze${row.index}`;
          tensors.push(
            tensor(`${k}.tokens`, [seq.length], seq), // [T]
            tensor(`${k}.positions`, [P], pos), // [P]
            tensor(`${k}.dla`, [P, C], out), // [P, component]
            tensor(`${k}.logit_diff`, [P], lds), // [P]
            tensor(`${k}.good`, [P], goods), // [P] token ids
            tensor(`${k}.bad`, [P], bads), // [P] token ids
            tensor(`${k}.class`, [P], cls), // [P] index into DLA_CLASSES
          );
        }
      },
      { progress, batch: 4 },
    );

    const byClass = sums.map((s, i) => (counts[Math.floor(i / C)] > 0 ? s / counts[Math.floor(i / C)] : NaN));
    tensors.unshift(
      tensor('by_class', [DLA_CLASSES.length, C], byClass), // [class, component] mean attribution
      tensor(
        'logit_diff_by_class',
        [DLA_CLASSES.length],
        ldSums.map((s, i) => (counts[i] > 0 ? s / counts[i] : NaN)),
      ), // [class]
      tensor('count_by_class', [DLA_CLASSES.length], counts), // [class]
    );
    const ranked = (klass: number) =>
      comps
        .map((name, c) => ({ component: name, mean: byClass[klass * C + c] }))
        .filter((r) => Number.isFinite(r.mean))
        .sort((a, z) => Math.abs(z.mean) - Math.abs(a.mean))
        .slice(0, 10)
        .map((r) => ({ component: r.component, mean: num(r.mean) }));
    return {
      summary: {
        kind: 'dla',
        mazes: mazes.length,
        components: comps,
        classes: DLA_CLASSES,
        counts: perClass((i) => counts[i]),
        mean_logit_diff: perClass((i) => num(counts[i] > 0 ? ldSums[i] / counts[i] : NaN)),
        top_at_forks: ranked(0),
        top_at_corridors: ranked(1),
        // Σ components − logit difference over every position: float rounding only.
        max_sum_error: num(maxErr),
      } satisfies DlaSummary,
      tensors,
    };
  },
});
