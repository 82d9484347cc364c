/**
 * Binary downloads over plain HTTP for Python and other scripts, authorized like the GraphQL
 * fields that name them (any signed-in user may read; same bearer token or session cookie):
 *
 *   GET  /files/checkpoints/<id>.safetensors          the checkpoint's weights (Checkpoint.downloadUrl)
 *   GET  /files/checkpoints/<id>/<tensor>.npy         one weight tensor, e.g. blocks.0.attn.W_Q.npy
 *   GET  /files/caches/<key>.safetensors              an activation cache (ForwardResult.cacheUrl)
 *   GET  /files/caches/<key>/<hook>.npy               one cached activation (or "logits")
 *   GET  /files/results/<id>                          an experiment's result tensor file (by result row)
 *   GET  /files/experiments/<id>.safetensors          an experiment's whole result (experimentFiles.ts)
 *   GET  /files/experiments/<id>/<tensor>.npy         one of its tensors
 *   GET  /files/datasets/<id>.zanj                    a dataset as a maze-dataset ZANJ archive (Dataset.downloadUrl)
 *   POST /upload/model?name=<name>                    import a safetensors model or maze-transformer ZANJ archive (raw body,
 *        Content-Type: application/octet-stream; researcher role) → the Model as JSON
 *
 * Responses carry `X-Content-SHA256` (of the whole file) so clients can verify what they got.
 * An application/octet-stream body cannot be sent cross-site without a CORS preflight, which we
 * never grant, so cookie-authenticated uploads are safe from CSRF.
 */
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hasRole } from '../auth/roles.js';
import { isUserError } from '../errors.js';
import type { ArtifactStore } from '../services/database.js';
import { archiveFileName, datasetArchive } from '../services/datasetArchives.js';
import { getDataset } from '../services/datasets.js';
import { getResult } from '../services/experiments.js';
import { getCheckpoint } from '../services/models.js';
import { encodeNpy } from '../model/npy.js';
import { decodeSafetensors } from '../model/safetensors.js';
import { type App, authenticate } from '../graphql/context.js';
import { serveExperimentFile } from './experimentFiles.js';
import { HttpError, readBody, sendError, sendJson } from './http.js';
import { findCache } from '../services/inference.js';
import { MAX_MODEL_BYTES, importModelBytes } from '../services/models.js';

async function sendFile(res: ServerResponse, store: ArtifactStore, rel: string, sha256: string, filename: string): Promise<void> {
  // HEAD: the same headers and no body (Node drops a HEAD body, but reading the file would be waste).
  const head = res.req.method === 'HEAD';
  const file = await store.open(rel);
  if (!file) throw new HttpError(404, `the file for ${filename} is missing from the artifact store (${store.describe()})`, 'NOT_FOUND');
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': file.size,
    'content-disposition': `attachment; filename="${filename}"`,
    'x-content-sha256': sha256,
  });
  if (head) res.end();
  else file.stream().pipe(res);
}

async function sendNpy(res: ServerResponse, store: ArtifactStore, rel: string, tensor: string, filename: string): Promise<void> {
  const bytes0 = await store.read(rel);
  if (!bytes0) throw new HttpError(404, `the file for ${filename.replace(/\/.*$/, '')} is missing from the artifact store (${store.describe()})`, 'NOT_FOUND');
  const { tensors } = decodeSafetensors(bytes0, { select: (n) => n === tensor });
  const t = tensors.get(tensor);
  if (!t)
    throw new HttpError(
      404,
      `no tensor named "${tensor}" in ${filename.replace(/\/.*$/, '')}; names: ${[...tensors.keys()].slice(0, 20).join(', ')}`,
      'NOT_FOUND',
    );
  const bytes = encodeNpy(t.data, t.shape);
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': bytes.length,
    'content-disposition': `attachment; filename="${filename}"`,
  });
  res.end(bytes);
}

