/**
 * The default store: artifacts as files under the data directory (the embedded single-machine
 * setup). Writes follow server/db/files.ts's protocol (temporary name, fsync, rename, directory
 * fsync), so a crash leaves at worst an unreferenced file for the start-up sweep, never half a
 * file at a path a row names.
 *
 * The write is this module's own rather than files.ts's writeFileAtomic: that one is synchronous
 * (a few hundred MB would stall the event loop) and keeps its temporary file when the final
 * rename fails (AtomicFile.commit marks itself done before renaming, so abort() does nothing).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { resolveDataPath } from './files.js';
import { type ArtifactStore, checkArtifactPath, type ListedObject, type StoredObject } from './store.js';

/** Errors that mean "no object at this path" (a missing file, or a path through a file). */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
const isMissing = (e: unknown): boolean => MISSING.has((e as NodeJS.ErrnoException)?.code ?? '');

/** The temporary-name mark server/db/files.ts uses, so its start-up sweep removes our leftovers too. */
const TMP_MARK = '.tmp-';

/** Makes a rename durable; best effort, as some filesystems refuse fsync on a directory. */
async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await fs.promises.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort */
  }
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

export class LocalStore implements ArtifactStore {
  readonly kind = 'local' as const;
  /**
   * Files localPath has already hashed, by absolute path, with the stat they had then: a model
   * loaded again is not re-read in full, yet a file replaced or rewritten since is checked anew.
   */
  private readonly verified = new Map<string, { sha256: string; size: number; mtimeMs: number; ino: number }>();

  constructor(readonly dataDir: string) {}

  describe(): string {
    return `the data directory ${path.resolve(this.dataDir)}`;
  }

  /** The absolute path of `rel`, after the shared path rule (and files.ts's own containment check). */
  private abs(rel: string): string {
    return resolveDataPath(this.dataDir, checkArtifactPath(rel));
  }

  private failed(what: string, rel: string, e: unknown): Error {
    return new Error(`could not ${what} artifact "${rel}" in ${this.describe()}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }

  /** Writes `chunks` under a temporary name beside `rel`, fsyncs, renames into place; on any failure removes the temporary file. */
  private async write(rel: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<StoredObject> {
    const abs = this.abs(rel);
    const tmp = `${abs}${TMP_MARK}${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    let fh: fs.promises.FileHandle | undefined;
    try {
      await fs.promises.mkdir(path.dirname(abs), { recursive: true });
      fh = await fs.promises.open(tmp, 'wx');
      for await (const chunk of chunks) {
        for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        hash.update(chunk);
        bytes += chunk.length;
      }
      await fh.sync();
      await fh.close();
      fh = undefined;
      await fs.promises.rename(tmp, abs);
    } catch (e) {
      await fh?.close().catch(() => {});
      await fs.promises.rm(tmp, { force: true }).catch(() => {});
      throw this.failed('store', rel, e);
    }
    await fsyncDir(path.dirname(abs));
    this.verified.delete(abs);
    return { path: rel, sha256: hash.digest('hex'), bytes };
  }

  async put(rel: string, bytes: Uint8Array): Promise<StoredObject> {
    return this.write(rel, [bytes]);
  }

  async putFile(rel: string, file: string): Promise<StoredObject> {
    // Opened when the write starts iterating, so a refused path opens no file.
    return this.write(
      rel,
      (async function* () {
        yield* fs.createReadStream(file) as AsyncIterable<Buffer>;
      })(),
    );
  }

  async read(rel: string): Promise<Buffer | undefined> {
    const abs = this.abs(rel);
    try {
      return await fs.promises.readFile(abs);
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.failed('read', rel, e);
    }
  }

  async readVerified(rel: string, sha256: string): Promise<{ bytes: Buffer } | { error: 'missing' | 'damaged' }> {
    const bytes = await this.read(rel);
    if (!bytes) return { error: 'missing' };
    return crypto.createHash('sha256').update(bytes).digest('hex') === sha256 ? { bytes } : { error: 'damaged' };
  }

  private async statFile(rel: string): Promise<fs.Stats | undefined> {
    const abs = this.abs(rel);
    try {
      const st = await fs.promises.stat(abs);
      return st.isFile() ? st : undefined;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.failed('read', rel, e);
    }
  }

  async open(rel: string): Promise<{ size: number; stream(): fs.ReadStream } | undefined> {
    const st = await this.statFile(rel);
    if (!st) return undefined;
    const abs = this.abs(rel);
    return { size: st.size, stream: () => fs.createReadStream(abs) };
  }

  async exists(rel: string): Promise<boolean> {
    return (await this.statFile(rel)) !== undefined;
  }

  async remove(rel: string): Promise<void> {
    const abs = this.abs(rel);
    this.verified.delete(abs);
    try {
      await fs.promises.rm(abs, { recursive: true, force: true });
    } catch (e) {
      if (!isMissing(e)) throw this.failed('remove', rel, e);
    }
  }

  async localPath(rel: string, sha256: string): Promise<string> {
    const abs = this.abs(rel);
    const st = await this.statFile(rel);
    if (!st) throw new Error(`artifact "${rel}" is missing from ${this.describe()}`);
    const seen = this.verified.get(abs);
    if (seen && seen.sha256 === sha256 && seen.size === st.size && seen.mtimeMs === st.mtimeMs && seen.ino === st.ino) return abs;
    const actual = await sha256OfFile(abs).catch((e: unknown) => {
      throw this.failed('read', rel, e);
    });
    if (actual !== sha256) {
      this.verified.delete(abs);
      throw new Error(`artifact "${rel}" in ${this.describe()} is damaged: its bytes hash to ${actual}, its record says ${sha256}`);
    }
    this.verified.set(abs, { sha256, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
    return abs;
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    // Children are joined, not re-checked: a stray file name the path rule refuses must still be
    // listed (and so swept), not stop the listing.
    const walk = async (absDir: string, relDir: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(absDir, { withFileTypes: true });
      } catch (e) {
        if (isMissing(e)) return;
        throw this.failed('list', relDir, e);
      }
      for (const ent of entries) {
        const rel = `${relDir}/${ent.name}`;
        const abs = path.join(absDir, ent.name);
        if (ent.isDirectory()) await walk(abs, rel);
        else {
          const st = await fs.promises.lstat(abs).catch(() => undefined); // gone meanwhile: not listed
          if (st) out.push({ path: rel, bytes: st.size, modifiedMs: st.mtimeMs });
        }
      }
    };
    await walk(this.abs(prefix), prefix);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
