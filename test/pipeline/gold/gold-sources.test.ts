import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../../../src/engine/index.js';
import { buildGold, describeMarts, runIngest } from '../../../src/pipeline/index.js';
import { runQuery } from '../../../src/table/index.js';
import { REPO_ROOT } from '../../helpers/child.js';
import { catalog, sampleLake, TODAY, type SampleLake } from '../../helpers/sample-lake.js';
import { SAMPLE_DIR, startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/**
 * Every gold column with a raw source, checked against the raw upstream files with a separate
 * DuckDB that reads the CSVs itself (no lake code, no mart SQL): dim_player's draft, weight,
 * college and combine columns, fact_team_week's priors and implied points, fact_game's scoring
 * lines, fact_player_week's snaps and injury status. Where the sample has no rows that meet a gold
 * table (scoring lines for the sampled games, snap counts), the upstream file is a small fixture in
 * the real schema (test/fixtures/gold, catalogued in test/fixtures/README.md).
 */
const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/gold');
const csv = (file: string): string => `read_csv('${path.join(SAMPLE_DIR, file)}')`;
const DRAFT = csv('draft_picks/draft_picks_2022_2025.csv');
const ROSTER = csv('rosters/roster_2023.csv');
const IDS = csv('ids/db_playerids.csv');
const COMBINE = csv('combine/combine_2022_2026.csv');
const WIN_TOTALS = csv('betting/historical_win_totals.csv');
const PBP = `read_parquet('${path.join(SAMPLE_DIR, 'pbp/play_by_play_2020_week01.parquet')}')`;
const INJURIES = csv('injuries/injuries_2025.csv');
const SC_FIXTURE = path.join(FIXTURES, 'sc_lines_2020_week01.csv');
const SNAP_FIXTURE = path.join(FIXTURES, 'snap_counts_2023_week01.csv');
/** Pro-Football-Reference team codes in the draft file → nflverse codes (written out here, not taken from the lake's mapping). */
const PFR_TEAMS: Record<string, string> = { GNB: 'GB', KAN: 'KC', LVR: 'LV', NOR: 'NO', NWE: 'NE', SFO: 'SF', TAM: 'TB', LAR: 'LA' };

let server: UpstreamServer;
let env: SampleLake;
let raw: Engine;
let scratch: string;

async function rows<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const result = await runQuery(env.lake, sql);
  return result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, typeof r[i] === 'bigint' ? Number(r[i]) : r[i]]))) as T[];
}
async function rawRows<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const out = await raw.rows<Record<string, unknown>>(sql);
  return out.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]))) as T[];
}
function byKey<T extends { week: number; player_id: string }>(list: T[]): Map<string, T> {
  return new Map(list.map((r) => [`${r.week}/${r.player_id}`, r]));
}
function byId<T extends { player_id: string }>(list: T[]): Map<string, T> {
  return new Map(list.map((r) => [r.player_id, r]));
}

