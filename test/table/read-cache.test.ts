import { readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLakeError } from '../../src/core/index.js';
import { openLake, prepareQuery, resolveTable, runQuery, tableSnapshot, writeTable } from '../../src/table/index.js';
import { dataFilePath } from '../../src/engine/index.js';
import { tempLake } from '../helpers/temp-lake.js';
import { describeChild, requireBuild, runCliProcess } from '../helpers/child.js';
import { captureLogs } from '../helpers/capture-logs.js';

const t = tempLake('lake-readcache-');

/** What the read cache logs (debug) when it names the latest version by the log folder's stamp instead of a listing. */
const BY_STAMP = 'latest version known without listing the log';

/**
 * Makes a table's log folder look unchanged for an hour: its stamp is then trusted (a folder
 * changed within the last 2 s is not; see read-cache.ts `LatestSeen`). Setting the times moves the
 * folder's change time, so any stamp recorded before no longer matches.
 */
function settleLog(tableRoot: string): void {
  const old = Date.now() / 1000 - 3600;
  utimesSync(path.join(tableRoot, '_delta_log'), old, old);
}

async function seed(name: string): Promise<ReturnType<typeof resolveTable>> {
  const table = resolveTable(t.lake, name);
  await writeTable(t.lake, { table, source: 'SELECT range::INT id, (range % 3)::INT p, range * 1.5 x FROM range(30)', mode: 'overwrite', partitionBy: ['p'] });
  await writeTable(t.lake, { table, source: 'SELECT 100 id, 1 p, 1.0 x', mode: 'append' });
  return table;
}

