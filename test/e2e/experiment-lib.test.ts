/**
 * The experiment pages' pure helpers (web/lib/experiments.ts, the form's params formatter and the
 * behaviour view's metric lookup): defaults from a kind's typed defaults, params parsing and their API form, colour scales,
 * tensor slicing and token labels. No browser needed.
 */
import { describe, expect, it } from 'vitest';
import {
  absMax,
  axisLabel,
  defaultParams,
  divergingColour,
  finiteRange,
  latticeEdgeLabels,
  nanMean0,
  paramsInput,
  parseParams,
  probeDirectionIndex,
  sequentialColour,
  subTensor,
  textOn,
  tokenLabels,
} from '../../web/lib/experiments.js';
import { formatParams } from '../../web/components/views/experiment/CreateExperiment.js';
import { metricOf } from '../../web/components/views/experiment/BehaviorView.js';
import { latticeEdges, probeDirectionIndex as serverDirectionIndex } from '../../server/interp/probes.js';

describe('probe directions in the probes view', () => {
  it('number probes as the server stores them, and name edges in its order', () => {
    const s = {
      classes: ['sep', 'path'],
      probeLayers: ['resid_pre 0', 'resid_pre 1', 'resid_post 1'],
      targets: ['edge', 'target', 'future'],
      label_columns: { edge: 24, target: 16, future: 16, solution: null },
    };
    const server = serverDirectionIndex(2, 3, [24, 16, 16]);
    let checked = 0;
    for (let ci = 0; ci < 2; ci++)
      for (let li = 0; li < 3; li++)
        for (let ti = 0; ti < 3; ti++)
          for (const col of [0, 5, 15]) {
            expect(probeDirectionIndex(s, ci, li, ti, col)).toBe(server.of(ci, li, ti) + col);
            checked++;
          }
    expect(checked).toBe(54);
    const labels = latticeEdgeLabels(4, 4);
    const edges = latticeEdges(4, 4);
    expect(labels).toHaveLength(edges.length);
    edges.forEach(([a, b], k) => expect(labels[k]).toBe(`(${Math.floor(a / 4)},${a % 4})-(${Math.floor(b / 4)},${b % 4})`));
  });
});

describe('experiment params in the form', () => {
  it("the form starts from the kind's defaults on the model, without the union's __typename or unset fields", () => {
    const defaults = { __typename: 'AttentionParams', grid: 5, layers: [0, 1], query: 'path_start', p: null, patterns: true };
    expect(defaultParams(defaults)).toEqual({ grid: 5, layers: [0, 1], query: 'path_start', patterns: true });
    expect(defaultParams(null)).toEqual({});
  });

  it("params go to the API under the kind's field: choices as the enum spells them, an index of an index-or-name field as digits", () => {
    const fields = [
      { name: 'pair', type: 'string', doc: '', enum: 'PairKind' },
      { name: 'sites', type: 'string[]', doc: '', enum: 'PatchSite' },
      { name: 'query', type: 'int|string', doc: '' },
      { name: 'count', type: 'int', doc: '' },
    ];
    const value = { __typename: 'ActivationPatchingParams', pair: 'add-wall-on', sites: ['resid_pre', 'head_all_pos'], query: 7, count: 3, typo: 'kept' };
    expect(paramsInput('activationPatching', fields, value)).toEqual({
      activationPatching: { pair: 'add_wall_on', sites: ['resid_pre', 'head_all_pos'], query: '7', count: 3, typo: 'kept' },
    });
    expect(paramsInput('attention', fields, { query: 'last' })).toEqual({ attention: { query: 'last' } });
  });

  it('formats one field per line and parses back to the same object; bad JSON and non-objects are explained', () => {
    const p = { grid: 4, sites: ['resid_pre', 'attn_out'], layers: [0, 1] };
    const text = formatParams(p);
    expect(text.split('\n')).toHaveLength(5);
    expect(text).toContain('"sites": ["resid_pre","attn_out"]');
    expect(parseParams(text)).toEqual({ value: p });
    expect(parseParams('  ')).toEqual({ value: {} });
    expect(parseParams('{"count": 2,,}')).toMatchObject({ error: expect.stringMatching(/^params are not valid JSON/) });
    expect(parseParams('[1, 2]')).toEqual({ error: 'params must be a JSON object, e.g. {"count": 4}' });
    expect(formatParams({})).toBe('{}');
  });
});

