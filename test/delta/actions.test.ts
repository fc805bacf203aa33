import { describe, expect, it } from 'vitest';
import { isLakeError } from '../../src/core/index.js';
import { commitFileName, parseCommitText, parseLogFileName, serializeAction, serializeCommit, type Action } from '../../src/delta/index.js';

describe('actions', () => {
  it('round-trips every action kind through the commit format, keys in spec order', () => {
    const actions: Action[] = [
      { kind: 'commitInfo', commitInfo: { timestamp: 1, operation: 'WRITE', operationParameters: { mode: 'Append' } } },
      { kind: 'protocol', protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      {
        kind: 'metaData',
        metaData: { id: 'x', format: { provider: 'parquet', options: {} }, schemaString: '{"type":"struct","fields":[]}', partitionColumns: [], configuration: {}, createdTime: 5 },
      },
      { kind: 'add', add: { path: 'a%20b.parquet', partitionValues: { p: null }, size: 3, modificationTime: 4, dataChange: true, stats: '{"numRecords":1}' } },
      { kind: 'remove', remove: { path: 'c.parquet', deletionTimestamp: 9, dataChange: true } },
      { kind: 'txn', txn: { appId: 'app', version: 7, lastUpdated: 8 } },
    ];
    const text = serializeCommit(actions);
    expect(text.split('\n').filter(Boolean)).toHaveLength(actions.length);
    expect(parseCommitText(text, 'test')).toEqual(actions);
    expect(serializeAction(actions[3]!)).toBe(
      '{"add":{"path":"a%20b.parquet","partitionValues":{"p":null},"size":3,"modificationTime":4,"dataChange":true,"stats":"{\\"numRecords\\":1}"}}',
    );
  });

  it('keeps unknown action kinds readable instead of failing', () => {
    const actions = parseCommitText('{"futureAction":{"x":1}}\n{"txn":{"appId":"a","version":1}}\n', 'test');
    expect(actions).toEqual([
      { kind: 'unknown', name: 'futureAction', value: { x: 1 } },
      { kind: 'txn', txn: { appId: 'a', version: 1 } },
    ]);
  });

  it('reads pretty-printed commit JSON spanning several lines', () => {
    const text = JSON.stringify({ add: { path: 'x', partitionValues: {}, size: 1, modificationTime: 1, dataChange: true } }, null, 2) + '\n';
    expect(parseCommitText(text, 'test')).toHaveLength(1);
  });

  it('rejects a truncated commit with DELTA_LOG_CORRUPT', () => {
    try {
      parseCommitText('{"add":{"path":"x"', 'f.json');
      expect.unreachable();
    } catch (error) {
      expect(isLakeError(error, 'DELTA_LOG_CORRUPT')).toBe(true);
    }
  });
});

describe('log file names', () => {
  it.each([
    [commitFileName(12), { type: 'commit', version: 12 }],
    ['00000000000000000010.checkpoint.parquet', { type: 'checkpoint', version: 10 }],
    ['00000000000000000001.checkpoint.0000000001.0000000002.parquet', { type: 'checkpoint', version: 1, part: 1, parts: 2 }],
    ['00000000000000000002.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.parquet', { type: 'checkpoint', version: 2, uuid: '80a083e8-7026-4e79-81be-64bd76c43a11' }],
    ['00000000000000000000.00000000000000000005.compacted.json', { type: 'compaction', version: 0, endVersion: 5 }],
    ['00000000000000000003.crc', { type: 'crc', version: 3 }],
  ])('classifies %s', (name, expected) => {
    expect(parseLogFileName(name)).toMatchObject(expected);
  });

  it.each(['.00000000000000000001.json.crc', '_last_checkpoint', '.00000000000000000001.json.1234.tmp', '00000000000000000001.json.tmp', 'x.json'])('ignores %s', (name) => {
    expect(parseLogFileName(name)).toBeUndefined();
  });
});