describe('the read cache (a version read again reuses its snapshot, scan and prepared SQL)', () => {
  it('answers a repeated query at a version from the cache, with the same rows, and a new version afresh', async () => {
    const table = await seed('silver.rc_repeat');
    const sql = `SELECT count(*)::INT n, sum(x) s FROM ${table.name} AT (VERSION => 0)`;
    // runQuery reuses the query it prepared (the same view name comes back); each prepare names a new view.
    const first = await runQuery(t.lake, sql);
    const second = await runQuery(t.lake, sql);
    expect(first.rows).toEqual([[30, 652.5]]);
    expect(second.rows).toEqual(first.rows);
    expect(second.views[0]!.view).toBe(first.views[0]!.view);
    // prepareQuery, whose callers run the SQL themselves (no retry), never reads through the cache.
    const a = await prepareQuery(t.lake, sql);
    const b = await prepareQuery(t.lake, sql);
    expect([a.fromCache, b.fromCache]).toEqual([undefined, undefined]);
    expect(b.views[0]!.view).not.toBe(a.views[0]!.view);
    // Another query at the same version reuses the snapshot, not the other query's SQL.
    const pruned = await runQuery(t.lake, `SELECT count(*)::INT n FROM ${table.name} AT (VERSION => 0) WHERE p = 1`);
    expect(pruned.rows).toEqual([[10]]);
    expect(pruned.views[0]).toMatchObject({ filesRead: 1, filesTotal: 3 });
    // The latest version moves on: a new commit is read, never the cached latest.
    const latest = `SELECT count(*)::INT n FROM ${table.name}`;
    expect((await runQuery(t.lake, latest)).rows).toEqual([[31]]);
    await writeTable(t.lake, { table, source: 'SELECT 101 id, 2 p, 1.0 x', mode: 'append' });
    expect((await runQuery(t.lake, latest)).rows).toEqual([[32]]);
    expect((await runQuery(t.lake, latest)).rows).toEqual([[32]]);
  });

  it('reports a file removed after the version was cached as DATA_FILE_MISSING, naming it', async () => {
    const table = await seed('silver.rc_vacuumed');
    const sql = `SELECT count(*)::INT n FROM ${table.name} AT (VERSION => 0)`;
    expect((await runQuery(t.lake, sql)).rows).toEqual([[30]]);
    const snapshot = await tableSnapshot(t.lake, table, { version: 0 });
    const victim = snapshot.files[0]!;
    rmSync(dataFilePath(table.tableRoot, victim.path));
    const error = await runQuery(t.lake, sql).catch((e: unknown) => e);
    expect(isLakeError(error, 'DATA_FILE_MISSING')).toBe(true);
    expect(String((error as Error).message)).toContain(path.basename(victim.path));
  });

  it('reports a missing file as DATA_FILE_MISSING on the first query of a process too (DuckDB, not a listing, finds it), and SQL errors as before', async () => {
    const table = await seed('silver.rc_cold_missing');
    const snapshot = await tableSnapshot(t.lake, table, { version: 0 });
    const victim = snapshot.files[0]!;
    rmSync(dataFilePath(table.tableRoot, victim.path));
    const lake = await openLake({ root: t.root });
    try {
      const error = await runQuery(lake, `SELECT count(*)::INT n FROM ${table.name} AT (VERSION => 0)`).catch((e: unknown) => e);
      expect(isLakeError(error, 'DATA_FILE_MISSING')).toBe(true);
      expect(String((error as Error).message)).toContain(path.basename(victim.path));
      // On an intact table a failing first query is the query's own error.
      const intact = await seed('silver.rc_cold_intact');
      const typo = await runQuery(lake, `SELECT no_such_column FROM ${intact.name} AT (VERSION => 0)`).catch((e: unknown) => e);
      expect(isLakeError(typo, 'DATA_FILE_MISSING')).toBe(false);
      expect(String((typo as Error).message)).toContain('no_such_column');
      expect((await runQuery(lake, `SELECT count(*)::INT n FROM ${intact.name} AT (VERSION => 0)`)).rows).toEqual([[30]]);
    } finally {
      lake.close();
    }
  });

  it('answers a cached read pinned to a version without listing the log, and still sees new commits at the latest version', async () => {
    const table = await seed('silver.rc_pinned');
    const pinned = `SELECT count(*)::INT n FROM ${table.name} AT (VERSION => 1)`;
    const latest = `SELECT count(*)::INT n FROM ${table.name}`;
    expect((await runQuery(t.lake, pinned)).rows).toEqual([[31]]);
    expect((await runQuery(t.lake, latest)).rows).toEqual([[31]]);
    await writeTable(t.lake, { table, source: 'SELECT 102 id, 0 p, 1.0 x', mode: 'append' });
    // Commit 0 gone (no checkpoint): version 1 can no longer be rebuilt from the log, which a
    // listing would find. The cached version 1 (immutable, its commit file unchanged) is answered
    // without one; a process without it in cache fails to rebuild it, and the latest read lists.
    rmSync(path.join(table.tableRoot, '_delta_log', '00000000000000000000.json'));
    expect((await runQuery(t.lake, pinned)).rows).toEqual([[31]]);
    const fresh = await openLake({ root: t.root });
    try {
      // Another process finds the query prepared on disk (src/table/prepared-cache.ts); another
      // query at that version it must rebuild, and cannot.
      expect((await runQuery(fresh, pinned)).rows).toEqual([[31]]);
      const rebuilt = await runQuery(fresh, `SELECT max(id) m FROM ${table.name} AT (VERSION => 1)`).catch((e: unknown) => e);
      expect(isLakeError(rebuilt, 'VERSION_NOT_FOUND') || isLakeError(rebuilt, 'DELTA_LOG_CORRUPT')).toBe(true);
    } finally {
      fresh.close();
    }
    const listed = await runQuery(t.lake, latest).catch((e: unknown) => e);
    expect(isLakeError(listed, 'VERSION_NOT_FOUND') || isLakeError(listed, 'DELTA_LOG_CORRUPT')).toBe(true);
  });

  it('sees a commit made after a cached latest read, and keeps the pinned version it cached', async () => {
    const table = await seed('silver.rc_latest_then_pinned');
    const latest = `SELECT count(*)::INT n FROM ${table.name}`;
    expect((await runQuery(t.lake, latest)).rows).toEqual([[31]]);
    expect((await runQuery(t.lake, `SELECT count(*)::INT n FROM ${table.name} AT (VERSION => 1)`)).rows).toEqual([[31]]);
    await writeTable(t.lake, { table, source: 'SELECT 103 id, 1 p, 1.0 x', mode: 'append' });
    expect((await runQuery(t.lake, latest)).rows).toEqual([[32]]);
    expect((await runQuery(t.lake, `SELECT count(*)::INT n FROM delta_scan('${table.tableRoot}', version => 1)`)).rows).toEqual([[31]]);
    expect((await runQuery(t.lake, `SELECT count(*)::INT n FROM delta_scan('${table.tableRoot}', version => 2)`)).rows).toEqual([[32]]);
  });

  it('names the latest version by one stat of a settled log folder, and sees a commit at once (the folder changed)', async () => {
    const table = await seed('silver.rc_stamp');
    settleLog(table.tableRoot);
    const latest = `SELECT count(*)::INT n, max(id) m FROM ${table.name}`;
    expect((await runQuery(t.lake, latest)).rows).toEqual([[31, 100]]);
    const again = await captureLogs(() => runQuery(t.lake, latest));
    expect(again.result.rows).toEqual([[31, 100]]);
    expect(again.records.some((r) => r.msg.startsWith(BY_STAMP) && r['version'] === 1)).toBe(true);
    await writeTable(t.lake, { table, source: 'SELECT 104 id, 1 p, 1.0 x', mode: 'append' });
    const after = await captureLogs(() => runQuery(t.lake, latest));
    expect(after.result.rows).toEqual([[32, 104]]);
    expect(after.records.some((r) => r.msg.startsWith(BY_STAMP))).toBe(false);
    // A folder changed within the last seconds is listed each time: a stamp of it is not trusted.
    const fresh = await captureLogs(() => runQuery(t.lake, latest));
    expect(fresh.result.rows).toEqual([[32, 104]]);
    expect(fresh.records.some((r) => r.msg.startsWith(BY_STAMP))).toBe(false);
    settleLog(table.tableRoot);
    expect((await runQuery(t.lake, latest)).rows).toEqual([[32, 104]]);
    const settled = await captureLogs(() => runQuery(t.lake, latest));
    expect(settled.records.some((r) => r.msg.startsWith(BY_STAMP) && r['version'] === 2)).toBe(true);
  });

  it('never serves a table re-created at the same path from the old entry', async () => {
    const table = await seed('silver.rc_recreated');
    const sql = `SELECT count(*)::INT n, max(id) m FROM ${table.name} AT (VERSION => 1)`;
    expect((await runQuery(t.lake, sql)).rows).toEqual([[31, 100]]);
    rmSync(table.tableRoot, { recursive: true, force: true });
    await writeTable(t.lake, { table, source: 'SELECT range::INT id, 0 p, 0.0 x FROM range(5)', mode: 'overwrite', partitionBy: ['p'] });
    await writeTable(t.lake, { table, source: 'SELECT 7 id, 0 p, 0.0 x', mode: 'append' });
    expect((await runQuery(t.lake, sql)).rows).toEqual([[6, 7]]);
  });
});