describe('heatmap scales', () => {
  it('diverging: white at zero, red above, blue below, saturating at ±max; NaN is grey', () => {
    expect(divergingColour(0, 1)).toBe('rgb(247,247,247)');
    expect(divergingColour(1, 1)).toBe('rgb(178,24,43)');
    expect(divergingColour(5, 1)).toBe('rgb(178,24,43)');
    expect(divergingColour(-1, 1)).toBe('rgb(33,102,172)');
    expect(divergingColour(NaN, 1)).toBe('#e4e7eb');
    expect(divergingColour(0.5, 0)).toBe('rgb(247,247,247)'); // a zero scale draws everything as zero
  });

  it('sequential spans viridis from lo to hi; ranges ignore NaN', () => {
    expect(sequentialColour(0, 0, 1)).toBe('rgb(68,1,84)');
    expect(sequentialColour(1, 0, 1)).toBe('rgb(253,231,37)');
    expect(sequentialColour(NaN, 0, 1)).toBe('#e4e7eb');
    expect(finiteRange([NaN, -2, 3, Infinity])).toEqual([-2, 3]);
    expect(finiteRange([NaN])).toEqual([0, 0]);
    expect(absMax([0.5, -3, NaN])).toBe(3);
  });

  it('prints cell values in white on dark cells and near-black on light ones', () => {
    expect(textOn(sequentialColour(0, 0, 1))).toBe('#fff'); // viridis' dark purple
    expect(textOn(sequentialColour(1, 0, 1))).toBe('#111'); // its yellow
    expect(textOn(divergingColour(0, 1))).toBe('#111');
    expect(textOn(divergingColour(1, 1))).toBe('#fff');
    expect(textOn('#e4e7eb')).toBe('#111');
  });
});

describe('tensors and labels', () => {
  it('slices a pair out of a [P, L, T] tensor and averages pairs ignoring NaN padding', () => {
    const shape = [2, 2, 3];
    const data = [1, 2, 3, 4, 5, 6, 7, 8, NaN, 10, 11, NaN];
    expect(subTensor(data, shape, [1])).toEqual({ data: [7, 8, NaN, 10, 11, NaN], shape: [2, 3] });
    expect(subTensor(data, shape, [1, 0])).toEqual({ data: [7, 8, NaN], shape: [3] });
    expect(() => subTensor(data, shape, [2])).toThrow(/out of range for axis 0/);
    expect(nanMean0(data, shape).map((v) => (Number.isNaN(v) ? 'nan' : v))).toEqual([4, 5, 3, 7, 8, 6]);
    expect(nanMean0([NaN, NaN], [2, 1]).map(Number.isNaN)).toEqual([true]);
  });

  it('maps token ids to strings up to the -1 padding and labels axis positions with their token', () => {
    const vocab = ['<ADJLIST_START>', '(0,0)', '(0,1)'];
    expect(tokenLabels(Float32Array.from([0, 2, 1, -1, -1]), vocab)).toEqual(['<ADJLIST_START>', '(0,1)', '(0,0)']);
    expect(axisLabel(0, '<ADJLIST_START>')).toBe('0 ADJLIST_START');
    expect(axisLabel(7, '(1,2)')).toBe('7 (1,2)');
    expect(axisLabel(3, undefined)).toBe('3');
  });

  it('reads a behaviour metric column by name: NaN where it is null or no column', () => {
    const columns = {
      exact_path_rate: 0.5,
      valid_rollout_rate: 0.75,
      target_reached_rate: 1,
      node_overlap: 0.25,
      frac_connected_steps: 1,
      frac_correct_forks_pooled: null,
      backtracks: 0,
      invalid_tokens: 0,
    };
    expect(metricOf(columns, 'exact_path_rate')).toBe(0.5);
    expect(metricOf(columns, 'node_overlap')).toBe(0.25);
    expect(metricOf(columns, 'frac_correct_forks_pooled')).toBeNaN();
    expect(metricOf(columns, 'toString')).toBeNaN(); // not an own field
  });
});
