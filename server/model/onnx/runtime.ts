/**
 * Creates inference sessions from model bytes on the execution provider chosen by
 * SEARCHLIGHT_DEVICE and the binding chosen by SEARCHLIGHT_ORT, and runs them on plain
 * {dims, data} records so the rest of the engine never sees ORT types. With backends.ts (how each
 * binding runs a session) and direct.ts, the only modules that touch ONNX Runtime.
 *
 * Devices:
 *   SEARCHLIGHT_DEVICE=cpu   CPU execution provider (default).
 *   SEARCHLIGHT_DEVICE=cuda  CUDA execution provider; an error if it cannot be loaded. The npm
 *                            package ships CPU only; get CUDA with
 *                            `npm install --onnxruntime-node-install=cuda12` on a machine with
 *                            CUDA 12 and cuDNN 9.
 *   SEARCHLIGHT_DEVICE=auto  try CUDA, fall back to CPU.
 *   SEARCHLIGHT_THREADS=N    intra-op threads (default: ORT's choice, one per physical core).
 *   SEARCHLIGHT_SPIN=1       let ORT's threads spin-wait between ops (off by default).
 *
 * Bindings (CPU): `direct` is our own binding to ORT's C API (direct.ts), which hands outputs to
 * JavaScript without copying them; `node` is onnxruntime-node, which copies every output once.
 * Both drive the same libonnxruntime with the same session options, so results are identical.
 *   SEARCHLIGHT_ORT=auto     direct where it was built, else node (default).
 *   SEARCHLIGHT_ORT=direct   direct; an error saying why if it is unavailable.
 *   SEARCHLIGHT_ORT=node     onnxruntime-node.
 * The CUDA provider always goes through onnxruntime-node.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DirectBackend, NodeBackend, type Backend, type SessionSettings } from './backends.js';
import { directBinding } from './direct.js';

export type Device = 'cpu' | 'cuda' | 'auto';
export type Binding = 'auto' | 'direct' | 'node';
/** The binding a session actually runs on. */
export type ActiveBinding = Exclude<Binding, 'auto'>;

export interface RuntimeOptions {
  device?: Device;
  /** intraOpNumThreads; 0 or undefined = ORT default. */
  threads?: number;
  /** Let ORT's intra-op threads spin-wait (lower latency on an otherwise idle machine); default off. */
  spin?: boolean;
  /** ORT graph optimization level (default 'all'). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** ORT's memory pattern (default on). */
  memPattern?: boolean;
  /** Which binding runs CPU sessions (default auto: direct where built). */
  binding?: Binding;
}

export class RuntimeError extends Error {
  override name = 'RuntimeError';
}

/** Reads SEARCHLIGHT_DEVICE, SEARCHLIGHT_THREADS and SEARCHLIGHT_SPIN; a bad value is an error naming the variable. */
export function runtimeOptionsFromEnv(env: Record<string, string | undefined> = process.env): RuntimeOptions {
  const opts: RuntimeOptions = {};
  const dev = env.SEARCHLIGHT_DEVICE;
  if (dev !== undefined && dev !== '') {
    if (dev !== 'cpu' && dev !== 'cuda' && dev !== 'auto') {
      throw new RuntimeError(`SEARCHLIGHT_DEVICE must be cpu, cuda or auto; got ${JSON.stringify(dev)}`);
    }
    opts.device = dev;
  }
  const th = env.SEARCHLIGHT_THREADS;
  if (th !== undefined && th !== '') {
    const n = Number(th);
    if (!Number.isInteger(n) || n < 1 || n > 1024) {
      throw new RuntimeError(`SEARCHLIGHT_THREADS must be an integer in [1, 1024]; got ${JSON.stringify(th)}`);
    }
    opts.threads = n;
  }
  const spin = env.SEARCHLIGHT_SPIN;
  if (spin !== undefined && spin !== '') {
    if (spin !== '0' && spin !== '1') throw new RuntimeError(`SEARCHLIGHT_SPIN must be 0 or 1; got ${JSON.stringify(spin)}`);
    opts.spin = spin === '1';
  }
  const binding = env.SEARCHLIGHT_ORT;
  if (binding !== undefined && binding !== '') {
    if (binding !== 'auto' && binding !== 'direct' && binding !== 'node') {
      throw new RuntimeError(`SEARCHLIGHT_ORT must be auto, direct or node; got ${JSON.stringify(binding)}`);
    }
    opts.binding = binding;
  }
  return opts;
}

/** A host tensor: row-major data with its dims. */
export interface HostTensor<A extends Float32Array | Int32Array | Uint8Array = Float32Array> {
  dims: number[];
  data: A;
}

/** A graph input: float32, int32, int64, or bool (bytes 0/1 in a Uint8Array). */
export type Feed =
  | { type: 'float32'; dims: number[]; data: Float32Array }
  | { type: 'int32'; dims: number[]; data: Int32Array }
  | { type: 'int64'; dims: number[]; data: BigInt64Array }
  | { type: 'bool'; dims: number[]; data: Uint8Array };