describe('prepared queries on disk (a later process runs a query prepared before without replaying the log)', () => {
  /** A lake as another process opens it: its own engine and in-memory caches, the same temp folder. */
  async function another<T>(use: (lake: Awaited<ReturnType<typeof openLake>>) => Promise<T>): Promise<T> {
    const lake = await openLake({ root: t.root });
    try {
      return await use(lake);
    } finally {
      lake.close();
    }
  }
  const entries = (): string[] => readdirSync(t.lake.queryCache!).filter((n) => n.endsWith('.query.json'));

  it('answers from the stored SQL in another process, without the log (a commit the replay needs removed)', async () => {
    const table = await seed('silver.pq_pinned');
    const sql = `SELECT count(*)::INT n, sum(x) s FROM ${table.name} AT (VERSION => 1) WHERE p = 1`;
    const known = new Set(entries());
    const first = await runQuery(t.lake, sql);
    expect(first.rows).toEqual([[11, 218.5]]);
    expect(first.views[0]).toMatchObject({ filesRead: 2, filesTotal: 4, filesPrunedByPartition: 2 });
    const before = entries().length;
    expect(before).toBeGreaterThan(0);
    rmSync(path.join(table.tableRoot, '_delta_log', '00000000000000000000.json'));
    // The entry keeps the result types; the later process takes them from it.
    const [stored] = entries().filter((n) => !known.has(n)).map((n) => JSON.parse(readFileSync(path.join(t.lake.queryCache!, n), 'utf8')) as { types?: string[] });
    expect(stored?.types).toEqual(first.types);
    expect(first.types).toEqual(['INTEGER', 'DECIMAL(38,1)']);
    await another(async (lake) => {
      const again = await runQuery(lake, sql);
      expect(again.rows).toEqual(first.rows);
      expect(again.types).toEqual(first.types);
      expect(again.views).toEqual(first.views.map((v) => ({ ...v })));
      // The same text with another option is another query: it replays, and here cannot.
      const other = await runQuery(lake, sql, { dataSkipping: false }).catch((e: unknown) => e);
      expect(isLakeError(other, 'VERSION_NOT_FOUND') || isLakeError(other, 'DELTA_LOG_CORRUPT')).toBe(true);
    });
  });

  it('reads the latest version a later process finds, never the one stored before a commit', async () => {
    const table = await seed('silver.pq_latest');
    const sql = `SELECT count(*)::INT n, max(id) m FROM ${table.name}`;
    expect((await runQuery(t.lake, sql)).rows).toEqual([[31, 100]]);
    await another(async (lake) => expect((await runQuery(lake, sql)).rows).toEqual([[31, 100]]));
    await writeTable(t.lake, { table, source: 'SELECT 200 id, 2 p, 1.0 x', mode: 'append' });
    await another(async (lake) => expect((await runQuery(lake, sql)).rows).toEqual([[32, 200]]));
    // A table re-created at the same path: its commit files differ, so the stored query is not its.
    rmSync(table.tableRoot, { recursive: true, force: true });
    await writeTable(t.lake, { table, source: 'SELECT range::INT id, 0 p, 0.0 x FROM range(3)', mode: 'overwrite', partitionBy: ['p'] });
    await writeTable(t.lake, { table, source: 'SELECT 9 id, 0 p, 0.0 x', mode: 'append' });
    await writeTable(t.lake, { table, source: 'SELECT 8 id, 0 p, 0.0 x', mode: 'append' });
    await another(async (lake) => expect((await runQuery(lake, sql)).rows).toEqual([[5, 9]]));
  });

  it('keeps the log folder stamp of a latest read with the stored query: a later process checks it with one stat, and a commit makes it list again', async () => {
    requireBuild();
    const table = await seed('silver.pq_stamp');
    const sql = `SELECT count(*)::INT AS n, max(id) AS m FROM ${table.name}`;
    const run = async (): Promise<{ rows: unknown; byStamp: boolean; fromDisk: boolean }> => {
      const r = await runCliProcess(['sql', sql, '--format', 'json', '--log-level', 'debug'], { env: { LAKE_ROOT: t.root } });
      expect(r.code, describeChild(r)).toBe(0);
      const rows = r.stdout.split('\n').filter((l) => l.startsWith('{"n"')).map((l) => JSON.parse(l) as unknown);
      return { rows, byStamp: r.stderr.includes(BY_STAMP), fromDisk: r.stderr.includes('"cached":"disk"') };
    };
    // Stored while the folder was fresh (no stamp): the next process lists, then keeps the stamp.
    expect(await run()).toMatchObject({ rows: [{ n: 31, m: 100 }], fromDisk: false });
    settleLog(table.tableRoot);
    expect(await run()).toEqual({ rows: [{ n: 31, m: 100 }], byStamp: false, fromDisk: true });
    const stamped = entries()
      .map((n) => JSON.parse(readFileSync(path.join(t.lake.queryCache!, n), 'utf8')) as { targets: { tableRoot: string; seen?: { version: number } }[] })
      .filter((e) => e.targets.some((x) => x.tableRoot === table.tableRoot && x.seen?.version === 1));
    expect(stamped).toHaveLength(1);
    expect(await run()).toEqual({ rows: [{ n: 31, m: 100 }], byStamp: true, fromDisk: true });
    // A commit adds a file to the folder: its stamp changes, the log is listed, the new row is read.
    await writeTable(t.lake, { table, source: 'SELECT 300 id, 2 p, 1.0 x', mode: 'append' });
    expect(await run()).toEqual({ rows: [{ n: 32, m: 300 }], byStamp: false, fromDisk: false });
  });

  it('keeps the queries of two lakes sharing one temp folder (LAKE_TEMP_DIR) apart: the same text reads the table of its own lake', async () => {
    requireBuild();
    const shared = path.join(t.root, '..', `${path.basename(t.root)}-shared-tmp`);
    const roots = [path.join(t.root, 'lake-a'), path.join(t.root, 'lake-b')];
    for (const [i, root] of roots.entries()) {
      const lake = await openLake({ root, create: true });
      try {
        await writeTable(lake, { table: resolveTable(lake, 'silver.same_name'), source: `SELECT range::INT id FROM range(${3 + i})`, mode: 'overwrite' });
      } finally {
        lake.close();
      }
    }
    const sql = 'SELECT count(*)::INT AS n FROM silver.same_name AT (VERSION => 0)';
    const count = async (root: string): Promise<unknown> => {
      const r = await runCliProcess(['sql', sql, '--format', 'json'], { env: { LAKE_ROOT: root, LAKE_TEMP_DIR: shared } });
      expect(r.code, describeChild(r)).toBe(0);
      return JSON.parse(r.stdout);
    };
    // Each lake twice: the second process of each finds its own stored query, never the other lake's.
    for (let round = 0; round < 2; round++) {
      expect(await count(roots[0]!)).toEqual({ n: 3 });
      expect(await count(roots[1]!)).toEqual({ n: 4 });
    }
    expect(readdirSync(path.join(shared, 'queries')).filter((n) => n.endsWith('.query.json'))).toHaveLength(2);
    rmSync(shared, { recursive: true, force: true });
  });

  it('reads a relative path from the folder it is run in: the same text in two folders is two queries', async () => {
    requireBuild();
    const shared = path.join(t.root, '..', `${path.basename(t.root)}-cwd-tmp`);
    const folders = [path.join(t.root, 'cwd-a'), path.join(t.root, 'cwd-b')];
    for (const [i, folder] of folders.entries()) {
      const lake = await openLake({ root: folder, create: true });
      try {
        await writeTable(lake, { table: resolveTable(lake, path.join(folder, 't')), source: `SELECT range::INT id FROM range(${5 + i})`, mode: 'overwrite' });
      } finally {
        lake.close();
      }
    }
    // One lake root and one temp folder for both: only the working folder tells the tables apart.
    const env = { LAKE_ROOT: t.root, LAKE_TEMP_DIR: shared };
    const count = async (cwd: string): Promise<unknown> => {
      const r = await runCliProcess(['sql', "SELECT count(*)::INT AS n FROM delta_scan('./t', version => 0)", '--format', 'json'], { env, cwd });
      expect(r.code, describeChild(r)).toBe(0);
      return JSON.parse(r.stdout);
    };
    for (let round = 0; round < 2; round++) {
      expect(await count(folders[0]!)).toEqual({ n: 5 });
      expect(await count(folders[1]!)).toEqual({ n: 6 });
    }
    rmSync(shared, { recursive: true, force: true });
  });

  it('reports a file vacuumed after the query was stored as DATA_FILE_MISSING, naming it, and drops the entry', async () => {
    const table = await seed('silver.pq_vacuumed');
    const sql = `SELECT count(*)::INT n FROM ${table.name} AT (VERSION => 0)`;
    expect((await runQuery(t.lake, sql)).rows).toEqual([[30]]);
    const stored = new Set(entries());
    const victim = (await tableSnapshot(t.lake, table, { version: 0 })).files[0]!;
    rmSync(dataFilePath(table.tableRoot, victim.path));
    await another(async (lake) => {
      const error = await runQuery(lake, sql).catch((e: unknown) => e);
      expect(isLakeError(error, 'DATA_FILE_MISSING')).toBe(true);
      expect(String((error as Error).message)).toContain(path.basename(victim.path));
    });
    expect(entries().filter((n) => stored.has(n)).length).toBe(stored.size - 1);
  });

  it('keeps no entry for a query that fails', async () => {
    const table = await seed('silver.pq_failing');
    const before = entries().length;
    const typo = await runQuery(t.lake, `SELECT no_such_column FROM ${table.name} AT (VERSION => 1)`).catch((e: unknown) => e);
    expect(String((typo as Error).message)).toContain('no_such_column');
    expect(entries().length).toBe(before);
    expect((await runQuery(t.lake, `SELECT count(*)::INT n FROM ${table.name} AT (VERSION => 1)`)).rows).toEqual([[31]]);
    expect(entries().length).toBe(before + 1);
  });

  it('ignores an entry it cannot read or that holds another query, and stores a good one', async () => {
    const table = await seed('silver.pq_damaged');
    const sql = `SELECT count(*)::INT n FROM ${table.name} AT (VERSION => 1)`;
    const known = new Set(entries());
    expect((await runQuery(t.lake, sql)).rows).toEqual([[31]]);
    const name = entries().find((n) => !known.has(n))!;
    const file = path.join(t.lake.queryCache!, name);
    for (const damage of ['{ not json', JSON.stringify({ key: 'another query', sql: 'SELECT 42 AS n', views: [] })]) {
      writeFileSync(file, damage);
      await another(async (lake) => expect((await runQuery(lake, sql)).rows).toEqual([[31]]));
    }
    await another(async (lake) => expect((await runQuery(lake, sql)).rows).toEqual([[31]]));
  });
});
