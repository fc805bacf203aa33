import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitFileName, readCommit, serializeCommit, statsNumRecords, type Action } from '../../src/delta/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const dirs = tempDirs('lake-commit-parse-');
afterAll(() => dirs.cleanup());

const add = (p: string, n: number): Action => ({
  kind: 'add',
  add: { path: p, partitionValues: {}, size: 10, modificationTime: 1, dataChange: true, stats: JSON.stringify({ numRecords: n, minValues: { x: n }, maxValues: { x: n }, nullCount: { x: 0 } }) },
});

function writeCommit(root: string, version: number, actions: Action[]): void {
  mkdirSync(path.join(root, '_delta_log'), { recursive: true });
  writeFileSync(path.join(root, '_delta_log', commitFileName(version)), serializeCommit(actions));
}

const paths = (actions: Action[]): string[] => actions.flatMap((a) => (a.kind === 'add' ? [a.add.path] : []));

describe('commits parsed once per process (log.ts parsedOnce)', () => {
  it('a commit read again gives the same actions, in an array of its own', async () => {
    const root = await dirs.make('table');
    writeCommit(root, 0, [add('a.parquet', 1), add('b.parquet', 2)]);
    const first = await readCommit(root, 0);
    const again = await readCommit(root, 0);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
    // A caller that changes its array does not change the next caller's.
    first.pop();
    expect(paths(await readCommit(root, 0))).toEqual(['a.parquet', 'b.parquet']);
    // With and without stats are kept apart.
    const lean = await readCommit(root, 0, { stats: false });
    expect(lean.every((a) => a.kind !== 'add' || a.add.stats === undefined)).toBe(true);
    expect((await readCommit(root, 0)).every((a) => a.kind !== 'add' || typeof a.add.stats === 'string')).toBe(true);
  });

  it('a table removed and written again at the same path is read from its new bytes, not the old parse', async () => {
    const root = await dirs.make('table');
    writeCommit(root, 0, [add('old-1.parquet', 1), add('old-2.parquet', 2)]);
    expect(paths(await readCommit(root, 0))).toEqual(['old-1.parquet', 'old-2.parquet']);
    expect(paths(await readCommit(root, 0, { stats: false }))).toEqual(['old-1.parquet', 'old-2.parquet']);
    rmSync(path.join(root, '_delta_log'), { recursive: true });
    // Same length, same name, other content.
    writeCommit(root, 0, [add('new-1.parquet', 1), add('new-2.parquet', 2)]);
    expect(paths(await readCommit(root, 0))).toEqual(['new-1.parquet', 'new-2.parquet']);
    expect(paths(await readCommit(root, 0, { stats: false }))).toEqual(['new-1.parquet', 'new-2.parquet']);
  });
});

describe('statsNumRecords', () => {
  it('reads a leading numRecords without parsing the rest, and agrees with JSON.parse otherwise', () => {
    expect(statsNumRecords('{"numRecords":42,"minValues":{"a":1}}')).toBe(42);
    expect(statsNumRecords('{ "numRecords" : 0 }')).toBe(0);
    expect(statsNumRecords('{"minValues":{"a":1},"numRecords":7}')).toBe(7);
    // A column named numRecords in the values, or a repeated key: JSON.parse decides (the last wins).
    expect(statsNumRecords('{"numRecords":3,"minValues":{"numRecords":9}}')).toBe(3);
    expect(statsNumRecords('{"numRecords":3,"numRecords":5}')).toBe(5);
    // Truncated or not JSON: no count.
    expect(statsNumRecords('{"numRecords":3,"minValues":{"a":')).toBeUndefined();
    expect(statsNumRecords('{"numRecords":"3"}')).toBeUndefined();
    expect(statsNumRecords('{"numRecords":1e3}')).toBe(1000);
    expect(statsNumRecords('')).toBeUndefined();
    expect(statsNumRecords(null)).toBeUndefined();
  });
});
