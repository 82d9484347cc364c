/**
 * Artifacts in an S3-compatible bucket (AWS, MinIO, Ceph, …), so worker processes on other
 * machines share checkpoints and caches. The one home of the AWS SDK, which is loaded on the
 * first call that needs it (a dynamic import): the embedded default never loads it.
 *
 * A PutObject creates the whole object or none (S3 never exposes a partly uploaded object), which
 * gives the product's rule (object complete before the row that names it) with no temporary key.
 * Objects carry their sha256 as metadata (x-amz-meta-sha256) for people and tools that inspect
 * the bucket; readers still check the bytes against the row's sha256.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as S3 from '@aws-sdk/client-s3';
import { redactedUrl } from '../../env.js';
import { type ArtifactStore, checkArtifactPath, isSha256, type ListedObject, type StoredObject } from '../../db/store.js';

export interface S3StoreOptions {
  bucket: string;
  /** An S3-compatible server's URL (http://host:port); unset for AWS itself. */
  endpoint?: string;
  /** Default 'us-east-1' (what most S3-compatible servers expect when they ignore regions). */
  region?: string;
  /** Key prefix ("folder") inside the bucket, without slashes at either end; several deployments can share a bucket. */
  prefix?: string;
  /** Static credentials; unset: the AWS SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Where localPath keeps downloaded objects, one file per sha256. */
  cacheDir: string;
  /**
   * Bytes the download cache may hold (default 10 GiB): past it, the least recently used files go
   * (never the one just asked for), so a worker that loads many models does not fill its disk.
   */
  cacheMaxBytes?: number;
}

/** Default bound of the download cache. */
export const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;
/** A temporary download older than this is the leftover of a crashed process. */
const STALE_TMP_MS = 60 * 60_000;

type Sdk = typeof S3;

/** The bucket exists not (HeadBucket answered 404): told apart from a missing key, which HEAD cannot. */
class NoSuchBucket extends Error {
  override name = 'NoSuchBucket';
}

/** Error names and network codes that mean "the server could not be reached or did not answer". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError']);

/** One line saying what went wrong, from an SDK or network error (whose own message is often just "UnknownError"). */
function reason(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = err?.name ?? '';
  const code = err?.code ?? '';
  const status = err?.$metadata?.httpStatusCode;
  if (name === 'NoSuchBucket') return 'the bucket does not exist';
  if (name === 'InvalidAccessKeyId') return 'the server does not know the access key id';
  if (name === 'SignatureDoesNotMatch') return 'the secret access key does not match the access key id';
  if (name === 'AccessDenied' || status === 403) return "access denied (check the credentials and the bucket's policy)";
  if (name === 'CredentialsProviderError') return 'no credentials were given, and the AWS default chain found none';
  if (UNREACHABLE.has(code) || UNREACHABLE.has(name)) return `the endpoint is unreachable (${code || name})`;
  const what = name && name !== 'Error' && name !== 'UnknownError' ? name : 'error';
  return `${what}${status ? ` (HTTP ${status})` : ''}${err?.message && err.message !== name ? `: ${err.message}` : ''}`;
}

/** Whether `e` says the key has no object (and nothing worse). */
const isMissingKey = (e: unknown): boolean => {
  const name = (e as { name?: string })?.name;
  return name === 'NoSuchKey' || name === 'NotFound';
};

export class S3Store implements ArtifactStore {
  readonly kind = 's3' as const;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly cacheDir: string;
  private ready: Promise<{ sdk: Sdk; client: S3.S3Client }> | undefined;
  /** Downloads in flight, by sha256: concurrent loads of one model share one download. */
  private readonly downloads = new Map<string, Promise<string>>();

  constructor(private readonly opts: S3StoreOptions) {
    if (!opts.bucket) throw new Error('S3Store needs a bucket');
    this.bucket = opts.bucket;
    this.prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (this.prefix) checkArtifactPath(this.prefix);
    this.cacheDir = opts.cacheDir;
  }

