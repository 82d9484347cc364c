/**
 * The artifact store (server/services/store): one behaviour suite run against both stores, the
 * data directory and an S3-compatible bucket (s3rver, a real S3 server started in this process on
 * a loopback port), then the S3-only failures and storeFromEnv.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../server/errors.js';
import { LocalStore } from '../../server/db/localStore.js';
import { S3Store } from '../../server/services/store/s3.js';
import { storeFromEnv } from '../../server/services/store/index.js';
import type { ArtifactStore } from '../../server/db/store.js';
import { loadS3rver, type S3rverCtor } from './helpers.js';
import { eq } from 'drizzle-orm';
import { checkpoints } from '../../server/db/tables.js';
import { prepareDatabase, sweepOrphans } from '../../server/services/database.js';
import { importModelBytes } from '../../server/services/models.js';

const S3rver = await loadS3rver();

const BUCKET = 'test-bucket';
/** s3rver checks signatures against this one account. */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'searchlight-store-'));
let dirs = 0;
const tmpDir = (name: string): string => fs.mkdtempSync(path.join(tmpRoot, `${name}-${dirs++}-`));

let server: InstanceType<S3rverCtor>;
let endpoint = '';
/** A plain client on the same bucket, for what the stores must not do themselves (damaging an object, reading its metadata). */
let raw: S3Client;

beforeAll(async () => {
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: tmpDir('s3rver'), configureBuckets: [{ name: BUCKET }] });
  const addr = await server.run();
  endpoint = `http://127.0.0.1:${addr.port}`;
  raw = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  raw?.destroy();
  await server?.close();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

const sha = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');
const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under `dir`, relative, for "nothing was left behind" checks. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const paths = async (store: ArtifactStore, prefix: string): Promise<string[]> => (await store.list(prefix)).map((o) => o.path);

interface Harness {
  store: ArtifactStore;
  /** Replaces the bytes at `rel` underneath the store, as disk rot or a stray writer would. */
  damage(rel: string, bytes: Uint8Array): Promise<void>;
  /** Where localPath may leave files besides the objects themselves (none for the local store). */
  cacheDir: string | undefined;
}

let prefixes = 0;
const HARNESSES: Array<{ kind: string; make: () => Harness }> = [
  {
    kind: 'local',
    make: () => {
      const dataDir = tmpDir('data');
      return {
        store: new LocalStore(dataDir),
        damage: async (rel, bytes) => fs.writeFileSync(path.join(dataDir, rel), bytes),
        cacheDir: undefined,
      };
    },
  },
  {
    kind: 's3',
    make: () => {
      // A fresh key prefix per test keeps the tests' objects apart in the one bucket.
      const prefix = `run/t${prefixes++}`;
      const cacheDir = path.join(tmpDir('cache'), 's3-cache');
      return {
        store: new S3Store({ bucket: BUCKET, endpoint, prefix, credentials: CREDENTIALS, cacheDir }),
        // Different bytes under the old sha256 metadata: the object's own record is stale, as after corruption.
        damage: async (rel, bytes) => {
          const Key = `${prefix}/${rel}`;
          const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
          await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: bytes, Metadata: head.Metadata }));
        },
        cacheDir,
      };
    },
  },
];

