import { describe, expect, it } from 'vitest';
import { commitKind, readTableState } from '../../src/report/table-state.js';
import { optimizeTable, resolveTable, restoreTable, writeTable } from '../../src/table/index.js';
import { tempLake } from '../helpers/temp-lake.js';

/** The report's one pass over a log: commit kinds, rows per commit, each partition's state after every commit that changed it. */
const T0 = Date.parse('2026-09-01T00:00:00Z');
const env = tempLake('report-state', { threads: 1 });

describe('readTableState', () => {
  it('follows appends, a partition replace, a restore and an optimize, per partition, with the lake diff command per change', async () => {
    const table = resolveTable(env.lake, 'silver.things');
    const write = (sql: string, mode: 'append' | 'replace', i: number) => writeTable(env.lake, { table, source: sql, mode, partitionBy: ['season'], now: () => T0 + i * 60_000 });
    await write('SELECT i AS id, 2023 + (i % 2) AS season FROM range(0, 10) r(i)', 'append', 0); // v0: 5 + 5
    await write('SELECT i AS id, 2024 AS season FROM range(10, 14) r(i)', 'append', 1); // v1: 2024 → 9
    await write('SELECT i AS id, 2023 AS season FROM range(20, 23) r(i)', 'replace', 2); // v2: 2023 → 3
    await restoreTable(env.lake, { table, version: 1 }); // v3: 2023 → 5 again
    await write('SELECT i AS id, 2024 AS season FROM range(30, 31) r(i)', 'append', 4); // v4: 2024 → 10 in 3 files
    await optimizeTable(env.lake, { table }); // v5: 2024 compacted, rows unchanged

    const state = await readTableState(env.lake, table);
    expect(state.version).toBe(5);
    expect(state.commits.map((c) => c.summary.kind)).toEqual(['create', 'append', 'replace', 'restore', 'append', 'optimize']);
    expect(state.commits.map((c) => [c.summary.rows_added, c.summary.rows_removed])).toEqual([[10, 0], [4, 0], [3, 5], [5, 3], [1, 0], [10, 10]]);
    expect(state.rows).toBe(15);
    expect(state.columns.get('id')).toBe('long');
    const byLabel = new Map(state.partitions.map((p) => [p.label, p]));
    expect(byLabel.get('season=2023')!.changes.map((c) => [c.version, c.rows_before, c.rows_after])).toEqual([[0, null, 5], [2, 5, 3], [3, 3, 5]]);
    expect(byLabel.get('season=2023')!.changes[1]!.diff).toBe('lake diff silver.things --from 1 --to 2');
    expect(byLabel.get('season=2023')!.changes[0]!.diff).toBeNull();
    const y2024 = byLabel.get('season=2024')!;
    expect(y2024.changes.map((c) => [c.version, c.rows_after, c.files_after])).toEqual([[0, 5, 1], [1, 9, 2], [4, 10, 3], [5, 10, 1]]);
    expect([y2024.rows, y2024.files]).toEqual([10, 1]);
  });

  it.each([
    [{ operation: 'WRITE', operationParameters: { mode: 'Append' } }, 3, 'append'],
    [{ operation: 'WRITE', operationParameters: { mode: 'Overwrite', predicate: "season = '2020'" } }, 3, 'replace'],
    [{ operation: 'RESTORE', operationParameters: { version: '1' } }, 3, 'restore'],
    [{ operation: 'RESTORE', rollback_of_run: 'r1' }, 3, 'rollback'],
    [{ operation: 'BRONZE GC' }, 3, 'gc'],
    [{ operation: 'CREATE TABLE', operationParameters: { mode: 'Append' } }, 0, 'create'],
    [undefined, 3, 'other'],
  ])('commit %j at version %i is a %s', (info, version, kind) => {
    expect(commitKind(info, version)).toBe(kind);
  });
});
