import { describe, expect, it } from 'vitest';
import { Rng } from '../../server/maze/rng.js';
import { hookShapes, PRESETS, type ModelConfig, type Weights } from '../../server/model/config.js';
import { erf, gelu, geluNew, referenceForward, ForwardError, relu } from '../../server/model/reference.js';
import { initWeights } from '../../server/model/weights.js';

const cfg: ModelConfig = { ...PRESETS.nano, n_ctx: 12, d_vocab: 9, tokenizer: 'aotp-ut' };
const T = 10;
// Scaled-up random weights so attention patterns and logits are far from uniform.
const weights = initWeights(cfg, new Rng(42), { scale: 3 });
// Random biases and LayerNorm parameters too, so the identities below cannot hold by accident.
{
  const rng = new Rng(7);
  for (const [name, w] of weights) if (/\.(b_\w+|b|w)$/.test(name)) for (let i = 0; i < w.length; i++) w[i] += rng.float() - 0.5;
}
const rows = (seed: number, B: number): Int32Array[] => {
  const rng = new Rng(seed);
  return Array.from({ length: B }, () => Int32Array.from({ length: T }, () => rng.int(cfg.d_vocab)));
};
const tokens = rows(1, 3);
const run = referenceForward(cfg, weights, tokens, { hooks: 'all' });
const get = (name: string): Float32Array => run.cache.get(name)!.data;