describe.each(HARNESSES)('artifact store: $kind', ({ kind, make }) => {
  it('put stores the whole object and reports its path, size and sha256; read, exists and open give it back', async () => {
    const { store } = make();
    const data = crypto.randomBytes(70_000);
    const rel = 'checkpoints/model-3/step-20.safetensors';
    expect(await store.put(rel, data)).toEqual({ path: rel, sha256: sha(data), bytes: data.length });
    expect(await store.read(rel)).toEqual(data);
    expect(await store.exists(rel)).toBe(true);
    const opened = await store.open(rel);
    expect(opened?.size).toBe(data.length);
    expect(await drain(opened!.stream())).toEqual(data);
    expect(await drain(opened!.stream())).toEqual(data); // each stream() is a new read
    // A folder is not an object.
    expect(await store.exists('checkpoints/model-3')).toBe(false);
    expect(await store.read('checkpoints/model-3')).toBeUndefined();
  });

  it('a missing object is an answer, not a failure: read and open give undefined, exists false', async () => {
    const { store } = make();
    expect(await store.read('results/none.npy')).toBeUndefined();
    expect(await store.open('results/none.npy')).toBeUndefined();
    expect(await store.exists('results/none.npy')).toBe(false);
    // Even through a path whose parent is an object.
    await store.put('results/file', bytesOf('x'));
    expect(await store.read('results/file/below')).toBeUndefined();
    expect(await store.exists('results/file/below')).toBe(false);
  });

  it('put replaces what was at the path; an empty object is an object', async () => {
    const { store } = make();
    await store.put('uploads/a.bin', bytesOf('first version'));
    await store.put('uploads/a.bin', bytesOf('second'));
    expect((await store.read('uploads/a.bin'))?.toString()).toBe('second');
    expect(await store.put('uploads/empty', new Uint8Array())).toEqual({ path: 'uploads/empty', sha256: sha(new Uint8Array()), bytes: 0 });
    expect(await store.exists('uploads/empty')).toBe(true);
    expect(await store.read('uploads/empty')).toEqual(Buffer.alloc(0));
    expect((await store.open('uploads/empty'))?.size).toBe(0);
  });

  it('putFile streams a local file into the store (several MB) and reports the same as put would', async () => {
    const { store } = make();
    const file = path.join(tmpDir('src'), 'ckpt.safetensors');
    const data = crypto.randomBytes(3 * 1024 * 1024 + 17);
    fs.writeFileSync(file, data);
    expect(await store.putFile('checkpoints/big.safetensors', file)).toEqual({ path: 'checkpoints/big.safetensors', sha256: sha(data), bytes: data.length });
    expect(sha((await store.read('checkpoints/big.safetensors'))!)).toBe(sha(data));
    await expect(store.putFile('checkpoints/none', path.join(tmpDir('src'), 'absent'))).rejects.toThrow(/absent/);
    expect(await store.exists('checkpoints/none')).toBe(false);
  });

  it('readVerified gives the bytes when they match the recorded sha256, "missing" when absent, "damaged" when they changed underneath', async () => {
    const { store, damage } = make();
    const data = bytesOf('tensor bytes');
    const { sha256 } = await store.put('results/e1/t.npy', data);
    expect(await store.readVerified('results/e1/t.npy', sha256)).toEqual({ bytes: Buffer.from(data) });
    expect(await store.readVerified('results/e1/other.npy', sha256)).toEqual({ error: 'missing' });
    await damage('results/e1/t.npy', bytesOf('tensor bytez'));
    expect(await store.readVerified('results/e1/t.npy', sha256)).toEqual({ error: 'damaged' });
  });

  it('remove deletes an object, or a folder with everything under it, and leaves neighbours alone', async () => {
    const { store } = make();
    for (const rel of ['results/e1/a.npy', 'results/e1/sub/b.npy', 'results/e10/c.npy', 'results/e1.npy', 'results/keep.npy'])
      await store.put(rel, bytesOf(rel));
    await store.remove('results/keep.npy');
    expect(await store.exists('results/keep.npy')).toBe(false);
    await store.remove('results/e1');
    expect(await paths(store, 'results')).toEqual(['results/e1.npy', 'results/e10/c.npy']);
    await store.remove('results/never-was'); // missing is fine
  });

  it('list gives every object under a folder, sorted, with its size and write time, and nothing from a folder that merely shares its name as a prefix', async () => {
    const { store } = make();
    expect(await store.list('checkpoints')).toEqual([]);
    const before = Date.now();
    for (const rel of ['checkpoints/m2/s1', 'checkpoints/m1/s2', 'checkpoints/m1/s1', 'checkpoints2/x', 'caches/y']) await store.put(rel, bytesOf(rel));
    const listed = await store.list('checkpoints');
    expect(listed.map((o) => [o.path, o.bytes])).toEqual([
      ['checkpoints/m1/s1', 17],
      ['checkpoints/m1/s2', 17],
      ['checkpoints/m2/s1', 17],
    ]);
    // Write times, for a sweep's grace period (S3 keeps whole seconds).
    for (const o of listed) {
      expect(o.modifiedMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
      expect(o.modifiedMs).toBeLessThanOrEqual(Date.now() + 1000);
    }
    expect(await paths(store, 'checkpoints/m1')).toEqual(['checkpoints/m1/s1', 'checkpoints/m1/s2']);
    expect(await store.list('results')).toEqual([]);
  });

  it('localPath gives a local file holding the object, checked against the sha256; a wrong sha256 or a missing object is an Error naming it', async () => {
    const { store, cacheDir } = make();
    const data = crypto.randomBytes(100_000);
    const { sha256 } = await store.put('checkpoints/m/w.safetensors', data);
    const file = await store.localPath('checkpoints/m/w.safetensors', sha256);
    expect(fs.readFileSync(file)).toEqual(data);
    expect(await store.localPath('checkpoints/m/w.safetensors', sha256)).toBe(file);

    const cachedBefore = cacheDir ? filesUnder(cacheDir) : [];
    await expect(store.localPath('checkpoints/m/w.safetensors', sha(bytesOf('other')))).rejects.toThrow(/checkpoints\/m\/w\.safetensors.*damaged/);
    // Nothing of the refused download stays in the cache (the earlier good one does).
    if (cacheDir) expect(filesUnder(cacheDir)).toEqual(cachedBefore);

    // (Another sha256: the S3 cache is by content, so bytes cached under `sha256` would answer for any path.)
    await expect(store.localPath('checkpoints/m/none', sha(bytesOf('never stored')))).rejects.toThrow(/checkpoints\/m\/none.* missing/);
    if (cacheDir) expect(filesUnder(cacheDir)).toEqual(cachedBefore);
  });

  it('localPath notices bytes that changed underneath since the last check', async () => {
    const { store, damage } = make();
    const { sha256 } = await store.put('checkpoints/m/w2', bytesOf('weights v1'));
    await store.localPath('checkpoints/m/w2', sha256);
    await damage('checkpoints/m/w2', bytesOf('weights v2 (longer)'));
    if (kind === 'local') await expect(store.localPath('checkpoints/m/w2', sha256)).rejects.toThrow(/damaged/);
    // S3: the cache holds verified bytes by sha256, so the cached copy is still the right one.
    else expect(fs.readFileSync(await store.localPath('checkpoints/m/w2', sha256)).toString()).toBe('weights v1');
  });

  it('refuses absolute paths, "..", "." and empty segments and backslashes, naming the path, in every method', async () => {
    const { store } = make();
    const calls: Array<(p: string) => Promise<unknown>> = [
      (p) => store.put(p, bytesOf('x')),
      (p) => store.putFile(p, fileURLToPath(import.meta.url)),
      (p) => store.read(p),
      (p) => store.readVerified(p, sha(bytesOf('x'))),
      (p) => store.open(p),
      (p) => store.exists(p),
      (p) => store.remove(p),
      (p) => store.localPath(p, sha(bytesOf('x'))),
      (p) => store.list(p),
    ];
    for (const bad of ['../x', 'a/../../x', '/abs', 'a//b', 'a\\b', '', 'a/./b', 'a/'])
      for (const call of calls) await expect(call(bad), `${JSON.stringify(bad)}`).rejects.toThrow(`artifact path ${JSON.stringify(bad)} is not allowed`);
  });

  if (kind === 'local')
    it('a put that fails midway leaves no object and no temporary file, and the error names the path', async () => {
      const dataDir = tmpDir('data');
      const store = new LocalStore(dataDir);
      // The parent is a file: fails before any byte is written.
      await store.put('caches/file', bytesOf('a file'));
      await expect(store.put('caches/file/x', bytesOf('x'))).rejects.toThrow(/"caches\/file\/x"/);
      // The target is a folder: the bytes are written and fsync'd, then the rename fails.
      await store.put('caches/dir/inner', bytesOf('inner'));
      await expect(store.put('caches/dir', bytesOf('y'.repeat(10_000)))).rejects.toThrow(/"caches\/dir"/);
      const src = path.join(tmpDir('src'), 'f');
      fs.writeFileSync(src, 'z'.repeat(10_000));
      await expect(store.putFile('caches/dir', src)).rejects.toThrow(/"caches\/dir"/);
      expect(filesUnder(dataDir)).toEqual(['caches/dir/inner', 'caches/file'].map((p) => p.split('/').join(path.sep)));
      expect(await store.exists('caches/dir')).toBe(false);
    });
});

describe('S3 store: failures name the bucket, the key and the endpoint', () => {
  it('an unknown bucket: every operation fails with an Error naming it (a put stores nothing), not "missing"', async () => {
    const cacheDir = path.join(tmpDir('cache'), 's3-cache');
    const store = new S3Store({ bucket: 'no-such-bucket', endpoint, credentials: CREDENTIALS, cacheDir });
    const err = (await store.put('checkpoints/m/x', bytesOf('x')).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe(`S3 PutObject of s3://no-such-bucket/checkpoints/m/x at ${endpoint} failed: the bucket does not exist`);
    // One line of ours; the SDK's error is kept as the cause, for a debugger, not in the message.
    expect(err.message).not.toContain('\n');
    expect(err.cause).toBeInstanceOf(Error);
    // A missing bucket must not read as a missing object.
    await expect(store.exists('checkpoints/m/x')).rejects.toThrow(/no-such-bucket.*the bucket does not exist/);
    await expect(store.read('checkpoints/m/x')).rejects.toThrow(/no-such-bucket.*the bucket does not exist/);
    await expect(store.localPath('checkpoints/m/x', sha(bytesOf('x')))).rejects.toThrow(/no-such-bucket/);
    expect(filesUnder(cacheDir)).toEqual([]);
    // Nothing landed in the real bucket under that key either.
    const good = new S3Store({ bucket: BUCKET, endpoint, credentials: CREDENTIALS, cacheDir });
    expect(await good.exists('checkpoints/m/x')).toBe(false);
  });

  it('an unknown access key and an unreachable endpoint are Errors naming bucket, key and endpoint, with the reason', async () => {
    const cacheDir = path.join(tmpDir('cache'), 's3-cache');
    const wrongKey = new S3Store({ bucket: BUCKET, endpoint, credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'x' }, cacheDir });
    await expect(wrongKey.put('a/b', bytesOf('x'))).rejects.toThrow(
      `S3 PutObject of s3://${BUCKET}/a/b at ${endpoint} failed: the server does not know the access key id`,
    );
    // (A wrong secret cannot be tested here: s3rver does not verify V4 signatures, only the key id.)

    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const gone = new S3Store({ bucket: BUCKET, endpoint: `http://127.0.0.1:${closed}`, credentials: CREDENTIALS, cacheDir });
    await expect(gone.exists('a/b')).rejects.toThrow(
      `S3 HeadObject of s3://${BUCKET}/a/b at http://127.0.0.1:${closed} failed: the endpoint is unreachable (ECONNREFUSED)`,
    );
  });

  it('stores the sha256 as object metadata, keeps keys under the prefix, and describes itself without credentials', async () => {
    const cacheDir = path.join(tmpDir('cache'), 's3-cache');
    const store = new S3Store({ bucket: BUCKET, endpoint, prefix: '/deploy-a/', credentials: CREDENTIALS, cacheDir });
    const { sha256 } = await store.put('uploads/m.json', bytesOf('{}'));
    const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'deploy-a/uploads/m.json' }));
    expect(head.Metadata).toEqual({ sha256 });
    expect(store.describe()).toBe(`s3://${BUCKET}/deploy-a at ${endpoint}`);
    const withUser = new S3Store({ bucket: BUCKET, endpoint: `http://me:secret@127.0.0.1:9`, credentials: CREDENTIALS, cacheDir });
    expect(withUser.describe()).toBe(`s3://${BUCKET} at http://127.0.0.1:9`);
  });

  it('localPath reuses its cached download: a second call neither downloads nor needs the object', async () => {
    const cacheDir = path.join(tmpDir('cache'), 's3-cache');
    const store = new S3Store({ bucket: BUCKET, endpoint, prefix: 'reuse', credentials: CREDENTIALS, cacheDir });
    const data = crypto.randomBytes(50_000);
    const { sha256 } = await store.put('checkpoints/w', data);
    // Counts the downloads: concurrent loads of one model share one, a later load needs none.
    let gets = 0;
    const count = (req: import('node:http').IncomingMessage) => {
      if (req.method === 'GET' && req.url?.includes('/reuse/checkpoints/w')) gets++;
    };
    server.httpServer.on('request', count);
    const [a, b] = await Promise.all([store.localPath('checkpoints/w', sha256), store.localPath('checkpoints/w', sha256)]);
    expect(gets).toBe(1);
    expect(a).toBe(path.join(cacheDir, sha256));
    expect(b).toBe(a);
    expect(filesUnder(cacheDir)).toEqual([sha256]);
    await store.remove('checkpoints/w');
    expect(await store.localPath('checkpoints/w', sha256)).toBe(a);
    server.httpServer.off('request', count);
    expect(gets).toBe(1);
    expect(fs.readFileSync(a)).toEqual(data);
    await expect(store.localPath('checkpoints/w', '../../etc/passwd')).rejects.toThrow(/is not a sha256/);
  });

  it('the download cache keeps within its bound: the least recently used file goes, never the one asked for; stale temporary files go', async () => {
    const cacheDir = path.join(tmpDir('cache'), 's3-cache');
    const size = 40_000;
    const store = new S3Store({ bucket: BUCKET, endpoint, prefix: 'bounded', credentials: CREDENTIALS, cacheDir, cacheMaxBytes: 2.5 * size });
    const put = async (n: string) => (await store.put(`checkpoints/${n}`, crypto.randomBytes(size))).sha256;
    const [a, b, c] = [await put('a'), await put('b'), await put('c')];
    const stale = path.join(cacheDir, `${a}.tmp-1-dead`);
    await store.localPath('checkpoints/a', a);
    fs.writeFileSync(stale, 'half a download');
    const old = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(stale, old, old);
    await new Promise((r) => setTimeout(r, 20));
    await store.localPath('checkpoints/b', b);
    await new Promise((r) => setTimeout(r, 20));
    await store.localPath('checkpoints/a', a); // a is now used more recently than b
    await new Promise((r) => setTimeout(r, 20));
    await store.localPath('checkpoints/c', c); // three files pass 2.5 sizes: the least recently used (b) goes
    expect(filesUnder(cacheDir)).toEqual([a, c].sort());
    // A file that went is downloaded again when asked for; then the least recently used of the rest goes.
    expect(fs.readFileSync(await store.localPath('checkpoints/b', b)).length).toBe(size);
    expect(filesUnder(cacheDir)).toEqual([b, c].sort());
  });
});

