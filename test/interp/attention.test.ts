/**
 * attention: every pattern row sums to 1 and the cell overlay conserves mass (cells + other = 1).
 * adjacency-heads: a head constructed to attend to lattice neighbours is ranked first.
 */
import { describe, expect, it } from 'vitest';
import { adjacencyHeads } from '../../server/interp/adjacency-heads.js';
import { attention } from '../../server/interp/attention.js';
import { modelInfo } from '../../server/interp/context.js';
import { getTokenizer, parseCoordToken } from '../../server/maze/tokenize/index.js';
import { MAX_GRID } from '../../server/maze/lattice.js';
import { Rng } from '../../server/maze/rng.js';
import { initWeights } from '../../server/model/weights.js';
import type { ModelConfig } from '../../server/model/config.js';
import { ctxOf, noProgress, randomModel, tensorOf, testModel } from './helpers.js';

describe('attention', () => {
  const model = randomModel('tiny', 4, 21);
  it('pattern rows sum to 1; for the query, cells + other = 1 per head; the overlay matches the pattern', async () => {
    const r = await attention.run(ctxOf(model, 3), attention.paramsSchema.parse({ count: 2, query: 'path_start' }, modelInfo(model)), noProgress);
    const { n_layers: L, n_heads: H } = model.cfg;
    const pat = tensorOf(r, 'pattern');
    const T = pat.shape[2];
    expect(pat.shape).toEqual([L, H, T, T]);
    for (let row = 0; row < L * H * T; row++) {
      let s = 0;
      for (let k = 0; k < T; k++) s += pat.data[row * T + k];
      expect(s).toBeCloseTo(1, 5);
      // causal: nothing above the diagonal
      const q = row % T;
      for (let k = q + 1; k < T; k++) expect(pat.data[row * T + k]).toBe(0);
    }
    const cells = tensorOf(r, 'cells'),
      other = tensorOf(r, 'other');
    expect(cells.shape).toEqual([L, H, 4, 4]);
    const q = r.summary.query_position as number;
    const cellOf = tensorOf(r, 'cell_of_position').data;
    for (let lh = 0; lh < L * H; lh++) {
      let s = other.data[lh];
      for (let c = 0; c < 16; c++) s += cells.data[lh * 16 + c];
      expect(s).toBeCloseTo(1, 5);
      // cell 0's mass is the pattern summed over the positions naming cell 0
      let want = 0;
      for (let k = 0; k <= q; k++) if (cellOf[k] === 0) want += pat.data[(lh * T + q) * T + k];
      expect(cells.data[lh * 16]).toBeCloseTo(want, 5);
    }
    expect((r.summary.tokens as string[])[q]).toBe('<PATH_START>');
    expect(tensorOf(r, 'class_mass').shape[2]).toBe((r.summary.classes as string[]).length);
  });

  it('a named query past the end is an error naming params.query', async () => {
    const p = attention.paramsSchema.parse({ query: 9999 }, modelInfo(model));
    await expect(attention.run(ctxOf(model), p, noProgress)).rejects.toThrow(/params\.query: position 9999/);
  });
});

describe('adjacency-heads', () => {
  it('ranks first a head planted to attend to lattice neighbours', async () => {
    // One-hot token embeddings (d_model = d_vocab), no position embeddings; in block 1, head 1 scores
    // key j for query i by s·[cells i and j are lattice neighbours]. Every other head is near-uniform.
    const grid = 4;
    const tok = getTokenizer('aotp-ut');
    const vocab = tok.vocab(grid);
    const V = vocab.length;
    const cfg: ModelConfig = {
      d_model: V,
      n_layers: 2,
      n_heads: 2,
      d_head: V,
      d_mlp: 16,
      d_vocab: V,
      n_ctx: 128,
      act_fn: 'gelu_new',
      eps: 1e-5,
      tokenizer: 'aotp-ut',
    };
    const w = initWeights(cfg, new Rng(4), { scale: 0.01 });
    const WE = w.get('embed.W_E')!;
    WE.fill(0);
    for (let v = 0; v < V; v++) WE[v * V + v] = 1;
    w.get('pos_embed.W_pos')!.fill(0);
    const cell = vocab.map((t) => parseCoordToken(t));
    const WQ = w.get('blocks.1.attn.W_Q')!,
      WK = w.get('blocks.1.attn.W_K')!; // [H, D, E]
    const h = 1,
      s = 2;
    WQ.fill(0, h * V * V, (h + 1) * V * V);
    WK.fill(0, h * V * V, (h + 1) * V * V);
    for (let i = 0; i < V; i++) {
      WQ[h * V * V + i * V + i] = s; // q = s·x
      for (let j = 0; j < V; j++) {
        const a = cell[i],
          b = cell[j];
        if (a < 0 || b < 0) continue;
        const d = Math.abs(Math.floor(a / MAX_GRID) - Math.floor(b / MAX_GRID)) + Math.abs((a % MAX_GRID) - (b % MAX_GRID));
        if (d === 1) WK[h * V * V + j * V + i] = s; // k_i = s·Σ_j adj(i, j) x_j
      }
    }
    // Block 0 must not disturb the one-hot residual: zero its outputs.
    w.get('blocks.0.attn.W_O')!.fill(0);
    w.get('blocks.0.mlp.W_out')!.fill(0);
    const model = testModel(cfg, w);
    const r = await adjacencyHeads.run(ctxOf(model, 1), adjacencyHeads.paramsSchema.parse({ count: 6 }, modelInfo(model)), noProgress);
    const ranked = r.summary.ranked as Array<{ layer: number; head: number; lattice: number; chance: number; lift: number }>;
    expect(ranked).toHaveLength(4);
    expect([ranked[0].layer, ranked[0].head]).toEqual([1, 1]);
    expect(ranked[0].lattice).toBeGreaterThan(0.5);
    expect(ranked[0].lift).toBeGreaterThan(3 * ranked[1].lift);
    // connected ≤ lattice everywhere; wall = lattice − connected
    const lat = tensorOf(r, 'lattice').data,
      con = tensorOf(r, 'connected').data,
      wall = tensorOf(r, 'wall').data;
    lat.forEach((v, i) => {
      expect(con[i]).toBeLessThanOrEqual(v + 1e-6);
      expect(wall[i]).toBeCloseTo(v - con[i], 5);
    });
  });
});
