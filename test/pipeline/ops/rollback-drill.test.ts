import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/core/index.js';
import { loadCatalog, parseYears, resolveSettings, type Catalog, runIngest, type IngestRunResult, runPromote, type PromoteRunResult, rollbackRun } from '../../../src/pipeline/index.js';
import { diffTable, openLake, resolveTable, runQuery, tableSnapshot, type Lake } from '../../../src/table/index.js';
import { readRows } from '../../helpers/lake.js';
import { canonicalRows } from '../../helpers/rows.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/**
 * The "bad upstream pull" drill on bronze, against the local upstream server: a good pull, then a
 * pull of a bad teams file (half the rows) and a bad win-totals file (shifted values that parse),
 * detected with lake diff, undone with one rollback of that run; the next good pull commits
 * normally. (Silver and gold join the drill once promote exists; rollback already covers every
 * layer, see rollback.test.ts.)
 */
const TODAY = new Date('2026-11-25T12:00:00Z');
// (promote's clock steps from TODAY)
const TEAMS = 'nflverse/teams/teams_colors_logos.parquet';
const WINS = 'mrcaseb/data/historical_win_totals.csv';
const TABLES = ['bronze.teams', 'bronze.win_totals'];
const catalog: Catalog = loadCatalog('catalog/datasets.yml');
let server: UpstreamServer;
let dir: string;
let lake: Lake;
let drillDir: string;
let drillLake: Lake;

/** Each pull a minute later: bronze rows of different pulls carry different ingested_at. */
let minutes = 0;
const clock: Clock = { now: () => TODAY.getTime() + minutes * 60_000, sleep: async () => undefined };

async function pull(lake: Lake, dir: string): Promise<IngestRunResult> {
  const settings = resolveSettings(catalog, { LAKE_ROOT: path.join(dir, 'tables'), LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), ...server.env() });
  minutes++;
  const span = parseYears('2020');
  if (span?.kind !== 'range') throw new Error('years');
  const result = await runIngest({ catalog, settings, command: 'update', today: TODAY, clock, lake, datasets: ['teams', 'win_totals'], seasons: { from: span.from, to: span.to! } });
  expect(result.failures, JSON.stringify(result.datasets.map((d) => d.error))).toBe(0);
  return result;
}

async function fingerprints(lake: Lake, tables = TABLES): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of tables) out[t] = canonicalRows(await readRows(lake, resolveTable(lake, t).tableRoot));
  return out;
}

beforeAll(async () => {
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'rollback-drill-'));
  lake = await openLake({ root: path.join(dir, 'tables'), threads: 2 });
  drillDir = mkdtempSync(path.join(tmpdir(), 'rollback-drill-promote-'));
  drillLake = await openLake({ root: path.join(drillDir, 'tables'), threads: 2 });
});
afterAll(async () => {
  lake.close();
  drillLake.close();
  rmSync(drillDir, { recursive: true, force: true });
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('bad upstream pull drill (bronze)', () => {
  it('good pull → bad pull → diff shows it → rollback --run → pre-bad fingerprints → next good pull commits', async () => {
    const good = await pull(lake, dir);
    expect(good.commits).toBe(2);
    const goodState = await fingerprints(lake);
    const goodVersions = Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, (await tableSnapshot(lake, resolveTable(lake, t))).version] as const)));

    const winsCsv = readFileSync('data/sample/betting/historical_win_totals.csv', 'utf8');
    server.setFile(TEAMS, await server.renderParquet(TEAMS, { timestamp: '2026-11-26 03:00:00 EST', sql: "SELECT * FROM {source} WHERE team_abbr < 'K'" }));
    server.setFile(WINS, Buffer.from(winsCsv.replace(/\n(\w+),2020,(\d+)\.5,/g, (_m, team: string, wins: string) => `\n${team},2020,${Number(wins) + 3}.5,`)));
    const bad = await pull(lake, dir);
    expect(bad.commits).toBe(2);

    // Detection: bronze appends whole files, so the diff against the good version shows the new rows.
    const teamsDiff = await diffTable(lake, { table: resolveTable(lake, 'bronze.teams'), from: { version: goodVersions['bronze.teams']! }, ignoreColumns: ['ingested_at', 'run_id', 'upstream_version', 'source', 'pipeline_version'] });
    // Without the stamps, the bad file's rows are copies of good ones: fewer than a full file.
    expect(teamsDiff.removed).toBe(0);
    expect(teamsDiff.added).toBeGreaterThan(0);
    expect(teamsDiff.added).toBeLessThan(goodState['bronze.teams']!.length);
    // The shifted win totals: rows of the bad run that the good version does not have, by time travel.
    const shifted = await runQuery(
      lake,
      `SELECT count(*)::INTEGER FROM (SELECT team, season, win_total FROM bronze.win_totals WHERE run_id = '${bad.runId}'
        EXCEPT SELECT team, season, win_total FROM bronze.win_totals AT (VERSION => ${goodVersions['bronze.win_totals']}))`,
    );
    expect(shifted.rows[0]![0]).toBe(winsCsv.match(/\n\w+,2020,\d+\.5,/g)!.length);

    const result = await rollbackRun(lake, { runId: bad.runId });
    expect(result.tables.map((t) => [t.table, t.restoreTo, t.result?.status])).toEqual([
      ['bronze.teams', goodVersions['bronze.teams'], 'committed'],
      ['bronze.win_totals', goodVersions['bronze.win_totals'], 'committed'],
    ]);
    expect(await fingerprints(lake)).toEqual(goodState);
    expect((await rollbackRun(lake, { runId: bad.runId })).status).toBe('noop');

    // The upstream is fixed (a rebuilt file with all rows, the original CSV): the next pull commits both again
    // (the batch it matches carries no rows digest yet, so bronze writes it whole; see bronze/republish.test.ts).
    server.setFile(TEAMS, await server.renderParquet(TEAMS, { timestamp: '2026-11-27 03:00:00 EST' }));
    server.setFile(WINS, Buffer.from(winsCsv));
    const next = await pull(lake, dir);
    expect(next.commits).toBe(2);
    const after = await fingerprints(lake);
    for (const t of TABLES) expect(after[t]!.length, t).toBe(2 * goodState[t]!.length);
  });
});

