/**
 * Seeded pseudo-random numbers that are bit-identical on every machine.
 *
 * sfc32 (Chris Doty-Humphrey's "small fast counting" generator, PractRand-clean) uses only 32-bit
 * integer arithmetic (`Math.imul`, shifts, `>>> 0`), so the same seed yields the same stream on any
 * JavaScript engine — the property "same seed ⇒ byte-identical mazes" rests on. Floats are only
 * ever derived from integers by exact operations (division by 2^32), never fed back.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | bigint | string = 0) {
    // Expand the seed with splitmix32 so nearby seeds give unrelated streams.
    let s = seedToU32(seed);
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32(); // warm-up, as the author recommends
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n), unbiased (Lemire's multiply-shift with rejection). */
  int(n: number): number {
    if (!(n >= 1 && n <= 0x100000000) || !Number.isInteger(n)) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    if (n === 1) return 0;
    // 2^32 mod n: values of x below it are rejected so every residue is equally likely.
    const threshold = 0x100000000 % n;
    for (;;) {
      const x = this.u32();
      if (x >= threshold) return x % n;
    }
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.u32() / 0x100000000;
  }

  /** One standard normal draw by Box–Muller (two uniforms; 1 − float() lies in (0, 1], so log() is finite). */
  normal(): number {
    const u1 = 1 - this.float();
    const u2 = this.float();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** True with probability p (exact to 2^-32). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.u32() < Math.floor(p * 0x100000000);
  }

  /** In-place Fisher–Yates shuffle of the first `len` entries. */
  shuffle<T extends { [i: number]: unknown; length: number }>(arr: T, len: number = arr.length): T {
    for (let i = len - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** An independent child stream, so parallel consumers do not perturb each other. */
  fork(): Rng {
    return new Rng(this.u32() ^ Math.imul(this.u32(), 0x9e3779b1));
  }
}

/** Seeds may be numbers (integers up to 2^53), bigints or strings; all map to 32 bits by FNV-1a. */
function seedToU32(seed: number | bigint | string): number {
  if (typeof seed === 'number') {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    // Fold the high bits in so seeds above 2^32 still differ.
    const hi = Math.floor(seed / 0x100000000);
    return ((seed >>> 0) ^ Math.imul(hi | 0, 0x85ebca6b)) >>> 0;
  }
  const text = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
