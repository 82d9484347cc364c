/**
 * Probe directions (interp/direction.ts): the directions probes.ts stores reproduce the probes'
 * own predictions on the raw residual, their numbering round-trips, their geometry and logit
 * weights are what the weights say, and their direct attribution sums to the projection.
 */
import { describe, expect, it } from 'vitest';
import { encoder, modelInfo } from '../../server/interp/context.js';
import {
  DirectionActivity,
  directionGeometry,
  directionHooks,
  type ProbeDirectionStore,
  probeDirection,
  writerComponents,
} from '../../server/interp/direction.js';
import { directionIndexOf, PROBE_CLASSES, PROBE_TARGETS, probes, type ProbesSummary } from '../../server/interp/probes.js';
import { architecture, type ModelConfig } from '../../server/model/config.js';
import { Rng } from '../../server/maze/rng.js';
import { ctxOf, mazeConfig, mazes, noProgress, randomModel, randomWeights, tensorOf, testModel } from './helpers.js';

const model = randomModel('nano', 4, 31);
const L = model.cfg.n_layers;
const D = model.cfg.d_model;

async function run() {
  const p = probes.paramsSchema.parse({ count: 60, iters: 50 }, modelInfo(model));
  const r = await probes.run(ctxOf(model, 5), p, noProgress);
  const t = (n: string) => tensorOf(r, n);
  const store: ProbeDirectionStore = {
    summary: r.summary as ProbesSummary,
    directions: t('directions'),
    bias: t('directions.bias'),
    balanced: t('directions.balanced'),
    controlBalanced: t('directions.control_balanced'),
  };
  return { r, store };
}
const fitted = run();