export const feedF32 = (data: Float32Array, dims: number[]): Feed => ({ type: 'float32', dims, data });
export const feedI32 = (data: Int32Array, dims: number[]): Feed => ({ type: 'int32', dims, data });
export const feedI64 = (data: BigInt64Array, dims: number[]): Feed => ({ type: 'int64', dims, data });
export const feedBool = (data: Uint8Array, dims: number[]): Feed => ({ type: 'bool', dims, data });

/**
 * Whether onnxruntime-node's CUDA provider library is installed next to its binding (the
 * cuda12 install puts libonnxruntime_providers_cuda there). Checked first so `auto` on a CPU-only
 * install does not make ORT log a failed library load.
 */
export function cudaProviderInstalled(): boolean {
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const dir = join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(dir) && readdirSync(dir).some((f) => f.includes('onnxruntime_providers_cuda'));
  } catch {
    return false;
  }
}

let warnedFallback = false;
/** Says once per process that outputs are copied, and why (e.g. a git pull without npm install). */
function warnFallbackOnce(reason: string): void {
  if (warnedFallback) return;
  warnedFallback = true;
  process.emitWarning(`ONNX Runtime outputs are copied through onnxruntime-node: the direct binding is unavailable (${reason})`, {
    code: 'SEARCHLIGHT_ORT_FALLBACK',
  });
}

export class OrtSession {
  private constructor(
    private readonly backend: Backend,
    /** The execution provider actually used. */
    readonly provider: 'cpu' | 'cuda',
    /** The binding that runs it: our zero-copy one (direct) or onnxruntime-node (node). */
    readonly binding: ActiveBinding,
  ) {}

  get inputNames(): readonly string[] {
    return this.backend.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.backend.outputNames;
  }

  static async create(model: Uint8Array, opts: RuntimeOptions = {}): Promise<OrtSession> {
    const device = opts.device ?? 'cpu';
    const binding = opts.binding ?? 'auto';
    if (device === 'cuda' && binding === 'direct') {
      throw new RuntimeError(
        'the direct ONNX Runtime binding runs CPU sessions only; CUDA sessions use onnxruntime-node (set SEARCHLIGHT_ORT to auto or node)',
      );
    }
    const settings: SessionSettings = {
      threads: opts.threads ?? 0,
      // ORT's worker threads spin-wait between ops by default; on a shared 2-core machine that burns
      // the other processes' CPU (a patching sweep measured 2× slower under load), so it is opt-in.
      spin: !!opts.spin,
      memPattern: opts.memPattern ?? true,
      optimization: opts.optimization ?? 'all',
    };
    if (device === 'cuda' || device === 'auto') {
      try {
        if (!cudaProviderInstalled()) throw new Error('libonnxruntime_providers_cuda is not installed');
        return new OrtSession(await NodeBackend.create(model, settings, ['cuda', 'cpu']), 'cuda', 'node');
      } catch (e) {
        if (device === 'cuda') {
          throw new RuntimeError(
            `SEARCHLIGHT_DEVICE=cuda but the ONNX Runtime CUDA execution provider could not be used (${(e as Error).message}). ` +
              'onnxruntime-node ships CPU only; install the CUDA provider with `npm install --onnxruntime-node-install=cuda12` ' +
              'on a machine with CUDA 12 and cuDNN 9, or set SEARCHLIGHT_DEVICE=cpu or auto.',
          );
        }
      }
    }
    if (binding !== 'node') {
      const d = directBinding();
      if ('binding' in d) return new OrtSession(await DirectBackend.create(d.binding, model, settings), 'cpu', 'direct');
      if (binding === 'direct') {
        throw new RuntimeError(`the direct ONNX Runtime binding was asked for (SEARCHLIGHT_ORT=direct or the binding option) but is unavailable: ${d.reason}`);
      }
      warnFallbackOnce(d.reason);
    }
    return new OrtSession(await NodeBackend.create(model, settings, ['cpu']), 'cpu', 'node');
  }

  /**
   * Runs the graph on `feeds`, fetching only `fetch` (ORT computes what those outputs need). Both
   * bindings read the feeds' arrays in place: do not write, transfer or resize them until the
   * promise settles.
   */
  async run(feeds: Record<string, Feed>, fetch: readonly string[]): Promise<Record<string, HostTensor>> {
    for (const [name, f] of Object.entries(feeds)) {
      const n = f.dims.reduce((a, b) => a * b, 1);
      if (f.data.length !== n) throw new RuntimeError(`input ${name}: ${f.data.length} values for dims [${f.dims}] (need ${n})`);
    }
    const out = await this.backend.run(feeds, fetch);
    const res: Record<string, HostTensor> = {};
    fetch.forEach((name, i) => {
      const { type, dims, data } = out[i];
      if (!data) throw new RuntimeError(`output ${name} has type ${type}, expected float32`);
      res[name] = { dims, data };
    });
    return res;
  }

  async dispose(): Promise<void> {
    await this.backend.dispose();
  }
}
