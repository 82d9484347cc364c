/** Running the repository's scripts as a user would, from tests whose server lives in this process. */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Debian's python3; CI installs python3-requests and python3-numpy from Debian. */
export const python = '/usr/bin/python3';
export const pythonReady = spawnSync(python, ['-c', 'import requests, numpy'], { encoding: 'utf8' }).status === 0;

/** Runs a command in the repository root without blocking this process's event loop (the server under test runs on it). */
export function runCommand(
  cmd: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