describe('probe directions', () => {
  it('number every probe class-major, then layer, target and column, and invert', async () => {
    const { store } = await fitted;
    const s = store.summary;
    const idx = directionIndexOf(s);
    expect(idx.count).toBe(PROBE_CLASSES.length * (L + 1) * (24 + 16 * 3));
    expect(store.directions.shape).toEqual([idx.count, D]);
    for (let i = 0; i < idx.count; i += 7) {
      const a = idx.at(i);
      expect(idx.of(a.class, a.layer, a.target) + a.column).toBe(i);
    }
    expect(idx.at(idx.of(2, 1, 3) + 5)).toEqual({ class: 2, layer: 1, target: 3, column: 5 });
    expect(() => probeDirection(store, idx.count, L)).toThrow(`this probes run stored ${idx.count}`);
  });

  it('reproduce the probes’ own P(label) on the first test maze from the raw residual', async () => {
    const { r, store } = await fitted;
    const s = store.summary;
    const tokens = Int32Array.from(tensorOf(r, 'detail.tokens').data);
    const at = tensorOf(r, 'detail.position').data;
    const cells = tensorOf(r, 'detail.cells'); // [class, layer, target, cell]
    const engine = await model.engine();
    const n = 16;
    const nT = s.targets.length;
    const idx = directionIndexOf(s);
    let checked = 0;
    for (const ci of [0, 3])
      for (let li = 0; li <= L; li++) {
        const d0 = probeDirection(store, idx.of(ci, li, PROBE_TARGETS.indexOf('target')), L);
        const out = await engine.runWithCache(tokens, 1, tokens.length, { names: [d0.hook] });
        const resid = out.cache.get(d0.hook)!.data; // [T, d_model]
        const pos = at[ci];
        // solution, future (at sep the alias of solution's fit: stored under its own numbers) and target
        for (const ti of [1, 2, 3])
          for (let c = 0; c < n; c += 3) {
            const d = probeDirection(store, idx.of(ci, li, ti) + c, L);
            let z = d.bias;
            for (let k = 0; k < D; k++) z += d.w[k] * resid[pos * D + k];
            expect(1 / (1 + Math.exp(-z))).toBeCloseTo(cells.data[((ci * (L + 1) + li) * nT + ti) * n + c], 4);
            checked++;
          }
      }
    expect(checked).toBe(2 * (L + 1) * 3 * 6);
  });

  it('describe what they read, in words, with cells, edges and hooks', async () => {
    const { store } = await fitted;
    const s = store.summary;
    const idx = directionIndexOf(s);
    const d = probeDirection(store, idx.of(3, 1, 3) + 6, L);
    expect(d).toMatchObject({ class: 'path', target: 'target', layer: 1, hook: 'blocks.1.hook_resid_pre', cell: [1, 2], edge: null });
    expect(d.label).toBe('cell (1,2) is the target, at path tokens, from blocks.1.hook_resid_pre');
    const last = probeDirection(store, idx.of(0, L, 0) + 12, L);
    expect(last).toMatchObject({
      target: 'edge',
      layer: L,
      hook: `blocks.${L - 1}.hook_resid_post`,
      cell: null,
      edge: [
        [0, 0],
        [0, 1],
      ],
    });
    expect(last.label).toBe(`edge (0,0)-(0,1) is open, at \`;\` tokens, from blocks.${L - 1}.hook_resid_post`);
  });

  it('have a geometry: cosine 1 with themselves, one row per column and layer, logit weights w·W_U', async () => {
    const { store } = await fitted;
    const d = probeDirection(store, 5 * 16 + 3, L); // some cell-target probe
    const W_U = model.weights.get('unembed.W_U')!; // [d_model, d_vocab]
    const V = W_U.length / D;
    const g = directionGeometry(store, d, { shape: [D, V], data: W_U }, 5);
    const self = g.siblings.find((x) => x.index === d.index)!;
    expect(self.cosine).toBeCloseTo(1, 6);
    expect(g.siblings).toHaveLength(store.summary.label_columns[d.target]!);
    expect(g.acrossLayers.map((x) => x.label)).toEqual(store.summary.layers);
    expect(g.acrossLayers[d.layer].index).toBe(d.index);
    const logit = (v: number) => d.w.reduce((a, w, k) => a + w * W_U[k * V + v], 0);
    const all = Array.from({ length: V }, (_, v) => logit(v)).sort((a, b) => b - a);
    expect(g.logitsUp.map((x) => x.weight)).toEqual(all.slice(0, 5).map((x) => expect.closeTo(x, 5)));
    expect(g.logitsDown[0].weight).toBeCloseTo(all[V - 1], 5);
    // A sibling's cosine by hand, from the stored directions.
    const other = g.siblings.find((x) => x.index !== d.index)!;
    const v = Array.from({ length: D }, (_, k) => store.directions.data[other.index * D + k]);
    const dot = v.reduce((a, x, k) => a + x * d.w[k], 0);
    const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    expect(other.cosine).toBeCloseTo(dot / norm / d.norm, 6);
  });

  it('attribute w·resid exactly to embed, positions, heads, b_O and MLPs, split by the label', async () => {
    const { store } = await fitted;
    const s = store.summary;
    const idx = directionIndexOf(s);
    const list = mazes(4, 12, 77);
    const enc = encoder(model);
    const engine = await model.engine();
    for (const li of [0, 2, L]) {
      const d = probeDirection(store, idx.of(3, li, 3) + list[0].target[0] * 4 + list[0].target[1], L);
      const hooks = directionHooks(d, model.cfg);
      const bO = Array.from({ length: d.layer }, (_, l) => model.weights.get(`blocks.${l}.attn.b_O`)!);
      const acc = new DirectionActivity(d, model.cfg, model.vocab, bO, 3);
      let pathPositions = 0;
      let trueOnes = 0;
      let allValues = 0;
      const all = new DirectionActivity(d, model.cfg, model.vocab, bO, list.length); // keeps every maze: its values sum
      for (const [i, m] of list.entries()) {
        const ids = enc.encode(m, new Rng(`d/${i}`));
        const out = await engine.runWithCache(ids, 1, ids.length, { names: hooks });
        acc.add({ ids, maze: m, hooks: out.cache });
        all.add({ ids, maze: m, hooks: out.cache });
        pathPositions += m.path.length - 1;
        if (m.target[0] === d.cell![0] && m.target[1] === d.cell![1]) trueOnes += m.path.length - 1;
      }
      for (const x of all.result().examples) allValues += x.values.reduce((s, v) => s + v, 0);
      // The window's AUC by counting pairs: P(label) at each maze's path tokens (not the last), label = its target is the cell.
      const pos: number[] = [];
      const neg: number[] = [];
      for (const x of all.result().examples) {
        const m = list[x.maze];
        const isTarget = m.target[0] === d.cell![0] && m.target[1] === d.cell![1];
        const pathStart = x.values.length - m.path.length - 2; // <PATH_START>, then the path, then <PATH_END>
        for (let j = 0; j < m.path.length - 1; j++) (isTarget ? pos : neg).push(x.values[pathStart + 1 + j]);
      }
      let wins = 0;
      for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
      const a = acc.result();
      expect(a.auc).toBeCloseTo(wins / (pos.length * neg.length), 9);
      expect(a.writers.map((w) => w.component)).toEqual(writerComponents(d.layer, model.cfg.n_heads, architecture(model.cfg)));
      expect(a.writers).toHaveLength(2 + d.layer * (model.cfg.n_heads + 2));
      expect(a.maxSumError).toBeLessThan(1e-3);
      expect(a.nTrue + a.nFalse).toBe(pathPositions);
      expect(a.nTrue).toBe(trueOnes);
      expect(trueOnes).toBeGreaterThan(0);
      expect(a.examples).toHaveLength(3);
      expect(a.examples[0].value).toBeGreaterThanOrEqual(a.examples[2].value);
      for (const x of a.examples) expect(x.values[x.position]).toBe(x.value);
      const path = a.byClass.find((c) => c.class === 'path')!;
      expect(path.nTrue + path.nFalse).toBe(pathPositions + list.length); // every path token, the last included
      // The class means are the means of every position's P(label): their weighted sum is the examples' total over all positions.
      let total = 0;
      for (const c of a.byClass) total += (c.meanTrue ?? 0) * c.nTrue + (c.meanFalse ?? 0) * c.nFalse;
      expect(total).toBeCloseTo(allValues, 6);
    }
  });
});

