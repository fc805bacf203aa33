import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitWithRetry, conflictReason, listLog, partitionKey, type Action, type Isolation } from '../../src/delta/index.js';

const add = (season: string | null): Action => ({
  kind: 'add',
  add: { path: `season=${season}/f.parquet`, partitionValues: { season }, size: 1, modificationTime: 1, dataChange: true },
});
const remove = (season: string | null): Action => ({ kind: 'remove', remove: { path: `season=${season}/g.parquet`, partitionValues: { season }, dataChange: true } });
const replace = (...seasons: (string | null)[]): Isolation => ({
  kind: 'replace',
  partitionColumns: ['season'],
  partitions: new Set(seasons.map((s) => partitionKey(['season'], { season: s }))),
});
const metadata: Action = {
  kind: 'metaData',
  metaData: { id: 'x', format: { provider: 'parquet', options: {} }, schemaString: '{"type":"struct","fields":[]}', partitionColumns: [], configuration: {} },
};

describe('conflictReason (docs/design.md decision 3)', () => {
  it.each<[string, Action[], Isolation, boolean]>([
    ['blind append vs append', [add('2023')], { kind: 'append' }, false],
    ['blind append vs remove', [remove('2023')], { kind: 'append' }, false],
    ['append vs metadata change', [metadata], { kind: 'append' }, true],
    ['replace 2024 vs append to 2023', [add('2023')], replace('2024'), false],
    ['replace 2023 vs append to 2023', [add('2023')], replace('2023'), true],
    ['replace 2023 vs remove in 2023', [remove('2023')], replace('2023'), true],
    ['replace NULL partition vs add to NULL partition', [add(null)], replace(null), true],
    ['replace NULL partition vs add to "null" string partition', [add('null')], replace(null), false],
    ['overwrite vs any data change', [add('1999')], { kind: 'overwrite' }, true],
    ['overwrite vs commitInfo only', [{ kind: 'commitInfo', commitInfo: { operation: 'OPTIMIZE' } }], { kind: 'overwrite' }, false],
    ['create vs anything', [], { kind: 'create' }, true],
  ])('%s → conflict: %s', (_label, winner, isolation, conflicts) => {
    expect(conflictReason(winner, [], isolation) !== undefined).toBe(conflicts);
  });

  it('an idempotent writer conflicts with a winner that advanced the same txn appId', () => {
    const ours: Action[] = [{ kind: 'txn', txn: { appId: 'ingest:pbp', version: 2 } }];
    expect(conflictReason([{ kind: 'txn', txn: { appId: 'ingest:pbp', version: 2 } }], ours, { kind: 'append' })).toMatch(/ingest:pbp/);
    expect(conflictReason([{ kind: 'txn', txn: { appId: 'other', version: 2 } }], ours, { kind: 'append' })).toBeUndefined();
  });

  // An OPTIMIZE rewrites season=2023/g.parquet (remove + add, both dataChange false).
  const optimizeCommit: Action[] = [
    { kind: 'remove', remove: { path: 'season=2023/g.parquet', partitionValues: { season: '2023' }, dataChange: false } },
    { kind: 'add', add: { path: 'season=2023/h.parquet', partitionValues: { season: '2023' }, size: 1, modificationTime: 1, dataChange: false } },
  ];
  const rewrite = (...paths: string[]): Isolation => ({ kind: 'rewrite', files: new Set(paths) });

  it.each<[string, Action[], Isolation, boolean]>([
    ['optimize vs append to the same partition', [add('2023')], rewrite('season=2023/g.parquet'), false],
    ['optimize vs removal of a file it rewrites', [remove('2023')], rewrite('season=2023/g.parquet'), true],
    ['optimize vs removal of another file', [remove('2023')], rewrite('season=2023/other.parquet'), false],
    ['optimize vs metadata change', [metadata], rewrite('season=2023/g.parquet'), true],
    ['optimize vs another optimize of the same file', optimizeCommit, rewrite('season=2023/g.parquet'), true],
  ])('rewrite isolation: %s → conflict: %s', (_label, winner, isolation, conflicts) => {
    expect(conflictReason(winner, [], isolation) !== undefined).toBe(conflicts);
  });

  it.each<[string, Isolation]>([
    ['a partition replace', replace('2023')],
    ['an overwrite', { kind: 'overwrite' }],
  ])('%s that removes a file a concurrent OPTIMIZE rewrote conflicts (its rows now live in the optimized file)', (_label, isolation) => {
    const ours = [remove('2023')];
    expect(conflictReason(optimizeCommit, ours, isolation)).toMatch(/removed season=2023\/g\.parquet/);
    expect(conflictReason(optimizeCommit, [], isolation)).toBeUndefined();
  });
});

describe('commitWithRetry', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lake-commit-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lands a stale-read blind append on the next free version and reports the attempts', async () => {
    const base = { tableRoot: root, table: 't', commitInfo: { operation: 'WRITE' } };
    expect(await commitWithRetry({ ...base, readVersion: -1, actions: [metadata, add('a')], isolation: { kind: 'create' } })).toEqual({ status: 'committed', version: 0, attempts: 1 });
    expect(await commitWithRetry({ ...base, readVersion: 0, actions: [add('b')], isolation: { kind: 'append' } })).toMatchObject({ version: 1 });
    // prepared against version 0, but version 1 exists: retried on top of it
    expect(await commitWithRetry({ ...base, readVersion: 0, actions: [add('c')], isolation: { kind: 'append' } })).toEqual({ status: 'committed', version: 2, attempts: 2 });
    // a stale create loses: the table exists
    expect(await commitWithRetry({ ...base, readVersion: -1, actions: [metadata], isolation: { kind: 'create' } })).toMatchObject({ status: 'conflict', winner: 0 });
    expect((await listLog(root)).maxCommit).toBe(2);
    expect(readdirSync(path.join(root, '_delta_log')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
