/**
 * `logit-lens`: every layer's residual stream (blocks.l.hook_resid_pre for l < n_layers, then the
 * final resid_post) read through ln_final and the unembedding (nostalgebraist 2020, "interpreting
 * GPT: the logit lens"). LayerNorm is recomputed on each layer's residual, as in the original lens;
 * at the final layer that is exactly the model's own computation, so the last row equals the logits.
 *
 * Read at the path positions: <PATH_START> and every path token, each predicting the next token
 * (the path's cells, then <PATH_END>). Reports, per layer, the accuracy (argmax = correct next
 * token), mean probability and rank of the correct token over all mazes; for the first `detail`
 * mazes the per-position ranks, probabilities, top-k tokens and the lens logits themselves.
 */
import { Rng } from '../maze/rng.js';
import { SPECIAL } from '../maze/tokenize/index.js';
import { forEachCached, lnFinal, num, rankAndProb, residLabel, residName, tensor, topK, unembed } from './collect.js';
import { encoder, loadMazes, mazeFields } from './context.js';
import { defineParams, type SchemaParams } from './params.js';
import { defineKind, type NamedTensor } from './types.js';

export const paramsSchema = defineParams({
  ...mazeFields(32),
  topK: { type: 'int', doc: 'top tokens kept per position in the detail tensors', min: 1, max: 50, default: 5 },
  detail: { type: 'int', doc: 'mazes whose per-position tensors are stored', min: 0, max: 16, default: 1 },
});

/** The params as run: declared once, by the fields above. */
export type LogitLensParams = SchemaParams<typeof paramsSchema>;

/** Positions read by the lens: <PATH_START> up to the last token that has a successor. */
export function lensPositions(seq: Int32Array): number[] {
  const start = seq.indexOf(SPECIAL.PATH_START);
  if (start < 0) return [];
  return Array.from({ length: seq.length - 1 - start }, (_, i) => start + i);
}

/** One lens layer, over every path position of every maze. */
export interface LogitLensLayer {
  /** e.g. "resid_pre 0", "resid_post 1" */
  layer: string;
  accuracy: number | null;
  correct_prob: number | null;
  correct_rank: number | null;
}

/** `logit-lens`'s summary (stored as JSON; served as Experiment.result, LogitLensSummary). */
export interface LogitLensSummary {
  kind: 'logit-lens';
  mazes: number;
  /** Path positions read, over all mazes. */
  positions: number;
  grid: [number, number];
  layers: LogitLensLayer[];
  final_layer_max_abs_diff: number | null;
  /** The vocabulary, when detail tensors (token ids) are stored; absent otherwise. */
  detail_vocab?: readonly string[];
}

export const logitLens = defineKind<LogitLensParams, LogitLensSummary>({
  kind: 'logit-lens',
  describe:
    "Each layer's residual stream through ln_final and the unembedding at the path positions: accuracy, probability and rank of the correct next token by layer; per-position top-k for a few mazes.",
  paramsSchema,
  async run(ctx, p, progress) {
    const { cfg, weights, vocab } = ctx.model;
    const Lp = cfg.n_layers + 1; // lens layers: resid_pre 0..L-1, final resid_post
    const mazes = loadMazes(ctx, p);
    const enc = encoder(ctx.model);
    const rng = new Rng(`logit-lens/${ctx.seed}`);
    const seqs = mazes.map((m, i) => enc.encode(m, rng, `maze ${i}`));
    const engine = await ctx.model.engine();
    const names = Array.from({ length: Lp }, (_, i) => residName(cfg, i));
    const D = cfg.d_model,
      V = cfg.d_vocab;
    const correct = new Float64Array(Lp),
      probSum = new Float64Array(Lp),
      rankSum = new Float64Array(Lp);
    let count = 0;
    let finalDiff = 0;
    const tensors: NamedTensor[] = [];
    await forEachCached(
      engine,
      seqs,
      names,
      (row) => {
        const seq = seqs[row.index];
        const pos = lensPositions(seq);
        const P = pos.length;
        const keep = row.index < p.detail;
        const rank = new Float32Array(Lp * P),
          prob = new Float32Array(Lp * P),
          top = new Float32Array(Lp * P * p.topK),
          lens = new Float32Array(Lp * P * V);
        for (let i = 0; i < Lp; i++) {
          const resid = row.get(names[i]); // [T, D]
          pos.forEach((t, j) => {
            const logits = unembed(cfg, weights, lnFinal(cfg, weights, resid.subarray(t * D, t * D + D))); // [V]
            const { rank: r, prob: pr } = rankAndProb(logits, seq[t + 1]);
            if (r === 0) correct[i]++;
            probSum[i] += pr;
            rankSum[i] += r;
            if (i === Lp - 1) for (let v = 0; v < V; v++) finalDiff = Math.max(finalDiff, Math.abs(logits[v] - row.logits[t * V + v]));
            if (keep) {
              rank[i * P + j] = r;
              prob[i * P + j] = pr;
              top.set(topK(logits, p.topK), (i * P + j) * p.topK);
              lens.set(logits, (i * P + j) * V);
            }
          });
        }
        count += P;
        if (keep) {
          const k = `maze${row.index}`;
          tensors.push(
            tensor(`${k}.tokens`, [seq.length], seq), // [T] token ids
            tensor(`${k}.positions`, [P], pos), // [P] positions read
            tensor(`${k}.rank`, [Lp, P], rank), // [layer, P] rank of the correct next token
            tensor(`${k}.prob`, [Lp, P], prob), // [layer, P]
            tensor(`${k}.topk`, [Lp, P, p.topK], top), // [layer, P, k] token ids
            tensor(`${k}.lens_logits`, [Lp, P, V], lens), // [layer, P, d_vocab]
          );
        }
      },
      { progress, batch: 8 },
    );
    const accuracy = Array.from(correct, (c) => c / count);
    tensors.unshift(
      tensor('accuracy', [Lp], accuracy), // [layer]
      tensor(
        'correct_prob',
        [Lp],
        Array.from(probSum, (s) => s / count),
      ), // [layer]
      tensor(
        'correct_rank',
        [Lp],
        Array.from(rankSum, (s) => s / count),
      ), // [layer]
    );
    return {
      summary: {
        kind: 'logit-lens',
        mazes: mazes.length,
        positions: count,
        grid: [mazes[0].rows, mazes[0].cols],
        layers: Array.from({ length: Lp }, (_, i) => ({
          layer: residLabel(cfg, i),
          accuracy: num(accuracy[i]),
          correct_prob: num(probSum[i] / count),
          correct_rank: num(rankSum[i] / count),
        })),
        // The last lens layer is the model's own computation: this is float rounding only.
        final_layer_max_abs_diff: num(finalDiff),
        detail_vocab: p.detail > 0 ? vocab : undefined,
      } satisfies LogitLensSummary,
      tensors,
    };
  },
});
