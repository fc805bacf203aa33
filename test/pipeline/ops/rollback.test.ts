import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLakeError } from '../../../src/core/index.js';
import { readCommitInfo } from '../../../src/delta/index.js';
import { openLake, resolveTable, tableHistory, tableSnapshot, writeTable, type Lake, type TableRef } from '../../../src/table/index.js';
import { commitVersions, readRows } from '../../helpers/lake.js';
import { canonicalRows } from '../../helpers/rows.js';
import { tempDirs } from '../../helpers/temp-dir.js';
import { rollbackRun } from '../../../src/pipeline/index.js';

/**
 * Run rollback over several tables and layers: full row sets before the run are the fingerprint
 * every table must return to.
 */
const dirs = tempDirs('lake-rollback');

interface World {
  lake: Lake;
  tables: Record<string, TableRef>;
  write(table: string, runId: string, sql: string, mode?: 'append' | 'replace' | 'overwrite', metadata?: Record<string, unknown>): Promise<number>;
  fingerprints(): Promise<Record<string, string[]>>;
  versions(): Promise<Record<string, number[]>>;
}

async function world(): Promise<World> {
  const lake = await openLake({ root: await dirs.make('lake'), threads: 2 });
  const names = ['bronze.plays', 'silver.plays', 'gold.team_week'];
  const tables = Object.fromEntries(names.map((n) => [n, resolveTable(lake, n)]));
  return {
    lake,
    tables,
    async write(table, runId, sql, mode = 'append', metadata = {}) {
      const result = await writeTable(lake, {
        table: tables[table]!,
        source: sql,
        mode,
        partitionBy: ['season'],
        configuration: table.startsWith('bronze') ? { 'delta.appendOnly': 'true' } : undefined,
        commitMetadata: { run_id: runId, ...metadata },
      });
      if (result.status !== 'committed') throw new Error('not committed');
      return result.version;
    },
    async fingerprints() {
      const out: Record<string, string[]> = {};
      for (const [name, ref] of Object.entries(tables)) if (existsSync(ref.tableRoot)) out[name] = canonicalRows(await readRows(lake, ref.tableRoot));
      return out;
    },
    async versions() {
      const out: Record<string, number[]> = {};
      for (const [name, ref] of Object.entries(tables)) out[name] = await commitVersions(ref.tableRoot);
      return out;
    },
  };
}

const plays = (from: number, count: number, season: number, tag: string): string =>
  `SELECT i AS play_id, ${season} AS season, '${tag}' AS src, i % 7 AS yards FROM range(${from}, ${from + count}) r(i)`;

/** run1 creates all three tables with good rows. */
async function goodRun(w: World): Promise<void> {
  await w.write('bronze.plays', 'run1', plays(0, 20, 2023, 'good'));
  await w.write('silver.plays', 'run1', plays(0, 20, 2023, 'good'));
  await w.write('gold.team_week', 'run1', 'SELECT 2023 AS season, 20 AS plays');
}

/** run1, then run2 appends to bronze (twice), replaces a silver season, rebuilds gold. */
async function twoRuns(w: World): Promise<void> {
  await goodRun(w);
  await w.write('bronze.plays', 'run2', plays(0, 10, 2024, 'bad'));
  await w.write('bronze.plays', 'run2', plays(10, 10, 2024, 'bad'));
  await w.write('silver.plays', 'run2', plays(0, 10, 2024, 'bad'), 'replace');
  await w.write('silver.plays', 'run2', plays(0, 5, 2023, 'bad'), 'replace');
  await w.write('gold.team_week', 'run2', 'SELECT 2023 AS season, 25 AS plays UNION ALL SELECT 2024, 10', 'overwrite');
}

let lakes: Lake[] = [];
beforeAll(() => {
  lakes = [];
});
afterAll(async () => {
  for (const l of lakes) l.close();
  await dirs.cleanup();
});

async function fresh(): Promise<World> {
  const w = await world();
  lakes.push(w.lake);
  return w;
}

