/**
 * A small parameter validator for experiment kinds: each field has a type, bounds or choices, a
 * default (possibly derived from the model, e.g. the grid its vocabulary covers) and a one-line doc.
 * `parse` fills defaults, rejects unknown fields and names the first bad field in a UserError
 * (`params.layers[2]: must be an integer in [0, 5]; got 7`), so `--params '{}'` always runs and a
 * typo never silently falls back to a default.
 */
import { UserError } from '../errors.js';
import type { ModelConfig } from '../model/config.js';

export class ParamsError extends UserError {
  override name = 'ParamsError';
}

/** What defaults and bounds may depend on. */
export interface ModelInfo {
  cfg: ModelConfig;
  /** Largest square grid the vocabulary covers (and n_ctx fits), or 5. */
  grid: number;
}

type Dyn<T> = T | ((m: ModelInfo) => T);

export type ParamValue = number | string | boolean | number[] | string[];

export interface FieldSpec {
  type: 'int' | 'number' | 'string' | 'bool' | 'int[]' | 'string[]' | 'int|string';
  doc: string;
  min?: Dyn<number>;
  max?: Dyn<number>;
  /** Allowed strings ('string', 'string[]', and the string branch of 'int|string'). */
  choices?: readonly string[];
  /**
   * The name clients see a 'string' / 'string[]' field's choices under (the API's enum, e.g.
   * `PairKind`); required with `choices` there (schema/params.ts refuses a field without one).
   * Fields of one enum share their choice list.
   */
  enum?: string;
  /** Default value; omitted = the field is optional (undefined when not given). */
  default?: Dyn<ParamValue>;
  /** How a model-dependent default is chosen, for `exp list`. */
  defaultDoc?: string;
  /** Arrays: at least this many entries (default 1). */
  minItems?: number;
}

export interface FieldDescription {
  name: string;
  type: string;
  doc: string;
  default?: unknown;
  choices?: readonly string[];
}

export interface ParamsSchema<P> {
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** Validated params with defaults filled in. */
  parse(raw: unknown, info: ModelInfo): P;
  /** Fields with their defaults (concrete when `info` is given). */
  describe(info?: ModelInfo): FieldDescription[];
}

/** A field's value that may depend on the model (a default or a bound), resolved when `info` is given. */
export const dyn = <T>(v: Dyn<T> | undefined, info: ModelInfo | undefined): T | undefined =>
  typeof v === 'function' ? (info ? (v as (m: ModelInfo) => T)(info) : undefined) : v;

function checkScalar(name: string, f: FieldSpec, v: unknown, info: ModelInfo, kind: 'int' | 'number' | 'string' | 'bool' | 'int|string'): unknown {
  const bad = (what: string): never => {
    throw new ParamsError(`params.${name}: must be ${what}; got ${JSON.stringify(v)}`);
  };
  const min = dyn(f.min, info);
  const max = dyn(f.max, info);
  const range = min !== undefined || max !== undefined ? ` in [${min ?? '-∞'}, ${max ?? '∞'}]` : '';
  if (kind === 'bool') return typeof v === 'boolean' ? v : bad('true or false');
  if (kind === 'string' || (kind === 'int|string' && typeof v === 'string')) {
    const choices = f.choices ? `one of ${f.choices.map((c) => JSON.stringify(c)).join(', ')}` : 'a string';
    if (typeof v !== 'string' || (f.choices && !f.choices.includes(v))) bad(kind === 'int|string' ? `an integer${range} or ${choices}` : choices);
    return v;
  }
  const isInt = kind === 'int' || kind === 'int|string';
  if (typeof v !== 'number' || !Number.isFinite(v) || (isInt && !Number.isInteger(v)) || (min !== undefined && v < min) || (max !== undefined && v > max)) {
    const choices = kind === 'int|string' && f.choices ? ` or one of ${f.choices.map((c) => JSON.stringify(c)).join(', ')}` : '';
    bad(`${isInt ? 'an integer' : 'a number'}${range}${choices}`);
  }
  return v;
}

type Choice<F> = F extends { choices: readonly (infer C)[] } ? (string extends C ? string : C) : string;

