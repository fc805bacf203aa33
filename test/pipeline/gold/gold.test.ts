import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dictionaryProblems, renderDictionary } from '../../../src/cli/gold-commands.js';
import { openEngine, type Engine } from '../../../src/engine/index.js';
import { writeDuckdbViews, runQuery } from '../../../src/table/index.js';
import { REPO_ROOT } from '../../helpers/child.js';
import { SAMPLE_DIR, startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { catalog, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';
import { buildGold, describeMarts, loadMarts, type GoldRunResult } from '../../../src/pipeline/index.js';

/**
 * Gold on the shipped real sample (2020 week-1 pbp + NGS 2020; 2023–24 schedules, legacy weekly
 * stats, officials, 2023 rosters; 2025 injuries and depth charts; teams; DynastyProcess ids):
 * facts checked against the raw files, grain keys, joins to the dims, idempotence, the data
 * dictionary and the ready-to-run queries (through the lake and through a plain DuckDB on the views).
 */
const DATASETS = ['pbp', 'schedules', 'nextgen_stats', 'officials', 'teams', 'player_ids', 'player_stats_legacy', 'rosters', 'injuries', 'depth_charts'];
const PBP = path.join(SAMPLE_DIR, 'pbp/play_by_play_2020_week01.parquet');
const GAMES = path.join(SAMPLE_DIR, 'schedules/games_2023_2024.csv');

let server: UpstreamServer;
let env: SampleLake;
let first: GoldRunResult;
let raw: Engine;

async function rows<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const result = await runQuery(env.lake, sql);
  return result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, typeof r[i] === 'bigint' ? Number(r[i]) : r[i]]))) as T[];
}

beforeAll(async () => {
  server = await startUpstreamServer();
  env = await sampleLake(server, 'gold');
  await env.ingest(DATASETS);
  const promoted = await env.promote({ maxWorkers: 4 });
  expect(promoted.failures, JSON.stringify(promoted.datasets.map((d) => d.error))).toBe(0);
  first = await buildGold({ catalog, lake: env.lake, runId: 'gold-run-1', clock: env.clock });
  raw = await openEngine({ threads: 2 });
}, 90_000);
afterAll(async () => {
  raw?.close();
  env?.close();
  await server?.close();
});

