import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  encodeSafetensorsRaw,
  f16ToNumber,
  readSafetensorsFile,
  readSafetensorsMetadata,
  SafetensorsError,
  writeSafetensorsFile,
} from '../../server/model/safetensors.js';

/** A file from a header object (serialised as given, unpadded) and `dataLen` zero bytes of data. */
function build(header: unknown, dataLen: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

const f32 = (dtype = 'F32', shape = [2], data_offsets = [0, 8]) => ({ dtype, shape, data_offsets });

describe('encodeSafetensors / decodeSafetensors', () => {
  it('round-trips float32 tensors and metadata exactly', () => {
    const a = new Float32Array([1.5, -2.25, 3e-8, Infinity, -0, 7]);
    const b = new Float32Array([0.1]);
    const empty = new Float32Array(0);
    const bytes = encodeSafetensors(
      [
        { name: 'x.a', shape: [2, 3], data: a },
        { name: 'x.b', shape: [], data: b },
        { name: 'x.empty', shape: [0, 4], data: empty },
      ],
      { config: '{"d_model":8}', note: 'héllo' },
    );
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ config: '{"d_model":8}', note: 'héllo' });
    expect(tensors.get('x.a')).toEqual({ shape: [2, 3], dtype: 'F32', data: a });
    expect(tensors.get('x.b')!.shape).toEqual([]);
    expect(tensors.get('x.b')!.data[0]).toBe(Math.fround(0.1));
    expect(tensors.get('x.empty')!.data.length).toBe(0);
    expect(Object.is(tensors.get('x.a')!.data[4], -0)).toBe(true);
  });

  it('matches a file built byte by byte from the specification', () => {
    // Two F32 tensors, given out of order: the writer sorts by name and puts __metadata__ first.
    const bytes = encodeSafetensors(
      [
        { name: 'b', shape: [1, 1], data: new Float32Array([0.5]) },
        { name: 'a', shape: [2], data: new Float32Array([1, -2]) },
      ],
      { k: 'v' },
    );
    const json =
      '{"__metadata__":{"k":"v"},' + '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' + '"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8); // data starts 8-byte aligned
    const N = padded.length;
    const expected = [
      // N as u64 little-endian
      N & 0xff,
      (N >> 8) & 0xff,
      0,
      0,
      0,
      0,
      0,
      0,
      ...Array.from(padded, (c) => c.charCodeAt(0)),
      0x00,
      0x00,
      0x80,
      0x3f, // a[0] = 1.0f
      0x00,
      0x00,
      0x00,
      0xc0, // a[1] = -2.0f
      0x00,
      0x00,
      0x00,
      0x3f, // b[0,0] = 0.5f
    ];
    expect(Array.from(bytes)).toEqual(expected);
    expect((8 + N) % 8).toBe(0);
    // And the reader parses the hand-built bytes.
    const { tensors } = decodeSafetensors(new Uint8Array(expected));
    expect(Array.from(tensors.get('a')!.data)).toEqual([1, -2]);
    expect(tensors.get('b')!.shape).toEqual([1, 1]);
  });

  it('reads F16, BF16, F64, I64, I32 and BOOL tensors as float32', () => {
    const le = (n: number, width: number, f: (dv: DataView) => void): Uint8Array => {
      const u = new Uint8Array(n * width);
      f(new DataView(u.buffer));
      return u;
    };
    const h = [0x3c00, 0xc000, 0x7c00, 0x0001, 0x3555]; // 1, -2, +inf, 2^-24 (subnormal), 0.333251953125
    const bytes = encodeSafetensorsRaw([
      { name: 'h', dtype: 'F16', shape: [5], bytes: le(5, 2, (dv) => h.forEach((v, i) => dv.setUint16(2 * i, v, true))) },
      { name: 'bf', dtype: 'BF16', shape: [2], bytes: le(2, 2, (dv) => [0x3f80, 0xc040].forEach((v, i) => dv.setUint16(2 * i, v, true))) },
      { name: 'd', dtype: 'F64', shape: [1], bytes: le(1, 8, (dv) => dv.setFloat64(0, 0.1, true)) },
      { name: 'l', dtype: 'I64', shape: [2], bytes: le(2, 8, (dv) => [-5n, 1n << 40n].forEach((v, i) => dv.setBigInt64(8 * i, v, true))) },
      { name: 'i', dtype: 'I32', shape: [1], bytes: le(1, 4, (dv) => dv.setInt32(0, -7, true)) },
      { name: 'm', dtype: 'BOOL', shape: [2, 2], bytes: new Uint8Array([1, 0, 1, 1]) },
    ]);
    const { tensors } = decodeSafetensors(bytes);
    expect(Array.from(tensors.get('h')!.data)).toEqual([1, -2, Infinity, 2 ** -24, 0.333251953125]);
    expect(tensors.get('h')!.dtype).toBe('F16');
    expect(Array.from(tensors.get('bf')!.data)).toEqual([1, -3]);
    expect(tensors.get('d')!.data[0]).toBe(Math.fround(0.1));
    expect(Array.from(tensors.get('l')!.data)).toEqual([-5, 2 ** 40]);
    expect(Array.from(tensors.get('i')!.data)).toEqual([-7]);
    expect(Array.from(tensors.get('m')!.data)).toEqual([1, 0, 1, 1]);
    expect(Number.isNaN(f16ToNumber(0x7e00))).toBe(true);
  });

  it('converts only selected tensors but still validates all', () => {
    const bytes = encodeSafetensors([
      { name: 'keep', shape: [1], data: new Float32Array([1]) },
      { name: 'skip', shape: [1], data: new Float32Array([2]) },
    ]);
    expect([...decodeSafetensors(bytes, { select: (n) => n === 'keep' }).tensors.keys()]).toEqual(['keep']);
  });
});

