/** Runs the CLI in-process with string stdin, capturing stdout/stderr and the exit code. */
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../server/app/main.js';

export async function cli(argv: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: string[] = [];
  const errChunks: string[] = [];
  stdout.on('data', (b: Buffer) => chunks.push(b.toString()));
  stderr.on('data', (b: Buffer) => errChunks.push(b.toString()));
  const code = await main(argv, { stdin: Readable.from([stdin]), stdout, stderr });
  return { code, stdout: chunks.join(''), stderr: errChunks.join('') };
}
