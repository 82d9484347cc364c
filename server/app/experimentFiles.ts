/**
 * An experiment's result tensors over plain HTTP (routed from downloads.ts, which has already
 * authenticated the caller; any signed-in user may read, as for the `experiment` field):
 *
 *   GET /files/experiments/<id>/<name>.npy      one tensor, the stored file (X-Content-SHA256 = its row's sha256)
 *   GET /files/experiments/<id>.safetensors     every tensor in one float32 safetensors file, with
 *                                               __metadata__ {experiment, kind, params, seed, model, checkpoint_sha256}
 *   GET /files/experiments/<id>/sae/sae_weights.safetensors, …/sae/cfg.json
 *                                               an `sae` experiment in SAELens' layout (interp/sae/format.ts)
 *
 * The .safetensors file is assembled from the stored .npy files on request (each checked against
 * its recorded sha256 first, so a damaged file is reported rather than served).
 */
import crypto from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { getExperiment, resultsOf } from '../services/experiments.js';
import { getCheckpoint, getModel } from '../services/models.js';
import { decodeNpy } from '../model/npy.js';
import { encodeSafetensors } from '../model/safetensors.js';
import type { App } from '../graphql/context.js';
import { HttpError } from './http.js';
import type { ExperimentRow, ResultRow } from '../services/rows.js';
import { saeLensConfig } from '../interp/sae/format.js';
import { SAE_PARAMS } from '../interp/sae/sae.js';
import type { SaeSummary } from '../interp/index.js';
import type { ModelConfig } from '../model/config.js';

async function completedExperiment(app: App, idText: string): Promise<ExperimentRow> {
  const e = await getExperiment(app.handle.db, Number(idText));
  if (!e) throw new HttpError(404, `Experiment:${idText} not found`, 'NOT_FOUND');
  if (e.summary === null) throw new HttpError(404, `Experiment:${idText} has no results yet (see its status)`, 'NOT_FOUND');
  return e;
}

async function readChecked(app: App, r: ResultRow): Promise<Buffer> {
  const read = await app.handle.store.readVerified(r.path, r.sha256);
  if ('error' in read) {
    throw new HttpError(
      500,
      read.error === 'missing'
        ? `the file of tensor "${r.name}" is missing from the artifact store (${app.handle.store.describe()})`
        : `the file of tensor "${r.name}" does not match its recorded sha256 (damaged artifact store?)`,
      'INTERNAL_SERVER_ERROR',
    );
  }
  return read.bytes;
}

function send(res: ServerResponse, bytes: Uint8Array, sha256: string, filename: string): void {
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': bytes.length,
    'content-disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
    'x-content-sha256': sha256,
  });
  res.end(bytes);
}

/** Serves `seg` (the path after /files/experiments/, decoded); throws HttpError for anything else. */
export async function serveExperimentFile(app: App, seg: string[], res: ServerResponse): Promise<void> {
  const db = app.handle.db;
  let m: RegExpExecArray | null;
  if (seg.length === 1 && (m = /^(\d{1,15})\.safetensors$/.exec(seg[0]))) {
    const e = await completedExperiment(app, m[1]);
    const rows = await resultsOf(db, e.id);
    const tensors = [];
    for (const r of rows) {
      const t = decodeNpy(await readChecked(app, r));
      tensors.push({ name: r.name, shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) });
    }
    const ckpt = e.checkpointId ? await getCheckpoint(db, e.checkpointId) : undefined;
    const bytes = encodeSafetensors(tensors, {
      experiment: `Experiment:${e.id}`,
      kind: e.kind,
      params: JSON.stringify(e.params),
      seed: String(e.seed),
      model: `Model:${e.modelId}`,
      ...(ckpt ? { checkpoint_sha256: ckpt.sha256 } : {}),
      ...(e.datasetId ? { dataset: `Dataset:${e.datasetId}` } : {}),
    });
    send(res, bytes, crypto.createHash('sha256').update(bytes).digest('hex'), `experiment-${e.id}-${e.kind}.safetensors`);
    return;
  }
  if (seg.length === 2 && /^\d{1,15}$/.test(seg[0]) && seg[1].endsWith('.npy')) {
    const e = await completedExperiment(app, seg[0]);
    const name = seg[1].slice(0, -4);
    const all = await resultsOf(db, e.id);
    const r = all.find((x) => x.name === name);
    if (!r) {
      const names = all.map((x) => x.name);
      throw new HttpError(404, `Experiment:${e.id} has no tensor named "${name}"; names: ${names.slice(0, 30).join(', ')}`, 'NOT_FOUND');
    }
    send(res, await readChecked(app, r), r.sha256, `experiment-${e.id}-${name}.npy`);
    return;
  }
  if (seg.length === 3 && /^\d{1,15}$/.test(seg[0]) && seg[1] === 'sae' && (seg[2] === 'sae_weights.safetensors' || seg[2] === 'cfg.json')) {
    const e = await completedExperiment(app, seg[0]);
    if (e.kind !== 'sae')
      throw new HttpError(
        404,
        `Experiment:${e.id} is a ${e.kind} experiment, not an SAE; its tensors are at /files/experiments/${e.id}.safetensors`,
        'NOT_FOUND',
      );
    if (seg[2] === 'cfg.json') {
      const model = await getModel(db, e.modelId);
      const cfg = saeLensConfig(e.summary as SaeSummary, {
        modelName: model?.name ?? `Model:${e.modelId}`,
        contextSize: (model?.config as ModelConfig | undefined)?.n_ctx ?? 0,
        experiment: `Experiment:${e.id}`,
      });
      const bytes = Buffer.from(`${JSON.stringify(cfg, null, 2)}\n`);
      send(res, bytes, crypto.createHash('sha256').update(bytes).digest('hex'), 'cfg.json');
      return;
    }
    const rows = await resultsOf(db, e.id);
    const tensors = [];
    const names: string[] = [...SAE_PARAMS, ...((e.summary as SaeSummary).architecture === 'jumprelu' ? ['threshold'] : [])];
    for (const name of names) {
      const r = rows.find((x) => x.name === name);
      if (!r) throw new HttpError(500, `Experiment:${e.id} lacks its ${name} tensor`, 'INTERNAL_SERVER_ERROR');
      const t = decodeNpy(await readChecked(app, r));
      tensors.push({ name, shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) });
    }
    const bytes = encodeSafetensors(tensors);
    send(res, bytes, crypto.createHash('sha256').update(bytes).digest('hex'), 'sae_weights.safetensors');
    return;
  }
  throw new HttpError(
    404,
    `no such file route: /files/experiments/${seg.join('/')}; use <id>.safetensors, <id>/<tensor>.npy, or for an SAE <id>/sae/sae_weights.safetensors and <id>/sae/cfg.json`,
    'NOT_FOUND',
  );
}
