import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { filesFor, rowGroupSizeFor } from '../../src/engine/index.js';
import { beginWrite, openLake, resolveTable, runQuery, tableSnapshot, writeTable, type TableRef, type WriteOptions } from '../../src/table/index.js';
import { readRows } from '../helpers/lake.js';
import { tempLake } from '../helpers/temp-lake.js';

const temp = tempLake('lake-file-layout', { threads: 2 });

function rows(n: number, seasons: number[], offset = 0): string {
  return `SELECT season, CAST((i * 7919) % ${n} + ${offset} AS BIGINT) AS play_id, md5(CAST(i AS VARCHAR)) AS descr, CAST(i % 97 AS DOUBLE) AS yards
    FROM range(${n}) t(i), (SELECT unnest([${seasons.join(', ')}]) AS season)`;
}

interface FileMeta {
  file: string;
  rows: number;
  rowGroups: number;
  maxGroupRows: number;
  maxGroupBytes: number;
  sorted: boolean;
}

/** Per active file: rows, row groups (from the Parquet footer, DuckDB parquet_metadata()) and whether play_id is sorted. */
async function fileMeta(table: TableRef): Promise<FileMeta[]> {
  const snapshot = await tableSnapshot(temp.lake, table);
  const paths = snapshot.files.map((f) => `'${table.tableRoot}/${decodeURIComponent(f.path)}'`).join(', ');
  const meta = await runQuery(
    temp.lake,
    `SELECT file_name, sum(n) AS rows, count(*) AS groups, max(n) AS max_rows, max(bytes) AS max_bytes FROM (
       SELECT DISTINCT file_name, row_group_id, row_group_num_rows AS n, row_group_compressed_bytes AS bytes FROM parquet_metadata([${paths}])) GROUP BY file_name ORDER BY file_name`,
  );
  const sorted = await runQuery(
    temp.lake,
    `SELECT filename, bool_and(ok) FROM (SELECT filename, play_id >= lag(play_id, 1, play_id) OVER (PARTITION BY filename ORDER BY file_row_number) AS ok
       FROM read_parquet([${paths}], filename = true, file_row_number = true)) GROUP BY filename`,
  );
  const sortedBy = new Map(sorted.rows.map((r) => [String(r[0]), r[1] === true]));
  return meta.rows.map((r) => ({ file: String(r[0]), rows: Number(r[1]), rowGroups: Number(r[2]), maxGroupRows: Number(r[3]), maxGroupBytes: Number(r[4]), sorted: sortedBy.get(String(r[0])) ?? false }));
}

describe('DuckDB 1.5.5 COPY facts the writer relies on', () => {
  it.each([
    ["FILE_SIZE_BYTES '1MB'", /FILE_SIZE_BYTES and PARTITION_BY/],
    ['ROW_GROUPS_PER_FILE 2', /file rotation .* and PARTITION_BY/],
  ])('PARTITION_BY cannot be combined with %s, so the writer rotates files itself', async (option, message) => {
    const dir = await temp.make('copy');
    const error = await temp.lake.engine.run(`COPY (SELECT 1 AS p, 2 AS v) TO '${dir}/x' (FORMAT parquet, PARTITION_BY (p), ${option})`).catch((e: unknown) => e);
    expect(String(error)).toMatch(message);
  });

  it('engines run with preserve_insertion_order off (streaming COPY; ROW_GROUP_SIZE_BYTES is accepted then)', async () => {
    const dir = await temp.make('copy');
    const [row] = await temp.lake.engine.rows<{ v: boolean }>("SELECT current_setting('preserve_insertion_order') AS v");
    expect(row!.v).toBe(false);
    await temp.lake.engine.run(`COPY (SELECT 1 AS v) TO '${dir}/x.parquet' (FORMAT parquet, ROW_GROUP_SIZE_BYTES '1MB')`);
    await temp.lake.engine.run('SET preserve_insertion_order = true');
    try {
      const error = await temp.lake.engine.run(`COPY (SELECT 1 AS v) TO '${dir}/y.parquet' (FORMAT parquet, ROW_GROUP_SIZE_BYTES '1MB')`).catch((e: unknown) => e);
      expect(String((error as Error).message)).toMatch(/preserve_insertion_order/);
    } finally {
      await temp.lake.engine.run('SET preserve_insertion_order = false');
    }
  });
});

