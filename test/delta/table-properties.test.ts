import { describe, expect, it } from 'vitest';
import { isLakeError } from '../../src/core/index.js';
import { checkpointDue, deletedFileRetentionMs, parseIntervalMs, unexpiredTombstones, type MetadataAction, type RemoveAction } from '../../src/delta/index.js';

function metadata(configuration: Record<string, string> = {}): MetadataAction {
  return { id: 'id', format: { provider: 'parquet', options: {} }, schemaString: '{"type":"struct","fields":[]}', partitionColumns: [], configuration };
}

describe('parseIntervalMs', () => {
  it.each([
    ['interval 7 days', 7 * 86_400_000],
    ['interval 1 week', 7 * 86_400_000],
    ['INTERVAL 168 HOURS', 168 * 3_600_000],
    ['2 days', 2 * 86_400_000],
    ['interval 1 day 12 hours', 36 * 3_600_000],
    ['interval 30 minutes 15 seconds', 1_815_000],
    ['interval 500 milliseconds', 500],
    ['interval 1 month', undefined],
    ['seven days', undefined],
    ['interval', undefined],
    ['', undefined],
  ])('parses %j as %j ms', (text, ms) => {
    expect(parseIntervalMs(text)).toBe(ms);
  });
});

describe('deletedFileRetentionMs', () => {
  it('defaults to one week and reads delta.deletedFileRetentionDuration', () => {
    expect(deletedFileRetentionMs({ table: 't', metadata: metadata() })).toBe(7 * 86_400_000);
    expect(deletedFileRetentionMs({ table: 't', metadata: metadata({ 'delta.deletedFileRetentionDuration': 'interval 2 days' }) })).toBe(2 * 86_400_000);
  });

  it('refuses a value that is not a duration with USAGE naming the table', () => {
    let caught: unknown;
    try {
      deletedFileRetentionMs({ table: 'silver.t', metadata: metadata({ 'delta.deletedFileRetentionDuration': 'interval 1 month' }) });
    } catch (error) {
      caught = error;
    }
    expect(isLakeError(caught, 'USAGE')).toBe(true);
    expect((caught as Error).message).toMatch(/silver\.t.*interval 1 month/);
  });
});

describe('unexpiredTombstones', () => {
  const day = 86_400_000;
  const now = 10 * day;
  const remove = (path: string, deletionTimestamp?: number): RemoveAction => ({ path, dataChange: true, deletionTimestamp });

  it('keeps tombstones deleted within the retention before now, drops older and undated ones', () => {
    const tombstones = [remove('fresh', now - day), remove('edge', now - 2 * day), remove('old', now - 3 * day), remove('undated')];
    const kept = unexpiredTombstones({ table: 't', metadata: metadata({ 'delta.deletedFileRetentionDuration': 'interval 2 days' }), tombstones }, now);
    expect(kept.map((r) => r.path)).toEqual(['fresh']);
  });
});

describe('checkpointDue', () => {
  it.each([
    [{}, 100, true],
    [{}, 99, false],
    [{}, 0, false],
    [{ 'delta.checkpointInterval': '3' }, 6, true],
    [{ 'delta.checkpointInterval': '3' }, 7, false],
    [{ 'delta.checkpointInterval': '0' }, 6, false],
    [{ 'delta.checkpointInterval': 'often' }, 6, false],
  ])('with configuration %j, version %i: %s', (configuration, version, due) => {
    expect(checkpointDue(metadata(configuration), version)).toBe(due);
  });

  it('uses the default interval when there is no metadata', () => {
    expect(checkpointDue(undefined, 200)).toBe(true);
  });
});
