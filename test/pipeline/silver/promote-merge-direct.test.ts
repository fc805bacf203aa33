import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_DIR, decodeAddPath } from '../../../src/delta/index.js';
import { parseCatalog, runPromote, type DatasetPromoteOutcome, type PromoteOptions } from '../../../src/pipeline/index.js';
import { openLake, resolveTable, runQuery, tableSnapshot, writeTable, type Lake } from '../../../src/table/index.js';
import { committedPaths, valuesSource } from '../../helpers/lake.js';
import { thingsCatalog } from '../../helpers/things-catalog.js';
import { THINGS_COLUMNS, thingsSqlDir } from '../../helpers/things-lake.js';

/**
 * An incremental promote merges a partition's new bronze batch with the partition's silver rows
 * straight into the partition's final data file (src/pipeline/silver/promote-direct.ts
 * `mergeBound`): one write, no staging file. The measurements and gates read that file; a
 * partition found unchanged has its file dropped (nothing committed for it, nothing left in the
 * table folder), and a failing gate discards it (the table stays at its version, no file left).
 */
const catalog = parseCatalog(thingsCatalog('    quality: { unique: true, not_null: [id] }\n'), 'test-catalog.yml');

let dir: string;
let sqlDir: string;
let lake: Lake;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'promote-merge-direct-'));
  sqlDir = thingsSqlDir(dir);
  lake = await openLake({ root: path.join(dir, 'lake'), threads: 1, create: true });
});
afterAll(() => {
  lake.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Bronze batch `batch`: the rows [season, id, v] (v null: id null, a row the not_null gate fails). */
async function publish(batch: number, rows: [number, string | null, number][]): Promise<void> {
  const values = rows.map(([season, id, v]) => ({ id, season, v, source: 'things', ingested_at: `2026-09-0${batch}T00:00:00Z`, pipeline_version: '0.1.0', upstream_version: `u${batch}`, run_id: `r${batch}` }));
  await writeTable(lake, { table: resolveTable(lake, 'bronze.things'), source: valuesSource(THINGS_COLUMNS, values), mode: 'append', partitionBy: ['season'] });
}

async function promote(options: Partial<PromoteOptions> = {}): Promise<DatasetPromoteOutcome> {
  const result = await runPromote({ catalog, lake, sqlDir, reportDir: path.join(dir, 'quality'), datasets: ['things'], ...options });
  return result.datasets[0]!;
}

/** A promote with LAKE_SQL_TRACE on: its outcome and the statements it ran. */
async function tracedPromote(): Promise<{ outcome: DatasetPromoteOutcome; sql: string[] }> {
  const trace = path.join(dir, `trace-${Date.now()}.jsonl`);
  process.env['LAKE_SQL_TRACE'] = trace;
  try {
    const outcome = await promote();
    const sql = readFileSync(trace, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { sql: string }).sql);
    return { outcome, sql };
  } finally {
    delete process.env['LAKE_SQL_TRACE'];
  }
}

async function silver(): Promise<string[]> {
  const r = await runQuery(lake, 'SELECT season, id, v, upstream_version FROM silver.things ORDER BY ALL');
  return r.rows.map((row) => (row as unknown[]).join('/'));
}

/**
 * Files in silver.things's folder that no commit of its log adds (files a promote wrote but did not
 * commit), and files its latest version references that are missing.
 */
async function strayFiles(): Promise<{ unreferenced: string[]; missing: string[] }> {
  const table = resolveTable(lake, 'silver.things');
  const everAdded = await committedPaths(table.tableRoot);
  const referenced = new Set((await tableSnapshot(lake, table)).files.map((f) => decodeAddPath(f.path)));
  const onDisk: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(table.tableRoot, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && child !== LOG_DIR) walk(child);
      else if (e.isFile()) onDisk.push(child);
    }
  };
  walk('');
  return { unreferenced: onDisk.filter((f) => !everAdded.has(f)).sort(), missing: [...referenced].filter((f) => !onDisk.includes(f)).sort() };
}

/** The file actions of silver.things's latest commit, as `season=…` labels. */
async function lastCommit(): Promise<{ add: string[]; remove: string[] }> {
  const table = resolveTable(lake, 'silver.things');
  const log = path.join(table.tableRoot, LOG_DIR);
  const last = readdirSync(log).filter((n) => /^\d{20}\.json$/.test(n)).sort().pop()!;
  const actions = readFileSync(path.join(log, last), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, { partitionValues?: Record<string, string> }>);
  const labels = (kind: string): string[] => actions.filter((a) => a[kind]).map((a) => `season=${a[kind]!.partitionValues?.['season']}`).sort();
  return { add: labels('add'), remove: labels('remove') };
}

