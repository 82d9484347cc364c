/** The params validator: defaults (static and model-derived), precise errors naming the field. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineParams, ParamsError, type SchemaParams } from '../../server/interp/params.js';
import { mazeConfig } from './helpers.js';

const info = { cfg: mazeConfig('nano', 4), grid: 4 };
const schema = defineParams({
  grid: { type: 'int', doc: 'grid', min: 2, max: 64, default: (m) => m.grid },
  layers: { type: 'int[]', doc: 'layers', min: 0, max: (m) => m.cfg.n_layers - 1, default: [0] },
  mode: { type: 'string', doc: 'mode', choices: ['a', 'b'], default: 'a' },
  q: { type: 'int|string', doc: 'query', min: 0, choices: ['last'], default: 'last' },
  flag: { type: 'bool', doc: 'flag', default: false },
  p: { type: 'number', doc: 'optional', min: 0, max: 1 },
});

describe('defineParams', () => {
  it('infers the params type from the fields: defaults make a field required, choices narrow strings', () => {
    expectTypeOf<SchemaParams<typeof schema>>().toEqualTypeOf<{
      grid: number;
      layers: number[];
      mode: 'a' | 'b';
      q: number | 'last';
      flag: boolean;
      p?: number;
    }>();
    expectTypeOf(schema.parse({}, info).mode).toEqualTypeOf<'a' | 'b'>();
  });

  it('fills static and model-derived defaults; optional fields stay absent', () => {
    expect(schema.parse({}, info)).toEqual({ grid: 4, layers: [0], mode: 'a', q: 'last', flag: false });
    expect(schema.parse(undefined, info).grid).toBe(4);
  });

  it('keeps given values and accepts both branches of int|string', () => {
    expect(schema.parse({ grid: 7, layers: [1, 0], q: 3, p: 0.5 }, info)).toMatchObject({ grid: 7, layers: [1, 0], q: 3, p: 0.5 });
  });

  it('rejects unknown fields, naming them and the known ones', () => {
    expect(() => schema.parse({ gird: 3 }, info)).toThrow(/params\.gird: unknown field; known fields: grid, layers/);
  });

  it('names the bad field, the rule and the value; array errors name the element', () => {
    expect(() => schema.parse({ grid: 1 }, info)).toThrow('params.grid: must be an integer in [2, 64]; got 1');
    expect(() => schema.parse({ grid: 2.5 }, info)).toThrow(ParamsError);
    expect(() => schema.parse({ layers: [0, 2] }, info)).toThrow('params.layers[1]: must be an integer in [0, 1]; got 2');
    expect(() => schema.parse({ layers: [] }, info)).toThrow(/params\.layers: must be an array of at least 1/);
    expect(() => schema.parse({ mode: 'c' }, info)).toThrow('params.mode: must be one of "a", "b"; got "c"');
    expect(() => schema.parse({ q: 'first' }, info)).toThrow(/params\.q: must be an integer in \[0, ∞\] or one of "last"/);
    expect(() => schema.parse({ flag: 'yes' }, info)).toThrow('params.flag: must be true or false; got "yes"');
    expect(() => schema.parse([1], info)).toThrow('params must be a JSON object');
  });

  it('describes fields with concrete defaults when the model is known', () => {
    const d = schema.describe(info);
    expect(d.find((f) => f.name === 'grid')!.default).toBe(4);
    expect(schema.describe().find((f) => f.name === 'grid')!.default).toBe('model-dependent');
    expect(d.find((f) => f.name === 'p')!.default).toBeUndefined();
  });
});
