import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extensionMisreads, resolveTable, runQuery, tableSnapshot } from '../../src/table/index.js';
import { tempLake } from '../helpers/temp-lake.js';

/**
 * Which snapshots DuckDB's delta extension would read wrong (test/interop/spark.test.ts measures
 * it on tables Spark writes: column mapping + partition columns come back NULL), judged on the
 * conformance fixtures.
 */
const TABLES = path.resolve('test/fixtures/delta-conformance/tables');
const SPARK_WRITTEN = path.resolve('test/fixtures/spark-written');
const temp = tempLake('lake-reader-');

describe('extensionMisreads', () => {
  it('names column mapping with partition columns, and the columns', async () => {
    const snapshot = await tableSnapshot(temp.lake, resolveTable(temp.lake, path.join(TABLES, 'table_with_column_mapping')));
    expect(extensionMisreads(snapshot)).toBe("column mapping mode 'name' with partition columns (Company Very Short): the extension returns them as NULL");
  });

  it.each(['table-with-columnmapping-mode-name', 'basic_partitioned', 'dv-partitioned-with-checkpoint', 'data-reader-timestamp_ntz', 'v2-checkpoint-parquet'])(
    'leaves %s (column mapping without partitions, or partitions without column mapping) to the extension',
    async (name) => {
      const snapshot = await tableSnapshot(temp.lake, resolveTable(temp.lake, path.join(TABLES, name)));
      expect(extensionMisreads(snapshot)).toBeUndefined();
    },
  );
});

describe('Spark-written column-mapped tables with a partition column (test/fixtures/spark-written)', () => {
  it.each(['name', 'id'])('mode %s: flagged for the extension at every version, and read right by the native reader', async (mode) => {
    const tableRoot = path.join(SPARK_WRITTEN, `column-mapping-${mode}-partitioned`);
    const table = resolveTable(temp.lake, tableRoot);
    const first = [[1, 'a', 'north'], [2, 'b', 'south'], [3, 'c', null], [4, 'd', 'north']];
    const expected: Record<number, unknown[][]> = { 1: first, 2: first, 3: [...first, [5, 'e', 'west'], [6, 'f', 'south']] };
    for (const version of [1, 2, 3]) {
      const snapshot = await tableSnapshot(temp.lake, table, { version });
      expect(extensionMisreads(snapshot)).toMatch(new RegExp(`^column mapping mode '${mode}' with partition columns \\((region|area)\\)`));
      const result = await runQuery(temp.lake, `SELECT * FROM delta_scan('${tableRoot}', version => ${version}) ORDER BY id`, { reader: 'native' });
      expect(result.columns).toEqual(['id', 'name', version === 1 ? 'region' : 'area']);
      expect(result.rows).toEqual(expected[version]);
    }
  });
});
