import { copyFile, mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLakeError, type Clock } from '../../src/core/index.js';
import { LOG_DIR, decodeAddPath, readCommit } from '../../src/delta/index.js';
import { openLake, resolveTable, restoreTable, tableHistory, vacuumTable, vacuumTables, writeTable, type TableRef, type WriteMode } from '../../src/table/index.js';
import { checkpointVersions, commitVersions, readRows } from '../helpers/lake.js';
import { canonicalRows } from '../helpers/rows.js';
import { tempLake } from '../helpers/temp-lake.js';

/**
 * VACUUM with an injected clock: commit times come from writeTable's `now`, data file ages from
 * fs.utimes, so "20 days later" costs nothing. Safety is checked by reading every version before
 * and after: versions inside the retention window must read the same rows, versions outside it
 * either read the same rows (their files were still needed) or fail with DATA_FILE_MISSING.
 */
const DAY = 86_400_000;
const T0 = Date.parse('2026-08-01T00:00:00Z');
const at = (days: number): number => T0 + days * DAY;
const clockAt = (days: number): Clock => ({ now: () => at(days), sleep: async () => undefined });

const env = tempLake('lake-vacuum', { threads: 2 });

const rowsSql = (from: number, count: number, seasons: number[], tag: string): string =>
  `SELECT i AS id, ([${seasons.join(', ')}])[(i % ${seasons.length}) + 1] AS season, '${tag}' || i AS name FROM range(${from}, ${from + count}) r(i)`;

/** Sets every data file's mtime to the time of the first commit that added it, as if written then. */
async function ageDataFiles(table: TableRef): Promise<void> {
  const seen = new Set<string>();
  for (const v of await commitVersions(table.tableRoot)) {
    const actions = await readCommit(table.tableRoot, v);
    const info = actions.find((a) => a.kind === 'commitInfo');
    const ts = info?.kind === 'commitInfo' ? (info.commitInfo.timestamp as number) : Date.now();
    for (const a of actions) {
      if (a.kind !== 'add' || seen.has(a.add.path)) continue;
      seen.add(a.add.path);
      const when = new Date(ts);
      await utimes(path.join(table.tableRoot, decodeAddPath(a.add.path)), when, when);
    }
  }
}

type Step = { day: number } & ({ mode: WriteMode; sql: string } | { restore: number });

async function build(name: string, steps: Step[], configuration?: Record<string, string>): Promise<TableRef> {
  const table = resolveTable(env.lake, name);
  for (const step of steps) {
    if ('restore' in step) await restoreTable(env.lake, { table, version: step.restore, now: () => at(step.day) });
    else await writeTable(env.lake, { table, source: step.sql, mode: step.mode, partitionBy: ['season'], configuration, now: () => at(step.day) });
  }
  await ageDataFiles(table);
  return table;
}

/** Every version's rows, or the error code reading it fails with. */
async function readAll(table: TableRef): Promise<(string[] | string)[]> {
  const out: (string[] | string)[] = [];
  for (const v of await commitVersions(table.tableRoot)) {
    try {
      out.push(canonicalRows(await readRows(env.lake, table.tableRoot, v)));
    } catch (error) {
      if (!isLakeError(error)) throw error;
      out.push(error.code);
    }
  }
  return out;
}

async function logNames(table: TableRef): Promise<string[]> {
  return (await readdir(path.join(table.tableRoot, LOG_DIR))).sort();
}

/** Overwrites, partition replaces and a restore, spread over 15 days. */
const HISTORY: Step[] = [
  { day: 0, mode: 'append', sql: rowsSql(0, 12, [2023, 2024], 'a') },
  { day: 1, mode: 'append', sql: rowsSql(100, 4, [2024], 'b') },
  { day: 2, mode: 'replace', sql: rowsSql(200, 5, [2023], 'c') },
  { day: 3, mode: 'overwrite', sql: rowsSql(300, 6, [2025], 'd') },
  { day: 10, restore: 1 },
  { day: 12, mode: 'replace', sql: rowsSql(400, 3, [2024], 'e') },
  { day: 15, mode: 'append', sql: rowsSql(500, 2, [2023, 2026], 'f') },
];

