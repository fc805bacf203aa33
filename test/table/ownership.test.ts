import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configureFaults, isLakeError, type Clock } from '../../src/core/index.js';
import { openLake, resolveTable, tableSnapshot, vacuumTable, writeTable, type Lake } from '../../src/table/index.js';
import { runCli } from '../../src/cli/program.js';
import { readRows } from '../helpers/lake.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * The lake never touches what it does not own: table names vs paths, creation in a foreign
 * folder, vacuum's ownership rule, and the cleanup of a failed write (partial files, new
 * partition folders, out of disk space).
 */
const dirs = tempDirs('lake-ownership');
let lake: Lake;
let root: string;

beforeAll(async () => {
  root = await dirs.make('lake');
  lake = await openLake({ root, threads: 2 });
});
afterAll(async () => {
  lake.close();
  await dirs.cleanup();
});
afterEach(() => configureFaults(undefined));

const DAY = 86_400_000;
const rowsSql = (seasons: number[], tag: string): string => `SELECT i AS id, ([${seasons.join(', ')}])[(i % ${seasons.length}) + 1] AS season, '${tag}' || i AS name FROM range(0, 20) r(i)`;

/** Every file under `dir`, relative, sorted (folders end with '/'). */
async function tree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => path.relative(dir, path.join(e.parentPath, e.name)) + (e.isDirectory() ? '/' : '')).sort();
}

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isLakeError(error, 'USAGE')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a USAGE error');
}

describe('table names and paths', () => {
  it.each([
    ['sliver.t1', /unknown layer 'sliver'/],
    ["silver.a'b", /not a dataset name/],
    ['silver.PBP x', /not a dataset name/],
    ['gold.', /not a dataset name/],
    ['pbp', /not a table name/],
    ['a.b.c', /not a table name/],
    ['gs://bucket/lake/silver/pbp', /gs:\/\/ tables are not supported/],
  ])('%s is a USAGE error, never a folder', (name, message) => {
    expect(usageError(() => resolveTable(lake, name))).toMatch(message);
  });

  it.each([
    ['silver.pbp', (r: string) => path.join(r, 'silver', 'pbp')],
    ['bronze.player_stats_2', (r: string) => path.join(r, 'bronze', 'player_stats_2')],
    ['./x', () => path.resolve('x')],
    ['../x', () => path.resolve('../x')],
    ['/tmp/some/table', () => '/tmp/some/table'],
    ['tables/silver/pbp', () => path.resolve('tables/silver/pbp')],
    ['.', () => path.resolve('.')],
    ['file:///tmp/t', () => '/tmp/t'],
    ['s3://bucket/lake/silver/pbp/', () => 's3://bucket/lake/silver/pbp'],
  ])('%s resolves to its folder', (name, expected) => {
    expect(resolveTable(lake, name).tableRoot).toBe(expected(root));
  });
});

describe('creating a table', () => {
  it('refuses a non-empty folder that is not a Delta table, and leaves it untouched (NOT_A_TABLE, exit 2)', async () => {
    const project = await dirs.make('project');
    await writeFile(path.join(project, 'notes.txt'), 'mine');
    await mkdir(path.join(project, 'src'));
    await writeFile(path.join(project, 'src', 'main.ts'), 'x');
    const before = await tree(project);
    const error = await writeTable(lake, { table: resolveTable(lake, project), source: rowsSql([2023], 'a'), mode: 'append' }).catch((e: unknown) => e);
    expect(isLakeError(error, 'NOT_A_TABLE')).toBe(true);
    expect((error as { exitCode: number }).exitCode).toBe(2);
    expect((error as Error).message).toContain(project);
    expect(await tree(project)).toEqual(before);
  });

  it("accepts the folder of a lake opened on it (only the lake's own temp folder inside), and not a file beside that", async () => {
    const own = await dirs.make('own-root');
    const there = await openLake({ root: own });
    try {
      expect(existsSync(path.join(own, '.lake-tmp'))).toBe(true);
      expect(await writeTable(there, { table: resolveTable(there, own), source: rowsSql([2023], 'a'), mode: 'append' })).toMatchObject({ status: 'committed', version: 0 });
      const other = await dirs.make('own-root-foreign');
      const beside = await openLake({ root: other });
      try {
        await writeFile(path.join(other, 'notes.txt'), 'mine');
        const error = await writeTable(beside, { table: resolveTable(beside, other), source: rowsSql([2023], 'a'), mode: 'append' }).catch((e: unknown) => e);
        expect(isLakeError(error, 'NOT_A_TABLE')).toBe(true);
        expect((error as Error).message).toContain('notes.txt');
      } finally {
        beside.close();
      }
    } finally {
      there.close();
    }
  });

  it('accepts a missing folder, an empty one, and one holding only a failed first write of data files', async () => {
    const empty = await dirs.make('empty');
    expect(await writeTable(lake, { table: resolveTable(lake, empty), source: rowsSql([2023], 'a'), mode: 'append' })).toMatchObject({ status: 'committed', version: 0 });
    const leftover = await dirs.make('leftover');
    await mkdir(path.join(leftover, 'season=2023'));
    await writeFile(path.join(leftover, 'season=2023', 'part-0000-dead.zstd.parquet'), 'partial');
    await mkdir(path.join(leftover, '_delta_log'));
    expect(await writeTable(lake, { table: resolveTable(lake, leftover), source: rowsSql([2023], 'a'), mode: 'append', partitionBy: ['season'] })).toMatchObject({ status: 'committed', version: 0 });
  });
});

