import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAddPath } from '../../src/delta/index.js';
import { resolveTable, tableSnapshot, writeTable } from '../../src/table/index.js';
import { describeChild } from '../helpers/child.js';
import { cliLake } from '../helpers/temp-lake.js';

/** `lake vacuum` as a user runs it (real process, system clock): the retention guard, a dry run, every table by default. */
const DAY = 86_400_000;
const env = cliLake('lake-vacuum-cli');
const { cli } = env;

beforeAll(async () => {
  const { lake } = env;
  const old = Date.now() - 30 * DAY;
  for (const name of ['bronze.a', 'silver.b']) {
    const table = resolveTable(lake, name);
    await writeTable(lake, { table, source: 'SELECT 1 AS id', mode: 'append', now: () => old });
    const first = await tableSnapshot(lake, table);
    await writeTable(lake, { table, source: 'SELECT 2 AS id', mode: 'overwrite', now: () => old + DAY });
    const file = path.join(table.tableRoot, decodeAddPath(first.files[0]!.path));
    await utimes(file, new Date(old), new Date(old));
  }
});

describe('lake vacuum (real process)', () => {
  it('refuses --retain-hours under 168 without --force (exit 2); --dry-run --json reports every table and deletes nothing', async () => {
    const short = await cli('vacuum', '--retain-hours', '1');
    expect(short.code, describeChild(short)).toBe(2);
    expect(short.stderr).toContain('error [USAGE]: bronze.a: a retention of 1 hour is under the 168-hour minimum; nothing was deleted');
    const dry = await cli('vacuum', '--dry-run', '--json');
    expect(dry.code, describeChild(dry)).toBe(0);
    const metrics = JSON.parse(dry.stdout) as { table: string; dryRun: boolean; filesDeleted: number; deleted: string[] }[];
    expect(metrics.map((m) => [m.table, m.dryRun, m.filesDeleted])).toEqual([
      ['bronze.a', true, 1],
      ['silver.b', true, 1],
    ]);
    expect((await tableSnapshot(env.lake, resolveTable(env.lake, 'bronze.a'), { version: 0 })).files.map((f) => decodeAddPath(f.path))).toEqual([metrics[0]!.deleted[0]]);
  });
});
