/**
 * The two ways runtime.ts runs a compiled graph on ONNX Runtime's CPU (or CUDA) provider:
 * `NodeBackend` through onnxruntime-node, which copies every output into a fresh ArrayBuffer, and
 * `DirectBackend` through our own binding (direct.ts), which hands ORT's output memory over.
 * Both take and return plain {dims, data} records so the engine never sees either library's types.
 */
import type * as ort from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { ELEMENT_TYPE, type DirectBinding, type DirectSession } from './direct.js';
import { RuntimeError, type Feed, type HostTensor } from './runtime.js';

/** ORT's GraphOptimizationLevel values, by the names onnxruntime-node uses. */
export const OPT_LEVEL = { disabled: 0, basic: 1, extended: 2, all: 99 } as const;

/** One compiled graph behind either binding. */
export interface Backend {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, Feed>, fetch: readonly string[]): Promise<Record<string, HostTensor>>;
  dispose(): Promise<void>;
}

export class NodeBackend implements Backend {
  constructor(private readonly session: ort.InferenceSession) {}
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }
  async run(feeds: Record<string, Feed>, fetch: readonly string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = new Tensor(f.type, f.data, f.dims);
    const out = await this.session.run(ortFeeds, fetch as string[]);
    const res: Record<string, HostTensor> = {};
    for (const name of fetch) {
      const t = out[name];
      if (t.type !== 'float32') throw new RuntimeError(`output ${name} has type ${t.type}, expected float32`);
      res[name] = { dims: t.dims.slice(), data: t.data as Float32Array };
    }
    return res;
  }
  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export class DirectBackend implements Backend {
  constructor(
    private readonly native: DirectBinding,
    private readonly session: DirectSession,
  ) {}
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }
  async run(feeds: Record<string, Feed>, fetch: readonly string[]): Promise<Record<string, HostTensor>> {
    const names = Object.keys(feeds);
    // Each input as ORT's element-type code over the caller's array (read in place, not copied).
    const inputs = names.map((n) => ({ type: ELEMENT_TYPE[feeds[n].type], dims: feeds[n].dims, data: feeds[n].data }));
    const out = await this.native.run(this.session.handle, names, inputs, [...fetch]); // in `fetch` order
    const res: Record<string, HostTensor> = {};
    fetch.forEach((name, i) => {
      const t = out[i];
      if (t.type !== ELEMENT_TYPE.float32) throw new RuntimeError(`output ${name} has ONNX element type ${t.type}, expected float32 (1)`);
      res[name] = { dims: t.dims, data: new Float32Array(t.data) }; // a view over ORT's memory, dims as ORT reports
    });
    return res;
  }
  async dispose(): Promise<void> {
    this.native.release(this.session.handle);
  }
}
