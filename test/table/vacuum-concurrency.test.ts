import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAddPath, readCommit } from '../../src/delta/index.js';
import { openLake, resolveTable, runQuery, tableSnapshot, vacuumTable, writeTable, type Lake, type VacuumMetrics } from '../../src/table/index.js';
import { WRITER_CHILD, describeChild, jsonLines, requireBuild, startTogether } from '../helpers/child.js';
import { commitVersions, readRows, sqlValue } from '../helpers/lake.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * A real writer process appends and replaces partitions while this process vacuums the same
 * table again and again (system clock, default 7-day retention). The table has month-old
 * history whose removed files are due for deletion. Nothing the writer commits may be lost.
 */
const DAY = 86_400_000;
const dirs = tempDirs('lake-vacuum-concurrency');
let lake: Lake;

beforeAll(async () => {
  requireBuild();
  lake = await openLake({ root: await dirs.make('lake'), threads: 2 });
});
afterAll(async () => {
  lake.close();
  await dirs.cleanup();
});

describe('vacuum with a concurrent writer (real process)', () => {
  it('deletes the expired files while a writer commits 24 times; every committed row is still there', async () => {
    const table = resolveTable(lake, 'silver.busy');
    const old = Date.now() - 30 * DAY;
    const history = [
      { mode: 'append' as const, sql: "SELECT i AS id, 'p' || (i % 3) AS p, 'old' AS tag FROM range(0, 30) r(i)" },
      { mode: 'overwrite' as const, sql: "SELECT i AS id, 'p' || (i % 3) AS p, 'base' AS tag FROM range(100, 130) r(i)" },
    ];
    for (const [i, step] of history.entries()) await writeTable(lake, { table, source: step.sql, mode: step.mode, partitionBy: ['p'], now: () => old + i * DAY });
    for (const v of await commitVersions(table.tableRoot)) {
      for (const a of await readCommit(table.tableRoot, v)) {
        if (a.kind === 'add') await utimes(path.join(table.tableRoot, decodeAddPath(a.add.path)), new Date(old), new Date(old));
      }
    }

    const ops = Array.from({ length: 24 }, (_, i) =>
      i % 6 === 5
        ? { mode: 'replace', source: `SELECT ${1000 + i} AS id, 'w${i % 4}' AS p, 'replace${i}' AS tag` }
        : { mode: 'append', source: `SELECT ${1000 + i * 10} + j AS id, 'w${i % 4}' AS p, 'append${i}' AS tag FROM range(0, 3) r(j)` },
    );
    const spec = { lakeRoot: lake.root, tableRoot: table.tableRoot, ops };
    const [writer] = await startTogether(WRITER_CHILD, [{ id: 'writer', args: [JSON.stringify(spec)] }], await dirs.make('barrier'));
    const runs: VacuumMetrics[] = [];
    while (!writer!.exited || runs.length === 0) runs.push(await vacuumTable(lake, { table }));
    const result = await writer!.done;
    expect(result.code, describeChild(result)).toBe(0);
    const committed = jsonLines<{ op: number; status?: string; error?: unknown }>(result.stdout);
    expect(committed.filter((c) => c.status === 'committed')).toHaveLength(ops.length);

    // The month-old overwrite's victims went in the first pass; later passes found nothing new to delete.
    expect(runs[0]!.filesDeleted).toBe(3);
    expect(runs.slice(1).every((r) => r.filesDeleted === 0)).toBe(true);
    expect(runs.length).toBeGreaterThan(1);

    // Every version the writer made reads, and the latest holds exactly what was written.
    const latest = await tableSnapshot(lake, table);
    for (let v = 1; v <= latest.version; v++) await readRows(lake, table.tableRoot, v);
    const result2 = await runQuery(lake, `SELECT tag, count(*)::INTEGER AS n FROM delta_scan(${sqlValue(table.tableRoot)}) GROUP BY tag`);
    const counts = Object.fromEntries(result2.rows.map(([tag, n]) => [tag, n]));
    const expected: Record<string, number> = { base: 30 };
    // A replace of partition w<k> drops the earlier rows of that partition.
    const partitions = new Map<string, string[]>();
    ops.forEach((op, i) => {
      const p = `w${i % 4}`;
      const tag = op.mode === 'replace' ? `replace${i}` : `append${i}`;
      partitions.set(p, op.mode === 'replace' ? [tag] : [...(partitions.get(p) ?? []), tag]);
    });
    for (const tags of partitions.values()) for (const tag of tags) expected[tag] = tag.startsWith('replace') ? 1 : 3;
    expect(counts).toEqual(expected);
  });
});