describe('bad upstream pull drill (bronze → silver)', () => {
  const SILVER = ['silver.teams', 'silver.win_totals'];
  const ALL = [...TABLES, ...SILVER];
  let steps = 0;
  const promote = async (): Promise<PromoteRunResult> => {
    const result = await runPromote({ catalog, lake: drillLake, datasets: ['teams', 'win_totals'], clock: { now: () => TODAY.getTime() + ++steps * 60_000, sleep: async () => undefined }, reportDir: path.join(drillDir, 'quality'), maxWorkers: 1 });
    return result;
  };

  it('good pull → promote → bad pull → promote → diff shows the shifted rows → rollback --run <bad pull> --cascade → every table at its pre-bad rows → the next good pull promotes', async () => {
    const winsCsv = readFileSync('data/sample/betting/historical_win_totals.csv', 'utf8');
    server.setFile(TEAMS, await server.renderParquet(TEAMS, { timestamp: '2026-11-28 03:00:00 EST' }));
    server.setFile(WINS, Buffer.from(winsCsv));
    await pull(drillLake, drillDir);
    const good = await promote();
    expect(good.failures, JSON.stringify(good.datasets.map((d) => d.error))).toBe(0);
    const goodState = await fingerprints(drillLake, ALL);
    const goodSilver = Object.fromEntries(await Promise.all(SILVER.map(async (t) => [t, (await tableSnapshot(drillLake, resolveTable(drillLake, t))).version] as const)));

    server.setFile(WINS, Buffer.from(winsCsv.replace(/\n(\w+),2020,(\d+)\.5,/g, (_m, team: string, wins: string) => `\n${team},2020,${Number(wins) + 3}.5,`)));
    const bad = await pull(drillLake, drillDir);
    expect(bad.commits).toBe(1);
    const badPromote = await promote();
    const wins = badPromote.datasets.find((d) => d.dataset === 'win_totals')!;
    expect(wins.status, JSON.stringify(wins.error)).toBe('committed');

    // lake diff on silver: exactly the 2020 win totals changed, by the catalog key (team, season).
    const diff = await diffTable(drillLake, { table: resolveTable(drillLake, 'silver.win_totals'), from: { version: goodSilver['silver.win_totals']! }, fallbackKey: ['team', 'season'], ignoreColumns: ['ingested_at', 'run_id', 'upstream_version', 'source', 'pipeline_version'] });
    const shifted = winsCsv.match(/\n\w+,2020,\d+\.5,/g)!.length;
    expect([diff.added, diff.removed, diff.changed]).toEqual([0, 0, shifted]);
    expect(diff.partitions.map((p) => p.partition)).toEqual([{ season: '2020' }]);
    expect(diff.changes[0]!.columns!.map((c) => c.column)).toContain('win_total');

    // The promote read what the bad pull wrote: a plain rollback refuses, --cascade undoes both runs.
    await expect(rollbackRun(drillLake, { runId: bad.runId })).rejects.toMatchObject({ code: 'DELTA_COMMIT_CONFLICT' });
    const result = await rollbackRun(drillLake, { runId: bad.runId, cascade: true });
    expect(result.cascaded.map((c) => c.runId)).toEqual([badPromote.runId]);
    expect(await fingerprints(drillLake, ALL)).toEqual(goodState);

    // Upstream fixed: the next pull and promote go through normally.
    server.setFile(WINS, Buffer.from(winsCsv.replace('ARI,2020,7.5,', 'ARI,2020,8.5,')));
    const next = await pull(drillLake, drillDir);
    expect(next.commits).toBe(1);
    const nextPromote = await promote();
    expect(nextPromote.failures, JSON.stringify(nextPromote.datasets.map((d) => d.error))).toBe(0);
    const after = await diffTable(drillLake, { table: resolveTable(drillLake, 'silver.win_totals'), from: { version: goodSilver['silver.win_totals']! }, fallbackKey: ['team', 'season'], ignoreColumns: ['ingested_at', 'run_id', 'upstream_version', 'source', 'pipeline_version'] });
    expect([after.added, after.removed, after.changed]).toEqual([0, 0, 1]);
    expect(after.changes[0]!.key).toEqual({ team: 'ARI', season: '2020' });
  });
});
