import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../../src/engine/index.js';
import { openLake, runQuery, tableSnapshot, writeTable, type Lake } from '../../src/table/index.js';
import { captureLogs } from '../helpers/capture-logs.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * A partitioned write keeps one unwritten row group per open partition in memory: wide rows in
 * many partitions at once run out of the memory limit (the whole pbp history in one file at the
 * default 1 GiB did). The write then goes one partition at a time (src/table/write-attempt.ts).
 */
const dirs = tempDirs('lake-write-memory');
const LIMIT = '64MiB';
const ROWS = 100_000;
// 8 partitions (one of them NULL) of 40 wide text columns: ~30 MB per partition before compression.
const COLUMNS = Array.from({ length: 40 }, (_, i) => `md5((i * ${i + 7})::VARCHAR) || md5((i + ${i})::VARCHAR) AS c${i}`);
const SOURCE = `SELECT CASE WHEN i % 8 = 7 THEN NULL ELSE i % 8 END AS p, i, ${COLUMNS.join(', ')} FROM range(${ROWS}) t(i)`;
const SUMMARY = (from: string): string => `SELECT p, count(*)::BIGINT AS n, sum(i)::BIGINT AS s, sum(hash(c0 || c39))::HUGEINT::VARCHAR AS h FROM ${from} GROUP BY p ORDER BY p NULLS LAST`;

let lake: Lake;
let plain: Engine;
let root: string;

beforeAll(async () => {
  root = await dirs.make('lake');
  lake = await openLake({ root, memoryLimit: LIMIT, threads: 2 });
  plain = await openEngine({ tempRoot: await dirs.make('plain'), threads: 2 });
});
afterAll(() => {
  lake.close();
  plain.close();
});

describe('a partitioned write larger than the memory limit at once', () => {
  it('runs out of memory in one COPY of every partition (what the fallback is for)', async () => {
    const engine = await openEngine({ memoryLimit: LIMIT, tempRoot: await dirs.make('raw'), threads: 2 });
    try {
      const out = path.join(await dirs.make('raw-out'), 't');
      await expect(engine.run(`COPY (${SOURCE}) TO '${out}' (FORMAT parquet, PARTITION_BY (p), ROW_GROUP_SIZE_BYTES ${8 * 1024 * 1024})`)).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
    } finally {
      engine.close();
    }
  });

  it('is written one partition at a time: every row, one file per partition, no file left from the failed pass', async () => {
    const tableRoot = path.join(root, 'silver', 'wide');
    const { result, records } = await captureLogs(() => writeTable(lake, { table: { name: 'silver.wide', tableRoot }, source: SOURCE, mode: 'append', partitionBy: ['p'] }));
    expect(result).toMatchObject({ status: 'committed', version: 0, rowsAdded: ROWS, filesAdded: 8 });
    const warning = records.find((r) => r.msg.includes('one partition at a time'));
    expect(warning).toMatchObject({ level: 40, table: 'silver.wide', partitions: 8, memoryLimit: LIMIT });

    const snapshot = await tableSnapshot(lake, { name: 'silver.wide', tableRoot });
    expect(snapshot.files.map((f) => f.partitionValues['p']).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', null].sort());
    // Only the committed files are in the table folder: the failed first pass left nothing behind.
    const onDisk = readdirSync(tableRoot, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.parquet'))
      .map((f) => f.split(path.sep).join('/'))
      .sort();
    expect(onDisk).toEqual(snapshot.files.map((f) => decodeURIComponent(f.path)).sort());

    const written = (await runQuery(lake, SUMMARY(`delta_scan('${tableRoot}')`))).rows;
    const expected = (await plain.rows<Record<string, unknown>>(SUMMARY(`(${SOURCE})`))).map((r) => Object.values(r));
    expect(written).toEqual(expected);
  });
});