describe('storeFromEnv', () => {
  const S3_ENV = (extra: Record<string, string> = {}) => ({
    SEARCHLIGHT_S3_BUCKET: BUCKET,
    SEARCHLIGHT_S3_ENDPOINT: endpoint,
    SEARCHLIGHT_S3_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    SEARCHLIGHT_S3_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    ...extra,
  });

  it('is the data directory by default (empty values count as unset)', () => {
    const dataDir = tmpDir('data');
    const store = storeFromEnv(dataDir, {});
    expect(store.kind).toBe('local');
    expect(store.describe()).toContain(dataDir);
    expect(storeFromEnv(dataDir, { SEARCHLIGHT_S3_BUCKET: ' ' }).kind).toBe('local');
  });

  it('is the bucket when SEARCHLIGHT_S3_BUCKET is set, with the prefix and a cache under the data directory, and it works', async () => {
    const dataDir = tmpDir('data');
    const store = storeFromEnv(dataDir, S3_ENV({ SEARCHLIGHT_S3_PREFIX: 'from-env' }));
    expect(store.kind).toBe('s3');
    expect(store.describe()).toBe(`s3://${BUCKET}/from-env at ${endpoint}`);
    expect(store.describe()).not.toContain('S3RVER');
    const { sha256 } = await store.put('caches/k', bytesOf('cache'));
    expect(await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'from-env/caches/k' }))).toMatchObject({ Metadata: { sha256 } });
    expect(await store.localPath('caches/k', sha256)).toBe(path.join(dataDir, 's3-cache', sha256));
    // Without an endpoint: AWS itself (nothing is contacted until the first call).
    expect(storeFromEnv(dataDir, { SEARCHLIGHT_S3_BUCKET: 'b', SEARCHLIGHT_S3_REGION: 'eu-west-1' }).describe()).toBe('s3://b at AWS S3 (eu-west-1)');
  });

  it('refuses bad settings with a UserError naming the variable', () => {
    const dataDir = tmpDir('data');
    const refused = (env: Record<string, string>, message: RegExp) => {
      let err: unknown;
      try {
        storeFromEnv(dataDir, env);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(env)).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(message);
    };
    refused(S3_ENV({ SEARCHLIGHT_S3_ENDPOINT: 'localhost:9000' }), /^SEARCHLIGHT_S3_ENDPOINT must be an http:\/\/ or https:\/\/ URL; got "localhost:9000"$/);
    refused(S3_ENV({ SEARCHLIGHT_S3_ENDPOINT: 'not a url' }), /^SEARCHLIGHT_S3_ENDPOINT must be an http/);
    refused(S3_ENV({ SEARCHLIGHT_S3_ENDPOINT: 'http://key:secret@127.0.0.1:9000' }), /^SEARCHLIGHT_S3_ENDPOINT must not carry credentials/);
    refused(S3_ENV({ SEARCHLIGHT_S3_SECRET_ACCESS_KEY: '' }), /^SEARCHLIGHT_S3_ACCESS_KEY_ID is set but SEARCHLIGHT_S3_SECRET_ACCESS_KEY is not$/);
    refused(S3_ENV({ SEARCHLIGHT_S3_ACCESS_KEY_ID: '' }), /^SEARCHLIGHT_S3_SECRET_ACCESS_KEY is set but SEARCHLIGHT_S3_ACCESS_KEY_ID is not$/);
    refused(S3_ENV({ SEARCHLIGHT_S3_PREFIX: 'a/../b' }), /^SEARCHLIGHT_S3_PREFIX is not a usable key prefix: .*"a\/\.\.\/b"/);
    refused(S3_ENV({ SEARCHLIGHT_S3_BUCKET: 'a/b' }), /^SEARCHLIGHT_S3_BUCKET must be a bucket name/);
    // Half a configuration must not fall back to the local directory silently.
    refused({ SEARCHLIGHT_S3_ENDPOINT: endpoint }, /^SEARCHLIGHT_S3_ENDPOINT is set but SEARCHLIGHT_S3_BUCKET is not$/);
    refused(
      { SEARCHLIGHT_S3_ACCESS_KEY_ID: 'k', SEARCHLIGHT_S3_SECRET_ACCESS_KEY: 's' },
      /^SEARCHLIGHT_S3_ACCESS_KEY_ID, SEARCHLIGHT_S3_SECRET_ACCESS_KEY are set/,
    );
  });

  it('the AWS SDK has one home (store/s3.ts) and is loaded there only by a dynamic import, so the default store never loads it', () => {
    const server = fileURLToPath(new URL('../../server', import.meta.url));
    const importers: string[] = [];
    for (const e of fs.readdirSync(server, { recursive: true, withFileTypes: true }) as fs.Dirent[]) {
      if (!e.name.endsWith('.ts')) continue;
      const source = fs.readFileSync(path.join(e.parentPath, e.name), 'utf8');
      if (/['"]@aws-sdk\//.test(source)) importers.push(path.relative(server, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
    }
    expect(importers).toEqual(['services/store/s3.ts']);
    const s3 = fs.readFileSync(path.join(server, 'services/store/s3.ts'), 'utf8');
    const staticImports = [...s3.matchAll(/^import\s+(type\s+)?[^;]*?from\s+['"](@aws-sdk\/[^'"]+)['"]/gm)];
    expect(staticImports.length).toBeGreaterThan(0);
    expect(staticImports.filter((m) => !m[1]).map((m) => m[0])).toEqual([]); // type-only: erased at run time
    expect(s3).toMatch(/await import\('@aws-sdk\/client-s3'\)/);
  });
});

