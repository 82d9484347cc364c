/** Reading an `exp run sae --out` result (shared by `exp run --sae` and `model solve --sae`). */
import { readFile } from 'node:fs/promises';
import type { SaeSummary } from '../interp/sae/kind.js';
import type { StoredSae } from '../interp/types.js';
import { decodeSafetensors } from '../model/safetensors.js';
import { UsageError } from './args.js';

/** The tensors file written beside `out`: its extension replaced by .safetensors. */
export function tensorsPath(out: string): string {
  return out.replace(/\.json$/i, '') + '.safetensors';
}

/** An `exp run sae --out` result (its JSON and the tensors beside it) as kinds that edit the SAE read it. */
export async function loadSaeResult(file: string, where = 'exp run'): Promise<StoredSae> {
  let doc: { kind?: unknown; summary?: unknown };
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UsageError(
      `${where}: --sae ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not a JSON result (${(e as Error).message})`}`,
    );
  }
  if (doc.kind !== 'sae')
    throw new UsageError(`${where}: --sae ${file} is ${doc.kind === undefined ? 'not an exp run result' : `a ${String(doc.kind)} result`}, not an sae one`);
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
