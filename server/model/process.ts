/**
 * TransformerLens' weight processing (HookedTransformer.load_and_process_state_dict, the
 * ProcessWeights steps in transformer_lens/weight_processing.py), which researchers expect a model
 * loaded "the TL way" to have had:
 *
 * - fold_ln: each norm's gain w (and, for LN, bias b) moves into the linear map that reads it —
 *   ln1 → W_Q/W_K/W_V and their biases, ln2 → W_in/b_in, ln_final → W_U/b_U:
 *     W′[d, ·] = w[d]·W[d, ·],   b′ = bias + Σ_d b[d]·W[d, ·];
 *   for LN the folded W is then centred over d_model (LNPre's output has mean 0, so a constant
 *   added along d_model changes nothing). LN becomes LNPre, RMS becomes RMSPre; the Pre variants
 *   and no normalization have nothing to fold.
 * - center_writing_weights (LN / LNPre models only: every reader removes the residual's mean):
 *   W_E, W_pos, W_O, b_O, W_out and b_out lose their mean over d_model.
 * - center_unembed: W_U loses its mean over the vocabulary, b_U its mean (softmax is shift-invariant:
 *   logits move by one constant per position, log-probabilities do not move).
 * - fold_value_biases: b_O += Σ_h b_V[h]·W_O[h] and b_V = 0 (each pattern row sums to 1), b_O
 *   re-centred when writing weights are centred.
 *
 * The logits are unchanged by all but center_unembed (tested), while hooks inside the model change
 * as in TL (e.g. hook_normalized, resid_*). Pure: config and weights in, new config and weights out.
 */
import { architecture, type ModelConfig, type Weights } from './config.js';
import { checkWeights } from './weights.js';

export interface WeightProcessing {
  fold_ln?: boolean;
  center_writing_weights?: boolean;
  center_unembed?: boolean;
  fold_value_biases?: boolean;
}

export interface ProcessedModel {
  cfg: ModelConfig;
  weights: Weights;
  /** Each requested step with what it did, or why it did nothing (e.g. "fold_ln: LNPre has no weights to fold"). */
  log: string[];
}

/** Subtracts, for every index of the other axes, the mean over `axis` of a row-major tensor of `shape`. */
function centerAlong(data: Float32Array, shape: number[], axis: number): void {
  const n = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let mean = 0;
      for (let k = 0; k < n; k++) mean += data[(o * n + k) * inner + i];
      mean /= n;
      for (let k = 0; k < n; k++) data[(o * n + k) * inner + i] -= mean;
    }
  }
}

/**
 * Folds gain w [D] and bias b [D] (either may be absent) of a norm into the map that reads it:
 * W [G, D, E] (G groups: heads, or 1) with bias [G, E]. Centres W over D when `center`.
 */
function foldInto(
  W: Float32Array,
  bias: Float32Array,
  G: number,
  D: number,
  E: number,
  w: Float32Array | undefined,
  b: Float32Array | undefined,
  center: boolean,
): void {
  for (let g = 0; g < G; g++) {
    for (let e = 0; e < E; e++) {
      let shift = 0;
      for (let d = 0; d < D; d++) {
        const at = (g * D + d) * E + e;
        if (b) shift += b[d] * W[at];
        if (w) W[at] *= w[d];
      }
      bias[g * E + e] += shift;
    }
  }
  if (center) centerAlong(W, [G, D, E], 1);
}

export function processWeights(cfg: ModelConfig, weights: Weights, opts: WeightProcessing): ProcessedModel {
  checkWeights(cfg, weights);
  const arch = architecture(cfg);
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M } = cfg;
  const V = arch.d_vocab_out;
  const out: Weights = new Map([...weights].map(([k, v]) => [k, v.slice()]));
  const W = (name: string): Float32Array => out.get(name)!;
  const log: string[] = [];
  let next: ModelConfig = { ...cfg };

  if (opts.fold_ln) {
    const norm = arch.normalization;
    if (norm === 'LN' || norm === 'RMS') {
      const center = norm === 'LN';
      const fold = (ln: string, targets: Array<[weight: string, bias: string, G: number, Eo: number]>) => {
        const w = out.get(`${ln}.w`);
        const b = out.get(`${ln}.b`);
        for (const [wn, bn, G, Eo] of targets) foldInto(W(wn), W(bn), G, D, Eo, w, b, center);
        out.delete(`${ln}.w`);
        out.delete(`${ln}.b`);
      };
      for (let l = 0; l < cfg.n_layers; l++) {
        const p = `blocks.${l}`;
        fold(
          `${p}.ln1`,
          (['Q', 'K', 'V'] as const).map((x): [string, string, number, number] => [`${p}.attn.W_${x}`, `${p}.attn.b_${x}`, H, E]),
        );
        if (!arch.attn_only) fold(`${p}.ln2`, [[`${p}.mlp.W_in`, `${p}.mlp.b_in`, 1, M]]);
      }
      fold('ln_final', [['unembed.W_U', 'unembed.b_U', 1, V]]);
      next = { ...next, normalization_type: norm === 'LN' ? 'LNPre' : 'RMSPre' };
      log.push(
        `fold_ln: ${norm} gains${center ? ', biases' : ''} folded into the maps that read them${center ? ' (centred over d_model)' : ''}; normalization_type is now ${next.normalization_type}`,
      );
    } else log.push(`fold_ln: nothing to fold (normalization_type ${JSON.stringify(norm)} has no weights)`);
  }

  const centeredNorm = arch.normalization === 'LN' || arch.normalization === 'LNPre';
  if (opts.center_writing_weights) {
    if (centeredNorm) {
      centerAlong(W('embed.W_E'), [cfg.d_vocab, D], 1);
      if (arch.positional === 'standard') centerAlong(W('pos_embed.W_pos'), [cfg.n_ctx, D], 1);
      for (let l = 0; l < cfg.n_layers; l++) {
        const p = `blocks.${l}`;
        centerAlong(W(`${p}.attn.W_O`), [H, E, D], 2);
        centerAlong(W(`${p}.attn.b_O`), [D], 0);
        if (!arch.attn_only) {
          centerAlong(W(`${p}.mlp.W_out`), [M, D], 1);
          centerAlong(W(`${p}.mlp.b_out`), [D], 0);
        }
      }
      log.push('center_writing_weights: W_E, W_pos, W_O, b_O, W_out, b_out centred over d_model');
    } else log.push(`center_writing_weights: skipped, as in TL: normalization_type ${JSON.stringify(arch.normalization)} does not remove the residual's mean`);
  }

  if (opts.center_unembed) {
    centerAlong(W('unembed.W_U'), [D, V], 1);
    centerAlong(W('unembed.b_U'), [V], 0);
    log.push('center_unembed: W_U and b_U centred over the vocabulary (logits shift by a constant per position)');
  }

  if (opts.fold_value_biases) {
    for (let l = 0; l < cfg.n_layers; l++) {
      const p = `blocks.${l}`;
      const bV = W(`${p}.attn.b_V`); // [H, E]
      const WO = W(`${p}.attn.W_O`); // [H, E, D]
      const bO = W(`${p}.attn.b_O`); // [D]
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let he = 0; he < H * E; he++) s += bV[he] * WO[he * D + d];
        bO[d] += s;
      }
      bV.fill(0);
      if (opts.center_writing_weights && centeredNorm) centerAlong(bO, [D], 0);
    }
    log.push('fold_value_biases: b_V folded into b_O (b_V is now 0)');
  }
  return { cfg: next, weights: out, log };
}