/** What a promote measured, without what only a commit or the clock sets. */
function measured(d: DatasetPromoteOutcome): unknown {
  return { partitions: d.partitions, checks: d.checks.map((c) => ({ ...c, examples: c.examples.map((e) => JSON.stringify(e)).sort() })) };
}

describe('an incremental promote merges straight into the final file', () => {
  it('writes the dedupe of the old and new rows once, into the partition folder; measures what a (staging) dry run measures', async () => {
    await publish(1, [2000, 2001, 2002].flatMap((season): [number, string, number][] => ['a', 'b', 'c'].map((id) => [season, id, season])));
    expect(await promote()).toMatchObject({ status: 'committed', mode: 'full' });

    // Batch 2 touches season 2001 only: b changes, d is new; a and c stay as batch 1 had them.
    await publish(2, [
      [2001, 'b', 99],
      [2001, 'd', 7],
    ]);
    const dry = await promote({ dryRun: true });
    const { outcome, sql } = await tracedPromote();
    expect(outcome).toMatchObject({ status: 'committed', mode: 'incremental' });
    expect(outcome.partitions).toMatchObject([{ partition: { season: '2001' }, mode: 'merge', rowsBefore: 3, rowsInBatch: 2, rowsAfter: 4, upstreamVersions: ['u2'] }]);
    expect(outcome.partitions[0]!.contentUnchanged).toBeUndefined();
    // Measured on the final file: the same figures and checks as the dry run's staged rows.
    expect(measured(outcome)).toEqual(measured(dry));
    expect(await silver()).toEqual([
      '2000/a/2000/u1', '2000/b/2000/u1', '2000/c/2000/u1',
      '2001/a/2001/u1', '2001/b/99/u2', '2001/c/2001/u1', '2001/d/7/u2',
      '2002/a/2002/u1', '2002/b/2002/u1', '2002/c/2002/u1',
    ]);
    // One write: no COPY to the staging folder, one COPY into the partition's folder.
    const copies = sql.filter((s) => s.startsWith('COPY'));
    expect(copies.filter((s) => s.includes(`${path.sep}.staging${path.sep}`))).toEqual([]);
    expect(copies.filter((s) => s.includes(`${path.sep}season=2001${path.sep}`))).toHaveLength(1);
    expect(await lastCommit()).toEqual({ add: ['season=2001'], remove: ['season=2001'] });
    expect(await strayFiles()).toEqual({ unreferenced: [], missing: [] });
  });

  it('a merge that changes nothing commits no file and leaves no file behind', async () => {
    const before = await tableSnapshot(lake, resolveTable(lake, 'silver.things'));
    // The same values again (a re-publish): the merged partition equals silver's.
    await publish(3, [
      [2001, 'b', 99],
      [2001, 'd', 7],
    ]);
    const outcome = await promote();
    expect(outcome).toMatchObject({ status: 'committed', mode: 'incremental', version: before.version + 1 });
    expect(outcome.partitions).toMatchObject([{ partition: { season: '2001' }, mode: 'merge', rowsBefore: 4, rowsAfter: 4, contentUnchanged: true }]);
    expect(await lastCommit()).toEqual({ add: [], remove: [] });
    expect(await strayFiles()).toEqual({ unreferenced: [], missing: [] });
    expect((await tableSnapshot(lake, resolveTable(lake, 'silver.things'))).files.map((f) => f.path).sort()).toEqual(before.files.map((f) => f.path).sort());
  });

  it('a failing gate on a merged batch commits nothing and leaves no file behind', async () => {
    const before = await tableSnapshot(lake, resolveTable(lake, 'silver.things'));
    const rows = await silver();
    await publish(4, [
      [2001, 'b', 5],
      [2001, null, 6],
    ]);
    const outcome = await promote();
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatchObject({ code: 'QUALITY_GATE_FAILED' });
    expect(outcome.error!.message).toMatch(/quality gate not_null \(id\) failed on season=2001/);
    expect(outcome.partitions).toMatchObject([{ partition: { season: '2001' }, mode: 'merge', rowsBefore: 4, rowsAfter: 5 }]);
    expect((await tableSnapshot(lake, resolveTable(lake, 'silver.things'))).version).toBe(before.version);
    expect(await silver()).toEqual(rows);
    expect(await strayFiles()).toEqual({ unreferenced: [], missing: [] });
  });
});

