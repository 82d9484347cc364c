import { describe, expect, it } from 'vitest';
import { TRAIN_META_KEY } from '../../server/model/train/checkpoint.js';
import { fileStep } from '../../server/services/models.js';

describe('the step an imported model file was saved at', () => {
  it('reads __metadata__.step, else the step our trainer records, else 0', () => {
    expect(fileStep({ step: '1200' })).toBe(1200);
    expect(fileStep({ [TRAIN_META_KEY]: JSON.stringify({ step: 28250, run_id: 'x' }) })).toBe(28250);
    expect(fileStep({ step: '7', [TRAIN_META_KEY]: JSON.stringify({ step: 9 }) })).toBe(7);
    expect(fileStep({})).toBe(0);
    expect(fileStep({ [TRAIN_META_KEY]: 'not json' })).toBe(0);
    expect(fileStep({ [TRAIN_META_KEY]: JSON.stringify({ step: -3 }) })).toBe(0);
  });
});