  describe(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''} at ${this.where()}`;
  }

  /** The endpoint for messages: the URL without any user or password in it, or AWS and the region. */
  private where(): string {
    return this.opts.endpoint ? redactedUrl(this.opts.endpoint) : `AWS S3 (${this.opts.region ?? 'us-east-1'})`;
  }

  private key(rel: string): string {
    checkArtifactPath(rel);
    return this.prefix ? `${this.prefix}/${rel}` : rel;
  }

  /**
   * The SDK and a client, made on first use; the first use also checks that the bucket exists,
   * because a HEAD of a key in a missing bucket reads as "no such object" and a mistyped bucket
   * would otherwise look like every artifact gone. A 403 there is let through: a policy may allow
   * objects but not HeadBucket. A failed start is retried by the next call.
   */
  private client(): Promise<{ sdk: Sdk; client: S3.S3Client }> {
    this.ready ??= (async () => {
      const sdk = await import('@aws-sdk/client-s3');
      const client = new sdk.S3Client({
        region: this.opts.region ?? 'us-east-1',
        endpoint: this.opts.endpoint,
        forcePathStyle: true,
        credentials: this.opts.credentials,
        // Recent SDKs add CRC32 checksum headers by default, which older S3-compatible servers refuse.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        // A blackholed endpoint fails in seconds instead of hanging a job; an idle socket after 2 min.
        requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000 },
      });
      try {
        await client.send(new sdk.HeadBucketCommand({ Bucket: this.bucket }));
      } catch (e) {
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || (e as Error).name === 'NotFound' || (e as Error).name === 'NoSuchBucket') {
          client.destroy();
          throw new NoSuchBucket('no such bucket');
        }
        if (status !== 403) {
          client.destroy();
          throw e;
        }
      }
      return { sdk, client };
    })();
    this.ready.catch(() => {
      this.ready = undefined;
    });
    return this.ready;
  }

  /** An Error naming the operation, bucket, key and endpoint, with the SDK's error as its cause. */
  private failed(op: string, key: string, e: unknown): Error {
    return new Error(`S3 ${op} of s3://${this.bucket}/${key} at ${this.where()} failed: ${reason(e)}`, { cause: e });
  }

  /** Runs one SDK call; undefined when `missingOk` and the key has no object; other errors become `failed`. */
  private async call<T>(op: string, key: string, fn: (c: S3.S3Client, sdk: Sdk) => Promise<T>, missingOk: true): Promise<T | undefined>;
  private async call<T>(op: string, key: string, fn: (c: S3.S3Client, sdk: Sdk) => Promise<T>, missingOk?: false): Promise<T>;
  private async call<T>(op: string, key: string, fn: (c: S3.S3Client, sdk: Sdk) => Promise<T>, missingOk = false): Promise<T | undefined> {
    try {
      const { sdk, client } = await this.client();
      return await fn(client, sdk);
    } catch (e) {
      if (missingOk && isMissingKey(e)) return undefined;
      throw this.failed(op, key, e);
    }
  }

  async put(rel: string, bytes: Uint8Array): Promise<StoredObject> {
    const key = this.key(rel);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    await this.call('PutObject', key, (c, sdk) =>
      c.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.length, Metadata: { sha256 } })),
    );
    return { path: rel, sha256, bytes: bytes.length };
  }

  async putFile(rel: string, file: string): Promise<StoredObject> {
    const key = this.key(rel);
    // Two passes: the sha256 travels as a header, so it must be known before the body is sent. One
    // PutObject takes up to 5 GiB, far above any artifact, so no multipart upload (and no torn one).
    const hash = crypto.createHash('sha256');
    await pipeline(fs.createReadStream(file), hash);
    const sha256 = hash.digest('hex');
    const { size } = await fs.promises.stat(file);
    await this.call('PutObject', key, (c, sdk) =>
      c.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: fs.createReadStream(file), ContentLength: size, Metadata: { sha256 } })),
    );
    return { path: rel, sha256, bytes: size };
  }

  async read(rel: string): Promise<Buffer | undefined> {
    const key = this.key(rel);
    return this.call(
      'GetObject',
      key,
      async (c, sdk) => {
        const res = await c.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
        return Buffer.from(await res.Body!.transformToByteArray());
      },
      true,
    );
  }

  async readVerified(rel: string, sha256: string): Promise<{ bytes: Buffer } | { error: 'missing' | 'damaged' }> {
    const bytes = await this.read(rel);
    if (!bytes) return { error: 'missing' };
    return crypto.createHash('sha256').update(bytes).digest('hex') === sha256 ? { bytes } : { error: 'damaged' };
  }

  private head(key: string): Promise<S3.HeadObjectCommandOutput | undefined> {
    return this.call('HeadObject', key, (c, sdk) => c.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key })), true);
  }

  async open(rel: string): Promise<{ size: number; stream(): Readable } | undefined> {
    const key = this.key(rel);
    const head = await this.head(key);
    if (!head) return undefined;
    // The body is fetched when a stream is asked for, not here: an unread response would hold a
    // socket of the client's pool until it timed out.
    const stream = (): Readable => {
      const out = new PassThrough();
      this.call('GetObject', key, (c, sdk) => c.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: head.ETag }))).then(
        (res) => pipeline(res.Body as Readable, out).catch((e: unknown) => out.destroy(this.failed('GetObject', key, e))),
        (e: unknown) => out.destroy(e as Error),
      );
      return out;
    };
    return { size: head.ContentLength ?? 0, stream };
  }

  async exists(rel: string): Promise<boolean> {
    return (await this.head(this.key(rel))) !== undefined;
  }

  async remove(rel: string): Promise<void> {
    const key = this.key(rel);
    const keys = [key, ...(await this.list(rel)).map((o) => this.key(o.path))];
    // One DeleteObject per key rather than DeleteObjects: the latter requires a body checksum, and
    // S3-compatible servers disagree on which (Content-MD5 or the newer CRC32 headers).
    for (let i = 0; i < keys.length; i += 16)
      await Promise.all(
        keys.slice(i, i + 16).map((k) => this.call('DeleteObject', k, (c, sdk) => c.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: k })), true)),
      );
  }

  async localPath(rel: string, sha256: string): Promise<string> {
    const key = this.key(rel);
    if (!isSha256(sha256)) throw new Error(`S3 object s3://${this.bucket}/${key}: "${sha256}" is not a sha256`);
    const cached = path.join(this.cacheDir, sha256);
    if (fs.existsSync(cached)) {
      // Marks the use (the cache evicts by modification time: access times are often not kept).
      const now = new Date();
      await fs.promises.utimes(cached, now, now).catch(() => undefined);
      return cached;
    }
    let pending = this.downloads.get(sha256);
    if (!pending) {
      pending = this.download(key, sha256, cached)
        .then(async (file) => {
          await this.trimCache(file);
          return file;
        })
        .finally(() => this.downloads.delete(sha256));
      this.downloads.set(sha256, pending);
    }
    return pending;
  }

  /**
   * Keeps the download cache within its bound: least recently used files go first, never `keep`
   * nor a download in flight; temporary files of crashed downloads go once stale. A file an engine
   * already loaded may go: engines hold the bytes in memory, and a later load downloads it again.
   */
  private async trimCache(keep: string): Promise<void> {
    const max = this.opts.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES;
    const now = Date.now();
    const files: Array<{ file: string; bytes: number; usedMs: number }> = [];
    for (const name of await fs.promises.readdir(this.cacheDir)) {
      const file = path.join(this.cacheDir, name);
      const st = await fs.promises.stat(file).catch(() => undefined);
      if (!st?.isFile()) continue;
      if (name.includes('.tmp-')) {
        if (now - st.mtimeMs > STALE_TMP_MS) await fs.promises.rm(file, { force: true });
        continue;
      }
      files.push({ file, bytes: st.size, usedMs: st.mtimeMs });
    }
    let total = files.reduce((n, f) => n + f.bytes, 0);
    const inFlight = new Set([...this.downloads.keys()].map((s) => path.join(this.cacheDir, s)));
    for (const f of files.sort((a, b) => a.usedMs - b.usedMs)) {
      if (total <= max) break;
      if (f.file === keep || inFlight.has(f.file)) continue;
      await fs.promises.rm(f.file, { force: true });
      total -= f.bytes;
    }
  }

  /** Downloads `key` to a temporary file beside `cached`, checks its sha256, then renames it into place. */
  private async download(key: string, sha256: string, cached: string): Promise<string> {
    await fs.promises.mkdir(this.cacheDir, { recursive: true });
    const tmp = `${cached}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    try {
      const actual = await this.call('GetObject', key, async (c, sdk) => {
        const res = await c.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
        const hash = crypto.createHash('sha256');
        const fh = await fs.promises.open(tmp, 'wx');
        try {
          for await (const chunk of res.Body as Readable) {
            hash.update(chunk as Buffer);
            await fh.write(chunk as Buffer);
          }
          await fh.sync();
        } finally {
          await fh.close();
        }
        return hash.digest('hex');
      });
      if (actual !== sha256)
        throw new Error(`S3 object s3://${this.bucket}/${key} at ${this.where()} is damaged: its bytes hash to ${actual}, its record says ${sha256}`);
      await fs.promises.rename(tmp, cached);
      return cached;
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      if (isMissingKey((e as Error).cause)) throw new Error(`S3 object s3://${this.bucket}/${key} at ${this.where()} is missing`, { cause: e });
      throw e;
    }
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const dir = `${this.key(prefix)}/`;
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    const out: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('ListObjectsV2', dir, (c, sdk) =>
        c.send(new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: dir, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) if (o.Key) out.push({ path: o.Key.slice(strip), bytes: o.Size ?? 0, modifiedMs: o.LastModified?.getTime() ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
