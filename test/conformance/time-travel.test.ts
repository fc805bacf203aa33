import { cpSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitFileName, listLog, readCommitInfo } from '../../src/delta/index.js';
import { openLake, runQuery, type Lake } from '../../src/table/index.js';
import { TABLES } from './golden.js';

/**
 * Timestamp time travel on foreign tables (docs/design.md decision 6): the last version whose commit
 * timestamp is <= T, the commit timestamp being `commitInfo.timestamp`, else the commit file's
 * mtime. git does not keep mtimes, so the tests set them on copies.
 */
const DAY = 86_400_000;
const T0 = Date.parse('2024-01-01T00:00:00Z');

let root: string;
let lake: Lake;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-tt-'));
  lake = await openLake({ root });
});
afterAll(() => {
  lake.close();
  rmSync(root, { recursive: true, force: true });
});

function copyTable(name: string): string {
  const copy = path.join(root, name);
  cpSync(path.join(TABLES, name), copy, { recursive: true });
  return copy;
}

function setCommitMtimes(tableRoot: string, versions: number[], at: (v: number) => number): void {
  for (const v of versions) {
    const seconds = at(v) / 1000;
    utimesSync(path.join(tableRoot, '_delta_log', commitFileName(v)), seconds, seconds);
  }
}

async function at(tableRoot: string, timestamp: string): Promise<{ version: number | undefined; values: unknown[] }> {
  const result = await runQuery(lake, `SELECT value FROM delta_scan('${tableRoot}') AT (TIMESTAMP => '${timestamp}') ORDER BY value`);
  return { version: result.views[0]?.version, values: result.rows.map((r) => r[0]) };
}

describe('timestamp time travel', () => {
  it('uses the commit file mtime for a table without commitInfo (cdf-table-with-dv)', async () => {
    const table = copyTable('cdf-table-with-dv');
    const listing = await listLog(table);
    const versions = [...listing.commits.keys()].sort((a, b) => a - b);
    expect(await Promise.all(versions.map((v) => readCommitInfo(table, v)))).toEqual(versions.map(() => undefined));
    setCommitMtimes(table, versions, (v) => T0 + v * DAY);

    // Between commits: the last version committed at or before T (v3 deletes rows 0, 1, 4, 5).
    expect(await at(table, new Date(T0 + 3.5 * DAY).toISOString())).toEqual({ version: 3, values: [2, 3, 6, 7, 8, 9] });
    // Exactly at a commit's time: that commit.
    expect(await at(table, new Date(T0 + 4 * DAY).toISOString())).toEqual({ version: 4, values: [1, 2, 3, 4, 6, 7, 8, 9] });
    expect((await at(table, '2030-01-01T00:00:00Z')).version).toBe(6);
    // A value without a zone is UTC.
    expect((await at(table, '2024-01-02 12:00:00')).version).toBe(1);
    await expect(at(table, '2023-12-31T23:59:59Z')).rejects.toMatchObject({ code: 'TIMESTAMP_BEFORE_TABLE' });
  });

  it('prefers commitInfo.timestamp over the file mtime when the commit has one (simple_table)', async () => {
    const table = copyTable('simple_table');
    const versions = [0, 1, 2, 3, 4];
    const stamps = await Promise.all(versions.map(async (v) => (await readCommitInfo(table, v))?.['timestamp'] as number));
    expect(stamps.every((t) => typeof t === 'number')).toBe(true);
    // Scramble the mtimes (newest first): they must not matter.
    setCommitMtimes(table, versions, (v) => T0 - v * DAY);
    const v2 = stamps[2]!;
    const count = async (t: number) => {
      const result = await runQuery(lake, `SELECT count(*)::INTEGER FROM delta_scan('${table}') AT (TIMESTAMP => '${new Date(t).toISOString()}')`);
      return { version: result.views[0]?.version, rows: result.rows[0]?.[0] };
    };
    expect(await count(v2)).toEqual({ version: 2, rows: 5 });
    expect(await count(v2 - 1)).toEqual({ version: 1, rows: 20 });
  });
});
