/**
 * Loads ort_direct.node (native/ort_direct.cc), our binding to ONNX Runtime's C API that hands a
 * run's outputs to JavaScript without copying them: each output is an external ArrayBuffer over
 * memory from ORT's CPU arena, released back to the arena when the ArrayBuffer is collected.
 * onnxruntime-node copies every output into a fresh ArrayBuffer instead, which for a cache of every
 * hook (~950 MiB at hallway 32 × 256) cost more than the forward pass itself.
 *
 * It drives the libonnxruntime that onnxruntime-node installs, so both share one ONNX Runtime.
 * It exists where `npm install` could build it (Linux with a C++ compiler; see native/build.js);
 * `directBinding()` says why not otherwise, and runtime.ts then uses onnxruntime-node.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ONNX TensorProto.DataType codes (ORT's ONNXTensorElementDataType uses the same numbers). */
export const ELEMENT_TYPE = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9 } as const;

export interface DirectInput {
  type: number;
  dims: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

export interface DirectOutput {
  type: number;
  dims: number[];
  /** ORT's memory, not a copy; it stays valid for as long as the ArrayBuffer is reachable. */
  data: ArrayBuffer;
}

export interface DirectSession {
  handle: object;
  inputNames: string[];
  outputNames: string[];
}

export interface NativeSessionSettings {
  threads?: number;
  spin?: boolean;
  memPattern?: boolean;
  /** ORT GraphOptimizationLevel: 0 disabled, 1 basic, 2 extended, 99 all. */
  optLevel?: number;
}

export interface DirectBinding {
  /** ONNX Runtime's version string. */
  version: string;
  /** Whether all sessions share one CPU arena (registered with ORT's env; see ort_direct.cc). */
  sharedArena: boolean;
  createSession(model: Uint8Array, settings: NativeSessionSettings): Promise<DirectSession>;
  /** Inputs are read in place: do not write, transfer or resize them until the promise settles. */
  run(handle: object, inputNames: string[], inputs: DirectInput[], outputNames: string[]): Promise<DirectOutput[]>;
  /** Releases the session once its runs in flight finish; later runs throw. */
  release(handle: object): void;
}

interface Native {
  init(libPath: string): { version: string; sharedArena: boolean };
  createSession: DirectBinding['createSession'];
  run: DirectBinding['run'];
  release: DirectBinding['release'];
}

const here = dirname(fileURLToPath(import.meta.url));
const nativeDir = join(here, 'native');

let loaded: { binding: DirectBinding } | { reason: string } | undefined;

/** The libonnxruntime shared library inside the installed onnxruntime-node package. */
function onnxruntimeLibrary(require: ReturnType<typeof createRequire>): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime.so.1');
}

/**
 * Loads the binding built from `dir`/ort_direct.cc into `dir`/build (exported for tests). A build
 * whose recorded source hash differs from the source beside it is refused: it would run old code.
 */
export function loadDirect(dir: string = nativeDir): { binding: DirectBinding } | { reason: string } {
  const lib = join(dir, 'build', 'ort_direct.node');
  const stamp = join(dir, 'build', 'ort_direct.json');
  if (!existsSync(lib)) return { reason: `${lib} is not built (npm run build:native)` };
  try {
    const want = createHash('sha256')
      .update(readFileSync(join(dir, 'ort_direct.cc')))
      .digest('hex');
    const built = (JSON.parse(readFileSync(stamp, 'utf8')) as { source_sha256?: string }).source_sha256;
    if (built !== want) return { reason: `${lib} was built from another version of ort_direct.cc (npm run build:native)` };
    const require = createRequire(import.meta.url);
    const { init, createSession, run, release } = require(lib) as Native; // plain functions (no `this`)
    return { binding: { ...init(onnxruntimeLibrary(require)), createSession, run, release } };
  } catch (e) {
    return { reason: `${lib} could not be loaded: ${(e as Error).message}` };
  }
}

/** The binding, or why it is unavailable (loaded once per process). */
export function directBinding(): { binding: DirectBinding } | { reason: string } {
  return (loaded ??= loadDirect());
}
