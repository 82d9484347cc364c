/**
 * The demo workspace, seeded on first start: a small dataset (5×5 DFS mazes, built by a normal
 * createDataset job), the models the repository ships under data/demo/, and their findings —
 * each a Finding on the model with its evidence, an experiment result computed with
 * `searchlight exp run --out` and shipped beside it, imported as a COMPLETED experiment (so a new
 * user sees the findings and their evidence at once, without minutes of compute on first start).
 *
 * data/demo/workspace.json lists them (models in order, the first being the one to start with):
 *   {"models": [{"file": "x.safetensors", "name": "…", "findings": [
 *     {"target": {"kind": "hook", "hook": "blocks.2.hook_resid_pre"}, "status": "SUPPORTED",
 *      "tags": ["probes"], "body": "markdown", "evidence": "findings/x-probes.json"}]}]}
 * A finding about a whole experiment (a lookahead profile) names {"kind": "experiment"}: its own evidence.
 * Without it, the first *.safetensors file is the demo model, without findings. Each model is
 * recorded in the `meta` table once seeded, so it is seeded once (as soon as it exists).
 */
import { first } from '../db/client.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import type { ComponentTarget } from '../db/json.js';
// Aliased: a binding named `meta` next to `import.meta` trips Vite's SSR transform (vitest).
import { meta as metaTable } from '../db/tables.js';
import { UserError } from '../errors.js';
import { decodeSafetensors } from '../model/safetensors.js';
import { type AnnotationStatus, createAnnotation, targetKey } from './annotations.js';
import type { DbHandle } from './database.js';
import { importExperiment } from './experiments.js';
import type { JobScheduler } from './jobs.js';
import { deleteModel, findLatestCheckpoint, importModelBytes } from './models.js';
import { writeCurvePoints } from './training.js';
import { curveFromLog } from '../model/train/progress.js';

export const DEMO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/demo');
export const MANIFEST = 'workspace.json';

/** The data directory to seed and the job system that builds the demo dataset. */
export interface SeedTarget {
  handle: DbHandle;
  runner: Pick<JobScheduler, 'enqueue'>;
}

export const DEMO_DATASET = { name: 'demo: 5x5 DFS mazes', generator: 'dfs', grid: 5, count: 2000, seed: 42 };

export interface SeedFinding {
  target: ComponentTarget;
  status: AnnotationStatus;
  tags: string[];
  body: string;
  /** An `exp run --out` result (.json, with its .safetensors beside it), relative to the demo folder. */
  evidence?: string;
  /**
   * Pages of the evidence experiment linked beside it, e.g. {"label": "probe direction (2,2)",
   * "path": "directions/1612"} → /experiments/<its id>/directions/1612 (a probe's or an SAE latent's page).
   */
  views?: Array<{ label: string; path: string }>;
}

export interface SeedModel {
  file: string;
  name: string;
  findings: SeedFinding[];
  /** The trainer's log of the run the file snapshots (relative to the demo folder): its training curve. */
  log?: string;
}

async function flag(app: SeedTarget, key: string): Promise<boolean> {
  return (await first(app.handle.db.select().from(metaTable).where(eq(metaTable.key, key)))) !== undefined;
}

async function setFlag(app: SeedTarget, key: string, value: unknown): Promise<void> {
  await app.handle.db.insert(metaTable).values({ key, value }).onConflictDoUpdate({ target: metaTable.key, set: { value } });
}

const STATUSES: readonly AnnotationStatus[] = ['HYPOTHESIS', 'SUPPORTED', 'REFUTED'];

