import fs from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { userCommands } from '../../server/cli/users.js';
import type { CliIO } from '../../server/cli/io.js';
import { DEMO_DATASET, seedDemo } from '../../server/services/seed.js';
import { startServer } from '../../server/app/server.js';
import { tempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function io(stdin = ''): { io: CliIO; out: () => string } {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += d));
  return { io: { stdin: Readable.from([stdin]), stdout, stderr: new PassThrough() }, out: () => out };
}

describe('searchlight users', () => {
  it('create prints the new API token as the last line, and that token authenticates against the API', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const c = io('s3cret-passphrase\n');
    await userCommands.create.run(['--name', 'alice', '--role', 'researcher', '--password-stdin', '--data', dir], c.io);
    const lines = c.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/created user alice \(researcher\), id User:1, with a password/);
    const token = lines.at(-1)!;
    expect(token).toMatch(/^sl_[A-Za-z0-9_-]{43}$/);

    const s = await startServer({ dataDir: dir, port: 0, log: () => undefined });
    try {
      const r = await fetch(s.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { name role } }' }),
      });
      expect((await r.json()).data.me).toEqual({ name: 'alice', role: 'RESEARCHER' });
      const login = await fetch(s.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { login(name: "alice", password: "s3cret-passphrase") { name } }' }),
      });
      expect((await login.json()).data.login.name).toBe('alice');
    } finally {
      await s.close();
    }
    const l = io();
    await userCommands.list.run(['--data', dir], l.io);
    expect(l.out()).toMatch(/^User:1\talice\tresearcher\t/);
  });

  it('refuses a duplicate name, a bad role and a short password with one clear message', async () => {
    const dir = tempDir();
    dirs.push(dir);
    await userCommands.create.run(['--name', 'bob', '--role', 'viewer', '--data', dir], io().io);
    await expect(userCommands.create.run(['--name', 'bob', '--role', 'viewer', '--data', dir], io().io)).rejects.toThrow(/a user named "bob" already exists/);
    await expect(userCommands.create.run(['--name', 'eve', '--role', 'root', '--data', dir], io().io)).rejects.toThrow(
      /--role must be one of viewer, researcher, admin/,
    );
    await expect(userCommands.create.run(['--name', 'eve', '--role', 'viewer', '--password', 'short', '--data', dir], io().io)).rejects.toThrow(
      /password must be at least 8 characters/,
    );
  });
});

describe('first start', () => {
  it('seeds the demo workspace once: a demo dataset built by a normal job', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const s = await startServer({ dataDir: dir, port: 0, log: () => undefined });
    try {
      const noModelDir = tempDir();
      dirs.push(noModelDir);
      expect(seedDemo(s.app, noModelDir)).toEqual([expect.stringMatching(/^demo dataset queued \(Job:1\)$/)]);
      expect(seedDemo(s.app, noModelDir)).toEqual([]);
      await s.runner.idle();
      const ds = s.app.handle.sqlite.prepare('SELECT name, status, maze_count AS n FROM datasets').all();
      expect(ds).toEqual([{ name: DEMO_DATASET.name, status: 'READY', n: DEMO_DATASET.count }]);
    } finally {
      await s.close();
    }
  });
});
