/**
 * The demo workspace, seeded on first start: a small dataset (5×5 DFS mazes, built by a normal
 * createDataset job) and, once the repository ships one under data/demo/, the demo model. Each
 * part is recorded in the `meta` table, so it is seeded once (the model as soon as it exists).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
// Aliased: a binding named `meta` next to `import.meta` trips Vite's SSR transform (vitest).
import { meta as metaTable } from '../db/schema.js';
import type { DbHandle } from './database.js';
import type { JobScheduler } from './jobs.js';
import { importModelBytes } from './models.js';

export const DEMO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/demo');
/** The data directory to seed and the job system that builds the demo dataset. */
export interface SeedTarget {
  handle: DbHandle;
  runner: Pick<JobScheduler, 'enqueue'>;
}

export const DEMO_DATASET = { name: 'demo: 5x5 DFS mazes', generator: 'dfs', grid: 5, count: 2000, seed: 42 };

function flag(app: SeedTarget, key: string): boolean {
  return app.handle.db.select().from(metaTable).where(eq(metaTable.key, key)).get() !== undefined;
}

function setFlag(app: SeedTarget, key: string, value: unknown): void {
  app.handle.db.insert(metaTable).values({ key, value }).onConflictDoUpdate({ target: metaTable.key, set: { value } }).run();
}

/** Seeds what is missing; returns one line per thing seeded. */
export function seedDemo(app: SeedTarget, demoDir: string = DEMO_DIR): string[] {
  const done: string[] = [];
  if (!flag(app, 'seed.dataset')) {
    const job = app.runner.enqueue('createDataset', DEMO_DATASET, null);
    setFlag(app, 'seed.dataset', { jobId: job.id });
    done.push(`demo dataset queued (Job:${job.id})`);
  }
  const file = fs.existsSync(demoDir)
    ? fs
        .readdirSync(demoDir)
        .filter((f) => f.endsWith('.safetensors'))
        .sort()[0]
    : undefined;
  if (file && !flag(app, 'seed.model')) {
    const model = importModelBytes(app.handle, 'demo', fs.readFileSync(path.join(demoDir, file)), null, 'demo');
    setFlag(app, 'seed.model', { modelId: model.id, file });
    done.push(`demo model imported (Model:${model.id}) from data/demo/${file}`);
  }
  return done;
}
