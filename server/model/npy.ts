/**
 * NumPy .npy files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), so a
 * Python user can `np.load` our logits and caches and hand us arrays back.
 *
 * Layout (version 1.0): magic "\x93NUMPY", major 1, minor 0, u16 LE header length H, then H bytes of
 * an ASCII Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (a, b), }` padded
 * with spaces and terminated by '\n' so that 10 + H is a multiple of 64 (NumPy's ARRAY_ALIGN), then
 * the raw C-order data. The writer emits '<f4' (Float32Array) and '<i4' (Int32Array). The reader
 * accepts versions 1.0, 2.0 (u32 header length) and 3.0 (UTF-8 header), C order, and the dtypes
 * f4, i4, f8 (→ Float64Array) in either byte order.
 *
 * `decodeNpyNumbers` / `encodeNpyAs` read and write the wider set of dtypes other tools store
 * (bool, int8…int64, uint8…uint64, float16…float64), every value as a JS number: ZANJ archives of
 * maze-dataset hold connection lists as `|b1` and coordinates as `|i1` (model/zanj/).
 */
import { readFile } from 'node:fs/promises';
import { f16ToNumber, writeFileAtomic } from './safetensors.js';

export class NpyError extends Error {
  override name = 'NpyError';
}

export type NpyArray =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ALIGN = 64;

/** Python tuple literal: () for a scalar, (n,) for 1-D, (a, b) otherwise — as `repr(shape)` writes it. */
function shapeRepr(shape: number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** Encodes a row-major Float32Array ('<f4') or Int32Array ('<i4') of the given shape. */
export function encodeNpy(data: Float32Array | Int32Array, shape: number[]): Uint8Array {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new NpyError(`shape must be non-negative integers, got [${shape.join(', ')}]`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new NpyError(`shape [${shape.join(', ')}] holds ${n} values but ${data.length} were given`);
  const { out, dv, at } = withHeader(data instanceof Float32Array ? '<f4' : '<i4', 4, shape);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) dv.setFloat32(at + 4 * i, data[i], true);
    else dv.setInt32(at + 4 * i, data[i], true);
  }
  return out;
}

/** A version 1.0 file of `shape` × `width`-byte values with its header written; the data is for the caller. */
function withHeader(descr: string, width: number, shape: number[]): { out: Uint8Array; dv: DataView; at: number } {
  const n = shape.reduce((a, b) => a * b, 1);
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1; // + 1 for the final '\n'
  const header = dict + ' '.repeat((ALIGN - (unpadded % ALIGN)) % ALIGN) + '\n';
  if (header.length > 0xffff) throw new NpyError(`header of ${header.length} bytes does not fit format 1.0`);
  const out = new Uint8Array(10 + header.length + n * width);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  const dv = new DataView(out.buffer);
  dv.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return { out, dv, at: 10 + header.length };
}

/** The dtypes `decodeNpyNumbers` reads, by NumPy's name. */
export type NpyDtype = 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float16' | 'float32' | 'float64';

/** An array of any NpyDtype, its values as JS numbers (exact for every dtype but 64-bit integers beyond 2^53, which are refused). */
export interface NpyNumbers {
  dtype: NpyDtype;
  shape: number[];
  data: Float64Array;
}

/** descr kind + width → NumPy dtype name ('b1' is NumPy's bool). */
const DTYPES: Record<string, NpyDtype> = {
  b1: 'bool',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
};

/** Decodes a .npy of any dtype in DTYPES (either byte order, C order) into JS numbers. */
export function decodeNpyNumbers(bytes: Uint8Array): NpyNumbers {
  const { descr, shape, at } = readHeader(bytes);
  return decodeRawNumbers(bytes.subarray(at), descr, shape);
}

/**
 * Raw C-order bytes of `shape` in NumPy dtype `descr` (e.g. '<f4', '|b1'), as JS numbers: the data
 * part of a .npy, or `arr.tobytes()` (muutils' array_hex_meta / array_b64_meta).
 */
export function decodeRawNumbers(bytes: Uint8Array, descr: string, shape: number[]): NpyNumbers {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = 0;
  const size = bytes.length;
  const m = /^([<>|=])([biuf])(\d)$/.exec(descr);
  const dtype = m ? DTYPES[`${m[2]}${m[3]}`] : undefined;
  if (!m || !dtype) throw new NpyError(`unsupported dtype ${JSON.stringify(descr)} (supported: bool, int8-int64, uint8-uint64, float16-float64)`);
  const little = m[1] !== '>';
  const width = Number(m[3]);
  const n = shape.reduce((a, b) => a * b, 1);
  if (size !== n * width) throw new NpyError(`data has ${size} bytes but shape (${shape.join(', ')}) of ${descr} needs ${n * width}`);
  const data = new Float64Array(n);
  const kind = m[2];
  for (let i = 0; i < n; i++) {
    const p = at + width * i;
    let v: number;
    if (kind === 'f') v = width === 2 ? f16ToNumber(dv.getUint16(p, little)) : width === 4 ? dv.getFloat32(p, little) : dv.getFloat64(p, little);
    else if (width === 1) v = kind === 'i' ? dv.getInt8(p) : dv.getUint8(p);
    else if (width === 2) v = kind === 'i' ? dv.getInt16(p, little) : dv.getUint16(p, little);
    else if (width === 4) v = kind === 'i' ? dv.getInt32(p, little) : dv.getUint32(p, little);
    else {
      const big = kind === 'i' ? dv.getBigInt64(p, little) : dv.getBigUint64(p, little);
      v = Number(big);
      if (!Number.isSafeInteger(v)) throw new NpyError(`value ${big} at flat index ${i} of a ${dtype} array is beyond 2^53`);
    }
    data[i] = v;
  }
  return { dtype, shape, data };
}

