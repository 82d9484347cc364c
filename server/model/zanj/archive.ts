/**
 * ZANJ archives (https://github.com/mivanit/ZANJ): what maze-dataset and maze-transformer save with.
 * Pure: bytes in, bytes out.
 *
 * The format, as ZANJ writes and reads it (zanj/zanj.py `ZANJ.save`, zanj/loading.py `LoadedZANJ`,
 * zanj/externals.py, zanj/serializing.py):
 *   - a zip (ZIP_DEFLATED by default; each external written with `force_zip64=True`);
 *   - `__zanj__.json`: the object as JSON (muutils' `json_serialize`), each serialized object tagged
 *     with its format under `__muutils_format__` (muutils ≥ 0.8) or `__format__` (before: what
 *     maze-transformer's pinned muutils ^0.6.7 writes); both are read;
 *   - `__zanj_meta__.json`: `zanj_cfg`, `sysinfo`, `timestamp` and `externals_info`, a map from each
 *     external's archive path to `{item_type: "npy"|"jsonl", path: [keys…], …}`;
 *   - externals: a numpy array / torch tensor of ≥ `external_array_threshold` (256) elements, or a
 *     list/tuple of ≥ `external_list_threshold` (256) items, is stored as `<keys joined by "/">.npy`
 *     (`np.lib.format.write_array`) or `.jsonl` (one JSON value per line); in the JSON it is a
 *     placeholder `{"__muutils_format__": "numpy.ndarray:external", "$ref": "<archive path>", shape,
 *     dtype, n_elements}` (or `torch.Tensor:external`, `list:external`, `tuple:external`).
 * Smaller arrays stay inline in muutils' forms (muutils/json_serialize/array.py `serialize_array`):
 * `<type>:array_list_meta` (nested lists under `data`), `:array_hex_meta` / `:array_b64_meta`
 * (`arr.tobytes()` as hex / base64), `:zero_dim` (a scalar), or a bare nested list ("list" mode).
 * Python's json writes NaN and ±inf as the bare words NaN / Infinity / -Infinity (TransformerLens'
 * `attn.IGNORE` buffer is -inf); `parsePythonJson` reads them as null.
 *
 * Externals are resolved by their placeholder's `$ref` (the path ZANJ itself derives from the object
 * path, so `externals_info` adds nothing the placeholder lacks); a `$ref` naming no archive entry is
 * an error naming both.
 */
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { UserError } from '../../errors.js';
import { NpyError, type NpyNumbers, decodeNpyNumbers, decodeRawNumbers } from '../npy.js';

export class ZanjError extends UserError {
  override name = 'ZanjError';
}

export const ZANJ_MAIN = '__zanj__.json';
export const ZANJ_META = '__zanj_meta__.json';
/** muutils' key naming how an object was serialized (muutils/json_serialize/types.py `_FORMAT_KEY`). */
export const FORMAT_KEY = '__muutils_format__';
/**
 * The same key before muutils 0.8.0 (ZANJ < 0.4, maze-dataset < 1.2): what maze-transformer (muutils
 * ^0.6.7, zanj ^0.3.1) and older maze-dataset archives carry. Read as FORMAT_KEY; never written.
 */
export const LEGACY_FORMAT_KEY = '__format__';
/** The key of an external's archive path (`_REF_KEY`). */
export const REF_KEY = '$ref';

/** Largest total of uncompressed entries we inflate (a zip bomb would otherwise take the memory). */
export const MAX_ZANJ_UNCOMPRESSED = 1024 * 1024 * 1024;
/**
 * Largest JSON entry (`__zanj__.json`, `__zanj_meta__.json`, a `.jsonl`) we read: each is decoded as
 * one string, and past 2^29 − 24 characters the engine cannot make one (the decode threw an internal
 * error). ZANJ writes arrays of 256 elements or more, and lists of 256 items or more, as their own
 * entries, so its JSON stays far smaller than this.
 */
export const MAX_ZANJ_JSON_BYTES = 256 * 1024 * 1024;
/** Deepest nested list read as an array: NumPy's most dimensions (NPY_MAXDIMS, 64 since NumPy 2). */
export const MAX_ZANJ_DIMS = 64;

