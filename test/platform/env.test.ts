import { describe, expect, it } from 'vitest';
import { intFromEnv } from '../../server/env.js';
import { datasetCellLimit } from '../../server/services/datasets.js';
import { cacheBudgetFromEnv } from '../../server/services/inference.js';
import { maxQueuedPerUser } from '../../server/jobs/runner.js';

describe('integer settings from the environment', () => {
  it('take the default when unset or empty, the value when valid, and refuse anything else naming the variable', () => {
    expect(intFromEnv('X', 7, 1, {})).toBe(7);
    expect(intFromEnv('X', 7, 1, { X: '' })).toBe(7);
    expect(intFromEnv('X', 7, 1, { X: '12' })).toBe(12);
    for (const bad of ['ten', '0', '1.5', '-3'])
      expect(() => intFromEnv('X', 7, 1, { X: bad })).toThrow(`X must be an integer ≥ 1; got ${JSON.stringify(bad)}`);
  });

  it('every limit read this way refuses a mistyped value instead of silently using its default', () => {
    expect(() => maxQueuedPerUser({ SEARCHLIGHT_MAX_QUEUED_PER_USER: 'ten' })).toThrow(/SEARCHLIGHT_MAX_QUEUED_PER_USER must be an integer ≥ 1/);
    expect(() => datasetCellLimit('researcher', { SEARCHLIGHT_MAX_DATASET_CELLS: '25M' })).toThrow(/SEARCHLIGHT_MAX_DATASET_CELLS must be an integer/);
    expect(datasetCellLimit('admin', {})).toBe(1_000_000_000);
    expect(cacheBudgetFromEnv({ SEARCHLIGHT_CACHE_MAX_BYTES: '0' })).toBe(0);
    expect(() => cacheBudgetFromEnv({ SEARCHLIGHT_CACHE_MAX_BYTES: '2GiB' })).toThrow(/SEARCHLIGHT_CACHE_MAX_BYTES must be an integer ≥ 0/);
  });
});
