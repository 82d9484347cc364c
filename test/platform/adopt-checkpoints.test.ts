/**
 * A worker killed between storing a checkpoint object and recording its row (storeCheckpoint's
 * order) leaves a whole object no row names; a resumed attempt records it (services/training.ts
 * adoptCheckpoints) instead of leaving the model without a checkpoint it has. CI once saw the
 * queue test's SIGKILL land in that gap.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../server/model/config.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { adoptCheckpoints, storeCheckpoint } from '../../server/services/training.js';
import { type Harness, sqlRows, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('checkpoints stored but not recorded', () => {
  it('are recorded with their sha256 and size; recorded ones, temporary files and other names are left alone', async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(3), n_ctx: 64, tokenizer: 'aotp-ut' };
    const bytes = encodeModel(cfg, initWeights(cfg, new Rng(5)), [...tok.vocab(3)]);
    const model = (await h.gql('mutation($b: String!) { importModel(name: "killed", base64: $b) { id } }', { b: Buffer.from(bytes).toString('base64') })).data
      .importModel;
    const modelId = Number(model.id.split(':')[1]);
    const { handle } = h.server.app;
    const file = `${h.dataDir}/w.safetensors`;
    fs.writeFileSync(file, bytes);
    await storeCheckpoint(handle, modelId, 25, file); // object and row
    await handle.store.putFile(`checkpoints/model-${modelId}/step-50.safetensors`, file); // the object only: killed here
    await handle.store.put(`checkpoints/model-${modelId}/notes.txt`, new TextEncoder().encode('not a checkpoint'));
    // bytes is a bigint on PostgreSQL, which node-postgres returns as a string.
    const rows = async () =>
      (
        await sqlRows<{ step: number; sha256: string; bytes: number | string; path: string }>(
          handle,
          'SELECT step, sha256, bytes, path FROM checkpoints WHERE model_id = ? ORDER BY step',
          modelId,
        )
      ).map((r) => ({ ...r, bytes: Number(r.bytes) }));
    const before = await rows();

    expect(await adoptCheckpoints(handle, modelId)).toEqual([50]);
    const after = await rows();
    expect(after.slice(0, before.length)).toEqual(before); // the import's and step 25's rows unchanged
    expect(after.at(-1)).toEqual({
      step: 50,
      sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      path: `checkpoints/model-${modelId}/step-50.safetensors`,
    });
    expect(await adoptCheckpoints(handle, modelId)).toEqual([]); // nothing left to adopt
  });
});