export interface ZanjArchive {
  /** `__zanj__.json`, parsed. */
  main: unknown;
  /** `__zanj_meta__.json`, parsed; null when the archive has none (ZANJ always writes one; we only need `main`). */
  meta: Record<string, unknown> | null;
  /** Every other entry by its path in the zip. */
  files: Map<string, Uint8Array>;
}

/** Whether `bytes` start like a zip archive (local file header "PK\x03\x04", or the end record of an empty one). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
}

/**
 * JSON as Python's `json.dumps` writes it: standard JSON plus the bare words NaN, Infinity and
 * -Infinity (allow_nan=True, its default), which become null here. `what` names the text in errors.
 */
export function parsePythonJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Fall through: replace the non-standard words outside strings, then parse again.
  }
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    const word = text.startsWith('-Infinity', i) ? '-Infinity' : text.startsWith('Infinity', i) ? 'Infinity' : text.startsWith('NaN', i) ? 'NaN' : null;
    if (word) {
      out += 'null';
      i += word.length - 1;
    } else out += ch;
  }
  try {
    return JSON.parse(out);
  } catch (e) {
    throw new ZanjError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Reads a ZANJ zip: its main JSON, its metadata and the raw bytes of every other entry. */
export function readZanj(bytes: Uint8Array, maxUncompressed = MAX_ZANJ_UNCOMPRESSED): ZanjArchive {
  if (!isZip(bytes)) throw new ZanjError('not a ZANJ archive: the bytes are not a zip file (a .zanj file starts with "PK")');
  let entries: Record<string, Uint8Array>;
  let total = 0;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        total += f.originalSize;
        if (total > maxUncompressed) throw new ZanjError(`the archive's entries unpack to more than ${maxUncompressed} bytes (at ${f.name})`);
        // The zip's size is what the entry is inflated into (a larger stream is cut off there).
        if ((f.name === ZANJ_MAIN || f.name === ZANJ_META || f.name.endsWith('.jsonl')) && f.originalSize > MAX_ZANJ_JSON_BYTES)
          throw new ZanjError(`${f.name} unpacks to ${f.originalSize} bytes; a JSON entry may hold at most ${MAX_ZANJ_JSON_BYTES}`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof ZanjError) throw e;
    throw new ZanjError(`not a readable zip archive: ${(e as Error).message}`);
  }
  const files = new Map(Object.entries(entries));
  const mainBytes = files.get(ZANJ_MAIN);
  if (!mainBytes) throw new ZanjError(`not a ZANJ archive: it has no ${ZANJ_MAIN} (entries: ${[...files.keys()].slice(0, 10).join(', ') || 'none'})`);
  files.delete(ZANJ_MAIN);
  const main = parsePythonJson(strFromU8(mainBytes), ZANJ_MAIN);
  const metaBytes = files.get(ZANJ_META);
  files.delete(ZANJ_META);
  const meta = metaBytes ? parsePythonJson(strFromU8(metaBytes), ZANJ_META) : null;
  return { main, meta: meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : null, files };
}

/** The format string of a muutils-serialized object (current or pre-0.8 key), or undefined. */
export function formatOf(item: unknown): string | undefined {
  if (item && typeof item === 'object' && !Array.isArray(item)) {
    const o = item as Record<string, unknown>;
    const f = Object.hasOwn(o, FORMAT_KEY) ? o[FORMAT_KEY] : o[LEGACY_FORMAT_KEY];
    if (typeof f === 'string') return f;
  }
  return undefined;
}

/** muutils' dtype names (numpy `arr.dtype.name`, or torch's "torch.float32") → NumPy descr. */
const DTYPE_DESCR: Record<string, string> = {
  bool: '|b1',
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  uint64: '<u8',
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
};

function descrOf(dtype: unknown, where: string): string {
  const name = typeof dtype === 'string' ? dtype.replace(/^torch\./, '') : '';
  const d = Object.hasOwn(DTYPE_DESCR, name) ? DTYPE_DESCR[name] : undefined;
  if (!d) throw new ZanjError(`${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_DESCR).join(', ')})`);
  return d;
}

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