/** The dtypes `encodeNpyAs` writes (little-endian, NumPy's descr). */
const WRITE: Record<'bool' | 'int8' | 'int32' | 'int64' | 'float32' | 'float64', [descr: string, width: number]> = {
  bool: ['|b1', 1],
  int8: ['|i1', 1],
  int32: ['<i4', 4],
  int64: ['<i8', 8],
  float32: ['<f4', 4],
  float64: ['<f8', 8],
};

/** Encodes row-major `values` of `shape` as `dtype` (integers must be integers in range; bool writes v !== 0). */
export function encodeNpyAs(dtype: keyof typeof WRITE, values: ArrayLike<number>, shape: number[]): Uint8Array {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new NpyError(`shape must be non-negative integers, got [${shape.join(', ')}]`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== values.length) throw new NpyError(`shape [${shape.join(', ')}] holds ${n} values but ${values.length} were given`);
  const [descr, width] = WRITE[dtype];
  const { out, dv, at } = withHeader(descr, width, shape);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const p = at + width * i;
    if (dtype === 'bool') dv.setUint8(p, v !== 0 ? 1 : 0);
    else if (dtype === 'float32') dv.setFloat32(p, v, true);
    else if (dtype === 'float64') dv.setFloat64(p, v, true);
    else {
      const [lo, hi] = dtype === 'int8' ? [-128, 127] : dtype === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
      if (!Number.isInteger(v) || v < lo || v > hi) throw new NpyError(`value ${v} at flat index ${i} does not fit ${dtype}`);
      if (dtype === 'int8') dv.setInt8(p, v);
      else if (dtype === 'int32') dv.setInt32(p, v, true);
      else dv.setBigInt64(p, BigInt(v), true);
    }
  }
  return out;
}

/** Parses the header dict. NumPy writes a fixed, simple literal, so a targeted parse suffices. */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyError(`header dict is missing descr, fortran_order or shape: ${JSON.stringify(text.trim())}`);
  }
  const parts = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const shape = parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new NpyError(`bad shape entry ${JSON.stringify(p)} in header`);
    return Number(p);
  });
  return { descr, fortran: fortran === 'True', shape };
}

/** Decodes a .npy file held in memory. */
export function decodeNpy(bytes: Uint8Array): NpyArray {
  const { descr, shape, dv, at, size } = readHeader(bytes);
  const m = /^([<>|=])([fi])(\d)$/.exec(descr);
  const kind = m ? `${m[2]}${m[3]}` : '';
  if (!m || !['f4', 'i4', 'f8'].includes(kind)) throw new NpyError(`unsupported dtype ${JSON.stringify(descr)} (supported: f4, i4, f8)`);
  const little = m[1] !== '>'; // '=' is native; every platform we run on is little-endian
  const width = Number(m[3]);
  const n = shape.reduce((a, b) => a * b, 1);
  if (size !== n * width) {
    throw new NpyError(`data has ${size} bytes but shape (${shape.join(', ')}) of ${descr} needs ${n * width}`);
  }
  if (kind === 'f4') {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = dv.getFloat32(at + 4 * i, little);
    return { dtype: 'float32', shape, data };
  }
  if (kind === 'i4') {
    const data = new Int32Array(n);
    for (let i = 0; i < n; i++) data[i] = dv.getInt32(at + 4 * i, little);
    return { dtype: 'int32', shape, data };
  }
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = dv.getFloat64(at + 8 * i, little);
  return { dtype: 'float64', shape, data };
}

/** The header of a .npy held in memory: descr, shape, and where (and how many bytes) the data is. */
function readHeader(bytes: Uint8Array): { descr: string; shape: number[]; dv: DataView; at: number; size: number } {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError('not a .npy file: magic "\\x93NUMPY" missing');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number;
  let start: number;
  if (major === 1) [hlen, start] = [dv.getUint16(8, true), 10];
  else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError('truncated .npy header');
    [hlen, start] = [dv.getUint32(8, true), 12];
  } else throw new NpyError(`unsupported .npy format version ${major}.${bytes[7]}`);
  if (start + hlen > bytes.length) throw new NpyError(`header length ${hlen} runs past the end of the file (${bytes.length} bytes)`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + hlen));
  const { descr, fortran, shape } = parseHeader(text);
  if (fortran) throw new NpyError('fortran_order arrays are not supported; save with np.ascontiguousarray');
  const at = start + hlen;
  return { descr, shape, dv, at, size: bytes.length - at };
}

export async function writeNpyFile(path: string, data: Float32Array | Int32Array, shape: number[]): Promise<void> {
  await writeFileAtomic(path, encodeNpy(data, shape));
}

export async function readNpyFile(path: string): Promise<NpyArray> {
  try {
    return decodeNpy(await readFile(path));
  } catch (e) {
    if (e instanceof NpyError) throw new NpyError(`${path}: ${e.message}`);
    throw e;
  }
}
