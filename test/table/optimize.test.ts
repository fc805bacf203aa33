import { describe, expect, it } from 'vitest';
import { isLakeError } from '../../src/core/index.js';
import { fileKey, type AddAction, type RemoveAction } from '../../src/delta/index.js';
import { SCHEMA_WIDTH_TAG } from '../../src/engine/index.js';
import { optimizeTable, resolveTable, runQuery, tableSnapshot, writeTable, type TableRef } from '../../src/table/index.js';
import { commitActions, readRows } from '../helpers/lake.js';
import { canonicalRows } from '../helpers/rows.js';
import { tempLake } from '../helpers/temp-lake.js';

const temp = tempLake('lake-optimize');

/** `batch` rows of plays for every season in `seasons`, keys unique across batches. */
function plays(batch: number, seasons: number[], rows = 50): string {
  return `SELECT season, 'g' || lpad(CAST((i * 7919 + ${batch}) % 1000 AS VARCHAR), 4, '0') AS game_id, i * 100 + ${batch} AS play_id,
    ${batch} AS batch, CAST(i % 5 AS DOUBLE) * 1.5 AS yards, CASE WHEN i % 3 = 0 THEN NULL ELSE 'desc ' || i END AS descr
    FROM range(${rows}) t(i), (SELECT unnest([${seasons.join(', ')}]) AS season)`;
}

async function smallFileTable(name: string, batches: number, seasons = [2022, 2023]): Promise<TableRef> {
  const table = resolveTable(temp.lake, name);
  for (let b = 0; b < batches; b++) await writeTable(temp.lake, { table, source: plays(b, seasons), mode: 'append', partitionBy: ['season'] });
  return table;
}

async function answers(table: TableRef): Promise<unknown[][][]> {
  const queries = [
    `SELECT count(*), sum(yards), count(descr), count(DISTINCT game_id) FROM delta_scan('${table.tableRoot}')`,
    `SELECT season, count(*), min(play_id), max(play_id), sum(batch) FROM delta_scan('${table.tableRoot}') GROUP BY season ORDER BY season`,
    `SELECT game_id, play_id FROM delta_scan('${table.tableRoot}') WHERE season = 2023 AND yards > 3 ORDER BY game_id, play_id LIMIT 20`,
  ];
  return Promise.all(queries.map(async (q) => (await runQuery(temp.lake, q)).rows));
}

