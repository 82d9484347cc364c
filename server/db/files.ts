/**
 * Tensors and blobs live as files in the data directory; rows hold the relative path, size and
 * sha256. Crash safety comes from ordering: a file is written under a temporary name, fsync'd,
 * renamed into place (and the directory fsync'd) BEFORE the row that names it commits. So a crash
 * leaves at worst an unreferenced file (removed by `sweepFiles` at start-up), never a row pointing
 * at half a file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

export interface StoredFile {
  /** Path relative to the data directory, with forward slashes. */
  path: string;
  sha256: string;
  bytes: number;
}

const TMP_MARK = '.tmp-';

/** Absolute path of a stored file; refuses paths that would leave the data directory. */
export function resolveDataPath(dataDir: string, rel: string): string {
  const abs = path.resolve(dataDir, rel);
  const root = path.resolve(dataDir) + path.sep;
  if (!abs.startsWith(root)) throw new UserError(`file path "${rel}" is outside the data directory`);
  return abs;
}

function fsyncDir(dir: string): void {
  // Makes the rename itself durable. Some filesystems refuse fsync on directories; the rename is
  // then as durable as the platform allows.
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

/**
 * Incremental writer for large or streamed content (uploads, checkpoints): `write` chunks, then
 * `commit()` (fsync + rename → StoredFile) or `abort()` (delete the temporary file).
 */
export class AtomicFile {
  private readonly fd: number;
  private readonly tmp: string;
  private readonly abs: string;
  private readonly hash = crypto.createHash('sha256');
  private size = 0;
  private done = false;
  private closed = false;

  constructor(
    dataDir: string,
    private readonly rel: string,
  ) {
    this.abs = resolveDataPath(dataDir, rel);
    fs.mkdirSync(path.dirname(this.abs), { recursive: true });
    this.tmp = `${this.abs}${TMP_MARK}${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    this.fd = fs.openSync(this.tmp, 'wx');
  }

  get bytes(): number {
    return this.size;
  }

  write(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(this.fd, chunk, off, chunk.length - off);
    this.hash.update(chunk);
    this.size += chunk.length;
  }

  commit(): StoredFile {
    if (this.done) throw new Error('AtomicFile already finished');
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.closed = true;
    // Finished only once the rename has happened: a failed fsync or rename leaves abort() its temporary file to remove.
    fs.renameSync(this.tmp, this.abs);
    this.done = true;
    fsyncDir(path.dirname(this.abs));
    return { path: this.rel.split(path.sep).join('/'), sha256: this.hash.digest('hex'), bytes: this.size };
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    if (!this.closed) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already closed */
      }
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

/** Writes `data` to `rel` atomically and durably; returns its size and sha256. */
export function writeFileAtomic(dataDir: string, rel: string, data: Uint8Array | Uint8Array[]): StoredFile {
  const f = new AtomicFile(dataDir, rel);
  try {
    for (const chunk of Array.isArray(data) ? data : [data]) f.write(chunk);
    return f.commit();
  } catch (e) {
    f.abort();
    throw e;
  }
}

/** Directories under the data dir that hold row-referenced files. */
export const FILE_DIRS = ['checkpoints', 'caches', 'results', 'uploads'] as const;

/**
 * Start-up sweep: deletes temporary files left by a crash mid-write, and files no row references
 * (renamed, but the process died before the row committed). `referenced` holds relative paths.
 * Returns what was removed, for the log.
 */
export function sweepFiles(dataDir: string, referenced: Set<string>): string[] {
  const removed: string[] = [];
  const walk = (relDir: string): void => {
    const absDir = resolveDataPath(dataDir, relDir);
    if (!fs.existsSync(absDir)) return;
    for (const ent of fs.readdirSync(absDir, { withFileTypes: true })) {
      const rel = `${relDir}/${ent.name}`;
      if (ent.isDirectory()) walk(rel);
      else if (ent.name.includes(TMP_MARK) || !referenced.has(rel)) {
        fs.rmSync(resolveDataPath(dataDir, rel), { force: true });
        removed.push(rel);
      }
    }
  };
  for (const d of FILE_DIRS) walk(d);
  return removed;
}