/** max |a - b| over two equal-length arrays. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('reference forward: structure', () => {
  it('caches every TransformerLens hook with exactly the shape hookShapes gives', () => {
    const expected = hookShapes(cfg, 3, T);
    expect([...run.cache.keys()]).toEqual(expected.map(([n]) => n));
    for (const [name, shape] of expected) {
      expect(run.cache.get(name)!.shape).toEqual(shape);
      expect(run.cache.get(name)!.data.length).toBe(shape.reduce((a, b) => a * b, 1));
    }
    expect(run.logits).toBe(get('logits'));
  });

  it('returns only the hooks asked for', () => {
    const { cache } = referenceForward(cfg, weights, tokens, { hooks: ['blocks.1.hook_resid_post'] });
    expect([...cache.keys()]).toEqual(['blocks.1.hook_resid_post']);
    expect(maxDiff(cache.get('blocks.1.hook_resid_post')!.data, get('blocks.1.hook_resid_post'))).toBe(0);
  });
});

describe('reference forward: properties', () => {
  it('pattern rows sum to 1 and are zero above the diagonal; masked scores are -Infinity', () => {
    for (let l = 0; l < cfg.n_layers; l++) {
      const pattern = get(`blocks.${l}.attn.hook_pattern`); // [B, H, T, T]
      const scores = get(`blocks.${l}.attn.hook_attn_scores`);
      for (let r = 0; r < 3 * cfg.n_heads * T; r++) {
        const i = r % T;
        let sum = 0;
        for (let j = 0; j < T; j++) {
          sum += pattern[r * T + j];
          if (j > i) {
            expect(pattern[r * T + j]).toBe(0);
            expect(scores[r * T + j]).toBe(-Infinity);
          } else expect(Number.isFinite(scores[r * T + j])).toBe(true);
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-6);
      }
    }
  });

  it('is causal: changing token t leaves logits before t bit-identical and changes them at t', () => {
    const t = 6;
    const changed = tokens.map((r) => r.slice());
    changed[1][t] = (changed[1][t] + 1) % cfg.d_vocab;
    const other = referenceForward(cfg, weights, changed).logits;
    const V = cfg.d_vocab;
    const at = (logits: Float32Array, pos: number) => logits.subarray((1 * T + pos) * V, (1 * T + pos + 1) * V);
    for (let p = 0; p < t; p++) expect(at(other, p)).toEqual(at(run.logits, p));
    expect(maxDiff(at(other, t), at(run.logits, t))).toBeGreaterThan(1e-3);
  });

  it('treats batch rows independently: each row equals a run of that row alone', () => {
    const solo = referenceForward(cfg, weights, [tokens[2]]).logits;
    expect(maxDiff(solo, run.logits.subarray(2 * T * cfg.d_vocab))).toBe(0);
  });

  it('the residual stream adds up: pre₀ = embed + pos_embed, mid = pre + attn_out, post = mid + mlp_out, preₗ₊₁ = postₗ', () => {
    const sum = (a: Float32Array, b: Float32Array) => a.map((v, i) => v + b[i]);
    expect(maxDiff(get('blocks.0.hook_resid_pre'), sum(get('hook_embed'), get('hook_pos_embed')))).toBeLessThan(1e-6);
    for (let l = 0; l < cfg.n_layers; l++) {
      const p = `blocks.${l}`;
      expect(maxDiff(get(`${p}.hook_resid_mid`), sum(get(`${p}.hook_resid_pre`), get(`${p}.hook_attn_out`)))).toBeLessThan(1e-6);
      expect(maxDiff(get(`${p}.hook_resid_post`), sum(get(`${p}.hook_resid_mid`), get(`${p}.hook_mlp_out`)))).toBeLessThan(1e-6);
      if (l + 1 < cfg.n_layers) expect(maxDiff(get(`blocks.${l + 1}.hook_resid_pre`), get(`${p}.hook_resid_post`))).toBe(0);
    }
  });

  it('attn_scores = q·k / sqrt(d_head) on and below the diagonal (d_head = 4 here)', () => {
    const { n_heads: H, d_head: E } = cfg;
    const [q, k, scores] = [get('blocks.1.attn.hook_q'), get('blocks.1.attn.hook_k'), get('blocks.1.attn.hook_attn_scores')];
    for (const [b, h, i, j] of [
      [0, 0, 0, 0],
      [1, 1, 5, 2],
      [2, 0, 9, 9],
      [2, 1, 9, 0],
    ]) {
      let dot = 0;
      for (let e = 0; e < E; e++) dot += q[((b * T + i) * H + h) * E + e] * k[((b * T + j) * H + h) * E + e];
      expect(Math.abs(scores[((b * H + h) * T + i) * T + j] - dot / Math.sqrt(E))).toBeLessThan(1e-5);
    }
  });

  it('attn_out = Σ_head hook_result + b_O', () => {
    const { d_model: D, n_heads: H } = cfg;
    for (let l = 0; l < cfg.n_layers; l++) {
      const result = get(`blocks.${l}.attn.hook_result`); // [B, T, H, D]
      const b_O = weights.get(`blocks.${l}.attn.b_O`)!;
      const expected = new Float32Array(3 * T * D).map((_, i) => {
        const [n, d] = [Math.floor(i / D), i % D];
        let s = b_O[d];
        for (let h = 0; h < H; h++) s += result[(n * H + h) * D + d];
        return s;
      });
      expect(maxDiff(get(`blocks.${l}.hook_attn_out`), expected)).toBeLessThan(1e-5);
    }
  });

  it('logits = ln_final.hook_normalized · W_U + b_U', () => {
    const { d_model: D, d_vocab: V } = cfg;
    const x = get('ln_final.hook_normalized');
    const [W_U, b_U] = [weights.get('unembed.W_U')!, weights.get('unembed.b_U')!];
    const expected = new Float32Array(3 * T * V).map((_, i) => {
      const [n, v] = [Math.floor(i / V), i % V];
      let s = b_U[v];
      for (let d = 0; d < D; d++) s += x[n * D + d] * W_U[d * V + v];
      return s;
    });
    expect(maxDiff(run.logits, expected)).toBeLessThan(1e-5);
  });

  it('LayerNorm: (normalized - b)/w has zero mean and unit variance per row, and hook_scale = sqrt(var + eps)', () => {
    const D = cfg.d_model;
    const x = get('blocks.1.hook_resid_mid');
    const y = get('blocks.1.ln2.hook_normalized');
    const scale = get('blocks.1.ln2.hook_scale');
    const [w, b] = [weights.get('blocks.1.ln2.w')!, weights.get('blocks.1.ln2.b')!];
    for (let n = 0; n < 3 * T; n++) {
      const u = Array.from({ length: D }, (_, d) => (y[n * D + d] - b[d]) / w[d]);
      const xs = Array.from({ length: D }, (_, d) => x[n * D + d]);
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      const variance = mean(xs.map((v) => (v - mean(xs)) ** 2));
      expect(Math.abs(mean(u))).toBeLessThan(1e-4);
      expect(Math.abs(mean(u.map((v) => v * v)) - variance / (variance + cfg.eps))).toBeLessThan(1e-4);
      expect(Math.abs(scale[n] - Math.sqrt(variance + cfg.eps)) / scale[n]).toBeLessThan(1e-5);
    }
  });

  it('mlp.hook_post = act_fn(mlp.hook_pre) for each activation', () => {
    for (const [act_fn, f] of [
      ['gelu_new', geluNew],
      ['gelu', gelu],
      ['relu', relu],
    ] as const) {
      const { cache } = referenceForward({ ...cfg, act_fn }, weights, tokens, { hooks: ['blocks.0.mlp.hook_pre', 'blocks.0.mlp.hook_post'] });
      const pre = cache.get('blocks.0.mlp.hook_pre')!.data;
      expect(maxDiff(cache.get('blocks.0.mlp.hook_post')!.data, pre.map(f))).toBe(0);
    }
  });
});

describe('activation functions', () => {
  it('erf, gelu and gelu_new match values from Python math.erf to ~1e-15', () => {
    const erfs: Array<[number, number]> = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [-3, -0.9999779095030014],
      [4.5, 0.9999999998033839],
      [7, 1],
    ];
    for (const [x, want] of erfs) expect(Math.abs(erf(x) - want)).toBeLessThan(2e-15);
    const gelus: Array<[number, number, number]> = [
      [1, 0.8413447460685429, 0.8411919906082768],
      [-0.5, -0.15426876936299344, -0.15428599017485606],
      [2, 1.9544997361036416, 1.954597694087775],
      [-3, -0.00404969409489031, -0.0036373920817729943],
    ];
    for (const [x, g, gn] of gelus) {
      expect(Math.abs(gelu(x) - g)).toBeLessThan(1e-15);
      expect(Math.abs(geluNew(x) - gn)).toBeLessThan(1e-15);
    }
  });
});

describe('reference forward: a 1-layer case computed by hand', () => {
  // d_model 2, 1 head with d_head 1, d_mlp 1, relu, 2 tokens. For d_model 2, TL's LayerNorm of [a, b]
  // is [δ, −δ] / sqrt(δ² + eps) · w + b with δ = (a − b)/2, which the expectations below use.
  const c: ModelConfig = { d_model: 2, n_layers: 1, n_heads: 1, d_head: 1, d_mlp: 1, d_vocab: 2, n_ctx: 2, act_fn: 'relu', eps: 1e-5, tokenizer: 'aotp-ut' };
  const f = (...v: number[]) => new Float32Array(v);
  const w: Weights = new Map([
    ['embed.W_E', f(1, 0, 0, 1)],
    ['pos_embed.W_pos', f(0, 0, 0.5, 0)],
    ['blocks.0.ln1.w', f(1, 1)],
    ['blocks.0.ln1.b', f(0, 0)],
    ['blocks.0.attn.W_Q', f(1, 0)],
    ['blocks.0.attn.b_Q', f(0)], // q = x₀
    ['blocks.0.attn.W_K', f(2, 0)],
    ['blocks.0.attn.b_K', f(0.1)], // k = 2x₀ + 0.1
    ['blocks.0.attn.W_V', f(0, 3)],
    ['blocks.0.attn.b_V', f(1)], // v = 3x₁ + 1
    ['blocks.0.attn.W_O', f(1, -1)],
    ['blocks.0.attn.b_O', f(0.5, 0)], // out = [z + 0.5, −z]
    ['blocks.0.ln2.w', f(1, 1)],
    ['blocks.0.ln2.b', f(0, 0)],
    ['blocks.0.mlp.W_in', f(1, 0)],
    ['blocks.0.mlp.b_in', f(-0.5)], // pre = x₀ − 0.5
    ['blocks.0.mlp.W_out', f(1, 2)],
    ['blocks.0.mlp.b_out', f(0, 0.1)], // out = [post, 2·post + 0.1]
    ['ln_final.w', f(2, 1)],
    ['ln_final.b', f(0, 1)],
    ['unembed.W_U', f(1, 0, 0, 1)],
    ['unembed.b_U', f(0, -1)],
  ]);
  const ln = ([a, b]: number[], [w0, w1]: number[], [b0, b1]: number[]): number[] => {
    const d = (a - b) / 2;
    const s = Math.sqrt(d * d + 1e-5);
    return [(d / s) * w0 + b0, (-d / s) * w1 + b1];
  };

  it('matches the hand computation at every step', () => {
    const pre = [
      [1, 0],
      [0.5, 1],
    ]; // token 0 at pos 0; token 1 + W_pos[1] at pos 1
    const x = pre.map((r) => ln(r, [1, 1], [0, 0]));
    const q = x.map((r) => r[0]);
    const k = x.map((r) => 2 * r[0] + 0.1);
    const v = x.map((r) => 3 * r[1] + 1);
    const s10 = q[1] * k[0]; // scale 1/sqrt(d_head) = 1
    const s11 = q[1] * k[1];
    const p11 = 1 / (1 + Math.exp(s10 - s11)); // two-way softmax
    const z = [v[0], (1 - p11) * v[0] + p11 * v[1]];
    const mid = pre.map((r, t) => [r[0] + z[t] + 0.5, r[1] - z[t]]);
    const mlpPre = mid.map((r) => ln(r, [1, 1], [0, 0])[0] - 0.5);
    const post = mlpPre.map((p) => Math.max(0, p));
    const resPost = mid.map((r, t) => [r[0] + post[t], r[1] + 2 * post[t] + 0.1]);
    const logits = resPost.flatMap((r) => {
      const [a, b] = ln(r, [2, 1], [0, 1]);
      return [a, b - 1];
    });

    const { logits: got, cache } = referenceForward(c, w, [Int32Array.from([0, 1])], { hooks: 'all' });
    const g = (n: string) => Array.from(cache.get(n)!.data);
    const close = (a: number[], b: number[]) => expect(maxDiff(a, b)).toBeLessThan(2e-6);
    const scores = g('blocks.0.attn.hook_attn_scores'); // [1, 1, 2, 2]
    close([scores[0], scores[2], scores[3]], [q[0] * k[0], s10, s11]);
    expect(scores[1]).toBe(-Infinity); // key 1 is after query 0: masked
    close(g('blocks.0.attn.hook_pattern'), [1, 0, 1 - p11, p11]);
    close(g('blocks.0.attn.hook_z'), z);
    close(g('blocks.0.hook_resid_mid'), mid.flat());
    close(g('blocks.0.mlp.hook_pre'), mlpPre);
    close(g('blocks.0.hook_resid_post'), resPost.flat());
    close(Array.from(got), logits);
    expect(post[0]).toBe(0); // the relu is exercised on both sides
    expect(post[1]).toBeGreaterThan(0);
  });
});

describe('reference forward: interventions', () => {
  it('zeroing hook_attn_out makes resid_mid equal resid_pre and changes the logits', () => {
    const zero = (v: Float32Array) => v.fill(0);
    const { logits, cache } = referenceForward(cfg, weights, tokens, {
      hooks: ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_mid', 'blocks.0.hook_attn_out'],
      interventions: { 'blocks.0.hook_attn_out': zero },
    });
    expect(cache.get('blocks.0.hook_attn_out')!.data.every((v) => v === 0)).toBe(true);
    expect(cache.get('blocks.0.hook_resid_mid')!.data).toEqual(cache.get('blocks.0.hook_resid_pre')!.data);
    expect(maxDiff(logits, run.logits)).toBeGreaterThan(1e-3);
  });

  it('a patch at position t of resid_pre changes nothing before t, and the callback sees the TL shape', () => {
    const t = 4;
    const D = cfg.d_model;
    let seen: number[] = [];
    const patch = (v: Float32Array, shape: number[]) => {
      seen = shape;
      // Not a constant shift: LayerNorm would remove that and nothing downstream would change.
      for (let b = 0; b < 3; b++) for (let d = 0; d < D; d++) v[(b * T + t) * D + d] += d % 2 ? 1 : -1;
    };
    const { logits, cache } = referenceForward(cfg, weights, tokens, {
      hooks: ['blocks.0.hook_resid_post'],
      interventions: new Map([['blocks.1.hook_resid_pre', patch]]),
    });
    expect(seen).toEqual([3, T, D]);
    const V = cfg.d_vocab;
    for (let b = 0; b < 3; b++) {
      expect(logits.subarray(b * T * V, (b * T + t) * V)).toEqual(run.logits.subarray(b * T * V, (b * T + t) * V));
      expect(maxDiff(logits.subarray((b * T + t) * V, (b * T + t + 1) * V), run.logits.subarray((b * T + t) * V, (b * T + t + 1) * V))).toBeGreaterThan(1e-4);
    }
    // The patched copy is separate from the previous block's cached output.
    expect(cache.get('blocks.0.hook_resid_post')!.data).toEqual(get('blocks.0.hook_resid_post'));
  });

  it('an intervention on ln1.hook_scale reaches ln1.hook_normalized (as in TL, normalized = x / scale)', () => {
    const { cache } = referenceForward(cfg, weights, tokens, {
      hooks: ['blocks.0.ln1.hook_normalized'],
      interventions: { 'blocks.0.ln1.hook_scale': (v) => v.forEach((s, i) => (v[i] = 2 * s)) },
    });
    const b = weights.get('blocks.0.ln1.b')!;
    const D = cfg.d_model;
    const orig = get('blocks.0.ln1.hook_normalized');
    const halved = orig.map((y, i) => (y - b[i % D]) / 2 + b[i % D]); // (x/scale)·w shrinks by half
    expect(maxDiff(cache.get('blocks.0.ln1.hook_normalized')!.data, halved)).toBeLessThan(1e-5);
  });
});

describe('reference forward: bad input', () => {
  it('rejects out-of-vocabulary tokens, over-long and ragged batches, unknown hooks and missing weights, naming the problem', () => {
    expect(() => referenceForward(cfg, weights, [Int32Array.from([1, 9])])).toThrow('token 9 at row 0, position 1 is outside the vocabulary [0, 9)');
    expect(() => referenceForward(cfg, weights, { B: 1, T: 13, data: new Int32Array(13) })).toThrow('sequence length 13 exceeds n_ctx 12');
    expect(() => referenceForward(cfg, weights, [new Int32Array(3), new Int32Array(2)])).toThrow('token row 1 has length 2, row 0 has 3');
    expect(() => referenceForward(cfg, weights, [])).toThrow(ForwardError);
    expect(() => referenceForward(cfg, weights, tokens, { hooks: ['blocks.0.hook_resid'] })).toThrow('unknown hook point "blocks.0.hook_resid"');
    expect(() => referenceForward(cfg, weights, tokens, { interventions: { 'blocks.5.hook_resid_pre': () => {} } })).toThrow(
      'unknown hook point "blocks.5.hook_resid_pre"',
    );
    const partial = new Map(weights);
    partial.delete('blocks.1.mlp.W_out');
    expect(() => referenceForward(cfg, partial, tokens)).toThrow('missing weight "blocks.1.mlp.W_out"');
  });
});
