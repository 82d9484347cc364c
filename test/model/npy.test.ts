import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, NpyError, readNpyFile, writeNpyFile } from '../../server/model/npy.js';

/** The header text and the data offset, read straight from the format's fixed fields. */
function header(bytes: Uint8Array): { text: string; dataAt: number } {
  const hlen = bytes[8] | (bytes[9] << 8);
  return { text: String.fromCharCode(...bytes.subarray(10, 10 + hlen)), dataAt: 10 + hlen };
}

/** A version 1.0 file with any header dict and data bytes, for reader tests. */
function npy(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const text = dict + ' '.repeat((64 - ((pre + dict.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, text.length, true);
  else dv.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i);
  out.set(data, pre + text.length);
  return out;
}

describe('encodeNpy', () => {
  it('writes magic, version 1.0 and a 64-aligned, newline-terminated header dict', () => {
    const bytes = encodeNpy(new Float32Array(6), [2, 3]);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const { text, dataAt } = header(bytes);
    expect(dataAt % 64).toBe(0);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    expect(bytes.length).toBe(dataAt + 6 * 4);
  });

  it('writes Python tuple syntax for 1-D and 0-D shapes and <i4 for Int32Array', () => {
    expect(header(encodeNpy(new Int32Array(5), [5])).text.trimEnd()).toBe("{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }");
    expect(header(encodeNpy(new Float32Array(1), [])).text).toContain("'shape': ()");
  });

  it('stores the data little-endian, row-major', () => {
    const bytes = encodeNpy(new Float32Array([1, -2]), [2]);
    const { dataAt } = header(bytes);
    expect(Array.from(bytes.subarray(dataAt))).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
  });

  it('rejects a shape that does not hold the data', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/shape \[2, 3\] holds 6 values but 5 were given/);
  });
});

describe('decodeNpy', () => {
  it('round-trips float32 and int32 arrays exactly', () => {
    const f = Float32Array.from({ length: 24 }, (_, i) => Math.fround(Math.sin(i) * 1e3));
    expect(decodeNpy(encodeNpy(f, [2, 3, 4]))).toEqual({ dtype: 'float32', shape: [2, 3, 4], data: f });
    const n = Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31)]);
    expect(decodeNpy(encodeNpy(n, [4]))).toEqual({ dtype: 'int32', shape: [4], data: n });
    expect(decodeNpy(encodeNpy(new Float32Array([3.5]), []))).toEqual({ dtype: 'float32', shape: [], data: new Float32Array([3.5]) });
  });

  it('reads big-endian, float64 and version 2.0 files', () => {
    const be = npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array([0x3f, 0x80, 0x00, 0x00]));
    expect(decodeNpy(be)).toEqual({ dtype: 'float32', shape: [1], data: new Float32Array([1]) });
    const d = new Uint8Array(8);
    new DataView(d.buffer).setFloat64(0, 0.1, true);
    const v2 = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", d, 2);
    expect(decodeNpy(v2)).toEqual({ dtype: 'float64', shape: [1, 1], data: new Float64Array([0.1]) });
  });

  const bad: Array<[string, Uint8Array, RegExp]> = [
    ['a file without the magic', new Uint8Array(16), /magic/],
    ['fortran-ordered data', npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", new Uint8Array(4)), /fortran_order/],
    ['an unsupported dtype', npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), /unsupported dtype "<c8"/],
    [
      'data shorter than the shape',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(8)),
      /data has 8 bytes but shape \(3\) of <f4 needs 12/,
    ],
    ['a header without a shape', npy("{'descr': '<f4', 'fortran_order': False, }", new Uint8Array(0)), /missing descr, fortran_order or shape/],
  ];
  for (const [what, bytes, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => decodeNpy(bytes)).toThrow(NpyError);
      expect(() => decodeNpy(bytes)).toThrow(message);
    });
  }

  it('file helpers round-trip', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'searchlight-npy-'));
    try {
      const path = join(dir, 'logits.npy');
      const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
      await writeNpyFile(path, data, [3, 2]);
      expect(await readNpyFile(path)).toEqual({ dtype: 'float32', shape: [3, 2], data });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
