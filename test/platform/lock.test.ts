/** One server per data directory (server/db/lock.ts), in one process and across processes. */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DataDirInUseError } from '../../server/db/lock.js';
import { startServer } from '../../server/app/server.js';
import { prepareDatabase } from '../../server/services/database.js';
import { startHarness, tempDir } from './helpers.js';

const SERVE = fileURLToPath(new URL('./fixtures/serve.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const quiet = { port: 0, host: '127.0.0.1', log: () => undefined };

function spawnServer(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVE, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: JSON.parse(line).url });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${log}`)));
  });
}

describe('one server per data directory', () => {
  it('a second server on the same directory is refused with who holds it; the first keeps serving; after close the directory is free', async () => {
    const h = await startHarness();
    const err = await startServer({ ...quiet, dataDir: h.dataDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirInUseError);
    expect((err as Error).message).toBe(
      `data directory ${h.dataDir} is in use by another Searchlight server (pid ${process.pid}, ${h.server.url}, since ${JSON.parse(fs.readFileSync(`${h.dataDir}/server.lock.json`, 'utf8')).since}); stop it, or start this one with another --data directory`,
    );
    expect((await h.gql('{ me { name } }')).data.me.name).toBe('rosalind');
    const dir = h.dataDir;
    await h.server.close();
    expect(fs.existsSync(`${dir}/server.lock.json`)).toBe(false);
    const again = await startServer({ ...quiet, dataDir: dir });
    await again.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds across processes, and a server killed with SIGKILL leaves no stale lock', async () => {
    const dir = tempDir();
    const { child, url } = await spawnServer(dir);
    try {
      const err = await startServer({ ...quiet, dataDir: dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataDirInUseError);
      expect((err as Error).message).toContain(`(pid ${child.pid}, ${url}, since `);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    const s = await startServer({ ...quiet, dataDir: dir });
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a tool opening the database beside a live server sweeps nothing; the next server start does', async () => {
    const h = await startHarness();
    const stray = `${h.dataDir}/caches/partial.safetensors.tmp-123`;
    fs.mkdirSync(`${h.dataDir}/caches`, { recursive: true });
    fs.writeFileSync(stray, 'half a file');
    const tool = await prepareDatabase(h.dataDir); // what `searchlight users create` does
    await tool.close();
    expect(fs.existsSync(stray)).toBe(true);
    const dir = h.dataDir;
    await h.server.close();
    const s = await startServer({ ...quiet, dataDir: dir });
    expect(fs.existsSync(stray)).toBe(false);
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('with Redis (worker processes may be writing beside it) a server start sweeps nothing', async () => {
    const dir = tempDir();
    const stray = `${dir}/caches/partial.safetensors.tmp-456`;
    fs.mkdirSync(`${dir}/caches`, { recursive: true });
    fs.writeFileSync(stray, 'a worker is still writing this');
    const redisUrl = process.env.SEARCHLIGHT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const s = await startServer({ ...quiet, dataDir: dir, redisUrl, redisPrefix: `searchlight-lock-test-${process.pid}`, jobWorkers: 0 });
    expect(fs.existsSync(stray)).toBe(true);
    await s.close();
    const plain = await startServer({ ...quiet, dataDir: dir }); // the embedded default owns its files: swept
    expect(fs.existsSync(stray)).toBe(false);
    await plain.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a refusal never names a dead holder (the file a SIGKILLed server left behind)', async () => {
    const h = await startHarness();
    const dir = h.dataDir;
    // The holder file as a killed server would leave it, while this live server holds the lock.
    fs.writeFileSync(`${dir}/server.lock.json`, JSON.stringify({ pid: 2 ** 22 + 7, url: 'http://127.0.0.1:1', since: 'then' }));
    const err = await startServer({ ...quiet, dataDir: dir }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `data directory ${dir} is in use by another Searchlight server; stop it, or start this one with another --data directory`,
    );
    await h.close();
  });

  it('a failed start (port taken) gives the directory back', async () => {
    const h = await startHarness();
    const dir = tempDir();
    await expect(startServer({ ...quiet, dataDir: dir, port: h.server.port })).rejects.toThrow(/EADDRINUSE/);
    const s = await startServer({ ...quiet, dataDir: dir });
    await s.close();
    await h.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