describe('row groups of a partitioned write are capped at 1/16 of the memory limit', () => {
  /** Three partitions of wide rows (~30 MB in memory each), written by one partitioned COPY under `memoryLimit`. */
  async function wideWrite(name: string, memoryLimit: string): Promise<FileMeta[]> {
    const lake = await openLake({ root: temp.root, memoryLimit, threads: 2 });
    try {
      const table = resolveTable(lake, name);
      const wide = Array.from({ length: 6 }, (_v, k) => `md5(CAST(i * ${k + 3} AS VARCHAR)) AS s${k}`).join(', ');
      await writeTable(lake, { table, source: `SELECT season, i AS play_id, ${wide} FROM range(80000) t(i), (SELECT unnest([2021, 2022, 2023]) AS season)`, mode: 'overwrite', partitionBy: ['season'] });
      return await fileMeta(table);
    } finally {
      lake.close();
    }
  }

  it('writes a partition in several row groups under a small limit, in one under a large one, with the same rows', async () => {
    const small = await wideWrite('silver.rg_cap_small', '128MiB');
    const large = await wideWrite('silver.rg_cap_large', '4GiB');
    expect(small.map((f) => f.rows)).toEqual([80000, 80000, 80000]);
    expect(large.map((f) => f.rows)).toEqual([80000, 80000, 80000]);
    // 128 MiB / 16 = 8 MiB of rows in memory per group; 4 GiB / 16 = 256 MiB holds a partition whole.
    expect(Math.min(...small.map((f) => f.rowGroups))).toBeGreaterThan(1);
    expect(large.map((f) => f.rowGroups)).toEqual([1, 1, 1]);
  });

  it("still writes while another connection's ordered write holds preserve_insertion_order on (DuckDB refuses the cap then)", async () => {
    const table = resolveTable(temp.lake, 'silver.rg_cap_ordered');
    await temp.lake.engine.inInsertionOrder(async () => {
      const [row] = await temp.lake.engine.rows<{ v: boolean }>("SELECT current_setting('preserve_insertion_order') AS v");
      expect(row!.v).toBe(true);
      await writeTable(temp.lake, { table, source: rows(500, [2022, 2023]), mode: 'overwrite', partitionBy: ['season'] });
    });
    expect((await fileMeta(table)).map((f) => f.rows)).toEqual([500, 500]);
  });
});

describe('file-size knobs', () => {
  it.each([
    [100, { maxRowsPerFile: 30 }, 4],
    [100, { maxRowsPerFile: 100 }, 1],
    [1000, { targetFileBytes: 4000, bytesPerRow: 10 }, 3],
    [1000, { targetFileBytes: 4000, bytesPerRow: 10, maxRowsPerFile: 100 }, 10],
    [1000, { targetFileBytes: 4000 }, 1],
  ])('filesFor(%i rows, %o) = %i', (n, options, files) => {
    expect(filesFor(n, options)).toBe(files);
  });

  it('row_group_mb becomes a row count from the measured bytes per row (never under 2048 rows), else row_group_size', () => {
    expect(rowGroupSizeFor({ rowGroupBytes: 1024 * 1024, bytesPerRow: 16, rowGroupSize: 122_880 })).toBe(65_536);
    expect(rowGroupSizeFor({ rowGroupBytes: 1024, bytesPerRow: 16 })).toBe(2048);
    expect(rowGroupSizeFor({ rowGroupBytes: 1024 * 1024, rowGroupSize: 5000 })).toBe(5000);
  });

  it('max_rows_per_file rotates files inside each partition; rows are sorted in every file and files do not overlap; rows are all there', async () => {
    const table = resolveTable(temp.lake, 'silver.layout_rows');
    await writeTable(temp.lake, { table, source: rows(25_000, [2023, 2024]), mode: 'append', partitionBy: ['season'], maxRowsPerFile: 10_000, sortBy: ['play_id'] });
    const files = await fileMeta(table);
    expect(files).toHaveLength(6);
    for (const f of files) {
      expect(f.rows).toBeLessThanOrEqual(10_000);
      expect(f.sorted).toBe(true);
    }
    const snapshot = await tableSnapshot(temp.lake, table);
    for (const season of ['2023', '2024']) {
      const ranges = snapshot.files
        .filter((f) => f.partitionValues['season'] === season)
        .map((f) => JSON.parse(f.stats!) as { minValues: { play_id: number }; maxValues: { play_id: number } })
        .sort((a, b) => a.minValues.play_id - b.minValues.play_id);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.minValues.play_id).toBeGreaterThan(ranges[i - 1]!.maxValues.play_id);
    }
    const count = await runQuery(temp.lake, `SELECT count(*), count(DISTINCT (season, play_id)) FROM delta_scan('${table.tableRoot}')`);
    expect(count.rows[0]!.map(Number)).toEqual([50_000, 50_000]);
  });

  it('row_group_mb sizes the row groups once the table has data to measure, and max_rows_per_file still holds', async () => {
    const table = resolveTable(temp.lake, 'silver.layout_groups');
    await writeTable(temp.lake, { table, source: rows(20_000, [2022]), mode: 'append', partitionBy: ['season'] });
    const snapshot = await tableSnapshot(temp.lake, table);
    const bytesPerRow = snapshot.files[0]!.size / 20_000;
    const rowGroupMb = (bytesPerRow * 20_000) / (1024 * 1024); // about 20k rows of this table
    await writeTable(temp.lake, { table, source: rows(90_000, [2023], 1_000_000), mode: 'append', rowGroupMb: rowGroupMb / 2, maxRowsPerFile: 60_000, sortBy: ['play_id'] });
    const files = (await fileMeta(table)).filter((f) => f.rows !== 20_000);
    expect(files.map((f) => f.rows).sort()).toEqual([45_000, 45_000]);
    for (const f of files) {
      // ~10k rows per group, rounded up by DuckDB to whole 2048-row vectors.
      expect(f.maxGroupRows).toBeLessThanOrEqual(12_288);
      expect(f.rowGroups).toBeGreaterThanOrEqual(4);
      expect(f.maxGroupBytes).toBeLessThan(rowGroupMb * 1024 * 1024);
      expect(f.sorted).toBe(true);
    }
    expect(await readRows(temp.lake, table.tableRoot, undefined, 'count(*) AS n')).toEqual([{ n: 110_000 }]);
  });
});