describe('rollbackRun', () => {
  it('restores every table the run committed to, in all layers, to its pre-run rows; a rerun does nothing', async () => {
    const w = await fresh();
    await goodRun(w);
    const before = await w.fingerprints();
    await w.write('bronze.plays', 'run2', plays(0, 10, 2024, 'bad'));
    await w.write('bronze.plays', 'run2', plays(10, 10, 2024, 'bad'));
    await w.write('silver.plays', 'run2', plays(0, 10, 2024, 'bad'), 'replace');
    await w.write('silver.plays', 'run2', plays(0, 5, 2023, 'bad'), 'replace');
    await w.write('gold.team_week', 'run2', 'SELECT 2023 AS season, 25 AS plays UNION ALL SELECT 2024, 10', 'overwrite');
    expect(await w.fingerprints()).not.toEqual(before);

    const result = await rollbackRun(w.lake, { runId: 'run2', rollbackRunId: 'undo-run2' });
    expect(result.status).toBe('committed');
    expect(result.tables.map((t) => [t.table, t.runVersions, t.restoreTo, t.action, t.result?.status])).toEqual([
      ['bronze.plays', [1, 2], 0, 'restore', 'committed'],
      ['gold.team_week', [1], 0, 'restore', 'committed'],
      ['silver.plays', [1, 2], 0, 'restore', 'committed'],
    ]);
    expect(await w.fingerprints()).toEqual(before);
    for (const ref of Object.values(w.tables)) {
      const latest = (await tableSnapshot(w.lake, ref)).version;
      expect(await readCommitInfo(ref.tableRoot, latest)).toMatchObject({ operation: 'RESTORE', run_id: 'undo-run2', rollback_of_run: 'run2', operationParameters: { version: '0' } });
    }

    const versions = await w.versions();
    const again = await rollbackRun(w.lake, { runId: 'run2' });
    expect(again.status).toBe('noop');
    expect(again.tables.every((t) => t.action === 'already-rolled-back')).toBe(true);
    expect(await w.versions()).toEqual(versions);
    expect(await w.fingerprints()).toEqual(before);
  });

  it('--dry-run shows the plan with restore metrics and commits nothing', async () => {
    const w = await fresh();
    await twoRuns(w);
    const versions = await w.versions();
    const plan = await rollbackRun(w.lake, { runId: 'run2', dryRun: true });
    expect(plan.status).toBe('dry-run');
    const bronze = plan.tables.find((t) => t.table === 'bronze.plays')!;
    expect(bronze).toMatchObject({ currentVersion: 2, restoreTo: 0, action: 'restore', result: { status: 'dry-run', metrics: { numRemovedFiles: 2, numRestoredFiles: 0 } } });
    expect(await w.versions()).toEqual(versions);
  });

  it('refuses (DELTA_COMMIT_CONFLICT, nothing committed anywhere) when a later run committed on top; --force undoes both', async () => {
    const w = await fresh();
    await goodRun(w);
    const before = await w.fingerprints();
    await w.write('bronze.plays', 'run2', plays(0, 10, 2024, 'bad'));
    await w.write('silver.plays', 'run2', plays(0, 10, 2024, 'bad'), 'replace');
    await w.write('silver.plays', 'run3', plays(0, 3, 2025, 'later'), 'replace');
    const versions = await w.versions();
    const error = await rollbackRun(w.lake, { runId: 'run2' }).catch((e: unknown) => e);
    expect(isLakeError(error, 'DELTA_COMMIT_CONFLICT')).toBe(true);
    expect((error as Error & { exitCode: number }).exitCode).toBe(4);
    expect((error as Error).message).toContain('silver.plays (versions 2 by run3)');
    expect(await w.versions()).toEqual(versions);
    const plan = await rollbackRun(w.lake, { runId: 'run2', dryRun: true });
    expect(plan.tables.map((t) => [t.table, t.action])).toEqual([
      ['bronze.plays', 'restore'],
      ['silver.plays', 'blocked'],
    ]);
    const forced = await rollbackRun(w.lake, { runId: 'run2', force: true });
    expect(forced.tables.find((t) => t.table === 'silver.plays')).toMatchObject({ laterCommits: [{ version: 2, runId: 'run3' }], result: { status: 'committed' } });
    expect(await w.fingerprints()).toEqual(before);
  });

  it('empties a table the run created (DELETE of every file; schema kept); rolling back the rollback redoes the run', async () => {
    const w = await fresh();
    await w.write('bronze.plays', 'run1', plays(0, 5, 2023, 'good'));
    await w.write('silver.plays', 'run2', plays(0, 5, 2023, 'new'));
    const withRun = await w.fingerprints();
    const result = await rollbackRun(w.lake, { runId: 'run2', rollbackRunId: 'undo' });
    expect(result.tables).toMatchObject([{ table: 'silver.plays', restoreTo: -1, result: { status: 'committed', metrics: { numRemovedFiles: 1, numOfFilesAfterRestore: 0 } } }]);
    expect(await readRows(w.lake, w.tables['silver.plays']!.tableRoot)).toEqual([]);
    const history = await tableHistory(w.lake, w.tables['silver.plays']!, { limit: 1 });
    expect(history[0]).toMatchObject({ operation: 'DELETE', runId: 'undo', operationParameters: { predicate: 'true' } });
    expect((await tableSnapshot(w.lake, w.tables['silver.plays']!)).schema.fields.map((f) => f.name)).toEqual(['play_id', 'season', 'src', 'yards']);
    await rollbackRun(w.lake, { runId: 'undo' });
    expect(await w.fingerprints()).toEqual(withRun);
  });

  it('downstream runs that read the run’s data stop a plain rollback; --cascade rolls them back first, newest first', async () => {
    const w = await fresh();
    await w.write('bronze.plays', 'ingest1', plays(0, 20, 2023, 'good'));
    await w.write('silver.plays', 'promote1', plays(0, 20, 2023, 'good'), 'append', { source_versions: { 'bronze.plays': 0 } });
    await w.write('gold.team_week', 'marts1', 'SELECT 2023 AS season, 20 AS plays', 'append', { source_versions: { 'silver.plays': 0 } });
    const before = await w.fingerprints();
    // A bad pull, promoted, then built into gold: each run read the one before.
    await w.write('bronze.plays', 'ingest2', plays(0, 10, 2023, 'bad'));
    await w.write('silver.plays', 'promote2', plays(0, 10, 2023, 'bad'), 'replace', { source_versions: { 'bronze.plays': 1 } });
    await w.write('gold.team_week', 'marts2', 'SELECT 2023 AS season, 10 AS plays', 'overwrite', { source_versions: { 'silver.plays': 1 } });
    const versions = await w.versions();

    const error = await rollbackRun(w.lake, { runId: 'ingest2' }).catch((e: unknown) => e);
    expect(isLakeError(error, 'DELTA_COMMIT_CONFLICT')).toBe(true);
    expect((error as Error).message).toContain('downstream commits read data it wrote: silver.plays v1 (run promote2) read bronze.plays@1');
    expect(await w.versions()).toEqual(versions);

    const plan = await rollbackRun(w.lake, { runId: 'ingest2', cascade: true, dryRun: true });
    expect(plan.downstream).toEqual([{ table: 'silver.plays', version: 1, runId: 'promote2', read: 'bronze.plays@1' }]);
    expect(plan.cascaded.map((c) => [c.runId, c.downstream.map((d) => d.runId), c.cascaded.map((cc) => cc.runId)])).toEqual([['promote2', ['marts2'], ['marts2']]]);
    expect(await w.versions()).toEqual(versions);

    const result = await rollbackRun(w.lake, { runId: 'ingest2', cascade: true, rollbackRunId: 'undo' });
    expect(result.status).toBe('committed');
    expect(await w.fingerprints()).toEqual(before);
    const again = await rollbackRun(w.lake, { runId: 'ingest2', cascade: true });
    expect([again.status, again.downstream, again.cascaded]).toEqual(['noop', [], []]);
    expect(await w.fingerprints()).toEqual(before);
  });

  it('--force rolls back the run alone and leaves downstream tables as they are', async () => {
    const w = await fresh();
    await w.write('bronze.plays', 'ingest1', plays(0, 20, 2023, 'good'));
    const before = await w.fingerprints();
    await w.write('bronze.plays', 'ingest2', plays(0, 5, 2024, 'bad'));
    await w.write('silver.plays', 'promote2', plays(0, 5, 2024, 'bad'), 'append', { source_versions: { 'bronze.plays': 1 } });
    const result = await rollbackRun(w.lake, { runId: 'ingest2', force: true });
    expect(result.downstream).toHaveLength(1);
    const after = await w.fingerprints();
    expect(after['bronze.plays']).toEqual(before['bronze.plays']);
    expect(after['silver.plays']).toHaveLength(5);
  });

  it('an unknown run id is a usage error', async () => {
    const w = await fresh();
    await w.write('bronze.plays', 'run1', plays(0, 5, 2023, 'good'));
    const error = await rollbackRun(w.lake, { runId: 'nope' }).catch((e: unknown) => e);
    expect(isLakeError(error, 'USAGE')).toBe(true);
    expect((error as Error).message).toContain('no table under');
  });
});