describe('probe directions: labels and architectures', () => {
  it('label "future" by the path still to come: after each path token, the whole solution before the path, nothing after <PATH_END>', async () => {
    const { store } = await fitted;
    const s = store.summary;
    const idx = directionIndexOf(s);
    const list = mazes(4, 8, 91);
    const enc = encoder(model);
    const engine = await model.engine();
    // The future probe of the first maze's second path cell, read at path tokens, resid_pre 0.
    const m0 = list[0];
    const [r, c] = m0.path[1];
    const d = probeDirection(store, idx.of(3, 0, PROBE_TARGETS.indexOf('future')) + r * 4 + c, L);
    expect(d.label).toBe(`cell (${r},${c}) is on the path still to come, at path tokens, from blocks.0.hook_resid_pre`);
    const atSep = probeDirection(store, idx.of(0, 0, PROBE_TARGETS.indexOf('future')) + r * 4 + c, L);
    expect(atSep.label).toBe(`cell (${r},${c}) is on the path still to come (before the path: on the solution), at \`;\` tokens, from blocks.0.hook_resid_pre`);
    const hooks = directionHooks(d, model.cfg);
    const acc = new DirectionActivity(d, model.cfg, model.vocab, [], 0);
    // Counted by hand: at path token j (not the last) the label is whether (r,c) comes after it;
    // up to <PATH_START> it is whether (r,c) is on the solution; after the path, false.
    let expectTrue = 0;
    const byClass = new Map<string, number>();
    for (const [i, m] of list.entries()) {
      const ids = enc.encode(m, new Rng(`f/${i}`));
      acc.add({ ids, maze: m, hooks: (await engine.runWithCache(ids, 1, ids.length, { names: hooks })).cache });
      const at = m.path.findIndex(([a, b]) => a === r && b === c);
      for (let j = 0; j < m.path.length - 1; j++) if (at > j) expectTrue++;
      const pathStart = Array.from(ids).indexOf(model.vocab.indexOf('<PATH_START>'));
      const onSolution = at >= 0 ? 1 : 0;
      byClass.set('path_start', (byClass.get('path_start') ?? 0) + onSolution);
      byClass.set('path_end', (byClass.get('path_end') ?? 0) + 0);
      byClass.set('path', (byClass.get('path') ?? 0) + m.path.filter((_, j) => at > j).length);
      expect(pathStart).toBeGreaterThan(0);
    }
    const a = acc.result();
    expect(a.nTrue).toBe(expectTrue);
    expect(expectTrue).toBeGreaterThan(0);
    for (const k of ['path_start', 'path_end', 'path']) expect(a.byClass.find((x) => x.class === k)!.nTrue, k).toBe(byClass.get(k));
  });

  const base = mazeConfig('nano', 3);
  const variants: Array<[string, ModelConfig]> = [
    ['rotary (no pos_embed)', { ...base, positional_embedding_type: 'rotary', rotary_dim: 4 }],
    ['attn_only (no MLPs)', { ...base, attn_only: true }],
    [
      'rotary + parallel attention and MLP + RMS',
      { ...base, positional_embedding_type: 'rotary', rotary_dim: 2, parallel_attn_mlp: true, normalization_type: 'RMS' },
    ],
  ];
  for (const [name, cfg] of variants)
    it(`attribute w·resid exactly on ${name}`, async () => {
      const m = testModel(cfg, randomWeights(cfg, 5));
      const p = probes.paramsSchema.parse({ count: 24, iters: 10, classes: ['path'], targets: ['target'] }, modelInfo(m));
      const r = await probes.run(ctxOf(m, 3), p, noProgress);
      const store: ProbeDirectionStore = {
        summary: r.summary as ProbesSummary,
        directions: tensorOf(r, 'directions'),
        bias: tensorOf(r, 'directions.bias'),
        balanced: tensorOf(r, 'directions.balanced'),
        controlBalanced: tensorOf(r, 'directions.control_balanced'),
      };
      const Lm = cfg.n_layers;
      const d = probeDirection(store, Lm * 9 + 4, Lm); // the final resid_post: every layer writes it
      const arch = architecture(cfg);
      const comps = writerComponents(d.layer, cfg.n_heads, arch);
      expect(comps.includes('pos_embed')).toBe(arch.positional === 'standard');
      expect(comps.some((x) => x.endsWith('.mlp'))).toBe(!arch.attn_only);
      const bO = Array.from({ length: d.layer }, (_, l) => m.weights.get(`blocks.${l}.attn.b_O`)!);
      const acc = new DirectionActivity(d, cfg, m.vocab, bO, 1);
      const enc = encoder(m);
      const engine = await m.engine();
      for (const [i, mz] of mazes(3, 4, 17).entries()) {
        const ids = enc.encode(mz, new Rng(`a/${i}`));
        acc.add({ ids, maze: mz, hooks: (await engine.runWithCache(ids, 1, ids.length, { names: directionHooks(d, cfg) })).cache });
      }
      const a = acc.result();
      expect(a.writers.map((w) => w.component)).toEqual(comps);
      expect(a.maxSumError).toBeLessThan(1e-3);
      expect(a.nTrue + a.nFalse).toBeGreaterThan(0);
    });
});
