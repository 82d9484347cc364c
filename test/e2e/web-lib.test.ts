/**
 * The dashboard's pure helpers (web/lib): the safe markdown parser, attention-to-cell mapping,
 * the logit lens, .npy parsing and the circuit edit operations. No browser needed.
 */
import { describe, expect, it } from 'vitest';
import { attentionToCells, positionCells, tokenCell } from '../../web/lib/attention.js';
import { lensTopK } from '../../web/lib/lens.js';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { Markdown } from '../../web/components/Markdown.js';
import { plainText, safeHref, sameSitePath } from '../../web/lib/markdown.js';
import { parseNpy } from '../../web/lib/npy.js';
import { applyOp, layout } from '../../web/components/views/circuit/graph.js';
import { circuitNodes } from '../../server/interp/circuit-evidence.js';
import {
  formatEvidenceLines,
  parseEvidenceLines,
  parseTargetList,
  parseTargetParam,
  targetComponentName,
  targetHref,
  targetInput,
  targetLabel,
  targetParam,
} from '../../web/components/views/findings/target.js';
import { componentHref, headHref } from '../../web/lib/url.js';
import { encodeNpy } from '../../server/model/npy.js';

describe('markdown', () => {
  // Rendered to static markup by the component the pages use (react-markdown + remark/rehype plugins).
  const html = (source: string) => renderToStaticMarkup(createElement(Markdown, { source }));

  it('no HTML from a body reaches the DOM: raw tags are dropped, never rendered or passed through', () => {
    const out = html('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\ntext <b onclick="x()">bold?</b> after');
    expect(out).not.toMatch(/<script|<img|onerror|onclick|<b>/);
    expect(out).toContain('text');
    expect(out).toContain('after');
  });

  it('links only to safe targets; javascript:, data: and off-site tricks lose their href', () => {
    expect(safeHref('https://example.org/a?b=1')).toBe('https://example.org/a?b=1');
    expect(safeHref('/playground?model=1&pos=3')).toBe('/playground?model=1&pos=3');
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref(' JaVaScRiPt:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,<b>x</b>')).toBeNull();
    expect(safeHref('//evil.example/x')).toBeNull();
    // As the browser resolves them: tabs and newlines are dropped and "\\" is "/", so these leave the site.
    for (const sneaky of ['/\t/evil.example/', '/\n/evil.example/', '/\\evil.example/', '\\\\evil.example/', ' /\r\n/evil.example'])
      expect(safeHref(sneaky), JSON.stringify(sneaky)).toBeNull();
    expect(safeHref('/mazes/../findings?x=1#top')).toBe('/findings?x=1#top');
    expect(safeHref('mazes/3')).toBeNull();
    expect(safeHref('#heads')).toBe('#heads');
    expect(html('[click](javascript:alert(1))')).not.toMatch(/href="javascript/i);
    expect(html('[click](javascript:alert(1))')).toContain('click');
    expect(html('[view](/mazes/3)')).toContain('<a href="/mazes/3">view</a>');
    expect(html('[paper](https://arxiv.org/abs/2309.10312)')).toMatch(
      /<a href="https:\/\/arxiv.org\/abs\/2309.10312" target="_blank" rel="noopener noreferrer nofollow">paper<\/a>/,
    );
    expect(html('![pixel](https://tracker.example/p.gif)')).not.toMatch(/<img/);
  });

  it('sameSitePath keeps a path on this site as the browser resolves it, or refuses it', () => {
    expect(sameSitePath('/models/1?tab=evals')).toBe('/models/1?tab=evals');
    expect(sameSitePath('/\t/evil.example/')).toBeNull();
    expect(sameSitePath('https://evil.example/')).toBeNull();
  });

  it("renders what researchers write: GFM tables, math, highlighted code, lists and quotes; headings below the page's", () => {
    const out = html(
      '# Head\n\n| layer | acc |\n|---|---:|\n| 2 | 0.93 |\n\nInline $\\sigma(x)$ and\n\n$$\n\\sum_i w_i\n$$\n\n```ts\nconst x: number = 1;\n```\n\n- **bold** and *em*\n\n> quoted',
    );
    expect(out).toContain('<h3>Head</h3>');
    expect(out).toMatch(/<table>[\s\S]*<th>layer<\/th>[\s\S]*<td style="text-align:right">0.93<\/td>/);
    expect(out).toMatch(/class="katex"/); // inline math
    expect(out).toMatch(/class="katex-display"/); // display math
    expect(out).toMatch(/<code class="hljs language-ts">[\s\S]*hljs-keyword/);
    expect(out).toContain('<strong>bold</strong>');
    expect(out).toContain('<blockquote>');
  });

  it('leaves snake_case names alone; plainText digests a body to one line', () => {
    expect(html('blocks.0.hook_resid_pre and attn_out')).toContain('blocks.0.hook_resid_pre and attn_out');
    expect(plainText('# Title\n\nSome **bold** text and `code`.\n\n- a\n- b', 40)).toBe('Title Some bold text and code. a b');
    expect(plainText('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

describe('attention over maze cells', () => {
  it('maps coordinate tokens to row-major cells and everything else to -1', () => {
    expect(tokenCell('(2,3)')).toEqual([2, 3]);
    expect(tokenCell('<-->')).toBeNull();
    expect(Array.from(positionCells(['<ADJLIST_START>', '(0,1)', '<-->', '(1,1)', '(9,9)'], 2, 2))).toEqual([-1, 1, -1, 3, -1]);
  });

  it('sums a query row over the keys of each cell; cell mass plus off-cell mass is the row sum', () => {
    // tokens: [spec, (0,0), (0,1), (0,0)]; one head; T = 4; query 3 attends [0.1, 0.2, 0.3, 0.4]
    const T = 4;
    const pattern = new Float32Array(T * T);
    pattern.set([0.1, 0.2, 0.3, 0.4], 3 * T);
    const cells = positionCells(['<ORIGIN_START>', '(0,0)', '(0,1)', '(0,0)'], 1, 2);
    const { heat, offCells } = attentionToCells(pattern, [1, 1, T, T], 0, 3, cells, 1, 2);
    expect(heat[0]).toBeCloseTo(0.6);
    expect(heat[1]).toBeCloseTo(0.3);
    expect(offCells).toBeCloseTo(0.1);
    expect(() => attentionToCells(pattern, [1, 1, T, T], 1, 3, cells, 1, 2)).toThrow(/head 1/);
  });
});

describe('logit lens', () => {
  it('applies LayerNorm then W_U: with identity-like weights the largest centred coordinate wins', () => {
    const D = 3,
      V = 3;
    const WU = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]); // [d_model, d_vocab] identity
    const resid = new Float32Array([0, 0, 0, 1, 5, 2]); // [1, T=2, D]
    const top = lensTopK(resid, 1, { lnW: [1, 1, 1], lnB: [0, 0, 0], norm: 'LN', WU, bU: [0, 0, 0], dModel: D, dVocab: V, eps: 1e-5 }, ['a', 'b', 'c'], 3);
    expect(top.map((t) => t.token)).toEqual(['b', 'c', 'a']);
    expect(top.reduce((s, t) => s + t.prob, 0)).toBeCloseTo(1);
    // RMSPre does not centre: the residual's mean stays, so (1, 5, 2) keeps b > c > a with the ratios of the raw vector.
    const rms = lensTopK(resid, 1, { lnW: null, lnB: null, norm: 'RMSPre', WU, bU: [0, 0, 0], dModel: D, dVocab: V, eps: 0 }, ['a', 'b', 'c'], 3);
    const s = Math.sqrt((1 + 25 + 4) / 3);
    const z = Math.exp(1 / s) + Math.exp(5 / s) + Math.exp(2 / s);
    expect(rms[0].prob).toBeCloseTo(Math.exp(5 / s) / z, 6);
    // No normalization: the raw residual is unembedded.
    const raw = lensTopK(resid, 1, { lnW: null, lnB: null, norm: null, WU, bU: [0, 0, 0], dModel: D, dVocab: V, eps: 1e-5 }, ['a', 'b', 'c'], 3);
    expect(raw[0].prob).toBeCloseTo(Math.exp(5) / (Math.exp(1) + Math.exp(5) + Math.exp(2)), 6);
  });
});

describe('.npy', () => {
  it('reads what the server writes (shape and float32 values)', () => {
    const bytes = encodeNpy(Float32Array.from([1, 2, 3, 4, 5, 6]), [1, 2, 3]);
    const t = parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(t.shape).toEqual([1, 2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('circuit edits and finding targets', () => {
  it('re-applying a refused edit on the current graph keeps both edits', () => {
    const base = { nodes: circuitNodes({ n_layers: 2, n_heads: 2 }), edges: [] };
    const theirs = applyOp(base, { type: 'addEdge', edge: { from: 'L0H1', to: 'L1H0', label: 'theirs' } });
    const mine = applyOp(theirs, { type: 'addEdge', edge: { from: 'embed', to: 'L0H1', label: 'mine' } });
    expect(mine.edges.map((e) => e.label)).toEqual(['theirs', 'mine']);
    expect(applyOp(mine, { type: 'removeEdge', from: 'L0H1', to: 'L1H0' }).edges.map((e) => e.label)).toEqual(['mine']);
    expect(base.edges).toEqual([]); // operations never mutate their input
  });

  it('lays out embeddings, one column per layer with its MLP under the heads, then unembed', () => {
    const pos = layout(circuitNodes({ n_layers: 2, n_heads: 2 }));
    expect(pos.get('embed')).toEqual({ col: 0, row: 0 });
    expect(pos.get('L1H1')).toEqual({ col: 2, row: 1 });
    expect(pos.get('MLP1')).toEqual({ col: 2, row: 2 });
    expect(pos.get('unembed')).toEqual({ col: 3, row: 0 });
  });

  it('round-trips annotation targets through their URL form', () => {
    for (const t of [
      { kind: 'head', layer: 2, head: 1 },
      { kind: 'mlp', layer: 0 },
      { kind: 'embed' },
      { kind: 'hook', hook: 'blocks.0.hook_resid_pre', position: 4 },
      { kind: 'feature', experimentId: 7, latent: 12 },
    ]) {
      expect(parseTargetParam(targetParam(t))).toEqual(t);
    }
    expect(targetLabel({ kind: 'head', layer: 0, head: 1 })).toBe('L0H1');
    expect(targetLabel({ kind: 'feature', experimentId: 'Experiment:7', latent: 12 })).toBe('SAE 7 latent 12');
    expect(targetInput({ kind: 'feature', experimentId: 7, latent: 12 })).toEqual({ feature: { sae: 'Experiment:7', latent: 12 } });
    expect(parseTargetParam('head:x')).toBeNull();
  });

  it('reads further targets as a comma-separated list (naming the first that is not one) and evidence as one link per line', () => {
    expect(parseTargetList(' mlp:1, head:2.0 ,, feature:12.3')).toEqual({
      targets: [
        { kind: 'mlp', layer: 1 },
        { kind: 'head', layer: 2, head: 0 },
        { kind: 'feature', experimentId: 12, latent: 3 },
      ],
    });
    expect(parseTargetList('')).toEqual({ targets: [] });
    expect(parseTargetList('mlp:1, L2H0')).toEqual({ bad: 'L2H0' });
    const links = [
      { label: 'view', url: '/playground?model=1' },
      { label: 'patching at L1', url: '/experiments/4?pair=1' },
    ];
    expect(parseEvidenceLines(formatEvidenceLines(links))).toEqual(links); // the editor's text reads back the same
    expect(parseEvidenceLines('/playground?model=1\n\n patching at L1 | /experiments/4?pair=1 \n')).toEqual([
      { label: 'view', url: '/playground?model=1' },
      { label: 'patching at L1', url: '/experiments/4?pair=1' },
    ]);
  });

  it('a head, MLP or neuron target (and a DLA component name) links to its component page; embeddings and biases have none', () => {
    expect(targetComponentName({ kind: 'head', layer: 2, head: 1 })).toBe('L2H1');
    expect(targetComponentName({ kind: 'mlp', layer: 0 })).toBe('L0.mlp');
    expect(targetComponentName({ kind: 'neuron', layer: 1, neuron: 17 })).toBe('L1N17');
    expect(targetComponentName({ kind: 'embed' })).toBeNull();
    expect(componentHref('Model:4', 'L2H1')).toBe('/models/4/components/L2H1');
    expect(componentHref('4', 'L0.mlp')).toBe('/models/4/components/L0.mlp');
    for (const n of ['embed', 'pos_embed', 'L0.b_O', 'ln_final.b+b_U', 'L1H']) expect(componentHref('4', n)).toBeNull();
    expect(headHref('Model:4', 1, 2)).toBe('/models/4/components/L1H2');
    expect(targetHref({ kind: 'neuron', layer: 1, neuron: 17 }, 'Model:4')).toBe('/models/4/components/L1N17');
    expect(targetHref({ kind: 'feature', experimentId: 'Experiment:7', latent: 12 }, 'Model:4')).toBe('/experiments/7/features/12');
    expect(targetHref({ kind: 'embed' }, 'Model:4')).toBeNull();
  });
});

describe('building circuits from evidence', () => {
  it('the web offers it on exactly the kinds the server builds from', async () => {
    const { CIRCUIT_KINDS } = await import('../../web/components/views/experiment/BuildCircuit.js');
    const { CIRCUIT_EVIDENCE_KINDS } = await import('../../server/interp/circuit-evidence.js');
    expect([...CIRCUIT_KINDS].sort()).toEqual([...CIRCUIT_EVIDENCE_KINDS].sort());
  });
});

describe('evaluation table rows', () => {
  it('name a dataset by its name (its id when unknown) and generated mazes by generator and grid', async () => {
    const { rows } = await import('../../web/components/views/EvalTable.js');
    const evals = [
      { summary: { model: { exact_path_rate: 0.5 }, baseline: { exact_path_rate: 0.3 } }, params: { datasetId: 'Dataset:1' }, createdAt: '' },
      { summary: { model: { exact_path_rate: 0.4 } }, params: { datasetId: 'Dataset:9' }, createdAt: '' },
      { summary: { model: { exact_path_rate: 0.2 } }, params: { generator: 'dfs', grid: 5 }, createdAt: '' },
    ];
    const labels = rows(evals as never, new Map([['Dataset:1', 'demo 5x5']])).map((r) => r.label);
    expect(labels).toEqual(['model · demo 5x5 (test split)', 'baseline · demo 5x5 (test split)', 'model · Dataset:9 (test split)', 'model · dfs 5×5']);
  });

  it("show the training run's last evaluation (its latest eval step, the baseline beside it) as rows", async () => {
    const { trainingEvalRows } = await import('../../web/components/views/EvalTable.js');
    const curve = [
      { step: 100, name: 'eval/exact_path_rate', value: 0.2 },
      { step: 100, name: 'baseline/exact_path_rate', value: 0.3 },
      { step: 200, name: 'train/loss', value: 1.5 },
      { step: 200, name: 'eval/exact_path_rate', value: 0.6 },
      { step: 200, name: 'eval/valid_rollout_rate', value: 0.9 },
      { step: 200, name: 'eval/loss', value: 0.4 },
      { step: 200, name: 'baseline/exact_path_rate', value: 0.31 },
    ];
    expect(trainingEvalRows(curve)).toEqual([
      { label: 'model · during training (step 200)', metrics: { exact_path_rate: 0.6, valid_rollout_rate: 0.9 }, baseline: false, when: '' },
      { label: 'baseline · during training (step 200)', metrics: { exact_path_rate: 0.31 }, baseline: true, when: '' },
    ]);
    expect(trainingEvalRows([{ step: 5, name: 'train/loss', value: 2 }])).toEqual([]);
  });

  it('know how many trials each rate is over: its mazes, or the pooled fork decisions', async () => {
    const { rateTrials } = await import('../../web/components/views/EvalTable.js');
    const m = { count: 200, exact_path_rate: 0.41, frac_correct_forks_pooled: 0.8, fork_decisions: { correct: 96, total: 120 }, steps: 3 };
    expect(rateTrials(m, 'exact_path_rate')).toBe(200);
    expect(rateTrials(m, 'frac_correct_forks_pooled')).toBe(120);
    expect(rateTrials(m, 'count')).toBeNull();
    expect(rateTrials(m, 'steps')).toBeNull();
    expect(rateTrials({ exact_path_rate: 0.4 }, 'exact_path_rate')).toBeNull(); // no count: no interval rather than a wrong one
  });
});

describe('index lists (web/lib/lists.ts)', () => {
  it('reads numbers and ranges, empty as "all", and names the field in each refusal', async () => {
    const { parseList } = await import('../../web/lib/lists.js');
    expect(parseList('3, 5-7', 'positions')).toEqual([3, 5, 6, 7]);
    expect(parseList('  ', 'heads')).toBeUndefined();
    expect(() => parseList('5-x', 'positions')).toThrow('positions: "5-x" is not a number or a range a-b');
    expect(() => parseList('7-5', 'layers')).toThrow('layers: the range 7-5 runs backwards');
    expect(() => parseList('0-99999', 'features')).toThrow('features: the range 0-99999 is too long');
  });
});

describe('rates with uncertainty (web/lib/stats.ts)', () => {
  it('the Wilson interval matches its closed form and behaves at the edges', async () => {
    const { wilson, ciText } = await import('../../web/lib/stats.js');
    // 7 of 10: centre (0.7 + z²/20)/(1 + z²/10), half-width z/(1+z²/10)·sqrt(0.021 + z²/400) (Brown et al. 2001, eq. 4).
    const ci = wilson(0.7, 10)!;
    expect(ci.lo).toBeCloseTo(0.3968, 4);
    expect(ci.hi).toBeCloseTo(0.8922, 4);
    // 0 of 2 is not [0, 0]: two forks say little.
    expect(wilson(0, 2)!.hi).toBeCloseTo(0.6576, 4);
    expect(wilson(0, 2)!.lo).toBe(0);
    expect(wilson(1, 600)!.lo).toBeGreaterThan(0.99);
    expect(wilson(0.5, 0)).toBeNull();
    expect(wilson(null, 10)).toBeNull();
    expect(wilson(1.5, 10)).toBeNull();
    expect(ciText(0.7, 10)).toBe('[0.40, 0.89]');
    expect(ciText(0.7, null)).toBe('');
  });
});
