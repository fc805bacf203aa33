import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLakeError } from '../../src/core/index.js';
import { decodeAddPath, readCommit } from '../../src/delta/index.js';
import { resolveTable, restoreTable, tableHistory, tableSnapshot, writeTable, type TableRef, type WriteMode } from '../../src/table/index.js';
import { commitVersions, readRows } from '../helpers/lake.js';
import { canonicalRows } from '../helpers/rows.js';
import { tempLake } from '../helpers/temp-lake.js';

/**
 * RESTORE: a new commit whose snapshot equals an earlier version, for every earlier version of a
 * table that went through appends, partition replaces, an overwrite and a schema change.
 */
const T0 = Date.parse('2026-09-01T00:00:00Z');
const HOUR = 3_600_000;

const STEPS: { mode: WriteMode; sql: string; schemaMode?: 'merge' }[] = [
  { mode: 'append', sql: "SELECT i AS id, 2023 + (i % 2) AS season, 'a' || i AS name, i * 1.5 AS yards FROM range(0, 10) r(i)" },
  { mode: 'append', sql: "SELECT i AS id, 2024 AS season, 'b' || i AS name, i * 2.0 AS yards FROM range(10, 14) r(i)" },
  { mode: 'replace', sql: "SELECT i AS id, 2023 AS season, 'c' || i AS name, -1.0 AS yards FROM range(20, 23) r(i)" },
  { mode: 'overwrite', sql: "SELECT i AS id, 2025 AS season, 'd' || i AS name, 0.5 AS yards FROM range(30, 36) r(i)" },
  { mode: 'append', sql: "SELECT i AS id, 2025 AS season, 'e' || i AS name, 1.0 AS yards, 'x' AS team FROM range(40, 42) r(i)", schemaMode: 'merge' },
  { mode: 'replace', sql: "SELECT i AS id, 2024 AS season, 'f' || i AS name, 3.0 AS yards, 'y' AS team FROM range(50, 53) r(i)" },
];

const env = tempLake('lake-restore', { threads: 2 });

async function buildTable(name: string): Promise<TableRef> {
  const table = resolveTable(env.lake, name);
  for (const [i, step] of STEPS.entries()) {
    await writeTable(env.lake, { table, source: step.sql, mode: step.mode, partitionBy: ['season'], schemaMode: step.schemaMode, now: () => T0 + i * HOUR });
  }
  return table;
}

async function fingerprint(table: TableRef, version?: number): Promise<{ rows: string[]; columns: string[] }> {
  const snapshot = await tableSnapshot(env.lake, table, version === undefined ? {} : { version });
  return { rows: canonicalRows(await readRows(env.lake, table.tableRoot, version)), columns: snapshot.schema.fields.map((f) => f.name) };
}

