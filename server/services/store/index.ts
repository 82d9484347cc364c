/**
 * Which artifact store a process uses, from the environment: the data directory by default (the
 * embedded setup), an S3-compatible bucket when SEARCHLIGHT_S3_BUCKET is set. Every process that
 * shares a database must use the same store, or rows written by one name objects the others
 * cannot find; so a half-configured bucket (an endpoint without a bucket, a key without its
 * secret) is an error naming the variable, never a silent fallback to the local directory.
 *
 * Building the S3 store loads nothing heavy: s3.ts imports the AWS SDK on its first request.
 */
import path from 'node:path';
import { type EnvVars, intFromEnv } from '../../env.js';
import { UserError } from '../../errors.js';
import { LocalStore } from '../../db/localStore.js';
import { DEFAULT_CACHE_MAX_BYTES, S3Store } from './s3.js';
import { type ArtifactStore, checkArtifactPath } from '../../db/store.js';

export { LocalStore } from '../../db/localStore.js';
export { S3Store, type S3StoreOptions } from './s3.js';
export { type ArtifactStore, checkArtifactPath, type StoredObject } from '../../db/store.js';

/** The settings storeFromEnv reads, for messages and docs. */
export const S3_ENV = [
  'SEARCHLIGHT_S3_BUCKET',
  'SEARCHLIGHT_S3_ENDPOINT',
  'SEARCHLIGHT_S3_REGION',
  'SEARCHLIGHT_S3_PREFIX',
  'SEARCHLIGHT_S3_ACCESS_KEY_ID',
  'SEARCHLIGHT_S3_SECRET_ACCESS_KEY',
  'SEARCHLIGHT_S3_CACHE_MAX_BYTES',
] as const;

export function storeFromEnv(dataDir: string, env: EnvVars = process.env): ArtifactStore {
  const get = (name: (typeof S3_ENV)[number]): string | undefined => env[name]?.trim() || undefined;
  const bucket = get('SEARCHLIGHT_S3_BUCKET');
  if (!bucket) {
    const stray = S3_ENV.filter((n) => get(n));
    if (stray.length) throw new UserError(`${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set but SEARCHLIGHT_S3_BUCKET is not`);
    return new LocalStore(dataDir);
  }
  if (/[\s/\\]/.test(bucket)) throw new UserError(`SEARCHLIGHT_S3_BUCKET must be a bucket name (no slashes or spaces); got ${JSON.stringify(bucket)}`);

  const endpoint = get('SEARCHLIGHT_S3_ENDPOINT');
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new UserError(`SEARCHLIGHT_S3_ENDPOINT must be an http:// or https:// URL; got ${JSON.stringify(endpoint)}`);
    if (url.username || url.password)
      throw new UserError('SEARCHLIGHT_S3_ENDPOINT must not carry credentials: set SEARCHLIGHT_S3_ACCESS_KEY_ID and SEARCHLIGHT_S3_SECRET_ACCESS_KEY');
  }

  const prefix = get('SEARCHLIGHT_S3_PREFIX')?.replace(/^\/+|\/+$/g, '');
  if (prefix) {
    try {
      checkArtifactPath(prefix);
    } catch (e) {
      throw new UserError(`SEARCHLIGHT_S3_PREFIX is not a usable key prefix: ${(e as Error).message}`);
    }
  }

  const accessKeyId = get('SEARCHLIGHT_S3_ACCESS_KEY_ID');
  const secretAccessKey = get('SEARCHLIGHT_S3_SECRET_ACCESS_KEY');
  if (accessKeyId && !secretAccessKey) throw new UserError('SEARCHLIGHT_S3_ACCESS_KEY_ID is set but SEARCHLIGHT_S3_SECRET_ACCESS_KEY is not');
  if (secretAccessKey && !accessKeyId) throw new UserError('SEARCHLIGHT_S3_SECRET_ACCESS_KEY is set but SEARCHLIGHT_S3_ACCESS_KEY_ID is not');

  return new S3Store({
    bucket,
    endpoint,
    region: get('SEARCHLIGHT_S3_REGION') ?? 'us-east-1',
    prefix: prefix || undefined,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    cacheDir: path.join(dataDir, 's3-cache'),
    cacheMaxBytes: intFromEnv('SEARCHLIGHT_S3_CACHE_MAX_BYTES', DEFAULT_CACHE_MAX_BYTES, 0, env),
  });
}
