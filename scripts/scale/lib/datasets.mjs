/**
 * One writer per enabled catalog dataset: the SQL of its meaningful columns over the base tables
 * (base.mjs) and the plays (plays.mjs), written at the dataset's asset keys. Every file's
 * nflverse_timestamp is the time its content last changed in the evolution, so a state that does
 * not change a file's rows leaves its bytes (and ETag) as they were.
 */
import { columnsOf, lit, selectFor } from './columns.mjs';
import { buildPlays } from './plays.mjs';
import { weekThursday } from './world.mjs';
import { moreWriters } from './more.mjs';

const DAY = 86_400_000;
const TZ_FORMAT = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Toronto', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
/** nflverse's timestamp format: Toronto local time with the zone abbreviation. */
export function nflverseTimestamp(ms) {
  const p = Object.fromEntries(TZ_FORMAT.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}

export function datasetWriters(ctx) {
  const { con, current, evo } = ctx;
  const morning = (ms) => ms + 9 * 3_600_000;
  /** When a file's content last changed: its season is over, or the newest game / correction / day it includes. */
  const changedAt = async (family, season) => {
    if (season !== current || evo.today === undefined) return morning(Date.UTC(season + 1, 2, 1));
    if (family === 'daily') return morning(evo.today);
    if (family === 'rosters') {
      let t = evo.today;
      while (new Date(t).getUTCDay() !== 2) t -= DAY;
      return morning(t);
    }
    const [row] = await ctx.rows(`SELECT max(gameday) AS d FROM games WHERE season = ${current} AND played`);
    let t = row.d ? Date.parse(row.d) + DAY : weekThursday(current, 1) - 30 * DAY;
    if (family === 'corrected') {
      for (let d = evo.today; d > evo.today - 7 * DAY; d -= DAY) if (new Date(d).getUTCDay() === 4 && d > t && d >= weekThursday(current, 2)) t = d;
    }
    return morning(t);
  };
  const STATIC = morning(Date.UTC(current, 7, 20));
  const parquet = async (key, columns, core, from, order, { family = 'static', season, type }) => {
    const ts = family === 'static' ? STATIC : await changedAt(family, season ?? current);
    return ctx.write(key, selectFor(columns, core, from, order), { format: 'parquet', timestamp: nflverseTimestamp(ts), type });
  };
  const csv = (key, columns, core, from, order, format = 'csv') => ctx.write(key, selectFor(columns, { ...Object.fromEntries(columns.map(([c]) => [c, 'NULL'])), ...core }, from, order), { format });

  const pbpColumns = columnsOf('pbp', 'play_by_play_{year}.parquet');
  const statsWeekColumns = columnsOf('stats_player', 'stats_player_week_{year}.parquet');
  const statsSeasonColumns = columnsOf('stats_player', 'stats_player_reg_{year}.parquet');
  const teamWeekColumns = columnsOf('stats_team', 'stats_team_week_{year}.parquet');
  const legacyColumns = columnsOf('player_stats', 'player_stats_{year}.parquet');
  const rosterColumns = columnsOf('rosters', 'roster_{year}.parquet');
  const weeklyRosterColumns = columnsOf('weekly_rosters', 'roster_weekly_{year}.parquet');

  const identity = {
    player_id: 'p.gsis_id', player_name: 'p.short_name', player_display_name: 'p.full_name', position: 'p.pos', position_group: 'p.pos_group',
    headshot_url: `'https://static.www.nfl.com/image/private/f_auto,q_auto/league/' || p.esb_id`,
  };
  const statCore = {
    completions: 'l.completions', attempts: 'l.attempts', passing_yards: 'l.passing_yards', passing_tds: 'l.passing_tds', passing_interceptions: 'l.passing_interceptions',
    sacks_suffered: 'l.sacks_suffered', sack_yards_lost: 'l.sack_yards_lost', passing_epa: 'l.passing_epa', carries: 'l.carries', rushing_yards: 'l.rushing_yards',
    rushing_tds: 'l.rushing_tds', rushing_epa: 'l.rushing_epa', receptions: 'l.receptions', targets: 'l.targets', receiving_yards: 'l.receiving_yards',
    receiving_tds: 'l.receiving_tds', receiving_air_yards: 'l.receiving_air_yards', receiving_epa: 'l.receiving_epa', def_tackles_solo: 'l.def_tackles_solo',
    fg_att: 'l.fg_att', fg_made: 'l.fg_made', fg_missed: 'l.fg_att - l.fg_made',
    passing_cpoe: 'CASE WHEN l.attempts > 0 THEN round((hash(l.idnum, l.week) % 2000) / 100.0 - 10, 3) END',
    target_share: 'CASE WHEN l.targets > 0 THEN round(l.targets / greatest(l.team_targets, 1), 4) END',
    air_yards_share: 'CASE WHEN l.targets > 0 THEN round(l.receiving_air_yards / greatest(l.team_air_yards, 1), 4) END',
    fantasy_points: 'round(l.passing_yards * 0.04 + l.passing_tds * 4 - l.passing_interceptions * 2 + (l.rushing_yards + l.receiving_yards) * 0.1 + (l.rushing_tds + l.receiving_tds) * 6, 2)',
    fantasy_points_ppr: 'round(l.passing_yards * 0.04 + l.passing_tds * 4 - l.passing_interceptions * 2 + (l.rushing_yards + l.receiving_yards) * 0.1 + (l.rushing_tds + l.receiving_tds) * 6 + l.receptions, 2)',
  };
  const linesFrom = (where = 'true') => `(SELECT l.*, sum(l.targets) OVER (PARTITION BY l.game_id, l.fr) AS team_targets, sum(l.receiving_air_yards) OVER (PARTITION BY l.game_id, l.fr) AS team_air_yards,
      code_of(l.fr, l.season) AS team, code_of(l.opp_fr, l.season) AS opponent, hash(l.game_id, l.idnum) AS __rid, code_of(l.fr, l.season) AS __team
    FROM lines l WHERE ${where}) l JOIN people p ON p.idnum = l.idnum`;

  const perSeason = async (season) => {
    await buildPlays(con, season);
    const out = [];
    const pbpCore = {
      play_id: 'play_id', game_id: 'game_id', old_game_id: 'old_game_id', home_team: 'home_team', away_team: 'away_team', season_type: 'season_type', week: 'week',
      posteam: "CASE WHEN play_type <> 'kickoff' OR true THEN posteam END", posteam_type: 'posteam_type', defteam: 'defteam', side_of_field: "CASE WHEN yardline_100 > 50 THEN posteam ELSE defteam END",
      yardline_100: 'yardline_100', game_date: 'strftime(gameday, \'%Y-%m-%d\')', quarter_seconds_remaining: 'game_seconds_remaining % 900', half_seconds_remaining: 'game_seconds_remaining % 1800',
      game_seconds_remaining: 'game_seconds_remaining', game_half: "CASE WHEN qtr <= 2 THEN 'Half1' WHEN qtr <= 4 THEN 'Half2' ELSE 'Overtime' END", drive: 'drive', qtr: 'qtr', down: 'down',
      ydstogo: 'ydstogo', play_type: 'play_type', yards_gained: 'yards_gained', desc: `'(' || (i % 15) || ':' || lpad(CAST(i % 60 AS VARCHAR), 2, '0') || ') ' || play_type || ' for ' || yards_gained || ' yards'`,
      pass_attempt: "CAST(play_type = 'pass' AS DOUBLE)", rush_attempt: "CAST(play_type = 'run' AS DOUBLE)", pass: "CAST(play_type = 'pass' AS DOUBLE)", rush: "CAST(play_type = 'run' AS DOUBLE)",
      sack: 'CAST(is_sack AS DOUBLE)', interception: 'CAST(is_int AS DOUBLE)', complete_pass: 'CAST(is_complete AS DOUBLE)', incomplete_pass: "CAST(play_type = 'pass' AND NOT is_sack AND NOT is_int AND NOT is_complete AS DOUBLE)",
      pass_touchdown: 'pass_td', rush_touchdown: 'rush_td', touchdown: 'pass_td + rush_td', td_team: 'CASE WHEN pass_td + rush_td > 0 THEN posteam END',
      air_yards: "CASE WHEN play_type = 'pass' AND NOT is_sack THEN u3 % 15 END", yards_after_catch: 'CASE WHEN is_complete THEN greatest(0, yards_gained - u3 % 15) END',
      field_goal_attempt: "CAST(play_type = 'field_goal' AS DOUBLE)", field_goal_result: "CASE WHEN play_type = 'field_goal' THEN CASE WHEN u2 < 840 THEN 'made' ELSE 'missed' END END",
      kick_distance: "CASE WHEN play_type IN ('field_goal', 'punt', 'kickoff') THEN 20 + u3 % 45 END", punt_attempt: "CAST(play_type = 'punt' AS DOUBLE)", kickoff_attempt: "CAST(play_type = 'kickoff' AS DOUBLE)",
      epa: 'epa', ep: 'round(yardline_100 / -25.0 + 4, 4)', success: 'CASE WHEN epa IS NOT NULL THEN CAST(epa > 0 AS DOUBLE) END',
      wp: 'round(0.5 + (total_home_score - total_away_score) / 60.0, 4)', penalty: 'CAST(penalty_team IS NOT NULL AS DOUBLE)', penalty_team: 'penalty_team',
      penalty_yards: 'CASE WHEN penalty_team IS NOT NULL THEN [5, 10, 15][u3 % 3 + 1] END', penalty_type: "CASE WHEN penalty_team IS NOT NULL THEN ['Offensive Holding', 'False Start', 'Defensive Pass Interference'][u3 % 3 + 1] END",
      total_home_score: 'total_home_score', total_away_score: 'total_away_score',
      posteam_score: "CASE WHEN posteam_type = 'home' THEN total_home_score ELSE total_away_score END", defteam_score: "CASE WHEN posteam_type = 'home' THEN total_away_score ELSE total_home_score END",
      score_differential: "CASE WHEN posteam_type = 'home' THEN total_home_score - total_away_score ELSE total_away_score - total_home_score END",
      passer_player_id: 'gsis(passer_idnum)', passer_player_name: 'pa.short_name', passing_yards: "CASE WHEN is_complete THEN yards_gained END",
      receiver_player_id: 'gsis(receiver_idnum)', receiver_player_name: 're.short_name', receiving_yards: 'CASE WHEN is_complete THEN yards_gained END',
      rusher_player_id: 'gsis(rusher_idnum)', rusher_player_name: 'ru.short_name', rushing_yards: "CASE WHEN play_type = 'run' THEN yards_gained END",
      kicker_player_id: 'gsis(kicker_idnum)', kicker_player_name: 'ki.short_name', punter_player_id: 'gsis(punter_idnum)', punter_player_name: 'pu.short_name',
      solo_tackle_1_player_id: 'gsis(tackler_idnum)', solo_tackle_1_player_name: 'ta.short_name', solo_tackle_1_team: 'CASE WHEN tackler_idnum IS NOT NULL THEN defteam END', solo_tackle: 'CAST(tackler_idnum IS NOT NULL AS DOUBLE)',
      passer: 'pa.short_name', passer_id: 'gsis(passer_idnum)', rusher: 'ru.short_name', rusher_id: 'gsis(rusher_idnum)', receiver: 're.short_name', receiver_id: 'gsis(receiver_idnum)',
      season: 'season', play_deleted: '0', start_time: "gametime || ':00'", stadium: "home || ' Stadium'", game_stadium: "home || ' Stadium'", stadium_id: "home || '00'",
      away_score: 'away_score', home_score: 'home_score', location: 'location', result: 'home_score - away_score', total: 'home_score + away_score', spread_line: 'spread_line', total_line: 'total_line',
      div_game: 'div_game', roof: "CASE WHEN hash(home) % 4 = 0 THEN 'dome' ELSE 'outdoors' END", surface: "CASE WHEN hash(home) % 3 = 0 THEN 'fieldturf' ELSE 'grass' END",
      home_coach: "'Coach ' || last_name(hash(home, season // 6))", away_coach: "'Coach ' || last_name(hash(away, season // 6))", nfl_api_id: 'uuid_of(game_id)',
      two_point_attempt: '0', timeout: '0', fumble: '0', fumble_lost: '0', safety: '0', special_teams_play: "CAST(play_type IN ('punt', 'field_goal', 'kickoff') AS DOUBLE)",
      aborted_play: '0', qb_dropback: "CAST(play_type = 'pass' AS DOUBLE)", qb_kneel: '0', qb_spike: '0', cp: "CASE WHEN play_type = 'pass' AND NOT is_sack THEN round(0.4 + u4 / 2000.0, 4) END",
      cpoe: "CASE WHEN play_type = 'pass' AND NOT is_sack THEN round(((is_complete::INT) - (0.4 + u4 / 2000.0)) * 100, 3) END",
    };
    const pbpFrom = `(SELECT *, CAST(floor(home_score * (i + 1) / n_plays) AS DOUBLE) AS total_home_score, CAST(floor(away_score * (i + 1) / n_plays) AS DOUBLE) AS total_away_score,
        hash(game_id, i) AS __rid, posteam AS __team FROM plays) x
      LEFT JOIN people pa ON pa.idnum = passer_idnum LEFT JOIN people re ON re.idnum = receiver_idnum LEFT JOIN people ru ON ru.idnum = rusher_idnum
      LEFT JOIN people ki ON ki.idnum = kicker_idnum LEFT JOIN people pu ON pu.idnum = punter_idnum LEFT JOIN people ta ON ta.idnum = tackler_idnum`;
    out.push(await parquet(`nflverse/pbp/play_by_play_${season}.parquet`, pbpColumns, pbpCore, pbpFrom, 'game_id, play_id', { family: 'corrected', season, type: 'play by play' }));

    // stats_player (weekly and season summaries) and legacy player_stats, from the game lines.
    const weekCore = { ...identity, ...statCore, season: 'l.season', week: 'l.week', season_type: 'l.season_type', game_id: 'l.game_id', team: 'l.team', opponent_team: 'l.opponent' };
    out.push(await parquet(`nflverse/stats_player/stats_player_week_${season}.parquet`, statsWeekColumns, weekCore, linesFrom(), 'l.week, p.gsis_id', { family: 'corrected', season, type: 'player stats (week)' }));
    for (const [variant, types, label] of [['reg', "('REG')", 'REG'], ['post', "('POST')", 'POST'], ['regpost', "('REG', 'POST')", 'REG+POST']]) {
      const [{ n }] = await ctx.rows(`SELECT count(*) AS n FROM lines WHERE season_type IN ${types}`);
      if (Number(n) === 0 && season === current) continue; // not published before the first game of the level
      const from = `(SELECT idnum, season, arg_max(code_of(fr, season), week) AS team, count(DISTINCT game_id) AS games,
          ${['completions', 'attempts', 'passing_yards', 'passing_tds', 'passing_interceptions', 'sacks_suffered', 'sack_yards_lost', 'passing_epa', 'carries', 'rushing_yards', 'rushing_tds', 'rushing_epa', 'receptions', 'targets', 'receiving_yards', 'receiving_tds', 'receiving_air_yards', 'receiving_epa', 'def_tackles_solo', 'fg_att', 'fg_made'].map((c) => (c.endsWith("epa") ? `dsum(${c}) AS ${c}` : `sum(${c}) AS ${c}`)).join(', ')},
          0 AS week, sum(targets) AS team_targets, sum(receiving_air_yards) AS team_air_yards, hash(idnum, ${lit(variant)}) AS __rid, arg_max(code_of(fr, season), week) AS __team
        FROM lines WHERE season_type IN ${types} GROUP BY idnum, season) l JOIN people p ON p.idnum = l.idnum`;
      const core = { ...identity, ...statCore, season: 'l.season', season_type: lit(label), recent_team: 'l.team', games: 'l.games', target_share: 'NULL', air_yards_share: 'NULL' };
      out.push(await parquet(`nflverse/stats_player/stats_player_${variant}_${season}.parquet`, statsSeasonColumns, core, from, 'p.gsis_id', { family: 'corrected', season, type: `player stats (${variant})` }));
    }
    if (season <= 2024) {
      const core = { ...identity, ...statCore, season: 'l.season', week: 'l.week', season_type: 'l.season_type', recent_team: 'l.team', opponent_team: 'l.opponent', interceptions: 'l.passing_interceptions', sacks: 'l.sacks_suffered', sack_yards: 'l.sack_yards_lost' };
      for (const c of ['passing_interceptions', 'sacks_suffered', 'sack_yards_lost', 'def_tackles_solo', 'fg_att', 'fg_made', 'fg_missed', 'passing_cpoe']) delete core[c];
      out.push(await parquet(`nflverse/player_stats/player_stats_${season}.parquet`, legacyColumns, core, linesFrom(), 'l.week, p.gsis_id', { family: 'corrected', season, type: 'weekly player stats' }));
    }
    // stats_team week: both teams of every played game.
    const teamFrom = `(SELECT l.season, l.week, l.season_type, l.game_id, code_of(l.fr, l.season) AS team, code_of(l.opp_fr, l.season) AS opponent,
        ${['completions', 'attempts', 'passing_yards', 'passing_tds', 'passing_interceptions', 'sacks_suffered', 'sack_yards_lost', 'passing_epa', 'carries', 'rushing_yards', 'rushing_tds', 'rushing_epa', 'receptions', 'targets', 'receiving_yards', 'receiving_tds', 'receiving_air_yards', 'receiving_epa', 'def_tackles_solo', 'fg_att', 'fg_made'].map((c) => (c.endsWith("epa") ? `dsum(${c}) AS ${c}` : `sum(${c}) AS ${c}`)).join(', ')},
        hash(l.game_id, l.fr) AS __rid, code_of(l.fr, l.season) AS __team FROM lines l GROUP BY l.season, l.week, l.season_type, l.game_id, l.fr, l.opp_fr) l`;
    const teamCore = { ...statCore, season: 'l.season', week: 'l.week', season_type: 'l.season_type', game_id: 'l.game_id', team: 'l.team', opponent_team: 'l.opponent', idnum: undefined };
    for (const c of ['passing_cpoe', 'target_share', 'air_yards_share', 'fantasy_points', 'fantasy_points_ppr']) delete teamCore[c];
    delete teamCore.idnum;
    teamCore.fg_missed = 'l.fg_att - l.fg_made';
    out.push(await parquet(`nflverse/stats_team/stats_team_week_${season}.parquet`, teamWeekColumns, teamCore, teamFrom, 'l.week, l.team', { family: 'corrected', season, type: 'team stats (week)' }));

    // Rosters: the season file (one row per player and team) and weekly rosters (2002+).
    const rosterCore = (weekExpr) => ({
      season: 'r.season', team: 'r.team', position: 'r.pos', depth_chart_position: 'r.pos', jersey_number: 'p.jersey',
      status: `CASE WHEN r.slot < 53 THEN 'ACT' WHEN r.slot < 70 THEN 'DEV' ELSE 'RES' END`, full_name: 'p.full_name', first_name: 'p.first_name', last_name: 'p.last_name',
      birth_date: 'p.birth_date', height: 'p.height', weight: 'p.weight', college: 'p.college', gsis_id: 'p.gsis_id', espn_id: 'p.espn_id', sportradar_id: 'p.sportradar_id',
      yahoo_id: 'p.yahoo_id', rotowire_id: 'p.rotowire_id', pff_id: 'p.pff_id', pfr_id: 'p.pfr_id', fantasy_data_id: 'p.fantasy_data_id', sleeper_id: 'p.sleeper_id',
      years_exp: 'r.season - p.rookie', headshot_url: `'https://static.www.nfl.com/image/private/' || p.esb_id`, ngs_position: 'r.pos', week: weekExpr,
      game_type: "'REG'", status_description_abbr: `CASE WHEN r.slot < 53 THEN 'A01' WHEN r.slot < 70 THEN 'P01' ELSE 'R01' END`, football_name: 'p.first_name', esb_id: 'p.esb_id',
      gsis_it_id: 'CAST(50000 + r.idnum AS VARCHAR)', smart_id: 'p.smart_id', entry_year: 'p.rookie', rookie_year: 'p.rookie', draft_club: 'p.draft_team', draft_number: 'p.draft_pick',
    });
    const [{ weeks }] = await ctx.rows(`SELECT max(week) AS weeks FROM games WHERE season = ${season}`);
    const lastRosterWeek = season === current && evo.today !== undefined ? Math.min(Number(weeks), evo.currentWeek() + (new Date(evo.today).getUTCDay() >= 2 && new Date(evo.today).getUTCDay() < 4 ? 1 : 0)) : Number(weeks);
    out.push(await parquet(`nflverse/rosters/roster_${season}.parquet`, rosterColumns, rosterCore(`${Math.max(1, lastRosterWeek)}`),
      `(SELECT *, hash(idnum, season) AS __rid, team AS __team FROM roster WHERE season = ${season}) r JOIN people p ON p.idnum = r.idnum`, 'r.team, p.gsis_id', { family: 'rosters', season, type: 'roster' }));
    if (season >= 2002) {
      const weeklyCore = { ...rosterCore('r.week'), game_type: `CASE WHEN r.week > ${season >= 2021 ? 18 : 17} THEN 'POST' ELSE 'REG' END` };
      const weeklyFrom = `(SELECT r.* EXCLUDE (team), gw.week,
            CASE WHEN r.moved_week IS NOT NULL AND gw.week < r.moved_week THEN code_of(r.slot_franchise, r.season) ELSE r.team END AS team,
            hash(r.idnum, gw.week) AS __rid, r.team AS __team
          FROM roster r JOIN (SELECT DISTINCT week, unnest([home, away]) AS fr FROM games WHERE season = ${season} AND week <= ${lastRosterWeek}) gw
            ON gw.fr = CASE WHEN r.moved_week IS NOT NULL AND gw.week < r.moved_week THEN r.slot_franchise ELSE r.franchise END
          WHERE r.season = ${season}) r JOIN people p ON p.idnum = r.idnum`;
      out.push(await parquet(`nflverse/weekly_rosters/roster_weekly_${season}.parquet`, weeklyRosterColumns, weeklyCore, weeklyFrom, 'r.week, r.team, p.gsis_id', { family: 'rosters', season, type: 'weekly roster' }));
    }
    out.push(...(await perSeasonMore(season)));
    return out;
  };
  const more = moreWriters(ctx, { parquet, csv });
  const perSeasonMore = more.perSeasonMore;
  return { perSeason, singles: more.singles };
}
