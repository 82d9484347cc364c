import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { directBinding, loadDirect } from '../../../server/model/onnx/direct.js';
import { OnnxEngine } from '../../../server/model/onnx/engine.js';
import { allHookNames } from '../../../server/model/onnx/hooks.js';
import { GraphBuilder } from '../../../server/model/onnx/builder.js';
import { feedF32, feedI32, OrtSession, runtimeOptionsFromEnv } from '../../../server/model/onnx/runtime.js';
import { randomTokens, randomWeights, tinyLike } from './helpers.js';

const reasonOf = (r: ReturnType<typeof loadDirect>): string => ('reason' in r ? r.reason : 'loaded');
const available = 'binding' in directBinding();

/** y = x · 2 + 1 on a [N] float input. */
function tinyModel(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', 'float', ['N']);
  g.rename(g.op('Add', [g.op('Mul', [x, g.f32([2], [])]), g.f32([1], [])]), 'y');
  g.output('y', 'float', ['N']);
  return g.encode('tiny');
}

const engines: OnnxEngine[] = [];
afterAll(async () => {
  for (const e of engines) await e.dispose();
});

describe('the direct (zero-copy) ONNX Runtime binding', () => {
  // npm's postinstall builds it; on Linux a missing build is a broken install, not a skip.
  it.runIf(process.platform === 'linux')('is built by npm install on Linux and is what CPU sessions use by default', async () => {
    const d = directBinding();
    expect('binding' in d ? d.binding.version : d.reason).toMatch(/^1\.\d+\.\d+$/);
    // One CPU arena for every session: outputs held by JS live in it (why: ort_direct.cc, Init).
    expect('binding' in d && d.binding.sharedArena).toBe(true);
    const s = await OrtSession.create(tinyModel(), { device: 'cpu' });
    expect(s.binding).toBe('direct');
    expect(s.inputNames).toEqual(['x']);
    expect(s.outputNames).toEqual(['y']);
    const out = await s.run({ x: feedF32(Float32Array.of(0, 1.5, -2), [3]) }, ['y']);
    expect(out.y.dims).toEqual([3]);
    expect(Array.from(out.y.data)).toEqual([1, 4, -3]);
    await s.dispose();
  });

  it('SEARCHLIGHT_ORT picks the binding; a bad value is an error naming the variable', async () => {
    expect(runtimeOptionsFromEnv({ SEARCHLIGHT_ORT: 'node' })).toEqual({ binding: 'node' });
    expect(() => runtimeOptionsFromEnv({ SEARCHLIGHT_ORT: 'fast' })).toThrow(/SEARCHLIGHT_ORT must be auto, direct or node; got "fast"/);
    const s = await OrtSession.create(tinyModel(), { binding: 'node' });
    expect(s.binding).toBe('node');
    expect(Array.from((await s.run({ x: feedF32(Float32Array.of(3), [1]) }, ['y'])).y.data)).toEqual([7]);
    await s.dispose();
  });

  it.each(available ? (['direct', 'node'] as const) : (['node'] as const))('%s: a non-float output is an error naming it and its type', async (binding) => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float', ['N']);
    g.rename(g.op('Shape', [x]), 'n');
    g.output('n', 'int64', [1]);
    const s = await OrtSession.create(g.encode('shape'), { binding });
    await expect(s.run({ x: feedF32(Float32Array.of(1, 2), [2]) }, ['n'])).rejects.toThrow(/^output n has type int64, expected float32$/);
    await s.dispose();
  });

  it.runIf(available)('gives bit-identical logits and hooks to onnxruntime-node for the same graph', async () => {
    const cfg = tinyLike();
    const w = randomWeights(cfg, 21);
    const B = 3,
      T = 11;
    const tokens = randomTokens(cfg, B * T, 8);
    const direct = await OnnxEngine.create(cfg, w, { binding: 'direct' });
    const node = await OnnxEngine.create(cfg, w, { binding: 'node' });
    engines.push(direct, node);
    expect([direct.binding, node.binding]).toEqual(['direct', 'node']);
    const a = await direct.runWithCache(tokens, B, T);
    const b = await node.runWithCache(tokens, B, T);
    expect(Array.from(a.logits)).toEqual(Array.from(b.logits));
    expect(a.cache.size).toBe(allHookNames(cfg).length);
    for (const [name, act] of b.cache) {
      expect(a.cache.get(name)!.shape, name).toEqual(act.shape);
      expect(Array.from(a.cache.get(name)!.data), name).toEqual(Array.from(act.data));
    }
  });

  it.runIf(available)('outputs are never overwritten by later runs and outlive their session', async () => {
    // The outputs are ORT's arena memory handed to JS; a later run must never reuse a block that JS
    // still holds, or a cache would silently change under the researcher's feet.
    const cfg = tinyLike();
    const w = randomWeights(cfg, 22);
    const B = 4,
      T = 16;
    const engine = await OnnxEngine.create(cfg, w, { binding: 'direct' });
    engines.push(engine);
    const first = await engine.runWithCache(randomTokens(cfg, B * T, 1), B, T);
    const snapshot = new Map([...first.cache].map(([n, a]) => [n, a.data.slice()]));
    const logits = first.logits.slice();
    for (let i = 0; i < 20; i++) {
      const other = await engine.runWithCache(randomTokens(cfg, B * T, 100 + i), B, T);
      expect(other.logits).not.toEqual(logits); // different tokens: the runs did produce other values
    }
    await engine.dispose();
    // Freed memory that nobody reused would still read right, so make ORT reuse memory: another
    // engine's runs of the same shapes draw on the same shared arena.
    const other = await OnnxEngine.create(cfg, randomWeights(cfg, 23), { binding: 'direct' });
    engines.push(other);
    for (let i = 0; i < 5; i++) await other.runWithCache(randomTokens(cfg, B * T, 200 + i), B, T);
    expect(first.logits).toEqual(logits);
    for (const [name, act] of first.cache) expect(act.data, name).toEqual(snapshot.get(name));
  });

  it.runIf(available)('reports ORT errors as rejections, lets runs in flight finish on dispose, and refuses runs after it', async () => {
    const s = await OrtSession.create(tinyModel(), { binding: 'direct' });
    await expect(s.run({ x: feedF32(Float32Array.of(1), [1]) }, ['nope'])).rejects.toThrow(/nope/);
    await expect(s.run({ x: feedI32(Int32Array.of(1), [1]) }, ['y'])).rejects.toThrow(/tensor\(int32\).*tensor\(float\)/s);
    const inFlight = s.run({ x: feedF32(new Float32Array(1 << 20).fill(2), [1 << 20]) }, ['y']);
    await s.dispose();
    const out = await inFlight;
    expect(out.y.data[0]).toBe(5);
    expect(out.y.data[(1 << 20) - 1]).toBe(5);
    await expect(s.run({ x: feedF32(Float32Array.of(1), [1]) }, ['y'])).rejects.toThrow(/session was released/);
    await expect(OrtSession.create(Uint8Array.of(1, 2, 3), { binding: 'direct' })).rejects.toThrow(/protobuf|parse|model/i);
  });

  it('asking for the direct binding with CUDA, or where it is unavailable, is an error that says why', async () => {
    await expect(OrtSession.create(tinyModel(), { device: 'cuda', binding: 'direct' })).rejects.toThrow(
      /runs CPU sessions only; CUDA sessions use onnxruntime-node/,
    );
    if (!available)
      await expect(OrtSession.create(tinyModel(), { binding: 'direct' })).rejects.toThrow(/direct ONNX Runtime binding was asked for .* but is unavailable: /);
  });

  it('refuses a build made from another version of the source or one that does not load, and says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ort-direct-'));
    try {
      mkdirSync(join(dir, 'build'));
      const source = '// a version of ort_direct.cc\n';
      writeFileSync(join(dir, 'ort_direct.cc'), source);
      writeFileSync(join(dir, 'build', 'ort_direct.node'), 'not a shared library');
      const stamp = (text: string) =>
        writeFileSync(join(dir, 'build', 'ort_direct.json'), JSON.stringify({ source_sha256: createHash('sha256').update(text).digest('hex') }));
      stamp('// another version\n');
      expect(reasonOf(loadDirect(dir))).toMatch(/built from another version of ort_direct\.cc \(npm run build:native\)/);
      stamp(source);
      expect(reasonOf(loadDirect(dir))).toMatch(/ort_direct\.node could not be loaded: /);
      rmSync(join(dir, 'build', 'ort_direct.node'));
      expect(reasonOf(loadDirect(dir))).toMatch(/is not built \(npm run build:native\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.runIf(available)('guards of the native run call', () => {
    const native = () => {
      const d = directBinding();
      if (!('binding' in d)) throw new Error(d.reason);
      return d.binding;
    };

    it("copies an output that is a graph input instead of handing out a view of the caller's memory", async () => {
      const g = new GraphBuilder();
      g.input('x', 'float', ['N']);
      g.output('x', 'float', ['N']);
      const s = await native().createSession(g.encode('passthrough'), {});
      const x = Float32Array.of(1, 2, 3);
      const [out] = await native().run(s.handle, ['x'], [{ type: 1, dims: [3], data: x }], ['x']);
      x[0] = 42; // the caller reuses its buffer: the output must not change with it
      expect(Array.from(new Float32Array(out.data))).toEqual([1, 2, 3]);
      native().release(s.handle);
    });

    it('rejects malformed inputs with an error naming the input, without crashing', async () => {
      const s = await native().createSession(tinyModel(), {});
      const run = (input: object) => native().run(s.handle, ['x'], [input as never], ['y']);
      expect(() => run({ type: 1, dims: [2], data: Int32Array.of(1, 2) })).toThrow(/input x: its typed array does not hold element type 1/);
      expect(() => run({ type: 1, dims: [3], data: Float32Array.of(1, 2) })).toThrow(/input x has 8 bytes for its dims \(need 12\)/);
      expect(() => run({ type: 1, dims: [-1], data: Float32Array.of(1) })).toThrow(/input x has a bad dimension/);
      const dims = [1];
      Object.defineProperty(dims, 0, {
        get: () => {
          throw new Error('boom');
        },
      });
      expect(() => run({ type: 1, dims, data: Float32Array.of(1) })).toThrow(/input x has a bad dimension/);
      expect(() => native().run({}, ['x'], [], ['y'])).toThrow(/not a session handle/);
      expect(() => native().release({})).toThrow(/expected a session handle/);
      // The session still works after all of that.
      const [y] = await run({ type: 1, dims: [1], data: Float32Array.of(2) });
      expect(Array.from(new Float32Array(y.data))).toEqual([5]);
      native().release(s.handle);
    });
  });
});
