import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCommit } from '../../../src/delta/index.js';
import { openEngine, type Engine } from '../../../src/engine/index.js';
import { diffTable, resolveTable, runQuery, tableSnapshot } from '../../../src/table/index.js';
import { REPO_ROOT } from '../../helpers/child.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { catalog, routeKey, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';
import { buildGold, rollbackRun, type GoldRunResult, type MartOutcome } from '../../../src/pipeline/index.js';

/**
 * Incremental gold on the real sample, with upstream changes served by the local upstream server:
 * a stat correction in the 2020 play-by-play rewrites only season 2020 of the marts that read it,
 * the marts keep the old numbers at their old versions, rollback --cascade of the bad pull takes
 * gold back too, and a new 2024 stats file rewrites only 2024.
 */
let server: UpstreamServer;
let env: SampleLake;
let raw: Engine;
let scratch: string;
const PBP = routeKey('pbp', 2020);
const LEGACY_2024 = routeKey('player_stats_legacy', 2024);
const KC_EPA = `SELECT off_epa_per_play AS epa FROM gold.fact_team_week{at} WHERE season = 2020 AND week = 1 AND team = 'KC'`;

async function value(sql: string): Promise<number> {
  const result = await runQuery(env.lake, sql);
  return Number(result.rows[0]![0]);
}

async function build(runId: string, extra: Partial<Parameters<typeof buildGold>[0]> = {}): Promise<GoldRunResult> {
  const result = await buildGold({ catalog, lake: env.lake, runId, clock: env.clock, ...extra });
  expect(result.failures, JSON.stringify(result.marts.map((m) => m.error))).toBe(0);
  return result;
}

function outcome(result: GoldRunResult, mart: string): MartOutcome {
  return result.marts.find((m) => m.mart === mart)!;
}

/** Mean offensive EPA per play of KC in a pbp Parquet file, computed directly. */
async function kcEpa(file: string): Promise<number> {
  const [r] = await raw.rows<{ epa: number }>(`SELECT avg(epa) AS epa FROM read_parquet('${file}') WHERE posteam = 'KC' AND ("pass" = 1 OR rush = 1) AND epa IS NOT NULL`);
  return r!.epa;
}