beforeAll(async () => {
  raw = await openEngine({ threads: 2 });
  scratch = mkdtempSync(path.join(tmpdir(), 'gold-sources-'));
  server = await startUpstreamServer();
  // Scoring lines: the real sc_lines sample (2013–2019) plus the fixture's rows for the sampled 2020 games.
  const fixtureLines = readFileSync(SC_FIXTURE, 'utf8').split('\n').slice(1).join('\n');
  server.setFile('nfldata/data/sc_lines.csv', Buffer.from(readFileSync(path.join(SAMPLE_DIR, 'betting/sc_lines.csv'), 'utf8') + fixtureLines));
  // Snap counts: the fixture, as the Parquet file nflverse publishes.
  const snaps = path.join(scratch, 'snap_counts_2023.parquet');
  await raw.run(`COPY (SELECT * FROM read_csv('${SNAP_FIXTURE}')) TO '${snaps}' (FORMAT parquet)`);
  server.setFile('nflverse/snap_counts/snap_counts_2023.parquet', readFileSync(snaps));
  env = await sampleLake(server, 'gold-sources');
  await env.ingest(['pbp', 'schedules', 'teams', 'player_ids', 'player_stats_legacy', 'rosters', 'injuries', 'depth_charts', 'draft_picks', 'combine', 'win_totals', 'scoring_lines']);
  const snapRun = await runIngest({ catalog, settings: env.settings, command: 'update', datasets: ['snap_counts'], seasons: { from: 2023, to: 2023 }, today: TODAY, clock: env.clock, lake: env.lake });
  expect(snapRun.failures, JSON.stringify(snapRun.datasets.map((d) => d.error))).toBe(0);
  const promoted = await env.promote({ maxWorkers: 2 });
  expect(promoted.failures, JSON.stringify(promoted.datasets.map((d) => d.error))).toBe(0);
  const built = await buildGold({ catalog, lake: env.lake, runId: 'gold-sources', clock: env.clock });
  expect(built.failures, JSON.stringify(built.marts.map((m) => m.error))).toBe(0);
}, 120_000);
afterAll(async () => {
  raw?.close();
  env?.close();
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('dim_player against the raw draft, roster, ids and combine files', () => {
  it('draft year, round, overall pick and team are the draft_picks file’s for every drafted player it lists (never the ids file’s pick within the round)', async () => {
    const expected = await rawRows<{ player_id: string; season: number; round: number; pick: number; team: string }>(`SELECT gsis_id AS player_id, season, round, pick, team FROM ${DRAFT} WHERE gsis_id IS NOT NULL`);
    const gold = byId(await rows<{ player_id: string; draft_year: number; draft_round: number; draft_pick: number; draft_team: string; draft_source: string }>(`SELECT player_id, draft_year, draft_round, draft_pick, draft_team, draft_source FROM gold.dim_player`));
    const present = expected.filter((e) => gold.has(e.player_id));
    expect(present.length).toBeGreaterThan(500);
    for (const e of present) {
      expect(gold.get(e.player_id), e.player_id).toEqual({ player_id: e.player_id, draft_year: e.season, draft_round: e.round, draft_pick: e.pick, draft_team: PFR_TEAMS[e.team] ?? e.team, draft_source: 'draft_picks' });
    }
    // The example: overall pick 177 (round 5), not 42 (the ids file's pick within the round).
    expect(gold.get('00-0039075')).toMatchObject({ draft_pick: 177, draft_round: 5, draft_team: 'LA' });
  });

  it('players drafted before the draft file’s seasons take the overall pick from their roster (draft_number), then the ids file’s draft_ovr', async () => {
    const expected = await rawRows<{ player_id: string; pick: number; source: string }>(
      `SELECT coalesce(r.gsis_id, i.gsis_id) AS player_id,
              coalesce(r.draft_number, CAST(nullif(i.draft_ovr, 0) AS BIGINT)) AS pick,
              CASE WHEN r.draft_number IS NOT NULL THEN 'rosters' WHEN nullif(i.draft_ovr, 0) IS NOT NULL THEN 'player_ids' END AS source
       FROM (SELECT * FROM ${ROSTER} WHERE gsis_id IS NOT NULL) AS r
       FULL JOIN (SELECT * FROM ${IDS} WHERE gsis_id IS NOT NULL QUALIFY count(*) OVER (PARTITION BY gsis_id) = 1) AS i USING (gsis_id)
       WHERE coalesce(r.gsis_id, i.gsis_id) NOT IN (SELECT gsis_id FROM ${DRAFT} WHERE gsis_id IS NOT NULL)
         AND coalesce(r.pfr_id, i.pfr_id, '') NOT IN (SELECT pfr_player_id FROM ${DRAFT} WHERE gsis_id IS NULL)
         AND coalesce(r.draft_number, nullif(i.draft_ovr, 0)) IS NOT NULL`,
    );
    const gold = byId(await rows<{ player_id: string; draft_pick: number; draft_source: string }>(`SELECT player_id, draft_pick, draft_source FROM gold.dim_player`));
    expect(expected.filter((e) => e.source === 'rosters').length).toBeGreaterThan(1000);
    for (const e of expected) expect(gold.get(e.player_id), e.player_id).toEqual({ player_id: e.player_id, draft_pick: e.pick, draft_source: e.source });
  });

  it('weight, height and college are the latest roster’s; the ids file only fills players without a roster value', async () => {
    const expected = await rawRows<{ player_id: string; weight: number | null; height: number | null; college: string | null }>(
      `SELECT coalesce(r.gsis_id, i.gsis_id) AS player_id, CAST(coalesce(r.weight, i.weight) AS DOUBLE) AS weight,
              CAST(coalesce(r.height, i.height) AS DOUBLE) AS height, coalesce(r.college, i.college) AS college
       FROM (SELECT * FROM ${ROSTER} WHERE gsis_id IS NOT NULL) AS r
       FULL JOIN (SELECT * FROM ${IDS} WHERE gsis_id IS NOT NULL QUALIFY count(*) OVER (PARTITION BY gsis_id) = 1) AS i USING (gsis_id)`,
    );
    const gold = byId(await rows<{ player_id: string; weight: number | null; height: number | null; college: string | null }>(`SELECT player_id, weight, height, college FROM gold.dim_player`));
    expect(expected.length).toBeGreaterThan(8000);
    for (const e of expected) expect(gold.get(e.player_id), e.player_id).toEqual(e);
    // The example: rosters say 205 lb and "Brigham Young"; the ids file (212, "BYU") does not win.
    expect(gold.get('00-0039075')).toMatchObject({ weight: 205, college: 'Brigham Young' });
  });

  it('combine measurements are the combine file’s row of the player’s PFR id (height "6-2" = 74 inches)', async () => {
    const expected = await rawRows<Record<string, unknown> & { player_id: string }>(
      `WITH who AS (
         SELECT gsis_id, pfr_id FROM ${ROSTER} WHERE gsis_id IS NOT NULL AND pfr_id IS NOT NULL
         UNION SELECT gsis_id, pfr_id FROM ${IDS} WHERE gsis_id IS NOT NULL AND pfr_id IS NOT NULL AND gsis_id NOT IN (SELECT gsis_id FROM ${ROSTER} WHERE gsis_id IS NOT NULL AND pfr_id IS NOT NULL)
       )
       SELECT w.gsis_id AS player_id, c.season AS combine_season, c.pos AS combine_position,
              CAST(split_part(c.ht, '-', 1) AS INTEGER) * 12 + CAST(split_part(c.ht, '-', 2) AS INTEGER) AS combine_height,
              c.wt AS combine_weight, c.forty, c.bench, c.vertical, c.broad_jump, c.cone, c.shuttle
       FROM ${COMBINE} AS c JOIN who AS w ON w.pfr_id = c.pfr_id
       WHERE c.pfr_id IN (SELECT pfr_id FROM ${COMBINE} GROUP BY pfr_id HAVING count(*) = 1)
         AND w.gsis_id IN (SELECT gsis_id FROM who GROUP BY gsis_id HAVING count(*) = 1)`,
    );
    const gold = byId(await rows<Record<string, unknown> & { player_id: string }>(`SELECT player_id, combine_season, combine_position, combine_height, combine_weight, forty, bench, vertical, broad_jump, cone, shuttle FROM gold.dim_player`));
    expect(expected.length).toBeGreaterThan(300);
    for (const e of expected) {
      const g = gold.get(e.player_id)!;
      expect(g, e.player_id).toBeDefined();
      for (const [column, value] of Object.entries(e)) expect(g[column], `${e.player_id} ${column}`).toEqual(value === null || typeof value === 'string' ? value : Number(value));
    }
  });
});

describe('fact_team_week priors and fact_game lines against the raw betting and pbp files', () => {
  it('every 2020 week-1 team row carries the win_totals file’s win total and true wins, and implied points from the game’s lines', async () => {
    const expected = await rawRows<{ team: string; win_total: number; true_wins: number; implied: number; implied_against: number }>(
      `WITH games AS (SELECT DISTINCT game_id, home_team, away_team, spread_line, total_line FROM ${PBP}),
       sides AS (SELECT home_team AS team, spread_line AS team_spread, total_line FROM games UNION ALL SELECT away_team, -spread_line, total_line FROM games)
       SELECT s.team, CAST(w.win_total AS DOUBLE) AS win_total, TRY_CAST(w.true_wins AS DOUBLE) AS true_wins, (s.total_line + s.team_spread) / 2 AS implied, (s.total_line - s.team_spread) / 2 AS implied_against
       FROM sides AS s JOIN ${WIN_TOTALS} AS w ON w.team = s.team AND w.season = 2020 ORDER BY s.team`,
    );
    const gold = await rows<{ team: string; preseason_win_total: number; preseason_expected_wins: number; implied_points: number; implied_points_against: number }>(
      `SELECT team, preseason_win_total, preseason_expected_wins, implied_points, implied_points_against FROM gold.fact_team_week WHERE season = 2020 AND week = 1 ORDER BY team`,
    );
    expect(expected).toHaveLength(32);
    expect(gold.map((g) => g.team)).toEqual(expected.map((e) => e.team));
    for (const [i, e] of expected.entries()) {
      expect(gold[i], e.team).toEqual({ team: e.team, preseason_win_total: e.win_total, preseason_expected_wins: e.true_wins === null ? null : expect.closeTo(e.true_wins, 12), implied_points: e.implied, implied_points_against: e.implied_against });
    }
    // Seasons the win totals file does not cover have no prior.
    expect(await env.count(`SELECT count(*) FROM gold.fact_team_week WHERE season = 2023 AND preseason_win_total IS NOT NULL`)).toBe(0);
  });

  it('games schedules lack take spread_line from scoring lines (home side negated) ahead of pbp; scheduled games keep the schedules line', async () => {
    const expected = await rawRows<{ game_id: string; spread: number }>(`SELECT alt_game_id AS game_id, -line AS spread FROM read_csv('${SC_FIXTURE}') WHERE side = home_team ORDER BY 1`);
    const gold = await rows<{ game_id: string; spread_line: number; lines_source: string }>(`SELECT game_id, spread_line, lines_source FROM gold.fact_game WHERE season = 2020 ORDER BY game_id`);
    expect(expected).toHaveLength(16);
    expect(gold).toEqual(expected.map((e) => ({ game_id: e.game_id, spread_line: e.spread, lines_source: 'scoring_lines' })));
    const [scheduled] = await rawRows<{ spread_line: number }>(`SELECT spread_line FROM ${csv('schedules/games_2023_2024.csv')} WHERE game_id = '2023_01_DET_KC'`);
    expect(await rows(`SELECT spread_line, lines_source FROM gold.fact_game WHERE game_id = '2023_01_DET_KC'`)).toEqual([{ spread_line: scheduled!.spread_line, lines_source: 'schedules' }]);
  });
});

describe('fact_player_week snaps and injury status against the raw files', () => {
  it('snap counts reach the player-week through the PFR → GSIS crosswalk; an unmapped PFR id is left out', async () => {
    const expected = await rawRows<{ pfr: string; offense_snaps: number; offense_pct: number; defense_snaps: number; defense_pct: number; st_snaps: number }>(
      `SELECT pfr_player_id AS pfr, offense_snaps, offense_pct, defense_snaps, defense_pct, st_snaps FROM read_csv('${SNAP_FIXTURE}') WHERE pfr_player_id <> 'NobodyXx99'`,
    );
    const gold = await rows<{ pfr: string; offense_snaps: number; offense_snap_share: number; defense_snaps: number; defense_snap_share: number; st_snaps: number; game_id: string }>(
      `SELECT p.pfr_id AS pfr, f.offense_snaps, f.offense_snap_share, f.defense_snaps, f.defense_snap_share, f.st_snaps, f.game_id
       FROM gold.fact_player_week AS f JOIN gold.dim_player AS p USING (player_id) WHERE f.season = 2023 AND f.week = 1 AND f.offense_snaps IS NOT NULL`,
    );
    expect(gold.map((g) => g.pfr).sort()).toEqual(expected.map((e) => e.pfr).sort());
    for (const e of expected) {
      expect(gold.find((g) => g.pfr === e.pfr), e.pfr).toEqual({ pfr: e.pfr, offense_snaps: e.offense_snaps, offense_snap_share: e.offense_pct, defense_snaps: e.defense_snaps, defense_snap_share: e.defense_pct, st_snaps: e.st_snaps, game_id: '2023_01_MIA_LAC' });
    }
  });

  it('injury status, primary injury and practice status are the injury report’s for every reported player-week', async () => {
    const expected = await rawRows<{ week: number; player_id: string; status: string | null; injury: string | null; practice: string | null }>(
      `SELECT week, gsis_id AS player_id, report_status AS status, report_primary_injury AS injury, practice_status AS practice FROM ${INJURIES} ORDER BY week, gsis_id`,
    );
    const gold = await rows<{ week: number; player_id: string; status: string | null; injury: string | null; practice: string | null }>(
      `SELECT week, player_id, injury_status AS status, injury_primary AS injury, practice_status AS practice FROM gold.fact_player_week WHERE season = 2025 ORDER BY week, player_id`,
    );
    expect(expected.length).toBeGreaterThan(5000);
    expect(gold).toEqual(expected);
  });
});

describe('fact_player_week depth-chart slot against the raw depth charts', () => {
  it('a 2025 regular-season player-week has the best slot of his team’s last Tuesday–Sunday snapshot of that week', async () => {
    // Labor Day 2025 is Monday 1 September, so week 1 runs Tuesday 2 to Sunday 7 September (US Eastern), week w 7(w − 1) days later.
    const expected = await rawRows<{ week: number; player_id: string; depth_position: string; depth_rank: number }>(
      `WITH weeks AS (SELECT w AS week, DATE '2025-09-02' + CAST(7 * (w - 1) AS INTEGER) AS first_day, DATE '2025-09-02' + CAST(7 * (w - 1) + 5 AS INTEGER) AS last_day FROM range(1, 19) AS r(w)),
       snaps AS (
         SELECT w.week, d.team, d.gsis_id, d.pos_abb, d.pos_rank, d.pos_grp, d.dt
         FROM ${csv('depth_charts/depth_charts_2025_2026_subset.csv')} AS d
         JOIN weeks AS w ON CAST(d.dt AT TIME ZONE 'America/New_York' AS DATE) BETWEEN w.first_day AND w.last_day
         WHERE d.season = 2025 AND d.gsis_id IS NOT NULL
       ),
       last AS (SELECT * FROM snaps WHERE (week, team, dt) IN (SELECT (week, team, max(dt)) FROM snaps GROUP BY week, team))
       SELECT week, gsis_id AS player_id, arg_min(pos_abb, (pos_grp = 'Special Teams', pos_rank, pos_abb)) AS depth_position, arg_min(pos_rank, (pos_grp = 'Special Teams', pos_rank, pos_abb)) AS depth_rank
       FROM last GROUP BY ALL ORDER BY week, player_id`,
    );
    const gold = byKey(await rows<{ week: number; player_id: string; depth_position: string | null; depth_rank: number | null }>(
      `SELECT week, player_id, depth_position, depth_rank FROM gold.fact_player_week WHERE season = 2025 AND week <= 18`,
    ));
    const compared = expected.filter((e) => gold.has(`${e.week}/${e.player_id}`));
    expect(compared.length).toBeGreaterThan(50);
    for (const e of compared) expect(gold.get(`${e.week}/${e.player_id}`), `${e.week}/${e.player_id}`).toEqual({ week: e.week, player_id: e.player_id, depth_position: e.depth_position, depth_rank: e.depth_rank });
    // A reported player-week with no snapshot that week has no slot.
    const slotted = new Set(expected.map((e) => `${e.week}/${e.player_id}`));
    for (const [key, g] of gold) if (!slotted.has(key)) expect(g.depth_rank, key).toBeNull();
  });
});

describe('the data dictionary names each raw-sourced column’s source and rule', () => {
  it.each([
    ['dim_player', ['weight', 'college', 'height'], /rosters.*players.*player_ids/],
    ['dim_player', ['draft_year', 'draft_round', 'draft_pick', 'draft_team'], /draft_picks/],
    ['dim_player', ['combine_season', 'combine_height', 'combine_weight', 'forty', 'bench', 'vertical', 'broad_jump', 'cone', 'shuttle'], /combine/],
    ['fact_team_week', ['preseason_win_total', 'preseason_expected_wins'], /win_totals/],
    ['fact_team_week', ['implied_points', 'implied_points_against'], /total_line/],
    ['fact_game', ['spread_line'], /schedules.*scoring_lines.*pbp/],
  ] as const)('%s %j', async (mart, columns, source) => {
    const described = (await describeMarts({ catalog, lake: env.lake })).find((m) => m.mart === mart)!;
    for (const c of columns) expect(described.columns.find((col) => col.name === c)?.description, `${mart}.${c}`).toMatch(source);
  });
});
