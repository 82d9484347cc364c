/**
 * One interface over where artifact bytes live (model weights, checkpoints, activation caches,
 * result tensors): the data directory by default, or an S3-compatible bucket so worker processes
 * on other machines share them. Rows keep recording a relative path, its size and its sha256; the
 * store behind the path is a deployment setting (store/index.ts storeFromEnv).
 *
 * The product's rule holds for both: no row ever points at a half-written object. `put` and
 * `putFile` leave either the whole object or nothing at the path, and resolve only once it is
 * complete, so the row that names it is written after they return.
 */
import type { Readable } from 'node:stream';

/** What a row records about a stored object. */
export interface StoredObject {
  /** The relative path it was stored at (POSIX style), as given. */
  path: string;
  /** Hex sha256 of the bytes: what readers check them against later. */
  sha256: string;
  bytes: number;
}

/** One entry of `list`. */
export interface ListedObject {
  path: string;
  bytes: number;
  /** When it was last written, in ms since the epoch (S3: whole seconds). */
  modifiedMs: number;
}

export interface ArtifactStore {
  /** For code that must behave differently (start-up messages, the orphan sweep's pacing). */
  readonly kind: 'local' | 's3';

  /** Where the bytes are, for logs and error messages; never credentials. */
  describe(): string;

  /** Stores `bytes` at `rel`, replacing what was there: the whole object or nothing, complete when this resolves. */
  put(rel: string, bytes: Uint8Array): Promise<StoredObject>;

  /** As `put`, streaming from a local file, so a checkpoint of a few hundred MB is never held in memory twice. The file must not change meanwhile. */
  putFile(rel: string, file: string): Promise<StoredObject>;

  /** The object's bytes, or undefined when there is none (a missing artifact is an answer, not a failure). */
  read(rel: string): Promise<Buffer | undefined>;

  /** The bytes checked against the sha256 a row recorded: a reason instead when missing or damaged, so a caller reports which. */
  readVerified(rel: string, sha256: string): Promise<{ bytes: Buffer } | { error: 'missing' | 'damaged' }>;

  /**
   * Size and a stream of the bytes, or undefined when missing: for serving large objects over
   * HTTP without buffering them. Each `stream()` call starts a new read.
   */
  open(rel: string): Promise<{ size: number; stream(): Readable } | undefined>;

  exists(rel: string): Promise<boolean>;

  /** Removes the object `rel` and every object under `rel/`, since deleting an experiment drops a folder of results. Missing is fine. */
  remove(rel: string): Promise<void>;

  /**
   * A local file holding the object's bytes, for readers that only take a path (ONNX Runtime,
   * safetensors decoders). The bytes are checked against `sha256` so a decoder never sees a
   * damaged file: the local store returns the file itself; the S3 store downloads into a cache
   * keyed by sha256 (temp file + rename, so a reader never sees half a download) and reuses it.
   * Missing or damaged objects are Errors naming the object. The file is read-only by contract.
   */
  localPath(rel: string, sha256: string): Promise<string>;

  /**
   * Every object under the folder `prefix` (i.e. under `prefix/`), sorted by path: for the
   * start-up sweep, which removes what no row references. Includes leftovers of interrupted writes
   * where the store has any (the local store's temporary files), since no row references them
   * either. With the time each was last written, because an object is stored BEFORE its row
   * commits: a sweep must spare objects younger than the longest write-to-commit gap, or it races
   * a writer on another machine (or process) and deletes an object whose row is about to appear.
   */
  list(prefix: string): Promise<ListedObject[]>;
}

/**
 * Refuses a relative path that could name something outside the store or name one object two
 * ways: absolute paths, backslashes, empty, `.` or `..` segments. Both stores check every path
 * here, so a path that works on one works on the other.
 */
export function checkArtifactPath(rel: string): string {
  const bad = (why: string): never => {
    throw new Error(`artifact path ${JSON.stringify(rel)} is not allowed: ${why}`);
  };
  if (typeof rel !== 'string' || rel === '') bad('it is empty');
  if (rel.startsWith('/')) bad('it is absolute (paths are relative to the store)');
  if (rel.includes('\\')) bad('it contains a backslash (paths use forward slashes)');
  if (rel.includes('\0')) bad('it contains a NUL character');
  for (const seg of rel.split('/')) {
    if (seg === '') bad('it has an empty segment');
    if (seg === '.' || seg === '..') bad(`it has a "${seg}" segment`);
  }
  return rel;
}

/** Whether `sha256` is a hex sha256: the S3 cache uses it as a file name, so nothing else may pass. */
export function isSha256(sha256: string): boolean {
  return /^[0-9a-f]{64}$/.test(sha256);
}
