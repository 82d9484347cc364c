/**
 * Streams for commands, injectable so tests can run commands in-process.
 * `LineWriter` batches output into large chunks and honours back-pressure, so
 * `mazes generate --count 1e6` runs in constant memory at full speed.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface CliIO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

export const processIO = (): CliIO => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

export class LineWriter {
  private buf: string[] = [];
  private size = 0;
  constructor(
    private readonly out: Writable,
    private readonly chunk = 1 << 16,
  ) {}

  /** Queue one line (newline added); resolves immediately unless a flush must wait for drain. */
  async line(s: string): Promise<void> {
    this.buf.push(s);
    this.size += s.length + 1;
    if (this.size >= this.chunk) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const text = this.buf.join('\n') + '\n';
    this.buf = [];
    this.size = 0;
    if (!this.out.write(text)) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }
}

/** Non-empty input lines, trimmed; with their 1-based line numbers for error messages. */
export async function* readLines(input: Readable): AsyncGenerator<{ line: string; lineNo: number }> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const raw of rl) {
    lineNo++;
    const line = raw.trim();
    if (line) yield { line, lineNo };
  }
}
