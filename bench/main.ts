/**
 * Benchmark dispatcher. Each benchmark is a module exporting `run(argv)` that returns a JSON-able
 * report; we print it on stdout. Figures are wall-clock on this machine, so every report names the
 * machine (CPU model, cores, Node version) and compares against its anchor as a ratio, in the same run.
 */
import os from 'node:os';
import { isUserError } from '../server/errors.js';

const benches: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<unknown> }> }> = {
  forward: { summary: 'one forward pass, hallway preset, 32 x 256, ONNX Runtime beside PyTorch', load: () => import('./forward.js') },
  cache: {
    summary: 'run-with-cache of every hook beside a plain forward (same shape)',
    load: async () => ({ run: async (argv) => (await import('./forward.js')).run(argv, { mode: 'cache' }) }),
  },
  maze: { summary: 'mazes/s for generate + solve + tokenize-to-ids, per generator, 6x6 and 16x16; CLI text output', load: () => import('./maze.js') },
  train: {
    summary: 'training tokens/s of the onnx and tfjs engines beside PyTorch (32x128 and hallway shapes), peak RSS per engine',
    load: () => import('./train_onnx.js'),
  },
  patch: { summary: 'full resid_pre patching sweep of one 6x6 maze (hallway preset) vs one forward per patch', load: () => import('./patch.js') },
  probes: { summary: 'the probes experiment over 1,000 mazes', load: () => import('./probes.js') },
  api: { summary: 'concurrent clients issuing metadata queries while a job runs: p50/p99 latency, errors', load: () => import('./api.js') },
  'path-patch': {
    summary: 'path patching of every sender head on target pairs, batched vs one forward per patched path',
    load: () => import('./pathpatch.js'),
  },
  jobs: { summary: 'experiment jobs/s through the BullMQ queues with 1 and 2 worker processes (needs Redis)', load: () => import('./jobs.js') },
  sae: { summary: 'sparse autoencoder training steps/s on ONNX Runtime beside the same SAE in PyTorch', load: () => import('./sae.js') },
  intervene: {
    summary: 'greedy decoding with an intervention on every forward (decodeRecomputing) beside PyTorch, tokens/s',
    load: () => import('./intervene.js'),
  },
};

export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
  };
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const bench = name ? benches[name] : undefined;
  if (!bench) {
    process.stderr.write(
      `Usage: npm run bench -- <name> [options]\n\n${Object.entries(benches)
        .map(([n, b]) => `  ${n.padEnd(10)}${b.summary}`)
        .join('\n')}\n`,
    );
    return name ? 2 : 0;
  }
  try {
    const report = await (await bench.load()).run(rest);
    process.stdout.write(JSON.stringify({ bench: name, machine: machine(), date: new Date().toISOString(), ...(report as object) }, null, 2) + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`bench ${name}: ${isUserError(e) ? '' : 'internal error: '}${(e as Error).message}\n`);
    return isUserError(e) ? 2 : 1;
  }
}