describe('the start-up sweep on a bucket (services/database.ts sweepOrphans)', () => {
  it('removes objects no row names and the training state of jobs no longer active, but never one a row names, nor a young one', async () => {
    const dataDir = tmpDir('sweep');
    const store = new S3Store({ bucket: BUCKET, endpoint, prefix: 'sweep', credentials: CREDENTIALS, cacheDir: path.join(dataDir, 's3-cache') });
    const h = await prepareDatabase({ dataDir, url: null, store });
    try {
      const model = await importModelBytes(h, 'kept', fs.readFileSync('data/demo/demo-5x5.safetensors'), null);
      const [ckpt] = await h.db.select().from(checkpoints).where(eq(checkpoints.modelId, model.id));
      await store.put('results/experiment-9/000-x.npy', bytesOf('no row names me'));
      await store.put('training/job-9/step-20/train.safetensors.state', bytesOf('state of a job that is no more'));
      expect(await sweepOrphans(h)).toBe(0); // young: a tool elsewhere may be about to record them
      expect(await sweepOrphans(h, { minAgeMs: 0 })).toBe(2);
      expect((await store.list('results')).length + (await store.list('training')).length).toBe(0);
      expect(await store.exists(ckpt.path)).toBe(true);
    } finally {
      await h.close();
    }
  });
});
