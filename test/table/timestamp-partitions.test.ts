import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitFileName, LOG_DIR } from '../../src/delta/index.js';
import { resolveTable, runQuery, tableSnapshot, writeTable } from '../../src/table/index.js';
import { tempLake } from '../helpers/temp-lake.js';

/**
 * Timestamp partition values are written in the UTC ISO form (`2021-03-14T14:59:59.123456Z`) and
 * read in both forms: a zone-less value (older writers of ours, Spark, delta-rs) is UTC.
 */
const temp = tempLake('lake-ts-partitions-');

const SOURCE = `SELECT * FROM (VALUES
  (1, TIMESTAMPTZ '2021-03-14 14:59:59.123456+00'),
  (2, TIMESTAMPTZ '2021-03-14 14:59:59.123456+00'),
  (3, TIMESTAMPTZ '1969-12-31 23:59:59.999999+00'),
  (4, NULL::TIMESTAMPTZ)) AS t(id, ts)`;

/** SOURCE's rows as read back: id and the instant in UTC. */
const WRITTEN = [
  [1, '2021-03-14T14:59:59.123456Z'],
  [2, '2021-03-14T14:59:59.123456Z'],
  [3, '1969-12-31T23:59:59.999999Z'],
  [4, null],
];

function addedValues(tableRoot: string, version: number): (string | null)[] {
  const lines = readFileSync(path.join(tableRoot, LOG_DIR, commitFileName(version)), 'utf8').trim().split('\n');
  return lines.flatMap((l) => {
    const action = JSON.parse(l) as { add?: { partitionValues: Record<string, string | null> } };
    return action.add ? [action.add.partitionValues['ts'] ?? null] : [];
  });
}

async function idsAndTimes(table: string, where = ''): Promise<[bigint | number, string | null][]> {
  const result = await runQuery(temp.lake, `SELECT id, strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') FROM ${table} ${where} ORDER BY id`);
  return result.rows as [bigint | number, string | null][];
}

describe('timestamp partition values', () => {
  it('are written in the UTC ISO form with microseconds and read back as the same instants', async () => {
    const table = resolveTable(temp.lake, 'silver.ts_iso');
    await writeTable(temp.lake, { table, source: SOURCE, mode: 'append', partitionBy: ['ts'] });
    expect(addedValues(table.tableRoot, 0).sort()).toEqual(['1969-12-31T23:59:59.999999Z', '2021-03-14T14:59:59.123456Z', null]);
    expect(await idsAndTimes('silver.ts_iso')).toEqual(WRITTEN);
    const pruned = await runQuery(temp.lake, `SELECT count(*) FROM silver.ts_iso WHERE ts = '2021-03-14 09:59:59.123456-05'`);
    expect(pruned.rows).toEqual([[2n]]);
    expect(pruned.views[0]?.filesRead).toBe(1);
  });

  it('are read from the zone-less form as UTC, and a replace of that instant replaces the zone-less partition', async () => {
    const table = resolveTable(temp.lake, 'silver.ts_old');
    await writeTable(temp.lake, { table, source: SOURCE, mode: 'append', partitionBy: ['ts'] });
    // Rewrite the log as a writer of the zone-less form would have written it.
    const commit = path.join(table.tableRoot, LOG_DIR, commitFileName(0));
    const zoneLess = readFileSync(commit, 'utf8').replace(/"ts":"(\d{4}-\d{2}-\d{2})T([\d:.]+)Z"/g, '"ts":"$1 $2"');
    expect(zoneLess).toContain('"ts":"2021-03-14 14:59:59.123456"');
    writeFileSync(commit, zoneLess);
    expect(await idsAndTimes('silver.ts_old')).toEqual(WRITTEN);
    const pruned = await runQuery(temp.lake, `SELECT count(*) FROM silver.ts_old WHERE ts = '2021-03-14 14:59:59.123456+00'`);
    expect(pruned.rows).toEqual([[2n]]);
    expect(pruned.views[0]?.filesRead).toBe(1);

    const result = await writeTable(temp.lake, {
      table,
      source: `SELECT 9 AS id, TIMESTAMPTZ '2021-03-14 14:59:59.123456+00' AS ts`,
      mode: 'replace',
      partitionBy: ['ts'],
    });
    expect(result).toMatchObject({ status: 'committed', filesRemoved: 1 });
    expect(await idsAndTimes('silver.ts_old')).toEqual([
      [3, '1969-12-31T23:59:59.999999Z'],
      [4, null],
      [9, '2021-03-14T14:59:59.123456Z'],
    ]);
    const snapshot = await tableSnapshot(temp.lake, table);
    expect(snapshot.files.map((f) => f.partitionValues['ts']).sort()).toEqual(['1969-12-31 23:59:59.999999', '2021-03-14T14:59:59.123456Z', null]);
  });
});