/** Handles /files/* and /upload/model; returns false for other paths. */
export async function handleFiles(app: App, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
  const isFiles = pathname.startsWith('/files/');
  const isUpload = pathname === '/upload/model';
  if (!isFiles && !isUpload) return false;
  try {
    const { user } = await authenticate(app, { authorization: req.headers.authorization, cookie: req.headers.cookie });
    if (!user) throw new HttpError(401, 'authentication required: send "Authorization: Bearer <token>"', 'UNAUTHENTICATED');
    if (isUpload) {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST with the safetensors bytes as the body');
      if (!hasRole(user.role, 'researcher'))
        throw new HttpError(403, `importing a model needs the researcher role or higher; ${user.name} is a ${user.role}`, 'FORBIDDEN');
      if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/octet-stream'))
        throw new HttpError(415, 'send the file with Content-Type: application/octet-stream');
      const wait = app.limiter.take(user.id);
      if (wait > 0) throw new HttpError(429, `too many compute requests; try again in ${wait} s`, 'RATE_LIMITED');
      const query = new URL(req.url ?? '/', 'http://x').searchParams;
      const name = query.get('name') ?? '';
      // TL weight processing as flags: fold_ln=1 etc. (importModel's `processing`); any other value is refused.
      const processing: Record<string, boolean> = {};
      for (const step of ['fold_ln', 'center_writing_weights', 'center_unembed', 'fold_value_biases']) {
        const v = query.get(step);
        if (v === null) continue;
        if (!['0', '1', 'true', 'false'].includes(v)) throw new HttpError(400, `${step} must be 1/true or 0/false, got ${JSON.stringify(v)}`, 'BAD_USER_INPUT');
        processing[step] = v === '1' || v === 'true';
      }
      const body = await readBody(req, MAX_MODEL_BYTES);
      const m = await importModelBytes(app.handle, name, body, user.id, 'import', processing);
      sendJson(res, 200, { id: `Model:${m.id}`, name: m.name, config: m.config, status: m.status, createdAt: new Date(m.createdAt).toISOString() });
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET');
    const seg = pathname
      .split('/')
      .slice(2)
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          // A malformed %-escape is the client's mistake: 400, not a 500 with a stack trace.
          throw new HttpError(400, `malformed %-escape in the path segment ${JSON.stringify(s.slice(0, 80))}`);
        }
      }); // after /files/
    const db = app.handle.db;
    let m: RegExpExecArray | null;
    if (seg[0] === 'checkpoints' && seg.length === 2 && (m = /^(\d+)\.safetensors$/.exec(seg[1]))) {
      const c = await getCheckpoint(db, Number(m[1]));
      if (!c) throw new HttpError(404, `Checkpoint:${m[1]} not found`, 'NOT_FOUND');
      await sendFile(res, app.handle.store, c.path, c.sha256, `model-${c.modelId}-step-${c.step}.safetensors`);
    } else if (seg[0] === 'checkpoints' && seg.length === 3 && /^\d+$/.test(seg[1]) && seg[2].endsWith('.npy')) {
      const c = await getCheckpoint(db, Number(seg[1]));
      if (!c) throw new HttpError(404, `Checkpoint:${seg[1]} not found`, 'NOT_FOUND');
      await sendNpy(res, app.handle.store, c.path, seg[2].slice(0, -4), `${seg[2]}`);
    } else if (seg[0] === 'caches' && seg.length === 2 && (m = /^([0-9a-f]{64})\.safetensors$/.exec(seg[1]))) {
      const c = await findCache(app.handle, m[1]);
      if (!c) throw new HttpError(404, `activation cache ${m[1]} not found`, 'NOT_FOUND');
      await sendFile(res, app.handle.store, c.path, c.sha256, `cache-${m[1].slice(0, 12)}.safetensors`);
    } else if (seg[0] === 'caches' && seg.length === 3 && /^[0-9a-f]{64}$/.test(seg[1]) && seg[2].endsWith('.npy')) {
      const c = await findCache(app.handle, seg[1]);
      if (!c) throw new HttpError(404, `activation cache ${seg[1]} not found`, 'NOT_FOUND');
      await sendNpy(res, app.handle.store, c.path, seg[2].slice(0, -4), seg[2]);
    } else if (seg[0] === 'datasets' && seg.length === 2 && (m = /^(\d+)\.zanj$/.exec(seg[1]))) {
      const ds = await getDataset(db, Number(m[1]));
      if (!ds) throw new HttpError(404, `Dataset:${m[1]} not found`, 'NOT_FOUND');
      // Built on request from the stored mazes (no artifact object): small, and never stale.
      const bytes = await datasetArchive(db, ds, `Dataset:${ds.id}.zanj`);
      res.writeHead(200, {
        'content-type': 'application/zip',
        'content-length': bytes.length,
        'content-disposition': `attachment; filename="${archiveFileName(ds)}"`,
        'x-content-sha256': crypto.createHash('sha256').update(bytes).digest('hex'),
      });
      res.end(res.req.method === 'HEAD' ? undefined : bytes);
    } else if (seg[0] === 'experiments') {
      await serveExperimentFile(app, seg.slice(1), res);
    } else if (seg[0] === 'results' && seg.length === 2 && (m = /^(\d+)(\.\w+)?$/.exec(seg[1]))) {
      const r = await getResult(db, Number(m[1]));
      if (!r) throw new HttpError(404, `result ${m[1]} not found`, 'NOT_FOUND');
      await sendFile(res, app.handle.store, r.path, r.sha256, r.path.split('/').at(-1) ?? `result-${r.id}`);
    } else {
      throw new HttpError(404, `no such file route: ${pathname}`, 'NOT_FOUND');
    }
  } catch (e) {
    if (e instanceof HttpError) sendError(res, e.status, e.code, e.message);
    else if (isUserError(e)) sendError(res, 400, 'BAD_USER_INPUT', (e as Error).message);
    else {
      process.stderr.write(`[http] ${req.method} ${pathname}: ${(e as Error)?.stack ?? e}\n`);
      sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'internal server error');
    }
  }
  return true;
}
