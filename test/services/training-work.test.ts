/**
 * A training job's resumable state in a shared bucket (services/training.ts saveTrainingWork /
 * restoreTrainingWork): a worker on another machine resumes from the last complete pair, never
 * from a mix of two checkpoints or a file its writer did not finish sending.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbHandle } from '../../server/services/database.js';
import { storeFromEnv } from '../../server/services/store/index.js';
import { restoreTrainingWork, saveTrainingWork } from '../../server/services/training.js';
import { startS3, type TestS3, tempDir } from '../platform/helpers.js';

let s3: TestS3;
const dirs: string[] = [];
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A machine: its own data directory, the shared bucket; the training pair's local paths. */
function machine() {
  const dataDir = tempDir('searchlight-machine-');
  dirs.push(dataDir);
  const store = storeFromEnv(dataDir, { ...s3.env, SEARCHLIGHT_S3_PREFIX: path.basename(dirs[0]) });
  const work = path.join(dataDir, 'training/job-7');
  fs.mkdirSync(work, { recursive: true });
  // Only the store is used by these two functions.
  const handle = { store, dataDir } as unknown as DbHandle;
  return { handle, store, file: path.join(work, 'train.safetensors'), state: path.join(work, 'train.safetensors.state') };
}

/** A checkpoint at `step` on machine `m`: its files written, its weights stored as the checkpoint object (storeCheckpoint's part). */
const write = async (m: ReturnType<typeof machine>, step: number) => {
  fs.writeFileSync(m.file, `weights of step ${step}`);
  fs.writeFileSync(m.state, `optimizer state of step ${step}`);
  return m.store.putFile(`checkpoints/model-1/step-${step}.safetensors`, m.file);
};

describe('resumable training state in a shared bucket', () => {
  it('another machine restores the last complete pair: a save interrupted after its first file leaves the previous one named', async () => {
    const a = machine();
    await saveTrainingWork(a.handle, 7, a.file, a.state, 20, await write(a, 20));
    await saveTrainingWork(a.handle, 7, a.file, a.state, 40, await write(a, 40));
    expect((await a.store.list('training/job-7')).map((o) => o.path)).toEqual([
      'training/job-7/manifest.json',
      'training/job-7/step-40/train.safetensors.state',
    ]); // the state of step 20 went once step 40's was named; the weights are the checkpoint object
    // Machine A dies while saving step 60: its checkpoint and state went up, the manifest did not.
    await write(a, 60);
    await a.store.putFile('training/job-7/step-60/train.safetensors.state', a.state);

    const b = machine();
    await restoreTrainingWork(b.handle, 7, b.file, b.state);
    expect(fs.readFileSync(b.file, 'utf8')).toBe('weights of step 40');
    expect(fs.readFileSync(b.state, 'utf8')).toBe('optimizer state of step 40');
  });

  it('a named file that does not match its sha256 (or is gone) is not restored: nothing is left here and the job starts over', async () => {
    const a = machine();
    await saveTrainingWork(a.handle, 7, a.file, a.state, 20, await write(a, 20));
    await a.store.put('checkpoints/model-1/step-20.safetensors', new TextEncoder().encode('half a fi'));
    const b = machine();
    await restoreTrainingWork(b.handle, 7, b.file, b.state);
    expect(fs.existsSync(b.file) || fs.existsSync(b.state)).toBe(false);
    await a.store.remove('checkpoints/model-1/step-20.safetensors');
    await restoreTrainingWork(b.handle, 7, b.file, b.state);
    expect(fs.existsSync(b.file) || fs.existsSync(b.state)).toBe(false);
  });
});