describe('validation: each malformed file gets a precise SafetensorsError', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['file shorter than the length field', new Uint8Array(5), /too short: 5 bytes/],
    [
      'header length over the cap',
      (() => {
        const u = build({}, 0);
        new DataView(u.buffer).setBigUint64(0, 1n << 40n, true);
        return u;
      })(),
      /exceeds the 100000000-byte limit/,
    ],
    [
      'a text file',
      new TextEncoder().encode('# Searchlight\n\nA collaborative research platform'),
      /^not a safetensors file: no header length and JSON header at its start \(it begins "# Searchlight\.\.A"\)$/,
    ],
    [
      'header length past the end',
      (() => {
        const u = build({}, 0);
        new DataView(u.buffer).setBigUint64(0, 99n, true);
        return u;
      })(),
      /header length 99 runs past the end of the file \(10 bytes\)/,
    ],
    ['header that is not JSON', build('{"a": nope}', 0), /not valid JSON/],
    ['header that is not an object', build('[1, 2]  ', 0), /must start with '\{'/],
    ['non-string metadata', build({ __metadata__: { n: 1 } }, 0), /__metadata__\.n must be a string, got 1/],
    ['unsupported dtype', build({ t: f32('F8_E4M3') }, 8), /tensor "t": unsupported dtype "F8_E4M3"/],
    ['prototype name as dtype', build({ t: f32('constructor') }, 8), /tensor "t": unsupported dtype "constructor"/],
    ['negative shape', build({ t: f32('F32', [-2]) }, 8), /tensor "t": shape must be an array of non-negative integers/],
    ['reversed offsets', build({ t: f32('F32', [2], [8, 0]) }, 8), /tensor "t": data_offsets must be \[begin, end\]/],
    ['size not matching the shape', build({ t: f32('F32', [3], [0, 8]) }, 8), /tensor "t": data_offsets \[0, 8\] span 8 bytes but shape \[3\] × F32 needs 12/],
    ['offsets past the data section', build({ t: f32('F32', [2], [0, 8]) }, 4), /tensor "t": data_offsets \[0, 8\] run past the data section \(4 bytes\)/],
    ['overlapping tensors', build({ a: f32('F32', [2], [0, 8]), b: f32('F32', [1], [4, 8]) }, 8), /tensor "b": data_offsets \[4, 8\] overlap tensor "a"/],
    [
      'a hole between tensors',
      build({ a: f32('F32', [1], [0, 4]), b: f32('F32', [1], [8, 12]) }, 12),
      /hole in the data section: bytes \[4, 8\) before tensor "b"/,
    ],
    ['trailing bytes no tensor covers', build({ a: f32('F32', [1], [0, 4]) }, 12), /data section has 12 bytes but tensors cover only 4/],
    [
      'invalid UTF-8 in the header',
      (() => {
        const u = build('{"a":1}', 0);
        u[10] = 0xff;
        return u;
      })(),
      /not valid UTF-8/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes)).toThrow(message);
    });
  }

  it('the writer rejects wrong data lengths and duplicate names', () => {
    expect(() => encodeSafetensors([{ name: 'w', shape: [2, 2], data: new Float32Array(3) }])).toThrow(/tensor "w": 3 values given but shape \[2, 2\] holds 4/);
    const t = { name: 'w', shape: [1], data: new Float32Array(1) };
    expect(() => encodeSafetensors([t, t])).toThrow(/duplicate tensor name "w"/);
  });
});

describe('file helpers', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('write then read gives the same tensors, and leaves no temporary file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'searchlight-st-'));
    const path = join(dir, 'w.safetensors');
    const data = Float32Array.from({ length: 12 }, (_, i) => i / 7);
    await writeSafetensorsFile(path, [{ name: 'w', shape: [3, 4], data }], { a: 'b' });
    await writeSafetensorsFile(path, [{ name: 'w', shape: [3, 4], data }], { a: 'c' }); // overwrite
    const { tensors, metadata } = await readSafetensorsFile(path);
    expect(tensors.get('w')!.data).toEqual(data);
    expect(metadata.a).toBe('c');
    expect(await readdir(dir)).toEqual(['w.safetensors']);
  });

  it('read errors name the file', async () => {
    const path = join(dir, 'bad.safetensors');
    await writeFile(path, build({ t: f32() }, 4));
    await expect(readSafetensorsFile(path)).rejects.toThrow(`${path}: tensor "t"`);
  });

  it('reads the metadata alone from the header, checked as a whole read checks it', async () => {
    const path = join(dir, 'meta.safetensors');
    await writeSafetensorsFile(path, [{ name: 'w', shape: [2], data: Float32Array.of(1, 2) }], { step: '40', kind: 'probe' });
    expect({ ...(await readSafetensorsMetadata(path)) }).toEqual({ step: '40', kind: 'probe' });
    const headerOnly = (header: string) => {
      const h = Buffer.from(header, 'utf8');
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(h.length));
      return Buffer.concat([len, h]);
    };
    const bad = join(dir, 'meta-bad.safetensors');
    await writeFile(bad, headerOnly('{"__metadata__": {"step": 40}}'));
    await expect(readSafetensorsMetadata(bad)).rejects.toThrow(`${bad}: __metadata__.step must be a string, got 40`);
    await writeFile(bad, headerOnly('{"__metadata__": '));
    await expect(readSafetensorsMetadata(bad)).rejects.toThrow(`${bad}: header is not valid JSON`);
    await writeFile(bad, headerOnly('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'));
    expect({ ...(await readSafetensorsMetadata(bad)) }).toEqual({}); // no metadata: none, the tensors not read
  });
});
