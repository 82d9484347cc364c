/**
 * A small reader/writer for the safetensors format, written from its specification
 * (https://github.com/huggingface/safetensors#format):
 *
 *   [8 bytes] N: unsigned 64-bit little-endian header length
 *   [N bytes] UTF-8 JSON: { "<name>": { "dtype", "shape", "data_offsets": [begin, end] }, ...,
 *                           "__metadata__"?: { "<key>": "<string>" } }
 *   [rest]    the byte buffer; data_offsets are relative to its start; little-endian, row-major.
 *
 * The reader checks everything the spec (and the reference Rust implementation) requires: header
 * size within the file and a sane cap, JSON object, each tensor's dtype/shape/offsets, byte size =
 * product(shape) × dtype size, no overlaps and no holes, and the buffer fully covered. Every tensor
 * is converted to Float32 (TransformerLens checkpoints may be F16/BF16/F64; TL's `attn.mask` buffer is
 * BOOL). The writer emits F32 only, in the reference implementation's layout: header padded with
 * spaces so the data starts 8-byte aligned, tensors ordered by name (the reference sorts by dtype
 * alignment, then name; with one dtype that is name order), `__metadata__` first.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Largest header accepted; the reference implementation uses the same 100 MB limit. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of every dtype we can read. */
const DTYPE_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface DecodedTensor {
  shape: number[];
  /** Row-major values converted to float32 (I64 beyond ±2^24 lose precision, as any float32 would). */
  data: Float32Array;
  /** The dtype stored in the file. */
  dtype: SafetensorsDtype;
}

export interface RawTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Little-endian element bytes, exactly product(shape) × dtype size of them. */
  bytes: Uint8Array;
}

/** Own-property lookup, so names like "constructor" are not mistaken for dtypes. */
const dtypeSize = (d: unknown): number | undefined => (typeof d === 'string' && Object.hasOwn(DTYPE_SIZE, d) ? DTYPE_SIZE[d] : undefined);

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const fmtShape = (s: number[]): string => `[${s.join(', ')}]`;

