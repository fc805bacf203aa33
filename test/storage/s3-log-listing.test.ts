import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_DIR, listLatestLog, listLog, loadSnapshot, padVersion, type AddAction, type Snapshot } from '../../src/delta/index.js';
import { joinLocation, listNames, putIfAbsent, s3ListStats } from '../../src/storage/index.js';
import { openLake, tableSnapshot, writeTable, type Lake, type TableRef } from '../../src/table/index.js';
import { readSnapshot } from '../../src/table/read-cache.js';
import { s3ServerForTests } from '../helpers/s3-server.js';

/**
 * On S3 a load of the latest version lists `_delta_log` only from the checkpoint `_last_checkpoint`
 * names on (ListObjectsV2 StartAfter), not the whole log at a page per 1,000 keys. A real moto
 * server on 127.0.0.1; the listing cost is read from the S3 store's request counter.
 */
const s3 = s3ServerForTests();
let lake: Lake;
let table: TableRef;
/** Every `_delta_log` key of the table, and those of versions from the newest checkpoint on. */
let allKeys: string[];
let fromCheckpoint: string[];

const COMMITS = 25;
/** Ignorable log entries (log-compaction file names) before the checkpoint: the log is over a listing page long. */
const FILLER = 1000;

/** What one listing costs: ListObjectsV2 requests and the keys they returned. */
async function listed<T>(fn: () => Promise<T>): Promise<{ value: T; requests: number; keys: number }> {
  const before = { ...s3ListStats };
  const value = await fn();
  return { value, requests: s3ListStats.requests - before.requests, keys: s3ListStats.keys - before.keys };
}

const state = (s: Snapshot): unknown => ({ version: s.version, files: s.files.map((f: AddAction) => f.path).sort(), metadata: s.metadata, protocol: s.protocol });

beforeAll(async () => {
  lake = await openLake({ root: s3.server().url('listing-lake'), create: true, threads: 1 });
  table = { name: 'bench.small', tableRoot: s3.server().url('listing-lake/bench/small') };
  for (let c = 0; c < COMMITS; c++) {
    await writeTable(lake, { table, source: `SELECT ${c} AS c`, mode: 'append', configuration: { 'delta.checkpointInterval': '10' } });
  }
  const logRoot = joinLocation(table.tableRoot, LOG_DIR);
  const names = Array.from({ length: FILLER }, (_, i) => `${padVersion(i % 20)}.${padVersion(1000 + i)}.compacted.json`);
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(names.slice(i, i + 50).map((n) => putIfAbsent(joinLocation(logRoot, n), '{}\n')));
  }
  allKeys = await listNames(logRoot);
  fromCheckpoint = allKeys.filter((n) => n >= padVersion(20));
}, 120_000);
afterAll(() => lake?.close());

describe('latest snapshot loads on S3', () => {
  it('list only the keys from the newest checkpoint on: one ListObjectsV2 page, not the whole log', async () => {
    // The log is longer than a listing page; the part from checkpoint 20 on is versions 20..24 and _last_checkpoint.
    expect(allKeys.length).toBeGreaterThan(1000);
    expect(fromCheckpoint).toContain(`${padVersion(20)}.checkpoint.parquet`);
    expect(fromCheckpoint).toContain('_last_checkpoint');
    expect(fromCheckpoint.length).toBeLessThan(12);

    const latest = await listed(() => tableSnapshot(lake, table));
    expect(latest.value.version).toBe(COMMITS - 1);
    expect(latest.value.files).toHaveLength(COMMITS);
    expect(latest.requests).toBe(1);
    expect(latest.keys).toBe(fromCheckpoint.length);

    // The same version from the whole log: every key, over two pages, and the same snapshot.
    const whole = await listed(() => listLog(table.tableRoot));
    expect(whole.requests).toBe(2);
    expect(whole.keys).toBe(allKeys.length);
    const fromWhole = await loadSnapshot(table.tableRoot, lake.checkpoints, { listing: whole.value });
    expect(state(latest.value)).toEqual(state(fromWhole));
  });

  it('the read path and time travel: a latest read lists from the checkpoint, a version read lists the whole log', async () => {
    const read = await listed(() => readSnapshot(lake, table, undefined, false));
    expect(read.value.snapshot.version).toBe(COMMITS - 1);
    expect(read.requests).toBe(1);
    expect(read.keys).toBe(fromCheckpoint.length);

    const old = await listed(() => tableSnapshot(lake, table, { version: 5 }));
    expect(old.value.version).toBe(5);
    expect(old.value.files).toHaveLength(6);
    expect(old.keys).toBe(allKeys.length);
  });

  it('a commit lists from the checkpoint to load, and the next version is right', async () => {
    const commit = await listed(() => writeTable(lake, { table, source: `SELECT ${COMMITS} AS c`, mode: 'append' }));
    // Its snapshot load lists from the checkpoint on; no listing of the whole log.
    expect(commit.keys).toBeLessThan(50);
    const after = await listLatestLog(table.tableRoot);
    expect(after).toMatchObject({ partial: true, from: 20, maxCommit: COMMITS });
    expect((await tableSnapshot(lake, table)).files).toHaveLength(COMMITS + 1);
  });
});