describe('sort_by without a sort when the rows arrive in order', () => {
  /** The COPY statements the writer ran while `write` ran (LAKE_SQL_TRACE). */
  async function copies(write: () => Promise<unknown>): Promise<string[]> {
    const dir = await temp.make('trace');
    const trace = path.join(dir, 'trace.jsonl');
    process.env['LAKE_SQL_TRACE'] = trace;
    try {
      await write();
    } finally {
      delete process.env['LAKE_SQL_TRACE'];
    }
    const lines = (await readFile(trace, 'utf8').catch(() => '')).split('\n').filter((l) => l.length > 0);
    return lines.map((l) => (JSON.parse(l) as { sql: string }).sql).filter((sql) => sql.startsWith('COPY'));
  }

  const cases = [
    ['in order', 'i', false],
    ['in reverse order', '-i', true],
    ['in order but for one row', 'CASE WHEN i = 1234 THEN -1 ELSE i END', true],
    ['in order with NULLs last and ties', 'CASE WHEN i >= 29000 THEN NULL ELSE i // 3 END', false],
    ['with a NULL first', 'CASE WHEN i = 0 THEN NULL ELSE i END', true],
  ] as const;
  // `partition`: the promote's write of one known partition with a row bound (TableWrite.writeFiles' layout), else a plain write.
  it.each([...cases.map(([label, key, sorts]) => [label, key, sorts, false] as const), ...cases.map(([label, key, sorts]) => [label, key, sorts, true] as const)])(
    'rows %s (play_id = %s, a sort expected: %s, one known partition: %s): the file is sorted (NULLs last), every row is there, and only out-of-order input pays a sort',
    async (label, key, sorts, partition) => {
      const dir = await temp.make('ordered');
      // A source file in a known row order (read back in file order), as bronze is for the promote.
      const input = path.join(dir, 'input.parquet');
      await temp.lake.engine.run(`COPY (SELECT 2024 AS season, ${key} AS play_id, md5(CAST(i AS VARCHAR)) AS descr FROM range(30000) t(i) ORDER BY i) TO '${input}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
      const table = resolveTable(temp.lake, `silver.ordered_${label.replace(/[^a-z]+/g, '_')}${partition ? '_known' : ''}`);
      const options: WriteOptions = { table, source: `SELECT * FROM read_parquet('${input}')`, mode: 'append', partitionBy: ['season'], sortBy: ['play_id'] };
      const statements = await copies(async () => {
        if (!partition) return writeTable(temp.lake, options);
        const write = await beginWrite(temp.lake, options);
        if ('status' in write) throw new Error('skipped');
        await write.writeFiles([options.source], { partition: { season: '2024' }, rowsAtMost: 30000 });
        return write.commit();
      });
      expect(statements.some((sql) => /ORDER BY "play_id"\)/.test(sql))).toBe(sorts);
      const snapshot = await tableSnapshot(temp.lake, table);
      expect(snapshot.files).toHaveLength(1);
      const file = path.join(table.tableRoot, decodeURIComponent(snapshot.files[0]!.path));
      const [check] = await temp.lake.engine.rows<{ bad: bigint; n: bigint; all: bigint }>(
        `SELECT count(*) FILTER (WHERE file_row_number + 1 <> sorted) AS bad, count(*) AS n, (SELECT count(*) FROM read_parquet('${input}')) AS "all"
         FROM (SELECT file_row_number, row_number() OVER (ORDER BY play_id ASC NULLS LAST, file_row_number) AS sorted FROM read_parquet('${file}', file_row_number = true))`,
      );
      expect(Number(check!.bad)).toBe(0);
      expect(Number(check!.n)).toBe(Number(check!.all));
      const [setting] = await temp.lake.engine.rows<{ v: boolean }>("SELECT current_setting('preserve_insertion_order') AS v");
      expect(setting!.v).toBe(false);
  },
  );
});

describe('many small partitions: one partitioned COPY instead of a COPY per partition', () => {
  /** Per partition: its files' stats (rows, min, max, null counts), sorted; the path and size aside. */
  async function statsByPartition(table: TableRef): Promise<Map<string, string[]>> {
    const snapshot = await tableSnapshot(temp.lake, table);
    const out = new Map<string, string[]>();
    for (const f of snapshot.files) {
      const key = JSON.stringify(f.partitionValues);
      const stats = JSON.parse(f.stats!) as Record<string, unknown>;
      out.set(key, [...(out.get(key) ?? []), JSON.stringify([stats['numRecords'], stats['minValues'], stats['maxValues'], stats['nullCount']])].sort());
    }
    return out;
  }

  it('writes the same partitions, files, stats and sorted rows as one COPY per partition, in far fewer COPYs', async () => {
    // 4 seasons × 20 weeks of 600 rows in scrambled play_id order (partitions straddle DuckDB's
    // 2048-row vectors; at this size DuckDB 1.5.5's partitioned COPY writes a few of them out of
    // order, which the writer's check catches), plus a NULL-week partition, which goes the one-file way.
    const source = `SELECT season, week, CAST((i * 7919 + week * 31) % 100003 AS BIGINT) AS play_id, md5(CAST(i AS VARCHAR)) AS descr, CAST(i % 97 AS DOUBLE) AS yards
      FROM range(600) t(i), (SELECT unnest([2021, 2022, 2023, 2024]) AS season), (SELECT unnest(range(1, 21)) AS week)
      UNION ALL SELECT 2024, NULL, i, md5(CAST(i AS VARCHAR)), 1.5 FROM range(300) t(i)`;
    const batched = resolveTable(temp.lake, 'silver.small_parts_batched');
    const dir = await temp.make('trace');
    const trace = path.join(dir, 'trace.jsonl');
    process.env['LAKE_SQL_TRACE'] = trace;
    try {
      await writeTable(temp.lake, { table: batched, source, mode: 'append', partitionBy: ['season', 'week'], sortBy: ['play_id'] });
    } finally {
      delete process.env['LAKE_SQL_TRACE'];
    }
    const copies = (await readFile(trace, 'utf8'))
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => (JSON.parse(l) as { sql: string }).sql)
      .filter((sql) => sql.startsWith('COPY'));
    expect(copies.filter((sql) => sql.includes('PARTITION_BY'))).toHaveLength(1);
    // The staging COPY, the partitioned one, the NULL partition's, and any partition the check sent back.
    expect(copies.length).toBeLessThan(40);

    // The reference: every partition written on its own (one COPY to one file each).
    const reference = resolveTable(temp.lake, 'silver.small_parts_one_by_one');
    const parts = await runQuery(temp.lake, `SELECT DISTINCT season, week FROM (${source}) ORDER BY ALL`);
    for (const [season, week] of parts.rows) {
      const where = week === null ? `season = ${String(season)} AND week IS NULL` : `season = ${String(season)} AND week = ${String(week)}`;
      await writeTable(temp.lake, { table: reference, source: `SELECT * FROM (${source}) WHERE ${where}`, mode: 'append', partitionBy: ['season', 'week'], sortBy: ['play_id'] });
    }
    const expected = await statsByPartition(reference);
    expect(expected.size).toBe(81);
    expect(await statsByPartition(batched)).toEqual(expected);
    for (const files of expected.values()) expect(files).toHaveLength(1);
    const meta = await fileMeta(batched);
    expect(meta).toHaveLength(81);
    for (const f of meta) expect(f.sorted).toBe(true);
    const diff = await runQuery(
      temp.lake,
      `SELECT (SELECT count(*) FROM (FROM delta_scan('${batched.tableRoot}') EXCEPT ALL FROM delta_scan('${reference.tableRoot}'))) AS only_batched,
              (SELECT count(*) FROM (FROM delta_scan('${reference.tableRoot}') EXCEPT ALL FROM delta_scan('${batched.tableRoot}'))) AS only_reference,
              (SELECT count(*) FROM delta_scan('${batched.tableRoot}')) AS n`,
    );
    expect(diff.rows[0]!.map(Number)).toEqual([0, 0, 48_300]);
  });
});