/** Byte-wise (UTF-8) name order, as Rust's `str::cmp` sorts in the reference implementation. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape as number[];
}

/** Serialises already-encoded tensors (any dtype in DTYPE_SIZE); used by the F32 writer and by tests. */
export function encodeSafetensorsRaw(tensors: RawTensor[], metadata?: Record<string, string>): Uint8Array {
  const sorted = [...tensors].sort((a, b) => compareUtf8(a.name, b.name));
  // Null prototype: a tensor named "__proto__" must become a key, not a prototype.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${k} must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (let i = 0; i < sorted.length; i++) {
    const t = sorted[i];
    if (t.name === '__metadata__' || t.name.length === 0) throw new SafetensorsError(`invalid tensor name ${JSON.stringify(t.name)}`);
    if (i > 0 && sorted[i - 1].name === t.name) throw new SafetensorsError(`duplicate tensor name "${t.name}"`);
    const size = dtypeSize(t.dtype);
    if (size === undefined) throw new SafetensorsError(`tensor "${t.name}": unsupported dtype ${JSON.stringify(t.dtype)}`);
    const shape = checkShape(t.name, t.shape);
    if (t.bytes.length !== numel(shape) * size) {
      throw new SafetensorsError(`tensor "${t.name}": ${t.bytes.length} bytes given but shape ${fmtShape(shape)} × ${t.dtype} needs ${numel(shape) * size}`);
    }
    header[t.name] = { dtype: t.dtype, shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad with spaces so 8 + N is a multiple of 8 and every tensor starts aligned (as the reference does).
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of sorted) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

/** Serialises float32 tensors. `data` is row-major with product(shape) elements. */
export function encodeSafetensors(tensors: Array<{ name: string; shape: number[]; data: Float32Array }>, metadata?: Record<string, string>): Uint8Array {
  return encodeSafetensorsRaw(
    tensors.map((t) => {
      const shape = checkShape(t.name, t.shape);
      if (t.data.length !== numel(shape)) {
        throw new SafetensorsError(`tensor "${t.name}": ${t.data.length} values given but shape ${fmtShape(shape)} holds ${numel(shape)}`);
      }
      return { name: t.name, dtype: 'F32', shape, bytes: f32ToLeBytes(t.data) };
    }),
    metadata,
  );
}

export function f32ToLeBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint8Array(data.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
  return out;
}

/** IEEE 754 binary16 → number (handles subnormals, ±inf, NaN). */
export function f16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Converts `count` little-endian elements of `dtype` starting at `dv` byte `at` into float32. */
function toFloat32(dv: DataView, at: number, count: number, dtype: string): Float32Array {
  if (dtype === 'F32' && LITTLE_ENDIAN_HOST) {
    // Copy into a fresh (hence aligned) buffer; the file's offsets need not be 4-byte aligned.
    return new Float32Array(dv.buffer.slice(dv.byteOffset + at, dv.byteOffset + at + count * 4));
  }
  const out = new Float32Array(count);
  const u32 = new Uint32Array(1);
  const f32 = new Float32Array(u32.buffer);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F32':
        out[i] = dv.getFloat32(at + 4 * i, true);
        break;
      case 'F64':
        out[i] = dv.getFloat64(at + 8 * i, true);
        break;
      case 'F16':
        out[i] = f16ToNumber(dv.getUint16(at + 2 * i, true));
        break;
      // bfloat16 is the top half of a float32: shift the bits into place.
      case 'BF16':
        u32[0] = dv.getUint16(at + 2 * i, true) << 16;
        out[i] = f32[0];
        break;
      case 'I64':
        out[i] = Number(dv.getBigInt64(at + 8 * i, true));
        break;
      case 'I32':
        out[i] = dv.getInt32(at + 4 * i, true);
        break;
      case 'I16':
        out[i] = dv.getInt16(at + 2 * i, true);
        break;
      case 'I8':
        out[i] = dv.getInt8(at + i);
        break;
      case 'U8':
        out[i] = dv.getUint8(at + i);
        break;
      case 'BOOL':
        out[i] = dv.getUint8(at + i) ? 1 : 0;
        break;
      default:
        throw new SafetensorsError(`unsupported dtype ${dtype}`);
    }
  }
  return out;
}

export interface DecodeOptions {
  /** Convert only the tensors this returns true for (all are still validated). Default: all. */
  select?: (name: string) => boolean;
}

/** The header's JSON object (UTF-8, starting with '{'), or a SafetensorsError saying what it is instead. */
function parseHeader(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SafetensorsError('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new SafetensorsError(`header must start with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError('header must be a JSON object');
  return header as Record<string, unknown>;
}

/** A parsed header's __metadata__: an object of strings ({} when absent). */
function headerMetadata(header: Record<string, unknown>): Record<string, string> {
  const metadata: Record<string, string> = Object.create(null);
  const raw = header.__metadata__;
  if (raw === undefined) return metadata;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SafetensorsError('__metadata__ must be an object of strings');
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
    metadata[k] = v;
  }
  return metadata;
}