describe('optimizeTable', () => {
  it('rewrites each partition\'s small files as one sorted file in one OPTIMIZE commit with dataChange false; rows and answers are unchanged', async () => {
    const table = await smallFileTable('silver.opt_basic', 4);
    const before = await tableSnapshot(temp.lake, table);
    expect(before.files).toHaveLength(8);
    const rowsBefore = canonicalRows(await readRows(temp.lake, table.tableRoot));
    const answersBefore = await answers(table);

    const metrics = await optimizeTable(temp.lake, { table, sortBy: ['game_id', 'play_id'] });
    expect(metrics).toMatchObject({ status: 'committed', version: before.version + 1, numFilesRemoved: 8, numFilesAdded: 2, partitionsOptimized: 2, totalConsideredFiles: 8, totalFilesSkipped: 0 });

    const after = await tableSnapshot(temp.lake, table);
    expect(after.files).toHaveLength(2);
    expect(canonicalRows(await readRows(temp.lake, table.tableRoot))).toEqual(rowsBefore);
    expect(await answers(table)).toEqual(answersBefore);
    // Every earlier version still reads as before.
    expect(canonicalRows(await readRows(temp.lake, table.tableRoot, before.version))).toEqual(rowsBefore);

    const actions = await commitActions(table.tableRoot, metrics.version!);
    const info = actions.find((a) => a.kind === 'commitInfo');
    expect(info?.kind === 'commitInfo' && info.commitInfo).toMatchObject({
      operation: 'OPTIMIZE',
      isBlindAppend: false,
      readVersion: before.version,
      operationParameters: { predicate: '[]', targetSize: String(128 * 1024 * 1024), zOrderBy: '[]', sortBy: '["game_id","play_id"]' },
      operationMetrics: { numFilesAdded: '2', numFilesRemoved: '8', numAddedFiles: '2', numRemovedFiles: '8', partitionsOptimized: '2' },
    });
    const adds = actions.flatMap((a) => (a.kind === 'add' ? [a.add] : [])) as AddAction[];
    const removes = actions.flatMap((a) => (a.kind === 'remove' ? [a.remove] : [])) as RemoveAction[];
    expect(adds.every((a) => a.dataChange === false)).toBe(true);
    expect(removes.every((r) => r.dataChange === false)).toBe(true);
    expect(new Set(removes.map(fileKey))).toEqual(new Set(before.files.map(fileKey)));
    // The new files carry what our writer always writes: stats with min/max/nullCount and the schema-width tag.
    for (const add of adds) {
      const stats = JSON.parse(add.stats!) as { numRecords: number; minValues: Record<string, unknown>; nullCount: Record<string, number> };
      expect(stats.numRecords).toBe(200);
      expect(stats.minValues['game_id']).toBeDefined();
      expect(stats.nullCount['descr']).toBeGreaterThan(0);
      expect(add.tags?.[SCHEMA_WIDTH_TAG]).toBe(String(after.schema.fields.length));
      // Sorted by the sort columns inside the file.
      const path = `${table.tableRoot}/${decodeURIComponent(add.path)}`;
      const sorted = await runQuery(temp.lake, `SELECT bool_and(ok) FROM (SELECT (game_id, play_id) >= lag((game_id, play_id), 1, (game_id, play_id)) OVER (ORDER BY file_row_number) AS ok FROM read_parquet('${path}', file_row_number = true))`);
      expect(sorted.rows[0]![0]).toBe(true);
    }
  });

  it('leaves alone partitions with one file, and a second optimize has nothing to do', async () => {
    const table = await smallFileTable('silver.opt_idem', 3, [2021]);
    await writeTable(temp.lake, { table, source: plays(9, [2020]), mode: 'append' });
    const first = await optimizeTable(temp.lake, { table });
    expect(first).toMatchObject({ status: 'committed', partitionsOptimized: 1, numFilesRemoved: 3, numFilesAdded: 1, totalConsideredFiles: 4, totalFilesSkipped: 1 });
    expect(first.partitions.map((p) => p.partition)).toEqual([{ season: '2021' }]);
    const second = await optimizeTable(temp.lake, { table });
    expect(second).toMatchObject({ status: 'noop', version: undefined, numFilesRemoved: 0 });
    expect((await tableSnapshot(temp.lake, table)).version).toBe(first.version);
  });

  it('dry run lists what would be rewritten and commits nothing', async () => {
    const table = await smallFileTable('silver.opt_dry', 3);
    const before = await tableSnapshot(temp.lake, table);
    const plan = await optimizeTable(temp.lake, { table, dryRun: true });
    expect(plan).toMatchObject({ status: 'dry-run', version: undefined, numFilesRemoved: 6, numFilesAdded: 2, partitionsOptimized: 2 });
    expect(plan.partitions).toEqual([
      expect.objectContaining({ partition: { season: '2022' }, filesRemoved: 3, filesAdded: 1, rows: 150 }),
      expect.objectContaining({ partition: { season: '2023' }, filesRemoved: 3, filesAdded: 1, rows: 150 }),
    ]);
    const after = await tableSnapshot(temp.lake, table);
    expect(after.version).toBe(before.version);
    expect(after.files).toHaveLength(6);
  });

  it('--where limits the rewrite to the partitions it selects; a predicate on a data column is a USAGE error', async () => {
    const table = await smallFileTable('silver.opt_where', 2, [2021, 2022, 2023]);
    const metrics = await optimizeTable(temp.lake, { table, where: 'season >= 2022' });
    expect(metrics.partitions.map((p) => p.partition)).toEqual([{ season: '2022' }, { season: '2023' }]);
    const snapshot = await tableSnapshot(temp.lake, table);
    expect(snapshot.files.filter((f) => f.partitionValues['season'] === '2021')).toHaveLength(2);
    expect(snapshot.files.filter((f) => f.partitionValues['season'] === '2023')).toHaveLength(1);
    const info = (await commitActions(table.tableRoot, metrics.version!)).find((a) => a.kind === 'commitInfo');
    expect(info?.kind === 'commitInfo' && info.commitInfo.operationParameters).toMatchObject({ predicate: '["season >= 2022"]' });
    const error = await optimizeTable(temp.lake, { table, where: 'yards > 1' }).catch((e: unknown) => e);
    expect(isLakeError(error, 'USAGE')).toBe(true);
  });

  it('splits a partition at max rows per file and near the target size', async () => {
    const table = await smallFileTable('silver.opt_split', 4, [2024]);
    const byRows = await optimizeTable(temp.lake, { table, maxRowsPerFile: 120, sortBy: ['play_id'] });
    // 200 rows, at most 120 per file: 2 files of 100 rows.
    expect(byRows).toMatchObject({ status: 'committed', numFilesRemoved: 4, numFilesAdded: 2 });
    const counts = await runQuery(temp.lake, `SELECT count(*) AS n FROM read_parquet('${table.tableRoot}/season=2024/*.parquet', filename = true) WHERE filename IN (${(await tableSnapshot(temp.lake, table)).files.map((f) => `'${table.tableRoot}/${f.path}'`).join(', ')}) GROUP BY filename ORDER BY n`);
    expect(counts.rows.map((r) => Number(r[0]))).toEqual([100, 100]);
    // Consecutive play_id ranges: the files do not overlap on the sort column.
    const files = (await tableSnapshot(temp.lake, table)).files.map((f) => JSON.parse(f.stats!) as { minValues: { play_id: number }; maxValues: { play_id: number } });
    files.sort((a, b) => a.minValues.play_id - b.minValues.play_id);
    expect(files[0]!.maxValues.play_id).toBeLessThan(files[1]!.minValues.play_id);
  });

  it('goes through a concurrent append, which stays in the table', async () => {
    const table = await smallFileTable('silver.opt_append', 3, [2022]);
    const rowsBefore = await readRows(temp.lake, table.tableRoot);
    const metrics = await optimizeTable(temp.lake, {
      table,
      beforeCommit: async () => {
        await writeTable(temp.lake, { table, source: plays(7, [2022]), mode: 'append' });
      },
    });
    expect(metrics).toMatchObject({ status: 'committed', attempts: 2, numFilesRemoved: 3, numFilesAdded: 1 });
    const rows = await readRows(temp.lake, table.tableRoot);
    expect(rows).toHaveLength(rowsBefore.length + 50);
    expect((await tableSnapshot(temp.lake, table)).files).toHaveLength(2);
  });

  it('conflicts with a concurrent commit that removed a file it rewrites, and leaves no files behind', async () => {
    const table = await smallFileTable('silver.opt_conflict', 3, [2022]);
    const before = await tableSnapshot(temp.lake, table);
    const error = await optimizeTable(temp.lake, {
      table,
      beforeCommit: async () => {
        await writeTable(temp.lake, { table, source: plays(8, [2022]), mode: 'replace' });
      },
    }).catch((e: unknown) => e);
    expect(isLakeError(error, 'DELTA_COMMIT_CONFLICT')).toBe(true);
    const after = await tableSnapshot(temp.lake, table);
    expect(after.version).toBe(before.version + 1);
    const rows = await readRows(temp.lake, table.tableRoot);
    expect(rows).toHaveLength(50);
    const { readdir } = await import('node:fs/promises');
    const onDisk = (await readdir(`${table.tableRoot}/season=2022`)).length;
    // The 3 original files (kept for time travel until vacuum) plus the replace's file; none of the optimize's.
    expect(onDisk).toBe(4);
  });

  it('refuses tables whose writer features it does not implement (deletion vectors, column mapping)', async () => {
    const table = resolveTable(temp.lake, 'silver.opt_dv');
    await writeTable(temp.lake, { table, source: plays(0, [2022]), mode: 'append', partitionBy: ['season'] });
    const { readFile, writeFile } = await import('node:fs/promises');
    const { commitFileName, LOG_DIR } = await import('../../src/delta/index.js');
    const file = `${table.tableRoot}/${LOG_DIR}/${commitFileName(0)}`;
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}', '{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}}'));
    const error = await optimizeTable(temp.lake, { table }).catch((e: unknown) => e);
    expect(isLakeError(error, 'DELTA_WRITE_UNSUPPORTED')).toBe(true);
  });
});