function shapeOf(v: unknown, where: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new ZanjError(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(v)}`);
  return v as number[];
}

/**
 * A nested list of numbers/booleans, flattened row-major, with its shape checked to be rectangular.
 * The values are collected as they are met (the first rows' lengths may claim far more than the
 * list holds), and the depth is bounded (the walk recurses once per level).
 */
function flattenNested(data: unknown, where: string): NpyNumbers {
  const shape: number[] = [];
  for (let d: unknown = data; Array.isArray(d); d = d[0]) {
    if (shape.length === MAX_ZANJ_DIMS)
      throw new ZanjError(`${where}: a nested list deeper than ${MAX_ZANJ_DIMS} levels; an array has at most ${MAX_ZANJ_DIMS} dimensions`);
    shape.push(d.length);
  }
  const out: number[] = [];
  const walk = (d: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof d === 'number') out.push(d);
      else if (typeof d === 'boolean') out.push(d ? 1 : 0);
      else if (d === null) throw new ZanjError(`${where}: element ${path || '[]'} is NaN or infinite (written as a bare NaN/Infinity)`);
      else throw new ZanjError(`${where}: element ${path || '[]'} is ${JSON.stringify(d)}, not a number`);
      return;
    }
    if (!Array.isArray(d) || d.length !== shape[depth])
      throw new ZanjError(`${where}: ragged nested list at ${path || '[]'} (expected ${shape[depth]} items at depth ${depth})`);
    for (let i = 0; i < d.length; i++) walk(d[i], depth + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
  return { dtype: 'float64', shape, data: Float64Array.from(out) };
}

/**
 * An array as ZANJ / muutils store it (any of the forms in the module comment), its values as JS
 * numbers. `where` names it in errors (e.g. "maze 3: connection_list").
 */
export function zanjArray(item: unknown, archive: Pick<ZanjArchive, 'files'>, where: string): NpyNumbers {
  if (Array.isArray(item)) return flattenNested(item, where);
  if (typeof item === 'number' || typeof item === 'boolean') return { dtype: 'float64', shape: [], data: Float64Array.of(Number(item)) };
  const fmt = formatOf(item);
  if (!fmt)
    throw new ZanjError(
      `${where}: expected an array, got ${item === null ? 'null' : typeof item === 'object' ? 'an object without __muutils_format__' : JSON.stringify(item)}`,
    );
  const o = item as Record<string, unknown>;
  const mode = fmt.slice(fmt.lastIndexOf(':') + 1);
  const declared = o.shape === undefined ? null : shapeOf(o.shape, where);
  let arr: NpyNumbers;
  if (mode === 'external') {
    const ref = o[REF_KEY];
    if (typeof ref !== 'string') throw new ZanjError(`${where}: external array without a "$ref" naming its .npy entry`);
    const bytes = archive.files.get(ref);
    if (!bytes) throw new ZanjError(`${where}: the archive has no entry "${ref}" (named by its "$ref")`);
    try {
      arr = decodeNpyNumbers(bytes);
    } catch (e) {
      if (e instanceof NpyError) throw new ZanjError(`${where}: ${ref}: ${e.message}`);
      throw e;
    }
  } else if (mode === 'array_list_meta') {
    arr = flattenNested(o.data, where);
    if (declared && declared.length === 0 && arr.shape.length === 0) arr = { ...arr, shape: [] };
  } else if (mode === 'array_hex_meta' || mode === 'array_b64_meta') {
    if (typeof o.data !== 'string') throw new ZanjError(`${where}: ${mode} data must be a string`);
    if (!declared) throw new ZanjError(`${where}: ${mode} array without a shape`);
    const raw = mode === 'array_hex_meta' ? Buffer.from(o.data, 'hex') : Buffer.from(o.data, 'base64');
    try {
      arr = decodeRawNumbers(raw, descrOf(o.dtype, where), declared);
    } catch (e) {
      if (e instanceof NpyError) throw new ZanjError(`${where}: ${e.message}`);
      throw e;
    }
  } else if (mode === 'zero_dim') {
    if (typeof o.data !== 'number' && typeof o.data !== 'boolean')
      throw new ZanjError(`${where}: zero_dim array data must be a number, got ${JSON.stringify(o.data)}`);
    arr = { dtype: 'float64', shape: [], data: Float64Array.of(Number(o.data)) };
  } else throw new ZanjError(`${where}: unsupported array format "${fmt}"`);
  // An empty nested list has no depth to infer; the declared shape says it.
  if (declared && arr.data.length === 0 && declared.reduce((a, b) => a * b, 1) === 0) arr = { ...arr, shape: declared };
  if (declared && fmtShape(declared) !== fmtShape(arr.shape))
    throw new ZanjError(`${where}: the data has shape ${fmtShape(arr.shape)} but the archive says ${fmtShape(declared)}`);
  return arr;
}

/** A list as ZANJ stores it: inline, or a `list:external` / `tuple:external` placeholder of a .jsonl entry. */
export function zanjList(item: unknown, archive: Pick<ZanjArchive, 'files'>, where: string): unknown[] {
  if (Array.isArray(item)) return item;
  const fmt = formatOf(item);
  const o = item as Record<string, unknown>;
  if (fmt && /^(list|tuple)/.test(fmt)) {
    if (Array.isArray(o.data)) return o.data;
    const ref = o[REF_KEY];
    if (typeof ref !== 'string') throw new ZanjError(`${where}: external list without a "$ref" naming its .jsonl entry`);
    const bytes = archive.files.get(ref);
    if (!bytes) throw new ZanjError(`${where}: the archive has no entry "${ref}" (named by its "$ref")`);
    return strFromU8(bytes)
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map((line, i) => parsePythonJson(line, `${ref} line ${i + 1}`));
  }
  throw new ZanjError(`${where}: expected a list, got ${item === null ? 'null' : fmt ? `"${fmt}"` : typeof item}`);
}

/** One external array to write: its object path (the JSON keys leading to it), dtype and values. */
export interface ZanjExternal {
  path: Array<string | number>;
  dtype: string;
  shape: number[];
  /** The .npy bytes (npy.ts encodeNpyAs). */
  npy: Uint8Array;
}

/**
 * The placeholder ZANJ puts in the JSON for an external array (zanj/serializing.py
 * `zanj_external_serialize`): format, `$ref`, and muutils' `arr_metadata` (shape, dtype, n_elements).
 */
export function externalRef(e: ZanjExternal): Record<string, unknown> {
  return {
    [FORMAT_KEY]: 'numpy.ndarray:external',
    [REF_KEY]: `${e.path.join('/')}.npy`,
    shape: e.shape,
    dtype: e.dtype,
    n_elements: e.shape.reduce((a, b) => a * b, 1),
  };
}

/**
 * Writes a ZANJ archive: `main` (whose external arrays are already `externalRef` placeholders), the
 * metadata ZANJ's loader needs (`externals_info`: item_type and path per entry, which
 * `LoadedZANJ.__init__` reads to place each array back), and the .npy entries.
 */
export function writeZanj(main: unknown, externals: ZanjExternal[], extraMeta: Record<string, unknown> = {}): Uint8Array {
  const externalsInfo: Record<string, unknown> = {};
  const files: Record<string, Uint8Array> = {};
  for (const e of externals) {
    const ref = `${e.path.join('/')}.npy`;
    if (ref in files) throw new Error(`writeZanj: two externals at ${ref}`);
    files[ref] = e.npy;
    externalsInfo[ref] = {
      item_type: 'npy',
      path: e.path,
      'type(data)': "<class 'numpy.ndarray'>",
      'len(data)': e.shape[0] ?? 0,
      shape: e.shape,
      dtype: e.dtype,
      n_elements: e.shape.reduce((a, b) => a * b, 1),
    };
  }
  const meta = {
    // ZANJ's defaults (zanj/zanj.py _ZANJ_GLOBAL_DEFAULTS); informative only, the loader reads externals_info.
    zanj_cfg: { error_mode: 'except', array_mode: 'array_list_meta', external_array_threshold: 256, external_list_threshold: 256, compress: 8 },
    sysinfo: {},
    externals_info: externalsInfo,
    timestamp: Date.now() / 1000,
    ...extraMeta,
  };
  return zipSync(
    {
      [ZANJ_META]: strToU8(JSON.stringify(meta, null, '\t')),
      [ZANJ_MAIN]: strToU8(JSON.stringify(main, null, '\t')),
      ...files,
    },
    { level: 6 },
  );
}