/** The workspace manifest, checked field by field (a mistake names the file and the field). */
export function readManifest(demoDir: string): SeedModel[] {
  const file = path.join(demoDir, MANIFEST);
  if (!fs.existsSync(file)) {
    const first = fs.existsSync(demoDir)
      ? fs
          .readdirSync(demoDir)
          .filter((f) => f.endsWith('.safetensors'))
          .sort()[0]
      : undefined;
    return first ? [{ file: first, name: 'demo', findings: [] }] : [];
  }
  const where = `data/demo/${MANIFEST}`;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  const models = (raw as { models?: unknown })?.models;
  if (!Array.isArray(models)) throw new UserError(`${where}: "models" must be a list`);
  return models.map((m, i) => {
    const at = `${where}: models[${i}]`;
    const { file: f, name, findings, log } = (m ?? {}) as Record<string, unknown>;
    if (typeof f !== 'string' || !f.endsWith('.safetensors') || f.includes('/')) throw new UserError(`${at}.file must be a .safetensors file in data/demo`);
    if (log !== undefined && (typeof log !== 'string' || log.includes('..') || !fs.existsSync(path.join(demoDir, log))))
      throw new UserError(`${at}.log must name a trainer log inside data/demo`);
    if (typeof name !== 'string' || !name.trim()) throw new UserError(`${at}.name must be a non-empty string`);
    if (!Array.isArray(findings)) throw new UserError(`${at}.findings must be a list`);
    return {
      file: f,
      name,
      ...(log ? { log: log as string } : {}),
      findings: findings.map((x, j) => {
        const fat = `${at}.findings[${j}]`;
        const { target, status, tags, body, evidence, views } = (x ?? {}) as Record<string, unknown>;
        // {"kind": "experiment"} without an id: the finding is about its own evidence experiment.
        const own =
          (target as { kind?: unknown; experimentId?: unknown } | null)?.kind === 'experiment' &&
          (target as { experimentId?: unknown }).experimentId === undefined;
        if (own && typeof evidence !== 'string') throw new UserError(`${fat}.target: {"kind": "experiment"} without experimentId needs evidence`);
        try {
          targetKey(own ? { kind: 'experiment', experimentId: 0 } : target);
        } catch (e) {
          throw new UserError(`${fat}.${(e as Error).message}`);
        }
        if (!STATUSES.includes(status as AnnotationStatus)) throw new UserError(`${fat}.status must be one of ${STATUSES.join(', ')}`);
        if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new UserError(`${fat}.tags must be a list of strings`);
        if (typeof body !== 'string' || !body.trim()) throw new UserError(`${fat}.body must be a non-empty string`);
        if (evidence !== undefined && (typeof evidence !== 'string' || !evidence.endsWith('.json')))
          throw new UserError(`${fat}.evidence must name an exp run --out .json file`);
        if (views !== undefined) {
          if (evidence === undefined) throw new UserError(`${fat}.views are pages of the evidence experiment: name its evidence`);
          if (!Array.isArray(views)) throw new UserError(`${fat}.views must be a list of {"label", "path"}`);
          views.forEach((v, k) => {
            const { label, path: page } = (v ?? {}) as Record<string, unknown>;
            if (typeof label !== 'string' || !label.trim()) throw new UserError(`${fat}.views[${k}].label must be a non-empty string`);
            if (typeof page !== 'string' || !/^(directions|features)\/\d+$/.test(page))
              throw new UserError(`${fat}.views[${k}].path must be "directions/<n>" or "features/<n>", got ${JSON.stringify(page)}`);
          });
        }
        return {
          target: target as ComponentTarget,
          status: status as AnnotationStatus,
          tags: tags as string[],
          body,
          ...(evidence ? { evidence: evidence as string } : {}),
          ...(views ? { views: views as SeedFinding['views'] } : {}),
        };
      }),
    };
  });
}

