/**
 * Experiment params between the core's spelling and the API's types (server/graphql/experiment-params.ts,
 * schema/experiment-params.graphql written by schema/params.ts from each kind's params schema): for
 * every kind, the defaults a model gets go out as a value of the kind's `…Params` type and come back
 * through `ExperimentParamsInput` as the same params; choices with `-` travel as enum values with `_`;
 * an index-or-name field's index travels as its digits.
 */
import { coerceInputValue, type GraphQLInputType, isEnumType, isListType, isNonNullType, isObjectType } from 'graphql/index.js';
import { describe, expect, it } from 'vitest';
import { loadSchema } from '../../schema/codegen.js';
import { enumValueName, paramsFromGraphQL, paramsInputField, paramsToGraphQL, paramsTypeName } from '../../server/graphql/experiment-params.js';
import { createInterpModel, getKind, kindNames, resolveParams } from '../../server/interp/index.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { PRESETS } from '../../server/model/config.js';

const schema = loadSchema();
const tok = getTokenizer('aotp-ut');
const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(4), n_ctx: 160, tokenizer: 'aotp-ut' };
// Defaults only read the config and vocabulary; no weights are needed.
const model = createInterpModel({ cfg, weights: new Map(), vocab: [...tok.vocab(4)] });

describe('experiment params in the API', () => {
  it("every kind's defaults go out as its Params type and come back through ExperimentParamsInput unchanged", () => {
    const input = schema.getType('ExperimentParamsInput') as GraphQLInputType;
    for (const kind of kindNames()) {
      const params = resolveParams(kind, model, {});
      const out = paramsToGraphQL(kind, params);
      expect(out.__typename).toBe(paramsTypeName(kind));
      // Each output field exists on the member type, holding a value of its type (enums by value name).
      const member = schema.getType(paramsTypeName(kind));
      if (!isObjectType(member)) throw new Error(`${paramsTypeName(kind)} is not an object type`);
      const { __typename, ...fields } = out;
      for (const [name, v] of Object.entries(fields)) {
        const f = member.getFields()[name];
        expect(f, `${kind}.${name}`).toBeDefined();
        let t = f.type;
        if (isNonNullType(t)) t = t.ofType;
        if (isListType(t)) t = isNonNullType(t.ofType) ? t.ofType.ofType : t.ofType;
        if (isEnumType(t)) for (const x of [v].flat()) expect(t.getValue(String(x)), `${kind}.${name} = ${x}`).toBeDefined();
      }
      // The same object is a valid input (graphql-js coerces it as it would a variable)...
      const coerced = coerceInputValue({ [paramsInputField(kind)]: fields }, input, (path, _v, err) => {
        throw new Error(`${kind}: ${path.join('.')}: ${err.message}`);
      }) as Record<string, unknown>;
      // ...that reads back as the params the kind validated.
      const back = paramsFromGraphQL(coerced);
      expect(back.kind).toBe(kind);
      expect(getKind(kind).parse(back.raw, { cfg, grid: 4 })).toEqual(params);
    }
  });

  it("choices with '-' are enum values with '_' both ways; an index travels as digits; a name stays a name", () => {
    const out = paramsToGraphQL('retarget', { positions: 'target-to-path-start', span: 'by-span', count: 4 });
    expect(out).toEqual({ __typename: 'RetargetParams', positions: 'target_to_path_start', span: 'by_span', count: 4 });
    expect(paramsFromGraphQL({ retarget: { positions: 'target_to_path_start', span: null } })).toEqual({
      kind: 'retarget',
      raw: { positions: 'target-to-path-start' },
    });
    expect(paramsToGraphQL('attention', { query: 7 })).toMatchObject({ query: '7' });
    expect(paramsFromGraphQL({ attention: { query: '7' } }).raw).toEqual({ query: 7 });
    expect(paramsFromGraphQL({ attention: { query: 'last' } }).raw).toEqual({ query: 'last' });
    expect(paramsFromGraphQL({ activationPatching: { sites: ['resid_pre', 'head_all_pos'], pair: 'add_wall_on' } }).raw).toEqual({
      sites: ['resid_pre', 'head_all_pos'],
      pair: 'add-wall-on',
    });
    expect(enumValueName('remove-wall-off')).toBe('remove_wall_off');
  });

  it('a field a kind no longer has is left out of the typed params; an input that sets no kind or two is refused', () => {
    expect(paramsToGraphQL('dla', { count: 3, retired: true })).toEqual({ __typename: 'DlaParams', count: 3 });
    expect(() => paramsFromGraphQL({})).toThrow(/set exactly one experiment kind's field, got 0/);
    expect(() => paramsFromGraphQL({ dla: {}, attention: {} })).toThrow(/got 2/);
  });
});
