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
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './safetensors.js';

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
  const descr = data instanceof Float32Array ? '<f4' : '<i4';
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1; // + 1 for the final '\n'
  const header = dict + ' '.repeat((ALIGN - (unpadded % ALIGN)) % ALIGN) + '\n';
  if (header.length > 0xffff) throw new NpyError(`header of ${header.length} bytes does not fit format 1.0`);
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  const dv = new DataView(out.buffer);
  dv.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const at = 10 + header.length;
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) dv.setFloat32(at + 4 * i, data[i], true);
    else dv.setInt32(at + 4 * i, data[i], true);
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
  const m = /^([<>|=])([fi])(\d)$/.exec(descr);
  const kind = m ? `${m[2]}${m[3]}` : '';
  if (!m || !['f4', 'i4', 'f8'].includes(kind)) throw new NpyError(`unsupported dtype ${JSON.stringify(descr)} (supported: f4, i4, f8)`);
  const little = m[1] !== '>'; // '=' is native; every platform we run on is little-endian
  const width = Number(m[3]);
  const n = shape.reduce((a, b) => a * b, 1);
  const at = start + hlen;
  if (bytes.length - at !== n * width) {
    throw new NpyError(`data has ${bytes.length - at} bytes but shape (${shape.join(', ')}) of ${descr} needs ${n * width}`);
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