describe('restoreTable', () => {
  it('restores every earlier version: the new version has exactly that version’s rows and schema', async () => {
    const table = await buildTable('silver.every');
    // One query at a time: concurrent runQuery calls on one Lake share temp view names.
    const expected = [];
    for (const v of STEPS.keys()) expected.push(await fingerprint(table, v));
    // Restore in an order that moves both backwards and forwards through the history.
    for (const target of [0, 4, 2, 5, 1, 3, 0]) {
      const result = await restoreTable(env.lake, { table, version: target, now: () => T0 + 10 * HOUR });
      expect(result.status).toBe('committed');
      expect(result.restoredVersion).toBe(target);
      expect(await fingerprint(table)).toEqual(expected[target]);
    }
    // Every version, old and new, still reads as it did.
    for (const [v, fp] of expected.entries()) expect(await fingerprint(table, v)).toEqual(fp);
  });

  it('writes a RESTORE commit with Delta’s operationParameters and operationMetrics, files re-added with dataChange', async () => {
    const table = await buildTable('silver.commit');
    const before = await tableSnapshot(env.lake, table);
    const result = await restoreTable(env.lake, { table, version: 1 });
    expect(result).toMatchObject({ status: 'committed', version: 6, readVersion: 5, restoredVersion: 1, metadataChanged: true, protocolChanged: false });
    const actions = await readCommit(table.tableRoot, 6);
    const info = actions.find((a) => a.kind === 'commitInfo');
    expect(info?.kind === 'commitInfo' && info.commitInfo).toMatchObject({
      operation: 'RESTORE',
      operationParameters: { version: '1' },
      readVersion: 5,
      isBlindAppend: false,
      operationMetrics: {
        numRestoredFiles: String(result.metrics.numRestoredFiles),
        numRemovedFiles: String(before.files.length),
        restoredFilesSize: String(result.metrics.restoredFilesSize),
        removedFilesSize: String(before.files.reduce((n, f) => n + f.size, 0)),
        numOfFilesAfterRestore: String(result.metrics.numOfFilesAfterRestore),
        tableSizeAfterRestore: String(result.metrics.tableSizeAfterRestore),
      },
    });
    const adds = actions.flatMap((a) => (a.kind === 'add' ? [a.add] : []));
    const removes = actions.flatMap((a) => (a.kind === 'remove' ? [a.remove] : []));
    expect(adds.length).toBe(result.metrics.numRestoredFiles);
    expect(removes.length).toBe(result.metrics.numRemovedFiles);
    expect(adds.every((a) => a.dataChange) && removes.every((r) => r.dataChange)).toBe(true);
    // Version 1 predates the merged column: the schema goes back with the metaData action.
    const meta = actions.find((a) => a.kind === 'metaData');
    expect(meta?.kind === 'metaData' && JSON.parse(meta.metaData.schemaString).fields.map((f: { name: string }) => f.name)).toEqual(['id', 'season', 'name', 'yards']);
    const history = await tableHistory(env.lake, table, { limit: 1 });
    expect(history[0]).toMatchObject({ version: 6, operation: 'RESTORE', filesAdded: adds.length, filesRemoved: removes.length });
  });

  it('resolves --timestamp to the version current at that time, as history reports it', async () => {
    const table = await buildTable('silver.by_time');
    const history = await tableHistory(env.lake, table);
    const v2 = history.find((h) => h.version === 2)!;
    const expected = await fingerprint(table, 2);
    // Exactly at version 2's commit time, and just before version 3's.
    for (const at of [v2.timestamp, v2.timestamp + HOUR - 1]) {
      const result = await restoreTable(env.lake, { table, timestamp: at });
      expect(result).toMatchObject({ status: 'committed', restoredVersion: 2 });
      expect(await fingerprint(table)).toEqual(expected);
      await restoreTable(env.lake, { table, version: 5 });
    }
    await restoreTable(env.lake, { table, timestamp: v2.timestamp + HOUR - 1 });
    const after = await readCommit(table.tableRoot, (await commitVersions(table.tableRoot)).at(-1)!);
    const info = after.find((a) => a.kind === 'commitInfo');
    expect(info?.kind === 'commitInfo' && info.commitInfo.operationParameters).toEqual({ version: '2', timestamp: new Date(v2.timestamp + HOUR - 1).toISOString() });
    await expect(restoreTable(env.lake, { table, timestamp: T0 - 1 })).rejects.toMatchObject({ code: 'TIMESTAMP_BEFORE_TABLE' });
  });

  it('is a no-op when the latest version already equals the target, and a dry run commits nothing', async () => {
    const table = await buildTable('silver.noop');
    const dry = await restoreTable(env.lake, { table, version: 3, dryRun: true });
    expect(dry).toMatchObject({ status: 'dry-run', readVersion: 5, restoredVersion: 3 });
    expect(dry.metrics.numRemovedFiles).toBeGreaterThan(0);
    expect(await commitVersions(table.tableRoot)).toEqual([0, 1, 2, 3, 4, 5]);
    await restoreTable(env.lake, { table, version: 3 });
    const again = await restoreTable(env.lake, { table, version: 3 });
    expect(again).toMatchObject({ status: 'noop', readVersion: 6 });
    expect(await commitVersions(table.tableRoot)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const self = await restoreTable(env.lake, { table, version: 6 });
    expect(self.status).toBe('noop');
  });

  it('refuses with DATA_FILE_MISSING, committing nothing, when a file of the target version was vacuumed', async () => {
    const table = await buildTable('silver.vacuumed');
    const v0 = await tableSnapshot(env.lake, table, { version: 0 });
    const gone = v0.files[0]!;
    await unlink(path.join(table.tableRoot, decodeAddPath(gone.path)));
    const error = await restoreTable(env.lake, { table, version: 0 }).catch((e: unknown) => e);
    expect(isLakeError(error, 'DATA_FILE_MISSING')).toBe(true);
    expect((error as Error).message).toContain(decodeAddPath(gone.path));
    expect((error as Error).message).toContain('nothing was committed');
    expect(await commitVersions(table.tableRoot)).toEqual([0, 1, 2, 3, 4, 5]);
    // A later version whose files are all present restores fine.
    expect((await restoreTable(env.lake, { table, version: 4 })).status).toBe('committed');
  });

  it('restores an append-only table (the undo of a bad append), leaving the property set', async () => {
    const table = resolveTable(env.lake, 'bronze.append_only');
    const create = { 'delta.appendOnly': 'true' };
    await writeTable(env.lake, { table, source: 'SELECT 1 AS id', mode: 'append', configuration: create });
    await writeTable(env.lake, { table, source: 'SELECT 2 AS id', mode: 'append' });
    await expect(writeTable(env.lake, { table, source: 'SELECT 3 AS id', mode: 'overwrite' })).rejects.toMatchObject({ code: 'DELTA_WRITE_UNSUPPORTED' });
    const result = await restoreTable(env.lake, { table, version: 0 });
    expect(result.status).toBe('committed');
    expect(canonicalRows(await readRows(env.lake, table.tableRoot))).toEqual(canonicalRows([{ id: 1 }]));
    expect((await tableSnapshot(env.lake, table)).metadata.configuration['delta.appendOnly']).toBe('true');
  });

  it('rejects an unknown version and a missing selector with usage errors', async () => {
    const table = await buildTable('silver.usage');
    await expect(restoreTable(env.lake, { table, version: 99 })).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND', exitCode: 2 });
    await expect(restoreTable(env.lake, { table })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