/** The value a field parses to: its type, narrowed to its choices when it has them. */
export type FieldValue<F extends FieldSpec> = F['type'] extends 'int' | 'number'
  ? number
  : F['type'] extends 'bool'
    ? boolean
    : F['type'] extends 'string'
      ? Choice<F>
      : F['type'] extends 'int[]'
        ? number[]
        : F['type'] extends 'string[]'
          ? Choice<F>[]
          : number | Choice<F>;

type WithDefault<Fs> = { [K in keyof Fs]: Fs[K] extends { default: unknown } ? K : never }[keyof Fs];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The params type a set of fields parses to — declared once, by the fields themselves: a field
 * with a default is always present, one without is optional.
 */
export type ParamsOf<Fs extends Record<string, FieldSpec>> = Simplify<
  { [K in WithDefault<Fs>]: FieldValue<Fs[K]> } & { [K in Exclude<keyof Fs, WithDefault<Fs>>]?: FieldValue<Fs[K]> }
>;

/** The params type of a schema. */
export type SchemaParams<S> = S extends ParamsSchema<infer P> ? P : never;

/** Builds a schema whose params type is inferred from the fields (`choices` as literal lists narrow strings). */
export function defineParams<const Fs extends Record<string, FieldSpec>>(fields: Fs): ParamsSchema<ParamsOf<Fs>> {
  type P = ParamsOf<Fs>;
  return {
    fields,
    parse(raw: unknown, info: ModelInfo): P {
      if (raw === undefined || raw === null) raw = {};
      if (typeof raw !== 'object' || Array.isArray(raw)) throw new ParamsError(`params must be a JSON object, got ${JSON.stringify(raw)}`);
      const r = raw as Record<string, unknown>;
      for (const k of Object.keys(r)) {
        if (!(k in fields)) throw new ParamsError(`params.${k}: unknown field; known fields: ${Object.keys(fields).join(', ')}`);
      }
      const out: Record<string, unknown> = {};
      for (const [name, f] of Object.entries(fields)) {
        let v = r[name];
        if (v === undefined) {
          v = dyn(f.default, info);
          if (v === undefined) continue; // optional and not given
          out[name] = Array.isArray(v) ? [...v] : v;
          continue;
        }
        if (f.type.endsWith('[]')) {
          const elem = f.type.slice(0, -2) as 'int' | 'string';
          const minItems = f.minItems ?? 1;
          if (!Array.isArray(v) || v.length < minItems)
            throw new ParamsError(
              `params.${name}: must be an array of at least ${minItems} ${elem === 'int' ? 'integers' : 'strings'}; got ${JSON.stringify(v)}`,
            );
          out[name] = v.map((x, i) => checkScalar(`${name}[${i}]`, f, x, info, elem));
        } else {
          out[name] = checkScalar(name, f, v, info, f.type as 'int');
        }
      }
      return out as P;
    },
    describe(info?: ModelInfo): FieldDescription[] {
      return Object.entries(fields).map(([name, f]) => {
        const d = dyn(f.default, info);
        const def = d !== undefined ? d : typeof f.default === 'function' ? (f.defaultDoc ?? 'model-dependent') : undefined;
        return { name, type: f.type, doc: f.doc, ...(def !== undefined ? { default: def } : {}), ...(f.choices ? { choices: f.choices } : {}) };
      });
    },
  };
}

/** Layers 0..n_layers-1 (bounds for layer lists). */
export const layerMax = (m: ModelInfo): number => m.cfg.n_layers - 1;
export const allLayers = (m: ModelInfo): number[] => Array.from({ length: m.cfg.n_layers }, (_, l) => l);

/** Residual streams by index (collect.ts residName): l < n_layers is resid_pre l, n_layers the final resid_post; every one by default. */
export function residLayersField(doc: string) {
  return {
    type: 'int[]',
    doc: `${doc} (l < n_layers: resid_pre l; n_layers: final resid_post)`,
    min: 0,
    max: (m: ModelInfo) => m.cfg.n_layers,
    default: (m: ModelInfo) => Array.from({ length: m.cfg.n_layers + 1 }, (_, l) => l),
    defaultDoc: 'every layer and the final residual',
  } as const;
}
