/**
 * The two ways runtime.ts runs a compiled graph on ONNX Runtime: `NodeBackend` through
 * onnxruntime-node, which copies every output into a fresh ArrayBuffer, and `DirectBackend` through
 * our own binding (direct.ts), which hands ORT's output memory over. Both are made from one
 * `SessionSettings` record, so the two bindings cannot drift apart in how they configure ORT, and
 * both return outputs as {type, dims, data}; runtime.ts checks the types once for both.
 */
import * as ort from 'onnxruntime-node';
import { ELEMENT_TYPE, type DirectBinding, type DirectSession } from './direct.js';
import type { Feed } from './runtime.js';

/** How a session is configured, whichever binding runs it (defaults already applied). */
export interface SessionSettings {
  /** intra-op threads; 0 = ORT's choice. */
  threads: number;
  spin: boolean;
  memPattern: boolean;
  optimization: 'disabled' | 'basic' | 'extended' | 'all';
}

/** One output as a backend returns it: `data` is set for float32 outputs only. */
export interface BackendOutput {
  /** The element type, in onnxruntime-node's names ('float32', 'int64', …). */
  type: string;
  dims: number[];
  data: Float32Array | null;
}

/** One compiled graph behind either binding. */
export interface Backend {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Outputs in `fetch` order. */
  run(feeds: Record<string, Feed>, fetch: readonly string[]): Promise<BackendOutput[]>;
  dispose(): Promise<void>;
}

export class NodeBackend implements Backend {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(model: Uint8Array, s: SessionSettings, providers: string[]): Promise<NodeBackend> {
    const options: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: s.optimization,
      executionMode: 'sequential',
      interOpNumThreads: 1,
      enableMemPattern: s.memPattern,
      extra: { session: { intra_op: { allow_spinning: s.spin ? '1' : '0' } } },
      ...(s.threads ? { intraOpNumThreads: s.threads } : {}),
      executionProviders: providers,
    };
    return new NodeBackend(await ort.InferenceSession.create(model, options));
  }
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }
  async run(feeds: Record<string, Feed>, fetch: readonly string[]): Promise<BackendOutput[]> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(f.type, f.data, f.dims);
    const out = await this.session.run(ortFeeds, fetch as string[]);
    return fetch.map((name) => {
      const t = out[name];
      return { type: t.type, dims: t.dims.slice(), data: t.type === 'float32' ? (t.data as Float32Array) : null };
    });
  }
  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** ORT's GraphOptimizationLevel values, by the names onnxruntime-node uses. */
const OPT_LEVEL = { disabled: 0, basic: 1, extended: 2, all: 99 } as const;
/** ONNX element-type codes back to onnxruntime-node's names, for error messages. */
const TYPE_NAME = new Map<number, string>(Object.entries(ELEMENT_TYPE).map(([name, code]) => [code, name]));

export class DirectBackend implements Backend {
  private constructor(
    private readonly native: DirectBinding,
    private readonly session: DirectSession,
  ) {}

  static async create(native: DirectBinding, model: Uint8Array, s: SessionSettings): Promise<DirectBackend> {
    const session = await native.createSession(model, { threads: s.threads, spin: s.spin, memPattern: s.memPattern, optLevel: OPT_LEVEL[s.optimization] });
    return new DirectBackend(native, session);
  }
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }
  async run(feeds: Record<string, Feed>, fetch: readonly string[]): Promise<BackendOutput[]> {
    const names = Object.keys(feeds);
    // Each input as ORT's element-type code over the caller's array (read in place, not copied).
    const inputs = names.map((n) => ({ type: ELEMENT_TYPE[feeds[n].type], dims: feeds[n].dims, data: feeds[n].data }));
    const out = await this.native.run(this.session.handle, names, inputs, [...fetch]); // in `fetch` order
    return out.map((t) => {
      const float = t.type === ELEMENT_TYPE.float32;
      // A float32 output is a view over ORT's memory, with the dims ORT reports.
      return { type: TYPE_NAME.get(t.type) ?? `ONNX type ${t.type}`, dims: t.dims, data: float ? new Float32Array(t.data) : null };
    });
  }
  async dispose(): Promise<void> {
    this.native.release(this.session.handle);
  }
}
