/**
 * The PyTorch anchors: each bench/torch_*.py script takes its arguments as one JSON argument and
 * prints its report as JSON on its last line of output. Run under `python` (Debian's python3 with
 * python3-torch); null with the reason when python is skipped (""), lacks torch, or the script fails.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function runTorchScript(python: string, script: string, args: object): { result: unknown; reason?: string } {
  if (!python) return { result: null, reason: 'skipped (--python "")' };
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { result: null, reason: `${python} cannot import torch (apt-get install python3-torch libopenblas0-pthread)` };
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const r = spawnSync(python, [path, JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { result: null, reason: `${script} failed: ${r.stderr.trim().split('\n').pop()}` };
  return { result: JSON.parse(r.stdout.trim().split('\n').pop() ?? 'null') };
}
