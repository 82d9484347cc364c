/**
 * One server per data directory. Two servers on one database would each run a job runner: both
 * would "recover" the other's RUNNING jobs at start-up and claim the same queue, and a worker could
 * be restarted under a live one. So a server holds an exclusive lock for its lifetime.
 *
 * The lock is an SQLite database (`server.lock`) held in an EXCLUSIVE transaction with
 * locking_mode=EXCLUSIVE: SQLite's POSIX advisory locks are released by the operating system when
 * the process dies, kill -9 included, so a crash never leaves a stale lock behind and no pid
 * guessing is needed (https://sqlite.org/lockingv3.html, https://sqlite.org/pragma.html#pragma_locking_mode).
 * SQLite also tracks locks per file within a process, so a second server in the same process is
 * refused too. Who holds the lock is written beside it (`server.lock.json`) for the error message.
 *
 * Command-line tools (users create, …) do not take the lock: their database writes go through
 * SQLite's own locking, and they never sweep files (only a server does, holding this lock; see
 * server/app/server.ts), so they are safe beside a running server.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../errors.js';

export const LOCK_FILE = 'server.lock';
const HOLDER_FILE = 'server.lock.json';

export class DataDirInUseError extends UserError {
  override name = 'DataDirInUseError';
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'; // exists, owned by someone else
  }
}

export interface DataDirLock {
  /** Records where the holder serves, for the message another server gets. */
  describe(info: { url: string }): void;
  release(): void;
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, LOCK_FILE);
  const holderPath = path.join(dataDir, HOLDER_FILE);
  const db = new Database(lockPath);
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
    let holder = '';
    try {
      const h = JSON.parse(fs.readFileSync(holderPath, 'utf8')) as { pid: number; url?: string; since: string };
      // A file left by a server killed with SIGKILL names a dead process until the new holder
      // rewrites it: name only a live one.
      if (alive(h.pid)) holder = ` (pid ${h.pid}${h.url ? `, ${h.url}` : ''}, since ${h.since})`;
    } catch {
      /* the holder has not written it yet */
    }
    throw new DataDirInUseError(
      `data directory ${path.resolve(dataDir)} is in use by another Searchlight server${holder}; stop it, or start this one with another --data directory`,
    );
  }
  const since = new Date().toISOString();
  const write = (info: Record<string, unknown>): void => {
    // Whole or not at all: a reader never sees half a file.
    const tmp = `${holderPath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify({ pid: process.pid, since, ...info })}\n`);
    fs.renameSync(tmp, holderPath);
  };
  write({});
  let released = false;
  return {
    describe(info) {
      if (!released) write(info);
    },
    release() {
      if (released) return;
      released = true;
      fs.rmSync(holderPath, { force: true });
      db.exec('ROLLBACK');
      db.close();
    },
  };
}
