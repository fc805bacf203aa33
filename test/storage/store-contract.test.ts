import { afterAll, describe, expect, it } from 'vitest';
import {
  deleteFile,
  ensureDir,
  exists,
  joinLocation,
  listEntries,
  listFilesRecursive,
  listNames,
  putIfAbsent,
  readFileIfExists,
  readRangeIfExists,
  readTextIfExists,
  replaceFile,
  statIfExists,
} from '../../src/storage/index.js';
import { s3ServerForTests } from '../helpers/s3-server.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * The storage port's contract, run against both adapters: local disk (a temp folder) and S3 (a
 * real moto server on 127.0.0.1). Same cases, same answers.
 */
const dirs = tempDirs('store-contract');
const s3 = s3ServerForTests();
afterAll(() => dirs.cleanup());

let counter = 0;
const stores: [string, () => Promise<string>][] = [
  ['local', () => dirs.make('case')],
  ['s3', async () => s3.server().url(`contract/case-${++counter}`)],
];

describe.each(stores)('the %s store', (_name, makeRoot) => {
  it('put-if-absent: the first put writes, the second is `exists`, the bytes are the first', async () => {
    const root = await makeRoot();
    const file = joinLocation(root, '_delta_log', '00000000000000000000.json');
    expect(await putIfAbsent(file, 'first\n')).toEqual({ status: 'written' });
    expect(await putIfAbsent(file, 'second\n')).toEqual({ status: 'exists' });
    expect(await readTextIfExists(file)).toBe('first\n');
  });

  it('put-if-absent under real concurrency: exactly one of 8 simultaneous puts wins', async () => {
    const root = await makeRoot();
    const file = joinLocation(root, '_delta_log', '00000000000000000001.json');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => putIfAbsent(file, `writer ${i}\n`)));
    const winners = results.flatMap((r, i) => (r.status === 'written' ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 'exists')).toHaveLength(7);
    expect(await readTextIfExists(file)).toBe(`writer ${winners[0]}\n`);
  });

  it('missing files are values, not errors', async () => {
    const root = await makeRoot();
    const missing = joinLocation(root, 'nope', 'x.json');
    expect(await readTextIfExists(missing)).toBeUndefined();
    expect(await readFileIfExists(missing)).toBeUndefined();
    expect(await readRangeIfExists(missing, 0, 10)).toBeUndefined();
    expect(await statIfExists(missing)).toBeUndefined();
    expect(await exists(missing)).toBe(false);
    expect(await deleteFile(missing)).toBe(false);
    expect(await listNames(joinLocation(root, 'nope'))).toEqual([]);
    expect(await listFilesRecursive(joinLocation(root, 'nope'))).toEqual([]);
    expect(await listEntries(joinLocation(root, 'nope'))).toEqual({ files: [], folders: [] });
  });

  it('ranged reads: inside, across the end, past the end', async () => {
    const root = await makeRoot();
    const file = joinLocation(root, 'data.bin');
    await putIfAbsent(file, new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect([...(await readRangeIfExists(file, 2, 3))!]).toEqual([2, 3, 4]);
    expect([...(await readRangeIfExists(file, 8, 10))!]).toEqual([8, 9]);
    expect([...(await readRangeIfExists(file, 20, 5))!]).toEqual([]);
    expect([...(await readFileIfExists(file))!]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await statIfExists(file))?.size).toBe(10);
  });

  it('listings: names sorted, StartAfter, folders, recursive with sizes', async () => {
    const root = await makeRoot();
    const log = joinLocation(root, '_delta_log');
    await ensureDir(log);
    for (const v of [3, 0, 2, 1]) await putIfAbsent(joinLocation(log, `0000000000000000000${v}.json`), `{"v":${v}}\n`);
    await putIfAbsent(joinLocation(root, 'season=2020', 'part-a.parquet'), 'abc');
    expect(await listNames(log)).toEqual(['00000000000000000000.json', '00000000000000000001.json', '00000000000000000002.json', '00000000000000000003.json']);
    expect(await listNames(log, { startAfter: '00000000000000000001.json' })).toEqual(['00000000000000000002.json', '00000000000000000003.json']);
    const top = await listEntries(root);
    expect(top.folders.sort()).toEqual(['_delta_log', 'season=2020']);
    expect(top.files).toEqual([]);
    const all = (await listFilesRecursive(root)).map((f) => [f.name, f.size]).sort();
    expect(all).toEqual([
      ['_delta_log/00000000000000000000.json', 8],
      ['_delta_log/00000000000000000001.json', 8],
      ['_delta_log/00000000000000000002.json', 8],
      ['_delta_log/00000000000000000003.json', 8],
      ['season=2020/part-a.parquet', 3],
    ]);
  });

  it('replaceFile replaces; deleteFile deletes once', async () => {
    const root = await makeRoot();
    const file = joinLocation(root, '_delta_log', '_last_checkpoint');
    await ensureDir(joinLocation(root, '_delta_log'));
    await replaceFile(file, 'one');
    await replaceFile(file, 'two');
    expect(await readTextIfExists(file)).toBe('two');
    expect(await deleteFile(file)).toBe(true);
    expect(await deleteFile(file)).toBe(false);
    expect(await exists(file)).toBe(false);
  });
});
