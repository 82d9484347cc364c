/**
 * Reads NumPy .npy bytes as served by /files/caches/<key>/<hook>.npy and
 * /files/checkpoints/<id>/<tensor>.npy (format 1.0-3.0, C order, little-endian f4/f8/i4).
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
export interface NpyTensor {
  shape: number[];
  /** Row-major values. */
  data: Float32Array | Float64Array | Int32Array;
}

export function parseNpy(buf: ArrayBuffer): NpyTensor {
  const u8 = new Uint8Array(buf);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (u8.length < 10 || magic.some((b, i) => u8[i] !== b)) throw new Error('not a .npy file (bad magic bytes)');
  const major = u8[6];
  const dv = new DataView(buf);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(u8.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error('.npy in Fortran order is not supported');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const offset = start + headerLen;
  const n = shape.reduce((a, b) => a * b, 1);
  const body = buf.slice(offset, offset + n * (descr === '<f8' ? 8 : 4)); // copy: aligned for typed arrays
  if (descr === '<f4') return { shape, data: new Float32Array(body) };
  if (descr === '<f8') return { shape, data: new Float64Array(body) };
  if (descr === '<i4') return { shape, data: new Int32Array(body) };
  throw new Error(`.npy dtype ${descr} is not supported (expected <f4, <f8 or <i4)`);
}

/** Fetches and parses one .npy over HTTP with the session cookie. */
export async function fetchNpy(url: string): Promise<NpyTensor> {
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) {
    const msg = await res.json().then(
      (b: { errors?: Array<{ message: string }> }) => b.errors?.[0]?.message,
      () => undefined,
    );
    throw new Error(`GET ${url}: HTTP ${res.status}${msg ? `: ${msg}` : ''}`);
  }
  return parseNpy(await res.arrayBuffer());
}