describe('lake build-gold on the real sample', () => {
  it('builds every mart in dependency order, one commit each, recording the silver (and gold) versions it read', async () => {
    expect(first.failures, JSON.stringify(first.marts.map((m) => m.error))).toBe(0);
    expect(first.marts.map((m) => [m.mart, m.status, m.version])).toEqual([
      ['dim_game', 'committed', 0],
      ['fact_game', 'committed', 0],
      ['fact_team_week', 'committed', 0],
      ['fact_player_week', 'committed', 0],
      ['dim_player', 'committed', 0],
      ['dim_team', 'committed', 0],
    ]);
    const info = await env.commitInfo('gold.fact_team_week');
    expect(info).toMatchObject({ run_id: 'gold-run-1', pipeline_version: '0.1.0', business_key: ['season', 'week', 'team'], source_versions: { 'gold.fact_game': 0, 'silver.pbp': 0 } });
    expect(info['gold']).toMatchObject({ mart: 'fact_team_week', mode: 'full', seasons: null, rule: { file: 'sql/gold/fact_team_week.sql' }, rows_by_season: { '2020': 32, '2023': 570, '2024': 570 } });
    const players = await env.commitInfo('gold.fact_player_week');
    // Datasets the sample does not have are read as empty and named, not recorded as read.
    expect((players['gold'] as { missing_sources: string[] }).missing_sources).toEqual(['silver.players', 'silver.player_stats_weekly', 'silver.snap_counts', 'silver.pfr_advstats_weekly']);
    expect(Object.keys(players['source_versions'] as object)).not.toContain('silver.players');
  });

  it("fact_game: a game's final score, closing lines, kickoff and crew are the schedules and officials files' values", async () => {
    const [csv] = await raw.rows<Record<string, unknown>>(
      `SELECT away_score, home_score, spread_line, total_line, old_game_id, referee FROM read_csv('${GAMES}') WHERE game_id = '2023_01_DET_KC'`,
    );
    const [crew] = await raw.rows<{ n: bigint }>(`SELECT count(*) AS n FROM read_csv('${path.join(SAMPLE_DIR, 'officials/officials_2023_2024.csv')}') WHERE game_id = ${Number(csv!['old_game_id'])}`);
    const [game] = await rows(`SELECT * FROM gold.fact_game WHERE game_id = '2023_01_DET_KC'`);
    expect(game).toMatchObject({ season: 2023, week: 1, away_team: 'DET', home_team: 'KC', away_score: Number(csv!['away_score']), home_score: Number(csv!['home_score']), result: -1, winner: 'DET', spread_line: Number(csv!['spread_line']), total_line: Number(csv!['total_line']), home_cover: 'away', over_under: 'under', referee: csv!['referee'], officials_count: Number(crew!.n), source: 'schedules' });
    // Thursday 2023-09-07, 20:20 US Eastern (EDT) = 00:20 UTC on the 8th.
    expect((game!['kickoff_utc'] as Date).toISOString()).toBe('2023-09-08T00:20:00.000Z');
    // A 2020 game schedules lack comes from pbp: final score from the last play, pbp's closing lines.
    const [pbp] = await raw.rows<Record<string, number>>(`SELECT max(total_home_score) AS home, max(total_away_score) AS away, max(spread_line) AS spread FROM read_parquet('${PBP}') WHERE game_id = '2020_01_ARI_SF'`);
    const [fallback] = await rows(`SELECT home_score, away_score, spread_line, source, plays FROM gold.fact_game WHERE game_id = '2020_01_ARI_SF'`);
    expect(fallback).toEqual({ home_score: pbp!.home, away_score: pbp!.away, spread_line: pbp!.spread, source: 'pbp', plays: 190 });
  });

  it("fact_team_week: every team's week-1 2020 offensive and defensive EPA per play is the mean of pbp epa over its plays in the Parquet file", async () => {
    const expected = await raw.rows<{ team: string; off: number; def: number; plays: bigint }>(
      `SELECT o.team, o.off, o.plays, d.def FROM
         (SELECT posteam AS team, avg(epa) AS off, count(*) AS plays FROM read_parquet('${PBP}') WHERE ("pass" = 1 OR rush = 1) AND epa IS NOT NULL GROUP BY ALL) AS o
         JOIN (SELECT defteam AS team, avg(epa) AS def FROM read_parquet('${PBP}') WHERE ("pass" = 1 OR rush = 1) AND epa IS NOT NULL GROUP BY ALL) AS d USING (team)
       ORDER BY team`,
    );
    const gold = await rows<{ team: string; off_epa_per_play: number; def_epa_per_play: number; off_plays: number }>(`SELECT team, off_epa_per_play, def_epa_per_play, off_plays FROM gold.fact_team_week WHERE season = 2020 AND week = 1 ORDER BY team`);
    expect(gold.map((g) => g.team)).toEqual(expected.map((e) => e.team));
    expect(expected).toHaveLength(32);
    for (const [i, e] of expected.entries()) {
      expect(gold[i]!.off_epa_per_play, e.team).toBeCloseTo(e.off, 12);
      expect(gold[i]!.def_epa_per_play, e.team).toBeCloseTo(e.def, 12);
      expect(gold[i]!.off_plays, e.team).toBe(Number(e.plays));
    }
    const [kc] = await rows(`SELECT opponent, home_away, points_for, points_against, outcome, team_spread FROM gold.fact_team_week WHERE season = 2020 AND team = 'KC'`);
    expect(kc).toEqual({ opponent: 'HOU', home_away: 'home', points_for: 34, points_against: 20, outcome: 'W', team_spread: 9.5 });
  });

  it('fact_player_week: legacy stat lines as published, pbp-derived lines where no stat source covers the week, with NGS attached by GSIS id', async () => {
    const [csv] = await raw.rows<Record<string, unknown>>(
      `SELECT targets, receptions, receiving_yards, receiving_tds FROM read_csv('${path.join(SAMPLE_DIR, 'player_stats/player_stats_legacy_week_2023_2024.csv')}') WHERE player_display_name = 'Tyreek Hill' AND season = 2023 AND week = 1`,
    );
    const [hill] = await rows(`SELECT team, opponent, game_id, stats_source, targets, receptions, receiving_yards, receiving_tds FROM gold.fact_player_week WHERE season = 2023 AND week = 1 AND player_name = 'Tyreek Hill'`);
    expect(hill).toEqual({ team: 'MIA', opponent: 'LAC', game_id: '2023_01_MIA_LAC', stats_source: 'player_stats_legacy', targets: Number(csv!['targets']), receptions: Number(csv!['receptions']), receiving_yards: Number(csv!['receiving_yards']), receiving_tds: Number(csv!['receiving_tds']) });
    // 2020 week 1: computed from pbp; the Sept-2020 file's UUID-style ids decode to GSIS ids (Mahomes 00-0033873).
    const [direct] = await raw.rows<{ att: number; yds: number; cmp: number }>(
      `SELECT sum(complete_pass + incomplete_pass + interception) AS att, sum(yards_gained) FILTER (WHERE complete_pass = 1) AS yds, sum(complete_pass) AS cmp
       FROM read_parquet('${PBP}') WHERE passer_player_name = 'P.Mahomes' AND play_type <> 'no_play' AND coalesce(two_point_attempt, 0) = 0`,
    );
    const [mahomes] = await rows(`SELECT player_id, stats_source, attempts, completions, passing_yards, ngs_cpoe FROM gold.fact_player_week WHERE season = 2020 AND week = 1 AND team = 'KC' AND attempts > 0`);
    expect(mahomes).toMatchObject({ player_id: '00-0033873', stats_source: 'pbp', attempts: Number(direct!.att), completions: Number(direct!.cmp), passing_yards: Number(direct!.yds) });
    const [ngs] = await raw.rows<{ cpoe: number }>(`SELECT completion_percentage_above_expectation AS cpoe FROM read_csv('${path.join(SAMPLE_DIR, 'nextgen_stats/ngs_2020_passing.csv.gz')}') WHERE player_gsis_id = '00-0033873' AND week = 1`);
    expect(mahomes!['ngs_cpoe']).toBeCloseTo(ngs!.cpoe, 10);
    // 2025: injury reports make rows of their own; depth-chart slots attach by the NFL week of the snapshot.
    const [injuries] = await rows<{ n: number; dp: number }>(`SELECT count(*) AS n, count(depth_rank) AS dp FROM gold.fact_player_week WHERE season = 2025`);
    expect(injuries!.n).toBe(Number((await raw.rows<{ n: bigint }>(`SELECT count(DISTINCT (season, week, gsis_id)) AS n FROM read_csv('${path.join(SAMPLE_DIR, 'injuries/injuries_2025.csv')}')`))[0]!.n));
    expect(injuries!.dp).toBeGreaterThan(0);
  });

  it('dim_team: the 32 canonical codes with conference, division and every alias of the one mapping', async () => {
    const teams = await rows<{ team: string; conference: string; division: string; aliases: string[]; season_aliases: string[]; former_names: string[] }>(`SELECT team, conference, division, aliases, season_aliases, former_names FROM gold.dim_team ORDER BY team`);
    expect(teams).toHaveLength(32);
    const by = new Map(teams.map((t) => [t.team, t]));
    expect(by.get('KC')).toMatchObject({ conference: 'AFC', division: 'AFC West' });
    expect(by.get('LV')!.aliases).toEqual(expect.arrayContaining(['OAK', 'LVR', 'RAI']));
    expect(by.get('LV')!.former_names).toEqual(['Oakland Raiders']);
    expect(by.get('LA')!.aliases).toEqual(expect.arrayContaining(['LAR', 'STL']));
    expect(by.get('ARI')!.season_aliases).toEqual(['STL<1988']);
    expect(by.get('TEN')!.season_aliases).toEqual(['HOU<2002']);
  });

  it('grain keys are unique and non-NULL in every mart', async () => {
    for (const rule of loadMarts()) {
      const keys = rule.grain.join(', ');
      const [r] = await rows<{ n: number; keys: number; nulls: number }>(`SELECT count(*) AS n, count(DISTINCT (${keys})) AS keys, count(*) FILTER (WHERE ${rule.grain.map((c) => `${c} IS NULL`).join(' OR ')}) AS nulls FROM ${rule.table}`);
      expect(r!.n, rule.table).toBeGreaterThan(0);
      expect(r!.keys, rule.table).toBe(r!.n);
      expect(r!.nulls, rule.table).toBe(0);
    }
  });

  it.each([
    ['fact_game → dim_game', 'SELECT count(*) FROM gold.fact_game f ANTI JOIN gold.dim_game d USING (game_id)'],
    ['fact_game → dim_team (home, away)', 'SELECT count(*) FROM gold.fact_game f WHERE home_team NOT IN (SELECT team FROM gold.dim_team) OR away_team NOT IN (SELECT team FROM gold.dim_team)'],
    ['fact_team_week → dim_team', 'SELECT count(*) FROM gold.fact_team_week f ANTI JOIN gold.dim_team d USING (team)'],
    ['fact_team_week → dim_game', 'SELECT count(*) FROM gold.fact_team_week f ANTI JOIN gold.dim_game d USING (game_id)'],
    ['fact_player_week → dim_player', 'SELECT count(*) FROM gold.fact_player_week f ANTI JOIN gold.dim_player d USING (player_id)'],
    ['fact_player_week → dim_team', 'SELECT count(*) FROM gold.fact_player_week f ANTI JOIN gold.dim_team d USING (team)'],
    ['fact_player_week → dim_game (where known)', 'SELECT count(*) FROM gold.fact_player_week f WHERE game_id IS NOT NULL AND game_id NOT IN (SELECT game_id FROM gold.dim_game)'],
  ])('every fact row joins to its dims: %s', async (_name, sql) => {
    expect(await env.count(sql)).toBe(0);
  });

  it('building again with no silver change commits nothing', async () => {
    const again = await buildGold({ catalog, lake: env.lake, runId: 'gold-run-2', clock: env.clock });
    expect(again.commits).toBe(0);
    expect(again.marts.map((m) => [m.mart, m.status, m.reason])).toEqual(loadMarts().map((r) => [r.mart, 'unchanged', 'no source changed']));
    for (const rule of loadMarts()) expect(await env.version(rule.table), rule.table).toBe(0);
    const plan = await buildGold({ catalog, lake: env.lake, dryRun: true });
    expect(plan.marts.every((m) => m.status === 'unchanged')).toBe(true);
  });

  it('the data dictionary (docs/data-dictionary.md) is generated from the mart headers and up to date', async () => {
    const marts = await describeMarts({ catalog, lake: env.lake });
    expect(dictionaryProblems(marts)).toEqual([]);
    for (const m of marts) expect(m.coverage.length, m.table).toBeGreaterThan(0);
    expect(readFileSync(path.join(REPO_ROOT, 'docs/data-dictionary.md'), 'utf8'), 'run: node dist/cli/main.js build-gold --dictionary docs/data-dictionary.md').toBe(renderDictionary(marts));
    // The types the dictionary shows are the types of the built tables.
    const built = await runQuery(env.lake, 'SELECT * FROM gold.fact_team_week LIMIT 0');
    expect(built.columns).toEqual(marts.find((m) => m.mart === 'fact_team_week')!.types.map((c) => c.name));
  });

  describe('ready-to-run queries (sql/queries)', () => {
    const dir = path.join(REPO_ROOT, 'sql/queries');
    const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();

    it('there are a dozen or more, each saying what it reads and where it runs', () => {
      expect(files.length).toBeGreaterThanOrEqual(12);
      for (const f of files) expect(readFileSync(path.join(dir, f), 'utf8'), f).toMatch(/^-- .+\n(--.*\n)*-- .*(Runs with `lake sql --file` and on tables\/lake\.duckdb|LAKE ONLY)/m);
    });

    it.each(files)('%s runs with lake sql --file', async (file) => {
      const result = await runQuery(env.lake, readFileSync(path.join(dir, file), 'utf8'));
      expect(result.columns.length).toBeGreaterThan(0);
    });

    it('the same queries give the same rows on tables/lake.duckdb in a separate plain DuckDB (no lake code), except the LAKE ONLY ones', async () => {
      const views = await writeDuckdbViews(env.lake);
      const plain = await openEngine({ path: views.path, threads: 2 });
      try {
        for (const file of files) {
          const sql = readFileSync(path.join(dir, file), 'utf8');
          if (/LAKE ONLY/.test(sql)) continue;
          const ours = await runQuery(env.lake, sql);
          const theirs = await plain.connection.runAndReadAll(sql);
          expect(theirs.columnNames(), file).toEqual(ours.columns);
          expect(JSON.stringify(theirs.getRowsJS(), (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)), file).toBe(JSON.stringify(ours.rows, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
        }
      } finally {
        plain.close();
      }
    });
  });
});

describe('a full build stages the history in groups of seasons', () => {
  it('one statement per group of seasons, and one for the rows of any other season, gives the rows one statement over the whole history gives', async () => {
    const marts = ['dim_game', 'fact_game', 'fact_team_week', 'fact_player_week'];
    const whole = await buildGold({ catalog, lake: env.lake, runId: 'gold-stage-whole', clock: env.clock, full: true, marts, seasonsPerStage: 1000 });
    const grouped = await buildGold({ catalog, lake: env.lake, runId: 'gold-stage-grouped', clock: env.clock, full: true, marts, seasonsPerStage: 1 });
    expect(whole.failures + grouped.failures, JSON.stringify([...whole.marts, ...grouped.marts].map((m) => m.error))).toBe(0);
    for (const mart of marts) {
      const one = whole.marts.find((m) => m.mart === mart)!;
      const many = grouped.marts.find((m) => m.mart === mart)!;
      const seasons = Object.keys(many.rowsBySeason).length;
      expect(seasons, mart).toBeGreaterThanOrEqual(2);
      expect(one.stages, mart).toBe(1);
      // One statement per season the sources hold (at least the seasons built), plus the rest.
      expect(many.stages, mart).toBeGreaterThanOrEqual(seasons + 1);
      expect(many.rows, mart).toBe(one.rows);
      expect(many.rowsBySeason, mart).toEqual(one.rowsBySeason);
      const at = (v: number | null): string => `gold.${mart} AT (VERSION => ${v})`;
      const [diff] = await rows<{ a: number; b: number }>(
        `SELECT (SELECT count(*) FROM (SELECT * FROM ${at(one.version)} EXCEPT ALL SELECT * FROM ${at(many.version)})) AS a, (SELECT count(*) FROM (SELECT * FROM ${at(many.version)} EXCEPT ALL SELECT * FROM ${at(one.version)})) AS b`,
      );
      expect(diff, mart).toEqual({ a: 0, b: 0 });
    }
  }, 60_000);
});