describe('vacuumTable', () => {
  it('after overwrites and a restore, every version inside the window reads the same rows; older ones read the same or fail with DATA_FILE_MISSING', async () => {
    const table = await build('silver.safety', HISTORY);
    const before = await readAll(table);
    const log = await logNames(table);
    const metrics = await vacuumTable(env.lake, { table, clock: clockAt(20) });
    // Horizon: day 13, when version 5 (day 12) was current.
    expect(metrics).toMatchObject({ retentionHours: 168, horizon: new Date(at(13)).toISOString(), version: 6, oldestRetainedVersion: 5, dryRun: false, untrackedFilesDeleted: 0 });
    expect(metrics.filesDeleted).toBeGreaterThan(0);
    expect(metrics.bytesDeleted).toBeGreaterThan(0);
    const after = await readAll(table);
    for (const v of [5, 6]) expect(after[v], `version ${v}`).toEqual(before[v]);
    for (const v of [0, 1, 2, 3, 4]) expect([before[v], 'DATA_FILE_MISSING'], `version ${v}`).toContainEqual(after[v]);
    // The day-10 restore re-added version 1's files and day 12 replaced season 2024: version 4 lost files, version 3's overwrite too.
    expect(after[3]).toBe('DATA_FILE_MISSING');
    expect(after[4]).toBe('DATA_FILE_MISSING');
    expect(await logNames(table)).toEqual(log);
    const error = await readRows(env.lake, table.tableRoot, 3).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/version 3: data file season=2025\/part-.*\.parquet is missing/);
    // Nothing left to do: a second vacuum deletes nothing.
    expect((await vacuumTable(env.lake, { table, clock: clockAt(20) })).filesDeleted).toBe(0);
  });

  it.each([
    ['day 9: the window reaches back to version 2', 9, 2],
    ['day 16: from version 3, current until the day-10 restore', 16, 3],
    ['day 18: from version 4 (the restore)', 18, 4],
    ['day 40: only the latest version', 40, 6],
  ])('%s', async (_title, day, oldest) => {
    const table = await build(`silver.window_${day}`, HISTORY);
    const before = await readAll(table);
    const metrics = await vacuumTable(env.lake, { table, clock: clockAt(day) });
    expect(metrics.oldestRetainedVersion).toBe(oldest);
    const after = await readAll(table);
    for (let v = oldest; v < before.length; v++) expect(after[v], `version ${v}`).toEqual(before[v]);
    for (let v = 0; v < oldest; v++) expect([before[v], 'DATA_FILE_MISSING'], `version ${v}`).toContainEqual(after[v]);
  });

  it('a dry run lists exactly what a real run deletes, and deletes nothing', async () => {
    const table = await build('silver.dry', HISTORY);
    const before = await readAll(table);
    const dry = await vacuumTable(env.lake, { table, clock: clockAt(20), dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(await readAll(table)).toEqual(before);
    const real = await vacuumTable(env.lake, { table, clock: clockAt(20) });
    expect(real.deleted).toEqual(dry.deleted);
    expect(real.bytesDeleted).toBe(dry.bytesDeleted);
  });

  it('removes untracked files (leftovers of failed writes) older than the retention, keeps young ones and hidden files', async () => {
    const table = await build('silver.orphans', HISTORY.slice(0, 2));
    const live = (await readCommit(table.tableRoot, 0)).flatMap((a) => (a.kind === 'add' ? [decodeAddPath(a.add.path)] : []))[0]!;
    const dir = path.join(table.tableRoot, 'season=2023');
    const old = path.join(dir, 'part-orphan-old.zstd.parquet');
    const young = path.join(dir, 'part-orphan-young.zstd.parquet');
    await copyFile(path.join(table.tableRoot, live), old);
    await copyFile(path.join(table.tableRoot, live), young);
    await utimes(old, new Date(at(1)), new Date(at(1)));
    await utimes(young, new Date(at(19.9)), new Date(at(19.9)));
    await mkdir(path.join(table.tableRoot, '_hidden'), { recursive: true });
    await writeFile(path.join(table.tableRoot, '_hidden', 'x.parquet'), 'x');
    await writeFile(path.join(table.tableRoot, '.tmp-file'), 'x');
    for (const f of [path.join(table.tableRoot, '_hidden', 'x.parquet'), path.join(table.tableRoot, '.tmp-file')]) await utimes(f, new Date(at(0)), new Date(at(0)));
    const before = await readAll(table);
    const metrics = await vacuumTable(env.lake, { table, clock: clockAt(20) });
    expect(metrics.deleted).toEqual(['season=2023/part-orphan-old.zstd.parquet']);
    expect(metrics.untrackedFilesDeleted).toBe(1);
    expect((await readdir(dir)).sort()).toContain('part-orphan-young.zstd.parquet');
    expect(await readdir(path.join(table.tableRoot, '_hidden'))).toEqual(['x.parquet']);
    expect(await readdir(table.tableRoot)).toContain('.tmp-file');
    expect(await readAll(table)).toEqual(before);
  });

  it('refuses a retention under 168 hours without force (USAGE, nothing deleted); with force it honours it', async () => {
    const table = await build('silver.short', HISTORY);
    const before = await readAll(table);
    const error = await vacuumTable(env.lake, { table, retentionHours: 24, clock: clockAt(20) }).catch((e: unknown) => e);
    expect(isLakeError(error, 'USAGE')).toBe(true);
    expect((error as Error).message).toContain('168-hour minimum');
    expect(await readAll(table)).toEqual(before);
    await expect(vacuumTables(env.lake, [table], { retentionHours: 1, clock: clockAt(20) })).rejects.toMatchObject({ code: 'USAGE', exitCode: 2 });
    const metrics = await vacuumTable(env.lake, { table, retentionHours: 24, force: true, clock: clockAt(20) });
    expect(metrics).toMatchObject({ retentionHours: 24, oldestRetainedVersion: 6 });
    expect((await readAll(table))[6]).toEqual(before[6]);
  });

  it('takes the default retention from delta.deletedFileRetentionDuration', async () => {
    const table = await build('silver.property', HISTORY, { 'delta.deletedFileRetentionDuration': 'interval 10 days' });
    const metrics = await vacuumTable(env.lake, { table, clock: clockAt(20) });
    expect(metrics).toMatchObject({ retentionHours: 240, oldestRetainedVersion: 4 });
  });

  it('vacuums every table under the lake root when none is named', async () => {
    const root = await env.make('all');
    const other = await openLake({ root, threads: 1 });
    try {
      for (const name of ['bronze.one', 'silver.two']) {
        const table = resolveTable(other, name);
        await writeTable(other, { table, source: rowsSql(0, 4, [2023], 'x'), mode: 'append', partitionBy: ['season'], now: () => at(0) });
        await writeTable(other, { table, source: rowsSql(9, 4, [2023], 'y'), mode: 'overwrite', now: () => at(1) });
        await ageDataFiles(table);
      }
      const metrics = await vacuumTables(other, undefined, { clock: clockAt(30) });
      expect(metrics.map((m) => [m.table, m.filesDeleted])).toEqual([
        ['bronze.one', 1],
        ['silver.two', 1],
      ]);
    } finally {
      other.close();
    }
  });
});

describe('vacuum log cleanup (opt-in)', () => {
  it('removes commits and checkpoints before the newest checkpoint older than 30 days; later versions stay readable', async () => {
    const steps: Step[] = Array.from({ length: 12 }, (_, i) => ({ day: i * 5, mode: i % 4 === 3 ? 'replace' : 'append', sql: rowsSql(i * 10, 3, [2023 + (i % 3)], `v${i}`) }) as Step);
    const table = await build('silver.logs', steps, { 'delta.checkpointInterval': '2' });
    expect(await checkpointVersions(table.tableRoot)).toEqual([2, 4, 6, 8, 10]);
    const before = await readAll(table);
    // Day 57: the 30-day cutoff is day 27, when version 5 (day 25) was current → checkpoint 4.
    const metrics = await vacuumTable(env.lake, { table, clock: clockAt(57), logCleanup: true });
    expect(metrics.earliestVersion).toBe(4);
    expect(metrics.logDeleted).toEqual([
      '00000000000000000000.json',
      '00000000000000000001.json',
      '00000000000000000002.checkpoint.parquet',
      '00000000000000000002.json',
      '00000000000000000003.json',
    ]);
    expect(await commitVersions(table.tableRoot)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    // Versions from the checkpoint on are rebuildable: the data window's (from version 10) read the same
    // rows, older ones read the same or lost files to the data vacuum.
    expect(metrics.oldestRetainedVersion).toBe(10);
    const after = await readAll(table);
    for (let v = 4; v <= 11; v++) expect(v >= 10 ? [before[v]] : [before[v], 'DATA_FILE_MISSING'], `version ${v}`).toContainEqual(after[v - 4]);
    await expect(readRows(env.lake, table.tableRoot, 3)).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
    const history = await tableHistory(env.lake, table);
    expect(history.map((h) => h.version)).toEqual([11, 10, 9, 8, 7, 6, 5, 4]);
  });

  it('never removes log files the data retention window still needs, and does nothing without a checkpoint', async () => {
    const steps: Step[] = Array.from({ length: 8 }, (_, i) => ({ day: i * 10, mode: 'append', sql: rowsSql(i * 10, 2, [2023], `v${i}`) }) as Step);
    const noCheckpoint = await build('silver.no_checkpoint', steps);
    const m1 = await vacuumTable(env.lake, { table: noCheckpoint, clock: clockAt(100), logCleanup: true });
    expect(m1.logFilesDeleted).toBe(0);
    // A 60-day data retention keeps versions from day 40 (version 4): checkpoint 4, not 6, bounds the cleanup.
    const table = await build('silver.long_retention', steps, { 'delta.checkpointInterval': '2' });
    const metrics = await vacuumTable(env.lake, { table, clock: clockAt(100), retentionHours: 60 * 24, logCleanup: true });
    expect(metrics.oldestRetainedVersion).toBe(4);
    expect(metrics.earliestVersion).toBe(4);
    expect(await commitVersions(table.tableRoot)).toEqual([4, 5, 6, 7]);
  });
});