/** Parses and validates a whole safetensors file held in memory. */
export function decodeSafetensors(
  bytes: Uint8Array,
  opts: DecodeOptions = {},
): { tensors: Map<string, DecodedTensor>; metadata: Record<string, string> /** Every tensor's shape, selected or not. */; shapes: Map<string, number[]> } {
  if (bytes.length < 8) throw new SafetensorsError(`file too short: ${bytes.length} bytes, the 8-byte header length is missing`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  // A file whose first 8 bytes give an impossible header length and whose byte 8 does not open a
  // JSON object is some other file (a README, a .pt pickle, a zip): say so, not "header length 7521981565276200995".
  if ((n64 > BigInt(MAX_HEADER_BYTES) || 8n + n64 > BigInt(bytes.length)) && bytes.length > 8 && bytes[8] !== 0x7b) {
    const head = Array.from(bytes.subarray(0, 16), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    throw new SafetensorsError(`not a safetensors file: no header length and JSON header at its start (it begins ${JSON.stringify(head)})`);
  }
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) throw new SafetensorsError(`header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  if (n < 2) throw new SafetensorsError(`header length ${n} is too small to hold a JSON object`);
  const header = parseHeader(bytes.subarray(8, 8 + n));
  const metadata = headerMetadata(header);
  const entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }> = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (typeof raw !== 'object' || raw === null) throw new SafetensorsError(`tensor "${name}": entry must be an object`);
    const { dtype, shape, data_offsets: off } = raw as Record<string, unknown>;
    const size = dtypeSize(dtype);
    if (size === undefined) {
      throw new SafetensorsError(`tensor "${name}": unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    }
    const s = checkShape(name, shape);
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      throw new SafetensorsError(`tensor "${name}": data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    const want = numel(s) * size;
    if (end - begin !== want) {
      throw new SafetensorsError(
        `tensor "${name}": data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ${fmtShape(s)} × ${dtype} needs ${want}`,
      );
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: s, begin, end });
  }

  // Offsets must tile the buffer exactly: sorted by begin, each starts where the previous ended.
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const byStart = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev = '';
  for (const e of byStart) {
    if (e.end > dataLen) throw new SafetensorsError(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] run past the data section (${dataLen} bytes)`);
    if (e.begin < cursor)
      throw new SafetensorsError(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap tensor "${prev}" (which ends at ${cursor})`);
    if (e.begin > cursor) throw new SafetensorsError(`hole in the data section: bytes [${cursor}, ${e.begin}) before tensor "${e.name}" belong to no tensor`);
    cursor = e.end;
    prev = e.name;
  }
  if (cursor !== dataLen)
    throw new SafetensorsError(`data section has ${dataLen} bytes but tensors cover only ${cursor}; bytes [${cursor}, ${dataLen}) belong to no tensor`);

  const tensors = new Map<string, DecodedTensor>();
  for (const e of entries) {
    if (opts.select && !opts.select(e.name)) continue;
    tensors.set(e.name, { shape: e.shape, dtype: e.dtype, data: toFloat32(dv, dataStart + e.begin, numel(e.shape), e.dtype) });
  }
  return { tensors, metadata, shapes: new Map(entries.map((e) => [e.name, e.shape])) };
}

/** Reads and decodes a safetensors file. */
export async function readSafetensorsFile(path: string, opts: DecodeOptions = {}): Promise<ReturnType<typeof decodeSafetensors>> {
  const bytes = await readFile(path);
  try {
    return decodeSafetensors(bytes, opts);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${path}: ${e.message}`);
    throw e;
  }
}

/** The `__metadata__` of a safetensors file, read from its header alone (the tensors stay on disk). */
export async function readSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  const fh = await open(path, 'r');
  try {
    const len = Buffer.alloc(8);
    if ((await fh.read(len, 0, 8, 0)).bytesRead < 8) throw new SafetensorsError(`${path}: file too short for a safetensors header`);
    const n = len.readBigUInt64LE(0);
    if (n < 2n || n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`${path}: header length ${n} is not one a safetensors file has`);
    const header = Buffer.alloc(Number(n));
    if ((await fh.read(header, 0, header.length, 8)).bytesRead < header.length) throw new SafetensorsError(`${path}: the header runs past the end of the file`);
    try {
      return headerMetadata(parseHeader(header)); // checked as decodeSafetensors checks them
    } catch (e) {
      throw new SafetensorsError(`${path}: ${(e as Error).message}`);
    }
  } finally {
    await fh.close();
  }
}

/** Writes bytes to `path` atomically: a temporary file in the same directory, fsync, then rename. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Encodes float32 tensors and writes them atomically. */
export async function writeSafetensorsFile(
  path: string,
  tensors: Array<{ name: string; shape: number[]; data: Float32Array }>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
