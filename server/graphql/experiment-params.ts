/**
 * Experiment params as the API types them. Each kind's params schema (server/interp/<kind>.ts
 * `paramsSchema`) is the source of truth; schema/params.ts writes the SDL from it
 * (schema/experiment-params.graphql: `AttentionParams`, `AttentionParamsInput`, the enums, the
 * `ExperimentParams` union and the `ExperimentParamsInput` @oneOf input), and this module
 * translates values between the core's spelling and the API's, both ways:
 *
 * - a field with choices is a GraphQL enum whose values are the choices with `-` written `_`
 *   (GraphQL names cannot hold `-`): `add-wall-on` ⇄ `add_wall_on`;
 * - an 'int|string' field (an index or a named position) is a String: `7` ⇄ `"7"`;
 * - everything else is the same value.
 *
 * Bounds, unknown names and defaults stay with the kind's own `parse`, so an API call and a CLI run
 * of the same params are refused with the same message.
 */
import { type FieldSpec, getKind, kindNames } from '../interp/index.js';
import { badInput } from './errors.js';

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

const words = (kind: string): string[] => kind.split('-').filter(Boolean);
const cap = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

/** `activation-patching` → `ActivationPatchingParams` (the union member; the input adds `Input`). */
export function paramsTypeName(kind: string): string {
  return `${words(kind).map(cap).join('')}Params`;
}

/** `activation-patching` → `activationPatching` (the kind's field of ExperimentParamsInput). */
export function paramsInputField(kind: string): string {
  const [first = '', ...rest] = words(kind);
  return first + rest.map(cap).join('');
}

/** A choice as an enum value: `target-to-path-start` → `target_to_path_start`. */
export function enumValueName(choice: string): string {
  const name = choice.replace(/-/g, '_');
  if (!GRAPHQL_NAME.test(name)) throw new Error(`choice ${JSON.stringify(choice)} has no GraphQL enum name (${JSON.stringify(name)})`);
  return name;
}

/** Whether a field's values travel as one of its enum's names. */
export const isEnumField = (f: FieldSpec): boolean => (f.type === 'string' || f.type === 'string[]') && f.choices !== undefined;

const byInputField: ReadonlyMap<string, string> = new Map(kindNames().map((k) => [paramsInputField(k), k]));

function mapValues(v: unknown, one: (x: unknown) => unknown): unknown {
  return Array.isArray(v) ? v.map(one) : one(v);
}

/**
 * Params as stored (validated, defaults filled) → the kind's `…Params` object, with `__typename`
 * naming the union member.
 */
export function paramsToGraphQL(kind: string, params: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const fields = getKind(kind).fields;
  const out: Record<string, unknown> = { __typename: paramsTypeName(kind) };
  for (const [name, v] of Object.entries(params)) {
    const f = fields[name];
    if (!f || v === undefined || v === null) continue; // a field since removed from the kind: not part of its type
    if (isEnumField(f)) out[name] = mapValues(v, (x) => (typeof x === 'string' ? enumValueName(x) : x));
    else if (f.type === 'int|string') out[name] = String(v);
    else out[name] = v;
  }
  return out;
}

/**
 * An ExperimentParamsInput (exactly one kind's field set, as @oneOf guarantees) → the kind and its
 * raw params in the core's spelling, ready for the kind's `parse`. Unset (null) fields are left out,
 * so they take their defaults.
 */
export function paramsFromGraphQL(input: Readonly<Record<string, unknown>>, where = 'params'): { kind: string; raw: Record<string, unknown> } {
  const set = Object.entries(input).filter(([, v]) => v !== undefined && v !== null);
  if (set.length !== 1) throw badInput(`${where}: set exactly one experiment kind's field, got ${set.length}`);
  const [field, value] = set[0];
  const kind = byInputField.get(field);
  if (!kind) throw badInput(`${where}.${field}: not an experiment kind`);
  const fields = getKind(kind).fields;
  const raw: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    const f = fields[name];
    if (f && isEnumField(f)) {
      const back = new Map((f.choices ?? []).map((c) => [enumValueName(c), c]));
      raw[name] = mapValues(v, (x) => (typeof x === 'string' ? (back.get(x) ?? x) : x));
    } else if (f?.type === 'int|string' && typeof v === 'string' && /^\d+$/.test(v)) {
      raw[name] = Number(v); // an index, as decimal digits
    } else {
      raw[name] = v;
    }
  }
  return { kind, raw };
}