describe('a failed write leaves nothing behind', () => {
  it('a partition value too long for a folder name: no orphan partition folders, no files, table at its last version', async () => {
    const source = `SELECT i AS id, CASE WHEN i < 5 THEN 'ok' || (i % 2) ELSE repeat('x', 300) END AS season, 'v' AS name FROM range(0, 10) r(i)`;
    const strings = resolveTable(lake, 'silver.long_strings');
    await writeTable(lake, { table: strings, source: `SELECT 1 AS id, 'fine' AS season, 'v' AS name`, mode: 'append', partitionBy: ['season'] });
    const stringsBefore = await tree(strings.tableRoot);
    const error = await writeTable(lake, { table: strings, source, mode: 'append' }).catch((e: unknown) => e);
    expect(isLakeError(error)).toBe(true);
    expect(await tree(strings.tableRoot)).toEqual(stringsBefore);
    expect((await tableSnapshot(lake, strings)).version).toBe(0);
  });

  it('a failed write removes the partition folders it created and keeps an empty one that was there before it', async () => {
    const source = `SELECT i AS id, CASE WHEN i < 5 THEN 'ok' || (i % 2) ELSE repeat('x', 300) END AS season, 'v' AS name FROM range(0, 10) r(i)`;
    const table = resolveTable(lake, 'silver.kept_folder');
    await writeTable(lake, { table, source: `SELECT 1 AS id, 'fine' AS season, 'v' AS name`, mode: 'append', partitionBy: ['season'] });
    // Older than the attempt by more than the birth-time slack: not the attempt's, though the attempt writes into it.
    await mkdir(path.join(table.tableRoot, 'season=ok0'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    const before = await tree(table.tableRoot);
    expect(before).toContain('season=ok0/');
    await expect(writeTable(lake, { table, source, mode: 'append' })).rejects.toThrow();
    expect(await tree(table.tableRoot)).toEqual(before);
  });

  it('a new table whose first write fails leaves no folder at all', async () => {
    const table = resolveTable(lake, 'silver.never_created');
    const source = `SELECT 1 AS id, repeat('y', 300) AS k, 'v' AS name`;
    await expect(writeTable(lake, { table, source, mode: 'append', partitionBy: ['k'] })).rejects.toThrow();
    expect(existsSync(table.tableRoot)).toBe(false);
  });

  it('out of disk space after the data files (fault point write.data-files=enospc): DISK_FULL (exit 5), files removed, old version intact', async () => {
    const table = resolveTable(lake, 'silver.full_disk');
    await writeTable(lake, { table, source: rowsSql([2022, 2023], 'a'), mode: 'append', partitionBy: ['season'] });
    const before = await tree(table.tableRoot);
    configureFaults('write.data-files=enospc');
    const error = await writeTable(lake, { table, source: rowsSql([2023, 2024], 'b'), mode: 'replace' }).catch((e: unknown) => e);
    expect(isLakeError(error, 'DISK_FULL')).toBe(true);
    expect((error as { exitCode: number }).exitCode).toBe(5);
    expect((error as { hint: string }).hint).toMatch(/Free space/);
    expect(await tree(table.tableRoot)).toEqual(before);
    expect((await tableSnapshot(lake, table)).version).toBe(0);
  });

  it('out of disk space outside a table write (a checkpoint) is DISK_FULL exit 5 at the CLI too, not an unexpected error', async () => {
    const table = resolveTable(lake, 'silver.full_checkpoint');
    await writeTable(lake, { table, source: rowsSql([2022], 'a'), mode: 'append', partitionBy: ['season'] });
    configureFaults('checkpoint.parquet-written=enospc');
    let stderr = '';
    const code = await runCli(['node', 'lake', 'checkpoint', table.tableRoot, '--json'], { out: () => undefined, err: (t) => (stderr += t) });
    expect(code).toBe(5);
    expect(JSON.parse(stderr)).toMatchObject({ error: { code: 'DISK_FULL', exitCode: 5 } });
  });
});

/** A real small filesystem (tmpfs), when this machine lets the test mount one (root, CAP_SYS_ADMIN). */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('a real full disk (tmpfs)', () => {
  it('a write that fills the disk fails with DISK_FULL, removes its partial files and leaves the table readable at its last version', async (ctx) => {
    const mountPoint = await dirs.make('tmpfs');
    if (!mountTmpfs(mountPoint, '3m')) {
      console.log('skipped: cannot mount a tmpfs here (needs root); the fault-point DISK_FULL test above still runs');
      ctx.skip();
      return;
    }
    const small = await openLake({ root: mountPoint, threads: 1 });
    try {
      const table = resolveTable(small, 'bronze.big');
      await writeTable(small, { table, source: rowsSql([2023], 'a'), mode: 'append', partitionBy: ['season'] });
      const before = await tree(table.tableRoot);
      const rows = await readRows(small, table.tableRoot);
      // ~16 MB of incompressible text into a 3 MB disk.
      const big = `SELECT i AS id, 2024 AS season, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) || md5((i * 13)::VARCHAR) AS name FROM range(0, 200000) r(i)`;
      const error = await writeTable(small, { table, source: big, mode: 'append' }).catch((e: unknown) => e);
      expect(isLakeError(error, 'DISK_FULL')).toBe(true);
      expect(await tree(table.tableRoot)).toEqual(before);
      expect(await readRows(small, table.tableRoot)).toEqual(rows);
    } finally {
      small.close();
      execFileSync('umount', [mountPoint]);
    }
  });
});

describe('vacuum deletes only what the table owns', () => {
  it('keeps notes, CSVs, foreign folders, hidden files and symlinks however old; deletes only an old untracked data file; says why', async () => {
    const table = resolveTable(lake, 'silver.owned');
    const T0 = Date.parse('2026-08-01T00:00:00Z');
    await writeTable(lake, { table, source: rowsSql([2023], 'a'), mode: 'append', partitionBy: ['season'], now: () => T0 });
    const outside = path.join(await dirs.make('outside'), 'part-victim.zstd.parquet');
    await writeFile(outside, 'not yours');
    const t = table.tableRoot;
    await mkdir(path.join(t, 'docs'));
    await mkdir(path.join(t, 'notacolumn=1'));
    const foreign = ['notes.txt', 'data.csv', 'docs/part-0.parquet', 'notacolumn=1/part-1.zstd.parquet', 'season=2023/README.md', '.hidden', '_private.parquet'];
    for (const f of foreign) await writeFile(path.join(t, f), 'x');
    await symlink(outside, path.join(t, 'season=2023', 'part-link.zstd.parquet'));
    await writeFile(path.join(t, 'season=2023', 'part-orphan.zstd.parquet'), 'orphan');
    const old = new Date(T0 - 30 * DAY);
    for (const f of [...foreign, 'season=2023/part-orphan.zstd.parquet']) await utimes(path.join(t, f), old, old);
    const clock: Clock = { now: () => T0 + 30 * DAY, sleep: async () => undefined };

    const dry = await vacuumTable(lake, { table, dryRun: true, clock });
    expect(dry.deletedFiles).toEqual([{ path: 'season=2023/part-orphan.zstd.parquet', bytes: 6, reason: 'untracked' }]);
    expect(dry.ignored.map((i) => i.path)).toEqual(['data.csv', 'docs/', 'notacolumn=1/', 'notes.txt', 'season=2023/README.md', 'season=2023/part-link.zstd.parquet']);
    expect(dry.ignored.find((i) => i.path === 'season=2023/part-link.zstd.parquet')?.reason).toBe('a symbolic link');
    expect(dry.ignored.find((i) => i.path === 'notes.txt')?.reason).toMatch(/not named like a Delta data file/);

    const real = await vacuumTable(lake, { table, clock });
    expect(real.deleted).toEqual(['season=2023/part-orphan.zstd.parquet']);
    for (const f of foreign) expect(existsSync(path.join(t, f))).toBe(true);
    expect(existsSync(outside)).toBe(true);
    expect(await readRows(lake, t)).toHaveLength(20);
  });
});