/** An `exp run --out` result: its JSON (kind, params, seed, summary, tensor order) and the tensors beside it. */
function readResult(demoDir: string, rel: string) {
  const json = path.join(demoDir, rel);
  let doc: { kind: string; params: Record<string, unknown>; seed: number; summary: unknown; tensors: Array<{ name: string }> };
  let tensors: ReturnType<typeof decodeSafetensors>['tensors'];
  try {
    doc = JSON.parse(fs.readFileSync(json, 'utf8'));
    tensors = decodeSafetensors(fs.readFileSync(json.replace(/\.json$/, '.safetensors'))).tensors;
  } catch (e) {
    throw new UserError(`data/demo/${rel}: cannot read this evidence (${(e as Error).message})`);
  }
  if (typeof doc?.kind !== 'string' || !Array.isArray(doc.tensors))
    throw new UserError(`data/demo/${rel}: not an exp run --out result (kind and tensors missing)`);
  return {
    ...doc,
    tensors: doc.tensors.map(({ name }) => {
      const t = tensors.get(name);
      if (!t) throw new UserError(`data/demo/${rel}: its tensors file has no "${name}"`);
      return { name, shape: t.shape, data: t.data };
    }),
  };
}

/** Seeds what is missing; returns one line per thing seeded. */
export async function seedDemo(app: SeedTarget, demoDir: string = DEMO_DIR): Promise<string[]> {
  const done: string[] = [];
  if (!(await flag(app, 'seed.dataset'))) {
    const job = await app.runner.enqueue('createDataset', DEMO_DATASET, null);
    await setFlag(app, 'seed.dataset', { jobId: job.id });
    done.push(`demo dataset queued (Job:${job.id})`);
  }
  for (const m of readManifest(demoDir)) {
    const key = `seed.model:${m.file}`;
    // Before the manifest, the one demo model was recorded as `seed.model`.
    const earlier = (await first(app.handle.db.select().from(metaTable).where(eq(metaTable.key, 'seed.model'))))?.value as { file?: string } | undefined;
    if ((await flag(app, key)) || earlier?.file === m.file || !fs.existsSync(path.join(demoDir, m.file))) continue;
    // Every piece of evidence is read and checked before anything is written.
    const results = new Map(m.findings.filter((f) => f.evidence).map((f) => [f.evidence as string, readResult(demoDir, f.evidence as string)]));
    const model = await importModelBytes(app.handle, m.name, fs.readFileSync(path.join(demoDir, m.file)), null, 'demo');
    const findings: number[] = [];
    try {
      const ckpt = (await findLatestCheckpoint(app.handle.db, model.id))!;
      // The run's curve up to the snapshot's step, so the model page shows how it was trained.
      if (m.log) await writeCurvePoints(app.handle.db, model.id, curveFromLog(fs.readFileSync(path.join(demoDir, m.log), 'utf8'), ckpt.step));
      const imported = new Map<string, number>(); // evidence path → experiment id: one experiment per result, however many findings cite it
      for (const f of m.findings) {
        const evidence = [];
        let target = f.target;
        if (f.evidence) {
          const r = results.get(f.evidence)!;
          let id = imported.get(f.evidence);
          if (id === undefined) imported.set(f.evidence, (id = await importExperiment(app.handle, { ...r, modelId: model.id, checkpointId: ckpt.id }, null)));
          evidence.push({ label: `${r.kind} (seed ${r.seed})`, url: `/experiments/${id}` });
          for (const v of f.views ?? []) evidence.push({ label: v.label, url: `/experiments/${id}/${v.path}` });
          if (target.kind === 'experiment' && target.experimentId === undefined) target = { kind: 'experiment', experimentId: id };
        }
        findings.push((await createAnnotation(app.handle.db, { modelId: model.id, target, body: f.body, status: f.status, tags: f.tags, evidence }, null)).id);
      }
      await setFlag(app, key, { modelId: model.id, findings });
    } catch (e) {
      // Nothing half-seeded: the model goes with its experiments and findings (cascade), so the next start seeds it whole.
      await deleteModel(app.handle, model, null);
      throw e;
    }
    done.push(`demo model "${m.name}" imported (Model:${model.id}) from data/demo/${m.file}${findings.length ? ` with ${findings.length} findings` : ''}`);
  }
  return done;
}
