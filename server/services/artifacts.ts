/**
 * Artifact files (checkpoints, activation caches, result tensors) under the data directory, by
 * the relative path their row records. Every read of an artifact's bytes goes through here, so a
 * second store (an S3-compatible bucket) plugs in beneath one module.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { resolveDataPath } from '../db/files.js';

export { type StoredFile, writeFileAtomic } from '../db/files.js';

/** The absolute local path of an artifact (engines and decoders that read files by name). */
export function artifactPath(dataDir: string, rel: string): string {
  return resolveDataPath(dataDir, rel);
}

export function artifactExists(dataDir: string, rel: string): boolean {
  return fs.existsSync(resolveDataPath(dataDir, rel));
}

export function readArtifact(dataDir: string, rel: string): Buffer {
  return fs.readFileSync(resolveDataPath(dataDir, rel));
}

/** Size in bytes and a read stream, or undefined when the file is missing. */
export function openArtifact(dataDir: string, rel: string): { size: number; stream: () => fs.ReadStream } | undefined {
  const abs = resolveDataPath(dataDir, rel);
  if (!fs.existsSync(abs)) return undefined;
  return { size: fs.statSync(abs).size, stream: () => fs.createReadStream(abs) };
}

/** The artifact's bytes, checked against the sha256 its row recorded; a reason when missing or damaged. */
export function readVerified(dataDir: string, rel: string, sha256: string): { bytes: Buffer } | { error: 'missing' | 'damaged' } {
  const abs = resolveDataPath(dataDir, rel);
  if (!fs.existsSync(abs)) return { error: 'missing' };
  const bytes = fs.readFileSync(abs);
  return crypto.createHash('sha256').update(bytes).digest('hex') === sha256 ? { bytes } : { error: 'damaged' };
}

export function removeArtifacts(dataDir: string, rel: string): void {
  fs.rmSync(resolveDataPath(dataDir, rel), { recursive: true, force: true });
}