beforeAll(async () => {
  server = await startUpstreamServer();
  env = await sampleLake(server, 'gold-incr');
  raw = await openEngine({ threads: 2 });
  scratch = mkdtempSync(path.join(tmpdir(), 'gold-incr-files-'));
  await env.ingest(['pbp', 'schedules', 'player_stats_legacy', 'teams']);
  await env.promote();
  await build('gold-1');
}, 60_000);
afterAll(async () => {
  raw?.close();
  env?.close();
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('build-gold after upstream changes', () => {
  let correctionRun: string;
  let original: number;

  it('a stat correction in the 2020 pbp: dry run names season 2020; the build replaces only season=2020 files; AT (VERSION => 0) keeps the numbers from before', async () => {
    const originalFile = path.join(scratch, 'pbp-original.parquet');
    writeFileSync(originalFile, await server.content(PBP));
    original = await kcEpa(originalFile);
    expect(await value(KC_EPA.replace('{at}', ''))).toBeCloseTo(original, 12);

    // nflverse re-grades one KC pass (new EPA) and republishes the season file.
    const corrected = await server.renderParquet(PBP, {
      timestamp: '2026-02-12 08:24:07 EST',
      sql: `WITH src AS (SELECT * FROM {source}) SELECT * REPLACE (CASE WHEN game_id = '2020_01_HOU_KC' AND play_id = (SELECT min(play_id) FROM src WHERE game_id = '2020_01_HOU_KC' AND posteam = 'KC' AND "pass" = 1 AND epa IS NOT NULL) THEN epa + 4.0 ELSE epa END AS epa) FROM src`,
    });
    const correctedFile = path.join(scratch, 'pbp-corrected.parquet');
    writeFileSync(correctedFile, corrected);
    server.setFile(PBP, corrected);
    const [pull] = await env.ingest(['pbp']);
    correctionRun = pull!.runId;
    expect((await env.promote({ datasets: ['pbp'] })).commits).toBe(1);

    const plan = await build('gold-plan', { dryRun: true });
    expect(plan.marts.map((m) => [m.mart, m.status, m.mode, m.seasons])).toEqual([
      ['dim_game', 'planned', 'seasons', [2020]],
      ['fact_game', 'planned', 'seasons', [2020]],
      ['fact_team_week', 'planned', 'seasons', [2020]],
      ['fact_player_week', 'planned', 'seasons', [2020]],
      ['dim_player', 'planned', 'full', null],
      ['dim_team', 'unchanged', null, null],
    ]);
    expect(await env.version('gold.fact_team_week')).toBe(0);

    const before = await tableSnapshot(env.lake, resolveTable(env.lake, 'gold.fact_team_week'));
    const result = await build('gold-2');
    const teamWeek = outcome(result, 'fact_team_week');
    expect(teamWeek).toMatchObject({ status: 'committed', version: 1, mode: 'seasons', seasons: [2020], reason: 'gold.fact_game v0 → v1, silver.pbp v0 → v1', rowsBySeason: { '2020': 32 } });
    expect(outcome(result, 'dim_team').status).toBe('unchanged');
    // One commit: removes exactly the season=2020 files, adds only season=2020 files.
    const actions = await readCommit(resolveTable(env.lake, 'gold.fact_team_week').tableRoot, 1);
    const removed = actions.flatMap((a) => (a.kind === 'remove' ? [a.remove] : []));
    const added = actions.flatMap((a) => (a.kind === 'add' ? [a.add] : []));
    expect(removed.map((r) => r.path).sort()).toEqual(before.files.filter((f) => f.partitionValues['season'] === '2020').map((f) => f.path).sort());
    expect(new Set(added.map((a) => a.partitionValues['season']))).toEqual(new Set(['2020']));
    const after = await tableSnapshot(env.lake, resolveTable(env.lake, 'gold.fact_team_week'));
    const untouched = (s: typeof before): string[] => s.files.filter((f) => f.partitionValues['season'] !== '2020').map((f) => f.path).sort();
    expect(untouched(after)).toEqual(untouched(before));
    const info = await env.commitInfo('gold.fact_team_week', 1);
    expect(info).toMatchObject({ run_id: 'gold-2', source_versions: { 'gold.fact_game': 1, 'silver.pbp': 1 }, operationParameters: { predicate: "season = '2020'" } });

    // The new numbers are the corrected file's; the old version still shows the old ones.
    const now = await value(KC_EPA.replace('{at}', ''));
    expect(now).toBeCloseTo(await kcEpa(correctedFile), 12);
    expect(now).not.toBeCloseTo(original, 3);
    expect(await value(KC_EPA.replace('{at}', ' AT (VERSION => 0)'))).toBeCloseTo(original, 12);
    expect(await value(KC_EPA.replace('{at}', ` AT (TIMESTAMP => '${new Date(Number(info.timestamp) - 1).toISOString()}')`))).toBeCloseTo(original, 12);
    // The stat-correction ledger: lake diff on the mart (keyed by its grain) names exactly KC's
    // offence and HOU's defence; the other 30 rebuilt rows are bit-identical (exact EPA sums).
    const diff = await diffTable(env.lake, { table: resolveTable(env.lake, 'gold.fact_team_week'), from: { version: 0 } });
    expect(diff).toMatchObject({ key: ['season', 'week', 'team'], keySource: 'commitInfo', added: 0, removed: 0, changed: 2 });
    expect(diff.changes.map((c) => [c.key!['team'], c.columns!.map((col) => col.column)])).toEqual([
      ['HOU', ['def_epa_per_play']],
      ['KC', ['off_epa_per_play', 'off_pass_epa_per_play']],
    ]);
  });

  it('rollback --cascade of the bad pull takes bronze, silver and the gold marts built from it back; the next build restores season 2020 from the good data', async () => {
    const rollback = await rollbackRun(env.lake, { runId: correctionRun, cascade: true });
    expect(rollback.status).toBe('committed');
    expect(rollback.cascaded.flatMap((c) => [c.runId, ...c.cascaded.map((d) => d.runId)])).toContain('gold-2');
    expect(await value(KC_EPA.replace('{at}', ''))).toBeCloseTo(original, 12);
    const again = await build('gold-3');
    expect(outcome(again, 'fact_team_week')).toMatchObject({ status: 'committed', seasons: [2020] });
    expect(await value(KC_EPA.replace('{at}', ''))).toBeCloseTo(original, 12);
    expect((await build('gold-4')).commits).toBe(0);
  });

  it('a new 2024 stats file rewrites only season 2024 of fact_player_week; marts that do not read it commit nothing', async () => {
    const [hill] = (await runQuery(env.lake, `SELECT receiving_yards FROM gold.fact_player_week WHERE season = 2024 AND week = 1 AND player_name = 'Tyreek Hill'`)).rows;
    const before = await env.version('gold.fact_player_week');
    server.setFile(
      LEGACY_2024,
      await server.renderParquet(LEGACY_2024, {
        timestamp: '2026-02-13 08:24:07 EST',
        sql: `SELECT * REPLACE (CASE WHEN player_display_name = 'Tyreek Hill' AND week = 1 THEN receiving_yards + 10 ELSE receiving_yards END AS receiving_yards) FROM {source} WHERE season = 2024`,
      }),
    );
    await env.ingest(['player_stats_legacy']);
    await env.promote({ datasets: ['player_stats_legacy'] });
    const result = await build('gold-5');
    expect(result.marts.map((m) => [m.mart, m.status, m.seasons])).toEqual([
      ['dim_game', 'unchanged', null],
      ['fact_game', 'unchanged', null],
      ['fact_team_week', 'unchanged', null],
      ['fact_player_week', 'committed', [2024]],
      ['dim_player', 'committed', null],
      ['dim_team', 'unchanged', null],
    ]);
    const yards = `SELECT receiving_yards FROM gold.fact_player_week{at} WHERE season = 2024 AND week = 1 AND player_name = 'Tyreek Hill'`;
    expect(await value(yards.replace('{at}', ''))).toBe(Number(hill![0]) + 10);
    expect(await value(yards.replace('{at}', ` AT (VERSION => ${before})`))).toBe(Number(hill![0]));
    const actions = await readCommit(resolveTable(env.lake, 'gold.fact_player_week').tableRoot, before! + 1);
    expect(new Set(actions.flatMap((a) => (a.kind === 'add' ? [a.add.partitionValues['season']] : a.kind === 'remove' ? [a.remove.partitionValues?.['season']] : [])))).toEqual(new Set(['2024']));
  });

  it('a source that changed not by season (a new unpartitioned lookup) rebuilds every season, but commits only the seasons whose rows changed', async () => {
    const before = await env.version('gold.fact_player_week');
    await env.ingest(['player_ids']);
    await env.promote({ datasets: ['player_ids'] });
    const result = await build('gold-6');
    const mart = outcome(result, 'fact_player_week');
    expect([mart.status, mart.mode]).toEqual(['committed', 'full']);
    const actions = await readCommit(resolveTable(env.lake, 'gold.fact_player_week').tableRoot, before! + 1);
    const touched = actions.flatMap((a) => (a.kind === 'add' ? [a.add.partitionValues['season']] : a.kind === 'remove' ? [a.remove.partitionValues?.['season']] : []));
    const info = actions.find((a) => a.kind === 'commitInfo');
    const gold = (info?.kind === 'commitInfo' ? (info.commitInfo as Record<string, unknown>)['gold'] : undefined) as { changed_seasons: number[]; unchanged_seasons: number[] };
    // The ids crosswalk maps PFR ids of snap counts and PFR stats, which this lake has none of:
    // every season built equals the mart's.
    expect(gold.unchanged_seasons).toEqual(Object.keys(mart.rowsBySeason).map(Number).sort((a, b) => a - b));
    expect(gold.changed_seasons).toEqual([]);
    expect(touched).toEqual([]);
    // Recorded as built from the new source: the next build has nothing to do.
    expect(outcome(await build('gold-7'), 'fact_player_week').status).toBe('unchanged');
  });

  it('a whole-table source that changed only in columns a mart does not read rebuilds nothing of that mart; a change in a column it reads rebuilds every season', async () => {
    const key = routeKey('player_ids');
    const csv = readFileSync(path.join(REPO_ROOT, 'data/sample/ids', readdirSync(path.join(REPO_ROOT, 'data/sample/ids')).find((f) => f.endsWith('.csv'))!), 'utf8');
    const [header, first, ...rest] = csv.split('\n');
    const cells = first!.split(',');
    const at = (name: string): number => header!.split(',').indexOf(name);
    const serve = async (runId: string, edit: (row: string[]) => void): Promise<MartOutcome> => {
      const row = [...cells];
      edit(row);
      server.setFile(key, Buffer.from([header, row.join(','), ...rest].join('\n')));
      await env.ingest(['player_ids']);
      await env.promote({ datasets: ['player_ids'] });
      return outcome(await build(runId), 'fact_player_week');
    };
    const before = await env.version('gold.fact_player_week');
    // fact_player_week reads player_ids' pfr_id and gsis_id (and names position and team elsewhere), never college.
    const unread = await serve('gold-6b', (row) => (row[at('college')] = 'Nowhere State'));
    expect(unread).toMatchObject({ status: 'unchanged', mode: null, reason: expect.stringMatching(/^no source changed in the columns it reads: silver\.player_ids v\d+ → v\d+ \(not in the columns read\)$/) });
    expect(await env.version('gold.fact_player_week')).toBe(before);
    // gsis_id is read: every season is rebuilt (this lake's rows do not change, so no season is committed).
    const read = await serve('gold-6c', (row) => (row[at('gsis_id')] = '00-0099999'));
    expect(read).toMatchObject({ mode: 'full', reason: expect.stringMatching(/^silver\.player_ids changed/) });
  });

  it('the marts built incrementally equal a full rebuild (the season contract holds): lake diff finds nothing', async () => {
    const before = new Map<string, number>();
    for (const mart of ['fact_game', 'fact_team_week', 'fact_player_week', 'dim_player']) before.set(mart, (await env.version(`gold.${mart}`))!);
    const full = await build('gold-full', { full: true });
    expect(full.commits).toBe(6);
    for (const [mart, version] of before) {
      const diff = await diffTable(env.lake, { table: resolveTable(env.lake, `gold.${mart}`), from: { version } });
      expect([mart, diff.added, diff.removed, diff.changed]).toEqual([mart, 0, 0, 0]);
    }
  });

  it('an edited mart rebuilds all its seasons; a mart whose rows break its grain fails with QUALITY_GATE_FAILED and commits nothing', async () => {
    const sqlDir = mkdtempSync(path.join(scratch, 'sql-'));
    cpSync(path.join(REPO_ROOT, 'sql/gold'), sqlDir, { recursive: true });
    writeFileSync(path.join(sqlDir, 'fact_game.sql'), `${readFileSync(path.join(sqlDir, 'fact_game.sql'), 'utf8')}-- edited\n`);
    const edited = await build('gold-6', { sqlDir, marts: ['fact_game'] });
    expect(outcome(edited, 'fact_game')).toMatchObject({ status: 'committed', mode: 'full', reason: 'fact_game.sql changed' });
    expect((await build('gold-7', { sqlDir, marts: ['fact_game'] })).commits).toBe(0);

    const dimTeam = readFileSync(path.join(sqlDir, 'dim_team.sql'), 'utf8').replace('SELECT unnest(canonical_teams()) AS team', "SELECT unnest(canonical_teams()) AS team UNION ALL SELECT 'KC'");
    writeFileSync(path.join(sqlDir, 'dim_team.sql'), dimTeam);
    const version = await env.version('gold.dim_team');
    const broken = await buildGold({ catalog, lake: env.lake, sqlDir, marts: ['dim_team'], runId: 'gold-8' });
    expect(broken.exitCode).toBe(3);
    expect(outcome(broken, 'dim_team').error).toMatchObject({ code: 'QUALITY_GATE_FAILED', message: expect.stringMatching(/^gold\.dim_team: the grain \(team\) is not a key of the built rows: 1 key held by several rows \(e\.g\. \{"team":"KC"\}\), 0 rows with a NULL key part; nothing was committed$/) });
    expect(await env.version('gold.dim_team')).toBe(version);
  });
});
