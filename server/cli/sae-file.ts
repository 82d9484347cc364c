/** Reading an `exp run sae --out` result (shared by `exp run --sae` and `model solve --sae`). */
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SaeSummary } from '../interp/sae/kind.js';
import type { StoredSae } from '../interp/types.js';
import { decodeSafetensors } from '../model/safetensors.js';
import { UsageError } from './args.js';

/** The tensors file written beside `out`: its extension replaced by .safetensors. */
export function tensorsPath(out: string): string {
  return out.replace(/\.json$/i, '') + '.safetensors';
}

/** sha256 of a file's bytes (hex): which model an `exp run --out` result was made on. */
export async function fileSha256(path: string): Promise<string> {
  return crypto
    .createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/**
 * An `exp run sae --out` result (its JSON and the tensors beside it) as kinds that edit the SAE read
 * it. With `model` (the --weights file the SAE will act on) the result's `model_sha256` must be that
 * file's: an SAE of another model of the same width would otherwise run silently. A result written
 * before model_sha256 existed cannot be checked; `warn` says so.
 */
export async function loadSaeResult(file: string, where = 'exp run', model?: { path: string; warn: (line: string) => void }): Promise<StoredSae> {
  let doc: { kind?: unknown; summary?: unknown; model?: unknown; model_sha256?: unknown };
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UsageError(
      `${where}: --sae ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not a JSON result (${(e as Error).message})`}`,
    );
  }
  if (doc.kind !== 'sae')
    throw new UsageError(`${where}: --sae ${file} is ${doc.kind === undefined ? 'not an exp run result' : `a ${String(doc.kind)} result`}, not an sae one`);
  if (model) {
    const sha = await fileSha256(model.path);
    if (typeof doc.model_sha256 !== 'string')
      model.warn(`${where}: --sae ${file} does not record the model it was trained on (no model_sha256); make sure it is ${model.path}'s`);
    else if (doc.model_sha256 !== sha)
      throw new UsageError(
        `${where}: --sae ${file} was trained on another model (${String(doc.model)}, sha256 ${doc.model_sha256.slice(0, 12)}…), not ${model.path} (sha256 ${sha.slice(0, 12)}…)`,
      );
  }
  const tpath = tensorsPath(file);
  let st;
  try {
    st = decodeSafetensors(new Uint8Array(await readFile(tpath)));
  } catch (e) {
    throw new UsageError(`${where}: --sae: the tensors beside it, ${tpath}: ${(e as Error).message}`);
  }
  const tensors = new Map(
    [...st.tensors].map(([name, t]) => [name, { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) }]),
  );
  return { id: 0, summary: doc.summary as SaeSummary, tensors };
}
