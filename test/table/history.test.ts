import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitFileName, LOG_DIR, type Action } from '../../src/delta/index.js';
import { commitsBehindCurrent, commitsNewestFirst, restoreTable, runQuery, resolveTable, summarizeCommit, tableHistory, tableSnapshot, writeTable } from '../../src/table/index.js';
import { tempLake } from '../helpers/temp-lake.js';

/** `lake history` row counts and commit times, on Delta tables other writers made (test/fixtures/delta-conformance). */
const TABLES = path.resolve('test/fixtures/delta-conformance/tables');
const temp = tempLake('lake-history-');

describe('tableHistory row counts on deletion-vector tables', () => {
  it('counts the rows a DELETE with a deletion vector removed, not the whole file twice', async () => {
    const history = await tableHistory(temp.lake, resolveTable(temp.lake, path.join(TABLES, 'table-with-dv-small')));
    const [v1, v0] = history;
    expect(v0).toMatchObject({ version: 0, operation: 'WRITE', filesAdded: 1, filesRemoved: 0, rowsAdded: 10, rowsRemoved: 0 });
    // Spark's commitInfo for it says numDeletedRows 2; the file is removed and re-added with a 2-row DV.
    expect(v1).toMatchObject({ version: 1, operation: 'DELETE', filesAdded: 1, filesRemoved: 1, rowsAdded: 0, rowsRemoved: 2 });
  });

  // Tables whose deletion vectors change from commit to commit (deleted and un-deleted rows, a
  // checkpoint carrying DVs): at every version, the added minus removed rows of the history so far
  // equal the rows the version holds.
  it.each(['cdf-table-with-dv', 'dv-partitioned-with-checkpoint', 'table-with-dv-small', 'with-short-dv'])(
    '%s: the net row counts of the history add up to the rows of every version',
    async (name) => {
      const tableRoot = path.join(TABLES, name);
      const history = (await tableHistory(temp.lake, resolveTable(temp.lake, tableRoot))).reverse();
      let rows = 0;
      for (const entry of history) {
        expect(entry.rowsAdded, `v${entry.version}`).toBeTypeOf('number');
        rows += entry.rowsAdded! - entry.rowsRemoved!;
        const count = await runQuery(temp.lake, `SELECT count(*) FROM delta_scan('${tableRoot}', version => ${entry.version})`);
        expect(rows, `v${entry.version}`).toBe(Number(count.rows[0]![0]));
      }
    },
  );
});

describe('summarizeCommit commit time', () => {
  const write = (commitInfo: Record<string, unknown>): Action[] => [{ kind: 'commitInfo', commitInfo: { operation: 'WRITE', ...commitInfo } }];

  it('prefers inCommitTimestamp, where the writer recorded one, to commitInfo.timestamp and the file time', () => {
    expect(summarizeCommit(3, write({ timestamp: 1_700_000_000_500, inCommitTimestamp: 1_700_000_000_000 }), 1_800_000_000_000, []).timestamp).toBe(1_700_000_000_000);
    expect(summarizeCommit(3, write({ timestamp: 1_700_000_000_500 }), 1_800_000_000_000, []).timestamp).toBe(1_700_000_000_500);
    expect(summarizeCommit(3, write({}), 1_800_000_000_000, []).timestamp).toBe(1_800_000_000_000);
  });
});

describe('in-commit timestamps', () => {
  it('are the commit times of history and of time travel by timestamp, where commits carry them', async () => {
    const table = resolveTable(temp.lake, 'silver.ict');
    await writeTable(temp.lake, { table, source: 'SELECT 1 AS id', mode: 'append' });
    await writeTable(temp.lake, { table, source: 'SELECT 2 AS id', mode: 'append' });
    // As a writer with in-commit timestamps enabled records them: far from commitInfo.timestamp here.
    const ict = [Date.parse('2001-01-01T00:00:00Z'), Date.parse('2002-01-01T00:00:00Z')];
    for (const version of [0, 1]) {
      const file = path.join(table.tableRoot, LOG_DIR, commitFileName(version));
      writeFileSync(file, readFileSync(file, 'utf8').replace('{"commitInfo":{', `{"commitInfo":{"inCommitTimestamp":${ict[version]},`));
    }
    expect((await tableHistory(temp.lake, table)).map((e) => [e.version, e.timestamp])).toEqual([
      [1, ict[1]],
      [0, ict[0]],
    ]);
    expect((await tableSnapshot(temp.lake, table, { timestamp: Date.parse('2001-06-01T00:00:00Z') })).version).toBe(0);
    expect((await tableSnapshot(temp.lake, table, { timestamp: Date.parse('2002-06-01T00:00:00Z') })).version).toBe(1);
  });
});

describe('commitsNewestFirst', () => {
  it('agrees with tableHistory, newest first, and reads a commit only when the walk gets to it', async () => {
    const tableRoot = path.join(TABLES, 'table-with-dv-small');
    const walked = [];
    for await (const head of commitsNewestFirst(resolveTable(temp.lake, tableRoot))) walked.push(head);
    const history = await tableHistory(temp.lake, resolveTable(temp.lake, tableRoot));
    expect(walked.map((h) => [h.version, h.operation, h.changesFiles])).toEqual(history.map((e) => [e.version, e.operation, e.filesAdded + e.filesRemoved > 0]));
    expect(walked[0]!.commitInfo).toEqual(history[0]!.commitInfo);

    // A walk that stops at the newest commit never reads the older ones (here: one made unreadable).
    const table = resolveTable(temp.lake, 'silver.walk_back');
    await writeTable(temp.lake, { table, source: 'SELECT 1 AS id', mode: 'append' });
    await writeTable(temp.lake, { table, source: 'SELECT 2 AS id', mode: 'append' });
    writeFileSync(path.join(table.tableRoot, LOG_DIR, commitFileName(0)), '{"commitInfo": truncated');
    for await (const head of commitsNewestFirst(table)) {
      expect(head).toMatchObject({ version: 1, changesFiles: true });
      break;
    }
    await expect(tableHistory(temp.lake, table)).rejects.toThrow();
    rmSync(table.tableRoot, { recursive: true, force: true });
  });
});

describe('commitsBehindCurrent', () => {
  it('follows a RESTORE back to the version it restored, passing over the commits it undid', async () => {
    const table = resolveTable(temp.lake, 'silver.behind_current');
    for (const id of [1, 2, 3]) await writeTable(temp.lake, { table, source: `SELECT ${id} AS id`, mode: 'append' }); // v0, v1, v2
    await restoreTable(temp.lake, { table, version: 0 }); // v3 = v0's state
    await writeTable(temp.lake, { table, source: 'SELECT 4 AS id', mode: 'append' }); // v4
    const walked: number[] = [];
    for await (const head of commitsBehindCurrent(table)) walked.push(head.version);
    expect(walked).toEqual([4, 0]);
    const everything: number[] = [];
    for await (const head of commitsNewestFirst(table)) everything.push(head.version);
    expect(everything).toEqual([4, 3, 2, 1, 0]);
    rmSync(table.tableRoot, { recursive: true, force: true });
  });
});