describe('a new batch that supersedes the partition is written as it comes', () => {
  // A lake of its own: the gate failure above left a batch in bronze that every promote of season 2001 reads.
  beforeAll(async () => {
    lake.close();
    lake = await openLake({ root: path.join(dir, 'lake-supersede'), threads: 1, create: true });
    await publish(1, [2000, 2001].flatMap((season): [number, string, number][] => ['a', 'b', 'c', 'd'].map((id) => [season, id, season])));
    expect(await promote()).toMatchObject({ status: 'committed', mode: 'full' });
  });

  /** The COPY statements of a traced promote that wrote into season 2001's folder. */
  const partitionCopies = (sql: string[]): string[] => sql.filter((s) => s.startsWith('COPY') && s.includes(`${path.sep}season=2001${path.sep}`));

  it('every old key again, newer, none repeated: the new rows alone, without reading the old file or deduplicating', async () => {
    const before = await silver();
    const old = (await tableSnapshot(lake, resolveTable(lake, 'silver.things'))).files.filter((f) => f.partitionValues['season'] === '2001').map((f) => decodeAddPath(f.path));
    expect(old).toHaveLength(1);
    // nflverse republishes the season's file whole: every play again, one changed, one new.
    await publish(5, [
      [2001, 'a', 2001],
      [2001, 'b', 42],
      [2001, 'c', 2001],
      [2001, 'd', 2001],
      [2001, 'e', 1],
    ]);
    const { outcome, sql } = await tracedPromote();
    expect(outcome).toMatchObject({ status: 'committed', mode: 'incremental' });
    expect(outcome.partitions).toMatchObject([{ partition: { season: '2001' }, mode: 'merge', rowsBefore: 4, rowsInBatch: 5, rowsAfter: 5 }]);
    expect(outcome.partitions[0]!.contentUnchanged).toBeUndefined();
    const copies = partitionCopies(sql);
    expect(copies).toHaveLength(1);
    // The write reads the bronze batch only: neither the old silver file nor a window over both.
    expect(copies[0]).not.toContain(path.basename(old[0]!));
    expect(copies[0]).not.toMatch(/QUALIFY/);
    expect(await silver()).toEqual([
      ...before.filter((r) => !r.startsWith('2001/')),
      '2001/a/2001/u5', '2001/b/42/u5', '2001/c/2001/u5', '2001/d/2001/u5', '2001/e/1/u5',
    ]);
  });

  it('an old key missing from the new batch, or a key repeated in it: the full merge (the old row kept, one row per key)', async () => {
    const oldFile = async (season: string): Promise<string> => {
      const files = (await tableSnapshot(lake, resolveTable(lake, 'silver.things'))).files.filter((f) => f.partitionValues['season'] === season);
      expect(files).toHaveLength(1);
      return path.basename(decodeAddPath(files[0]!.path));
    };
    const copiesInto = (sql: string[], season: string): string[] => sql.filter((s) => s.startsWith('COPY') && s.includes(`${path.sep}season=${season}${path.sep}`));

    // Season 2000: d is gone upstream; silver keeps it, as the key dedupe always did.
    const old2000 = await oldFile('2000');
    await publish(6, [
      [2000, 'a', 3],
      [2000, 'b', 2000],
      [2000, 'c', 2000],
    ]);
    const first = await tracedPromote();
    expect(first.outcome).toMatchObject({ status: 'committed' });
    expect(copiesInto(first.sql, '2000')).toHaveLength(1);
    expect(copiesInto(first.sql, '2000')[0]).toContain(old2000);
    expect(copiesInto(first.sql, '2000')[0]).toMatch(/QUALIFY/);
    expect((await silver()).filter((r) => r.startsWith('2000/'))).toEqual(['2000/a/3/u6', '2000/b/2000/u6', '2000/c/2000/u6', '2000/d/2000/u1']);

    // Season 2001: every key again, but a twice: the dedupe runs over both, and the unique gate stops the batch.
    const old2001 = await oldFile('2001');
    const rows = await silver();
    await publish(7, [
      [2001, 'a', 3],
      [2001, 'a', 3],
      [2001, 'b', 42],
      [2001, 'c', 2001],
      [2001, 'd', 2001],
      [2001, 'e', 1],
    ]);
    const second = await tracedPromote();
    expect(second.outcome.status).toBe('failed');
    expect(second.outcome.error).toMatchObject({ code: 'QUALITY_GATE_FAILED' });
    expect(copiesInto(second.sql, '2001')).toHaveLength(1);
    expect(copiesInto(second.sql, '2001')[0]).toContain(old2001);
    expect(copiesInto(second.sql, '2001')[0]).toMatch(/QUALIFY/);
    expect(second.outcome.partitions).toMatchObject([{ partition: { season: '2001' }, rowsAfter: 5 }]);
    expect(await silver()).toEqual(rows);
    expect(await strayFiles()).toEqual({ unreferenced: [], missing: [] });
  });
});
