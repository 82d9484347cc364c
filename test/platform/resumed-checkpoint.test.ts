/**
 * A worker killed between storing a checkpoint object and recording its row (storeCheckpoint's
 * order) leaves that step unrecorded; the resumed attempt continues from the trainer's own file at
 * that step and records it (services/training.ts recordResumedCheckpoint), so the model keeps it and
 * no object is left without a row. CI once saw the queue test's SIGKILL land in that gap.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../server/model/config.js';
import { encodeSafetensors } from '../../server/model/safetensors.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { recordResumedCheckpoint, storeCheckpoint } from '../../server/services/training.js';
import { type Harness, sqlRows, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('the checkpoint a resumed attempt continues from', () => {
  it('is recorded (sha256, size, the same path) when the killed attempt stored it without its row; a recorded step, or a file without a step, records nothing', async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), n_ctx: 64, tokenizer: 'aotp-ut' };
    const model = (
      await h.gql('mutation($b: String!) { importModel(name: "killed", base64: $b) { id } }', {
        b: Buffer.from(encodeModel(cfg, initWeights(cfg, new Rng(5)), [...tok.vocab(3)])).toString('base64'),
      })
    ).data.importModel;
    const modelId = Number(model.id.split(':')[1]);
    const { handle } = h.server.app;
    const fileAt = (step: string | null): { path: string; bytes: Uint8Array } => {
      const bytes = encodeSafetensors([{ name: 'w', shape: [3], data: Float32Array.of(1, 2, Number(step ?? 0)) }], step ? { step } : {});
      const path = `${h.dataDir}/train-${step}.safetensors`;
      fs.writeFileSync(path, bytes);
      return { path, bytes };
    };
    // bytes is a bigint on PostgreSQL, which node-postgres returns as a string.
    const rows = async () =>
      (
        await sqlRows<{ step: number; sha256: string; bytes: number | string; path: string }>(
          handle,
          'SELECT step, sha256, bytes, path FROM checkpoints WHERE model_id = ? ORDER BY step',
          modelId,
        )
      ).map((r) => ({ ...r, bytes: Number(r.bytes) }));
    const at25 = fileAt('25');
    await storeCheckpoint(handle, modelId, 25, at25.path); // object and row
    const at50 = fileAt('50');
    await handle.store.putFile(`checkpoints/model-${modelId}/step-50.safetensors`, at50.path); // the object only: killed here
    const before = await rows();

    expect(await recordResumedCheckpoint(handle, modelId, at50.path)).toBe(50);
    const after = await rows();
    expect(after.slice(0, before.length)).toEqual(before); // the import's and step 25's rows unchanged
    expect(after.at(-1)).toEqual({
      step: 50,
      sha256: crypto.createHash('sha256').update(at50.bytes).digest('hex'),
      bytes: at50.bytes.length,
      path: `checkpoints/model-${modelId}/step-50.safetensors`,
    });
    // Every checkpoint object of the model has its row now.
    const objects = (await handle.store.list(`checkpoints/model-${modelId}`)).map((o) => o.path);
    expect(objects.filter((o) => !after.some((r) => r.path === o))).toEqual([]);

    expect(await recordResumedCheckpoint(handle, modelId, at50.path)).toBeNull(); // recorded now
    expect(await recordResumedCheckpoint(handle, modelId, at25.path)).toBeNull();
    expect(await recordResumedCheckpoint(handle, modelId, fileAt(null).path)).toBeNull(); // no step in its metadata
    expect(await rows()).toEqual(after);
  });
});
