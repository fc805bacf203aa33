/**
 * The per-season files beyond plays, stats and rosters (injuries, depth charts, snap counts, PFR
 * weekly), and the single files that hold every season (schedules, NGS, PFR season, QBR,
 * officials, draft, combine, trades, contracts, teams, players and the non-nflverse CSVs).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { columnsOf, lit } from './columns.mjs';
import { isoDate } from './world.mjs';

const LEGACY_DEPTH = [['season', 'INTEGER'], ['club_code', 'VARCHAR'], ['week', 'INTEGER'], ['game_type', 'VARCHAR'], ['depth_team', 'VARCHAR'], ['last_name', 'VARCHAR'], ['first_name', 'VARCHAR'], ['football_name', 'VARCHAR'], ['formation', 'VARCHAR'], ['gsis_id', 'VARCHAR'], ['jersey_number', 'VARCHAR'], ['position', 'VARCHAR'], ['elias_id', 'VARCHAR'], ['depth_position', 'VARCHAR'], ['full_name', 'VARCHAR']];
const cols = (header) => header.split(',').map((c) => [c, 'VARCHAR']);
const PFR_GAME = `strftime(g.gameday, '%Y%m%d') || '0' || lower(g.home_team)`;
const ESPN_GAME = 'CAST(400000000 + g.seq AS VARCHAR)';

export function moreWriters(ctx, w) {
  const { con, current, seasons, evo, scale, slots, repoRoot } = ctx;
  const n = (x, min = 1) => Math.max(min, Math.round(x * scale));
  /** Teams of a season's games with the game, one row per team and game. */
  const teamGames = (season, where = 'played') => `(SELECT g.*, t.fr, t.opp_fr, code_of(t.fr, g.season) AS team, code_of(t.opp_fr, g.season) AS opponent
    FROM games g, (SELECT unnest([g.home, g.away]) AS fr, unnest([g.away, g.home]) AS opp_fr) t WHERE g.season = ${season} AND ${where})`;

  const perSeasonMore = async (season) => {
    const out = [];
    const today = evo.today;
    if (season >= 2009) {
      const per = n(10);
      const visible = season === current && today !== undefined ? `AND g.gameday - 3 + CAST(hash(g.game_id, tg.fr, k.k) % 6 AS INTEGER) < DATE '${isoDate(today)}'` : '';
      const from = `(SELECT DISTINCT ON (tg.season, tg.week, tg.team, r.idnum) tg.*, r.idnum, k.k, hash(tg.game_id, tg.fr, k.k) AS h, hash(tg.game_id, r.idnum) AS __rid, tg.team AS __team
          FROM ${teamGames(season, 'true')} tg JOIN games g ON g.game_id = tg.game_id, range(${per}) k(k)
          JOIN roster_all r ON r.season = tg.season AND r.franchise = tg.fr AND r.slot = CAST(hash(tg.game_id, tg.fr, k.k) % ${slots} AS INTEGER)
          WHERE true ${visible}) i JOIN people p ON p.idnum = i.idnum`;
      const injuries = ['Knee', 'Ankle', 'Hamstring', 'Concussion', 'Shoulder', 'Back', 'Groin', 'Calf'];
      const core = {
        season: 'i.season', season_type: 'i.season_type', game_type: 'i.game_type', team: 'i.team', week: 'i.week', gsis_id: 'p.gsis_id', position: 'p.pos', full_name: 'p.full_name',
        first_name: 'p.first_name', last_name: 'p.last_name', report_primary_injury: `[${injuries.map(lit).join(', ')}][CAST(i.h % 8 AS INTEGER) + 1]`, report_secondary_injury: 'NULL',
        report_status: `CASE WHEN i.h % 4 = 0 THEN 'Out' WHEN i.h % 4 = 1 THEN 'Questionable' WHEN i.h % 4 = 2 THEN 'Doubtful' END`,
        practice_primary_injury: `[${injuries.map(lit).join(', ')}][CAST(i.h % 8 AS INTEGER) + 1]`, practice_secondary_injury: 'NULL',
        practice_status: `['Did Not Participate In Practice', 'Limited Participation in Practice', 'Full Participation in Practice'][CAST((i.h >> 8) % 3 AS INTEGER) + 1]`,
      };
      out.push(await w.parquet(`nflverse/injuries/injuries_${season}.parquet`, columnsOf('injuries', 'injuries_{year}.parquet'), core, from, 'i.week, i.team, p.gsis_id', { family: 'daily', season, type: 'injuries' }));
    }
    if (season >= 2001) {
      const per = Math.min(slots, n(60, 4));
      if (season >= 2025) {
        const days = evo.season === season ? evo.snapshotDays() : [];
        const dayList = days.map((d) => `TIMESTAMP '${isoDate(d)} 10:09:07'`).join(', ');
        const from = `(SELECT r.*, d.dt, row_number() OVER (PARTITION BY d.dt, r.franchise, r.pos ORDER BY (r.slot + CAST(hash(r.idnum, d.dt) % 3 = 0 AND r.slot >= 26 AS INTEGER) * 100), r.slot) AS pos_rank,
            hash(r.idnum, d.dt) AS __rid, r.team AS __team
          FROM roster r, unnest([${dayList}]) d(dt) WHERE r.season = ${season} AND r.slot < ${per}) r JOIN people p ON p.idnum = r.idnum`;
        const core = {
          dt: `strftime(r.dt, '%Y-%m-%dT%H:%M:%SZ')`, team: 'r.team', player_name: 'p.full_name', espn_id: 'p.espn_id', gsis_id: 'p.gsis_id',
          pos_grp_id: `CASE r.side WHEN 'O' THEN '15' WHEN 'D' THEN '16' ELSE '17' END`, pos_grp: `CASE r.side WHEN 'O' THEN '3WR 1TE' WHEN 'D' THEN 'Base 4-3 D' ELSE 'Special Teams' END`,
          pos_id: `CAST(hash(r.pos) % 40 AS VARCHAR)`, pos_name: 'r.pos', pos_abb: 'r.pos', pos_slot: 'CAST(hash(r.pos) % 12 AS INTEGER)', pos_rank: 'r.pos_rank',
        };
        if (days.length > 0) out.push(await w.parquet(`nflverse/depth_charts/depth_charts_${season}.parquet`, columnsOf('depth_charts', 'depth_charts_{year}.parquet'), core, from, 'r.dt, r.team, r.pos, r.pos_rank', { family: 'daily', season, type: 'depth charts' }));
      } else {
        const from = `(SELECT tg.season, tg.week, tg.game_type, tg.team, r.idnum, r.pos, r.side, row_number() OVER (PARTITION BY tg.game_id, tg.fr, r.pos ORDER BY r.slot) AS depth_team,
            hash(tg.game_id, r.idnum) AS __rid, tg.team AS __team
          FROM ${teamGames(season, 'true')} tg JOIN roster_all r ON r.season = tg.season AND r.franchise = tg.fr AND r.slot < ${per}) r JOIN people p ON p.idnum = r.idnum`;
        const core = {
          season: 'r.season', club_code: 'r.team', week: 'r.week', game_type: 'r.game_type', depth_team: 'CAST(r.depth_team AS VARCHAR)', last_name: 'p.last_name', first_name: 'p.first_name',
          football_name: 'p.first_name', formation: `CASE r.side WHEN 'O' THEN 'Offense' WHEN 'D' THEN 'Defense' ELSE 'Special Teams' END`, gsis_id: 'p.gsis_id', jersey_number: 'CAST(p.jersey AS VARCHAR)',
          position: 'r.pos', elias_id: 'p.esb_id', depth_position: 'r.pos', full_name: 'p.full_name',
        };
        out.push(await w.parquet(`nflverse/depth_charts/depth_charts_${season}.parquet`, LEGACY_DEPTH, core, from, 'r.week, r.team, r.pos, r.depth_team', { family: 'static', season, type: 'depth charts' }));
      }
    }
    if (season >= 2012) {
      const per = Math.min(slots, 46);
      const from = `(SELECT tg.*, r.idnum, r.side, hash(tg.game_id, r.idnum) AS h, hash(tg.game_id, r.idnum) AS __rid, tg.team AS __team
          FROM ${teamGames(season)} tg JOIN roster_all r ON r.season = tg.season AND r.franchise = tg.fr AND r.slot < ${per}) s JOIN people p ON p.idnum = s.idnum`;
      const core = {
        game_id: 's.game_id', pfr_game_id: PFR_GAME.replaceAll('g.', 's.'), season: 's.season', game_type: 's.game_type', week: 's.week', player: 'p.full_name', pfr_player_id: 'p.pfr_id',
        position: 'p.pos', team: 's.team', opponent: 's.opponent',
        offense_snaps: `CASE WHEN s.side = 'O' THEN 40 + s.h % 30 ELSE 0 END`, offense_pct: `CASE WHEN s.side = 'O' THEN round((40 + s.h % 30) / 70.0, 2) ELSE 0 END`,
        defense_snaps: `CASE WHEN s.side = 'D' THEN 35 + s.h % 30 ELSE 0 END`, defense_pct: `CASE WHEN s.side = 'D' THEN round((35 + s.h % 30) / 65.0, 2) ELSE 0 END`,
        st_snaps: '(s.h >> 8) % 25', st_pct: 'round(((s.h >> 8) % 25) / 30.0, 2)',
      };
      out.push(await w.parquet(`nflverse/snap_counts/snap_counts_${season}.parquet`, columnsOf('snap_counts', 'snap_counts_{year}.parquet'), core, from, 's.week, s.game_id, s.team, p.pfr_id', { family: 'games', season, type: 'snap counts' }));
    }
    if (season >= 2018) {
      const variants = { pass: [0], rush: [2, 3], rec: [4, 5, 6, 7], def: [13, 14, 15, 16, 17, 18, 19, 20, 21, 22] };
      for (const [variant, slotList] of Object.entries(variants)) {
        const from = `(SELECT tg.*, r.idnum, hash(tg.game_id, r.idnum) AS h, hash(tg.game_id, r.idnum) AS __rid, tg.team AS __team
            FROM ${teamGames(season)} tg JOIN roster_all r ON r.season = tg.season AND r.franchise = tg.fr AND r.slot IN (${slotList.join(', ')})) a JOIN people p ON p.idnum = a.idnum`;
        const core = {
          game_id: 'a.game_id', pfr_game_id: PFR_GAME.replaceAll('g.', 'a.'), season: 'a.season', week: 'a.week', game_type: 'a.game_type', team: 'a.team', opponent: 'a.opponent',
          pfr_player_name: 'p.full_name', pfr_player_id: 'p.pfr_id',
        };
        const file = `advstats_week_${variant}_{year}.parquet`;
        out.push(await w.parquet(`nflverse/pfr_advstats/advstats_week_${variant}_${season}.parquet`, columnsOf('pfr_advstats', file), core, from, 'a.week, a.game_id, a.team, p.pfr_id', { family: 'games', season, type: `pfr advstats week ${variant}` }));
      }
    }
    await con.run('CREATE TABLE IF NOT EXISTS all_lines AS SELECT * FROM lines LIMIT 0');
    await con.run('INSERT INTO all_lines SELECT * FROM lines');
    return out;
  };

  const singles = async () => {
    const out = [];
    const inScope = (first, last = current) => seasons.filter((s) => s >= first && s <= last);
    const seasonList = (first, last) => `(${[...inScope(first, last), -1].join(', ')})`;
    // schedules/games: every game of the seasons, scores once played.
    const schedCore = {
      game_id: 'g.game_id', season: 'g.season', game_type: 'g.game_type', week: 'g.week', gameday: "strftime(g.gameday, '%Y-%m-%d')", weekday: 'g.weekday', gametime: 'g.gametime',
      away_team: 'g.away_team', away_score: 'CASE WHEN g.played THEN g.away_score END', home_team: 'g.home_team', home_score: 'CASE WHEN g.played THEN g.home_score END', location: 'g.location',
      result: 'CASE WHEN g.played THEN g.home_score - g.away_score END', total: 'CASE WHEN g.played THEN g.home_score + g.away_score END', overtime: 'CASE WHEN g.played THEN g.overtime END',
      old_game_id: 'g.old_game_id', gsis: '50000 + g.seq', nfl_detail_id: 'uuid_of(g.game_id)', pfr: PFR_GAME, pff: '20000 + g.seq', espn: ESPN_GAME, ftn: 'CASE WHEN g.season >= 2022 THEN 6000 + g.seq END',
      away_rest: '7', home_rest: '7', away_moneyline: 'CAST(round(g.spread_line * 25) + 110 AS INTEGER)', home_moneyline: 'CAST(-round(g.spread_line * 25) - 110 AS INTEGER)', spread_line: 'g.spread_line',
      away_spread_odds: '-110', home_spread_odds: '-110', total_line: 'g.total_line', under_odds: '-110', over_odds: '-110', div_game: 'g.div_game',
      roof: "CASE WHEN hash(g.home) % 4 = 0 THEN 'dome' ELSE 'outdoors' END", surface: "CASE WHEN hash(g.home) % 3 = 0 THEN 'fieldturf' ELSE 'grass' END", temp: 'CAST(40 + hash(g.game_id) % 45 AS INTEGER)', wind: 'CAST(hash(g.game_id, 1) % 20 AS INTEGER)',
      away_qb_id: 'gsis(aq.idnum)', home_qb_id: 'gsis(hq.idnum)', away_qb_name: 'apq.full_name', home_qb_name: 'hpq.full_name',
      away_coach: "'Coach ' || last_name(hash(g.away, g.season // 6))", home_coach: "'Coach ' || last_name(hash(g.home, g.season // 6))", referee: "CASE WHEN g.season >= 2015 THEN 'Ref ' || last_name(hash(g.game_id, 'ref') % 17) END",
      stadium_id: "g.home || '00'", stadium: "g.home || ' Stadium'",
    };
    const schedFrom = `(SELECT *, seq AS __rid, home_team AS __team FROM games) g
      LEFT JOIN roster_all aq ON aq.season = g.season AND aq.franchise = g.away AND aq.slot = 0 LEFT JOIN people apq ON apq.idnum = aq.idnum
      LEFT JOIN roster_all hq ON hq.season = g.season AND hq.franchise = g.home AND hq.slot = 0 LEFT JOIN people hpq ON hpq.idnum = hq.idnum`;
    out.push(await w.parquet('nflverse/schedules/games.parquet', columnsOf('schedules', 'games.parquet'), schedCore, schedFrom, 'g.season, g.week, g.game_id', { family: 'games', type: 'games and schedules' }));

    // Next Gen Stats: weekly rows of players above NGS volume, and week 0 = regular-season total.
    const ngsWeek = `CASE WHEN l.season_type = 'POST' AND g.game_type = 'SB' THEN g.week + 1 ELSE g.week END`;
    const base = (filter) => `(SELECT l.*, ${ngsWeek} AS ngs_week, code_of(l.fr, l.season) AS team FROM all_lines l JOIN games g ON g.game_id = l.game_id WHERE l.season IN ${seasonList(2016)} AND ${filter}
        UNION ALL SELECT l.season, 0, 'REG', NULL, arg_max(l.fr, l.week), NULL, l.idnum, ${['completions', 'attempts', 'passing_yards', 'passing_tds', 'passing_interceptions', 'sacks_suffered', 'sack_yards_lost', 'passing_epa', 'carries', 'rushing_yards', 'rushing_tds', 'rushing_epa', 'targets', 'receptions', 'receiving_yards', 'receiving_tds', 'receiving_epa', 'receiving_air_yards', 'def_tackles_solo', 'fg_att', 'fg_made', 'punts'].map((c) => (c.endsWith("epa") ? `dsum(l.${c})` : `sum(l.${c})`)).join(', ')}, 0, code_of(arg_max(l.fr, l.week), l.season)
        FROM all_lines l WHERE l.season IN ${seasonList(2016)} AND l.season_type = 'REG' AND ${filter} GROUP BY l.season, l.idnum)`;
    const ngsIdentity = { season: 'l.season', season_type: 'l.season_type', week: 'l.ngs_week', player_display_name: 'p.full_name', player_position: 'p.pos', team_abbr: 'l.team',
      player_gsis_id: 'p.gsis_id', player_first_name: 'p.first_name', player_last_name: 'p.last_name', player_jersey_number: 'p.jersey', player_short_name: 'p.short_name' };
    const ngs = [
      ['passing', `l.attempts >= ${n(5)}`, { attempts: 'l.attempts', pass_yards: 'l.passing_yards', pass_touchdowns: 'l.passing_tds', interceptions: 'l.passing_interceptions', completions: 'l.completions', completion_percentage: 'round(100.0 * l.completions / l.attempts, 3)' }],
      ['rushing', `l.carries >= ${n(3)}`, { rush_attempts: 'l.carries', rush_yards: 'l.rushing_yards', rush_touchdowns: 'l.rushing_tds', avg_rush_yards: 'round(l.rushing_yards / l.carries, 3)' }],
      ['receiving', `l.targets >= ${n(2)}`, { targets: 'l.targets', receptions: 'l.receptions', yards: 'l.receiving_yards', rec_touchdowns: 'l.receiving_tds', catch_percentage: 'round(100.0 * l.receptions / l.targets, 3)' }],
    ];
    for (const [variant, filter, stats] of ngs) {
      const from = `(SELECT *, hash(season, ngs_week, idnum, season_type) AS __rid, team AS __team FROM ${base(filter)}) l JOIN people p ON p.idnum = l.idnum`;
      out.push(await w.parquet(`nflverse/nextgen_stats/ngs_${variant}.parquet`, columnsOf('nextgen_stats', `ngs_${variant}.parquet`), { ...ngsIdentity, ...stats }, from, 'l.season, l.season_type, l.ngs_week, p.gsis_id', { family: 'games', type: `next gen stats ${variant}` }));
    }
    // PFR advanced stats per season (2018+): one row per player and season.
    const pfrSeason = { pass: 'l.attempts > 0', rush: 'l.carries > 0', rec: 'l.targets > 0', def: 'l.def_tackles_solo > 0' };
    for (const [variant, filter] of Object.entries(pfrSeason)) {
      const columns = columnsOf('pfr_advstats', `advstats_season_${variant}.parquet`);
      const from = `(SELECT l.season, l.idnum, code_of(arg_max(l.fr, l.week), l.season) AS team, count(*) AS g, sum(l.attempts) AS att, sum(l.carries) AS car, sum(l.targets) AS tgt, sum(l.receptions) AS rec,
          sum(l.passing_yards + l.rushing_yards + l.receiving_yards) AS yds, hash(l.season, l.idnum) AS __rid, code_of(arg_max(l.fr, l.week), l.season) AS __team
        FROM all_lines l WHERE l.season IN ${seasonList(2018)} AND ${filter} GROUP BY l.season, l.idnum) l JOIN people p ON p.idnum = l.idnum`;
      const core = { season: 'l.season', player: 'p.full_name', pfr_id: 'p.pfr_id', [columns.some(([c]) => c === 'tm') ? 'tm' : 'team']: 'l.team' };
      for (const [c, e] of Object.entries({ pos: 'p.pos', g: 'l.g', gs: 'l.g', age: 'l.season - year(p.birth_date)', pass_attempts: 'l.att', att: 'l.car', tgt: 'l.tgt', rec: 'l.rec', yds: 'l.yds', loaded: `DATE '${isoDate(Date.UTC(current, 7, 20))}'` })) if (columns.some(([x]) => x === c)) core[c] = e;
      out.push(await w.parquet(`nflverse/pfr_advstats/advstats_season_${variant}.parquet`, columns, core, from, 'l.season, p.pfr_id', { family: 'games', type: `pfr advstats season ${variant}` }));
    }
    // ESPN QBR (2006+): week level per QB game, season level per QB and season type.
    const qbrWeekFrom = `(SELECT l.*, g.seq, g.week AS gweek, code_of(l.fr, l.season) AS team, code_of(l.opp_fr, l.season) AS opp, hash(l.game_id, l.idnum) AS __rid, code_of(l.fr, l.season) AS __team
        FROM all_lines l JOIN games g ON g.game_id = l.game_id WHERE l.season IN ${seasonList(2006)} AND l.attempts >= ${n(10)}) l JOIN people p ON p.idnum = l.idnum`;
    const qbrCommon = { season: 'l.season', season_type: "CASE WHEN l.season_type = 'REG' THEN 'Regular' ELSE 'Playoffs' END", team_abb: 'l.team', player_id: 'p.espn_id', name_short: 'p.short_name',
      qbr_total: 'round(30 + hash(l.__rid, 1) % 600 / 10.0, 1)', qb_plays: 'l.attempts + l.carries', epa_total: 'round(l.passing_epa + l.rushing_epa, 3)', name_first: 'p.first_name', name_last: 'p.last_name', name_display: 'p.full_name', team: 'l.team' };
    out.push(await w.parquet('nflverse/espn_data/qbr_week_level.parquet', columnsOf('espn_data', 'qbr_week_level.parquet'),
      { ...qbrCommon, game_id: 'CAST(400000000 + l.seq AS VARCHAR)', game_week: 'l.gweek', week_text: "'Week ' || l.gweek", opp_abb: 'l.opp', opp_team: 'l.opp', week_num: 'l.gweek', opp_id: 'CAST(hash(l.opp) % 34 AS VARCHAR)' },
      qbrWeekFrom, 'l.season, l.gweek, l.game_id, p.espn_id', { family: 'games', type: 'espn qbr week' }));
    const qbrSeasonFrom = `(SELECT l.season, l.season_type, l.idnum, code_of(arg_max(l.fr, l.week), l.season) AS team, sum(l.attempts) AS attempts, sum(l.carries) AS carries, dsum(l.passing_epa) AS passing_epa, dsum(l.rushing_epa) AS rushing_epa,
        hash(l.season, l.season_type, l.idnum) AS __rid, code_of(arg_max(l.fr, l.week), l.season) AS __team FROM all_lines l WHERE l.season IN ${seasonList(2006)} AND l.attempts >= ${n(10)} GROUP BY l.season, l.season_type, l.idnum) l JOIN people p ON p.idnum = l.idnum`;
    out.push(await w.parquet('nflverse/espn_data/qbr_season_level.parquet', columnsOf('espn_data', 'qbr_season_level.parquet'), { ...qbrCommon, game_week: "'Season Total'", qualified: `l.attempts >= ${n(100)}` },
      qbrSeasonFrom, 'l.season, l.season_type, p.espn_id', { family: 'games', type: 'espn qbr season' }));
    // Officials (2015+): a crew of seven per played game; game_id is the old 10-digit id.
    const positions = ['Referee', 'Umpire', 'Down Judge', 'Line Judge', 'Field Judge', 'Side Judge', 'Back Judge'];
    const offFrom = `(SELECT g.*, k.k, CAST(hash(g.season, g.game_id) % 17 AS INTEGER) AS crew, hash(g.game_id, k.k) AS __rid, NULL AS __team FROM games g, range(7) k(k) WHERE g.played AND g.season IN ${seasonList(2015)}) g`;
    out.push(await w.parquet('nflverse/officials/officials.parquet', columnsOf('officials', 'officials.parquet'), {
      game_id: 'g.old_game_id', game_key: 'CAST(50000 + g.seq AS VARCHAR)', official_name: "first_name(g.crew * 7 + g.k + 3000) || ' ' || last_name(g.crew * 7 + g.k + 3000)", position: `[${positions.map(lit).join(', ')}][CAST(g.k AS INTEGER) + 1]`,
      jersey_number: 'CAST(10 + (g.crew * 7 + g.k) % 120 AS INTEGER)', official_id: 'CAST(700 + g.crew * 7 + g.k AS VARCHAR)', season: 'g.season', season_type: 'g.season_type', week: "CASE WHEN g.game_type = 'SB' THEN g.week + 1 ELSE g.week END",
    }, offFrom, 'g.season, g.old_game_id, g.k', { family: 'games', type: 'officials' }));
    // Draft picks, combine, trades, contracts, players: one file each over the seasons in scope.
    out.push(await w.parquet('nflverse/draft_picks/draft_picks.parquet', columnsOf('draft_picks', 'draft_picks.parquet'), {
      season: 'd.season', round: 'p.draft_round', pick: 'd.pick', team: 'p.draft_team', gsis_id: 'p.gsis_id', pfr_player_id: 'p.pfr_id', cfb_player_id: "lower(p.first_name || '-' || p.last_name) || '-' || (d.idnum % 10)",
      pfr_player_name: 'p.full_name', hof: 'false', position: 'p.pos', category: 'p.pos_group', side: 'p.side', college: 'p.college', age: '22', to: 'p.last_season', games: '16 * (p.last_season - p.rookie + 1)',
    }, `(SELECT *, idnum AS __rid, NULL AS __team FROM draft WHERE season IN ${seasonList(1980)}) d JOIN people p ON p.idnum = d.idnum`, 'd.season, d.pick', { type: 'draft picks' }));
    out.push(await w.parquet('nflverse/combine/combine.parquet', columnsOf('combine', 'combine.parquet'), {
      season: 'p.rookie', draft_year: 'CASE WHEN p.draft_pick IS NOT NULL THEN p.rookie END', draft_team: 'p.draft_team', draft_round: 'p.draft_round', draft_ovr: 'p.draft_pick', pfr_id: 'CASE WHEN hash(p.idnum) % 5 > 0 THEN p.pfr_id END',
      player_name: 'p.full_name', pos: 'p.pos', school: 'p.college', ht: "CAST(p.height // 12 AS VARCHAR) || '-' || CAST(p.height % 12 AS VARCHAR)", wt: 'p.weight', forty: 'round(4.3 + (hash(p.idnum, 40) % 90) / 100.0, 2)',
    }, `(SELECT *, idnum AS __rid, NULL AS __team FROM people WHERE rookie IN ${seasonList(2000)} AND hash(idnum, 'combine') % 10 < 8) p`, 'p.rookie, p.full_name, p.idnum', { type: 'combine measurements' }));
    const tradeFrom = `(SELECT ts.season, k.k, ts.franchise AS gave_fr, (SELECT franchise FROM franchises WHERE f = (ts.f + 1 + hash(ts.season, k.k) % 31) % 32) AS recv_fr, side.s,
        hash(ts.season, ts.f, k.k, side.s) AS __rid, NULL AS __team, (ts.season * 1000 + ts.f * 10 + k.k) AS trade_id
      FROM team_seasons ts, range(${n(3)}) k(k), range(2) side(s) WHERE ts.season IN ${seasonList(2002)}) t
      LEFT JOIN roster_all r ON t.s = 0 AND r.season = t.season AND r.franchise = t.gave_fr AND r.slot = CAST(t.__rid % ${slots} AS INTEGER) LEFT JOIN people p ON p.idnum = r.idnum`;
    out.push(await w.parquet('nflverse/trades/trades.parquet', columnsOf('trades', 'trades.parquet'), {
      trade_id: 't.trade_id', season: 't.season', trade_date: "make_date(t.season, 10, 1) + CAST(t.__rid % 150 AS INTEGER) - 60", gave: 'CASE WHEN t.s = 0 THEN code_of(t.gave_fr, t.season) ELSE code_of(t.recv_fr, t.season) END',
      received: 'CASE WHEN t.s = 0 THEN code_of(t.recv_fr, t.season) ELSE code_of(t.gave_fr, t.season) END', pick_season: 'CASE WHEN t.s = 1 THEN t.season + 1 END', pick_round: 'CASE WHEN t.s = 1 THEN 1 + t.__rid % 7 END',
      pick_number: 'NULL', conditional: '0', pfr_id: 'p.pfr_id', pfr_name: 'p.full_name',
    }, tradeFrom, 't.trade_id, t.s', { type: 'trades' }));
    const contractType = columnsOf('contracts', 'historical_contracts.parquet').find(([c]) => c === 'cols')[1];
    const contractFrom = `(SELECT p.*, k.k, p.rookie + k.k * 4 AS year_signed, CAST(1 + hash(p.idnum, k.k) % 5 AS INTEGER) AS years, round(0.8 + (hash(p.idnum, k.k, 'v') % 4000) / 100.0, 2) AS value,
        hash(p.idnum, k.k) AS __rid, p.latest_team AS __team FROM people p, range(2) k(k) WHERE p.rookie + k.k * 4 <= p.last_season) c`;
    out.push(await w.parquet('nflverse/contracts/historical_contracts.parquet', columnsOf('contracts', 'historical_contracts.parquet'), {
      player: 'c.full_name', position: 'c.pos', team: 'c.latest_team', is_active: `c.last_season >= ${current}`, year_signed: 'c.year_signed', years: 'c.years', value: 'c.value', apy: 'round(c.value / c.years, 3)',
      guaranteed: 'round(c.value * 0.4, 3)', otc_id: 'CAST(c.idnum AS INTEGER)', gsis_id: 'c.gsis_id', date_of_birth: "strftime(c.birth_date, '%Y-%m-%d')", height: 'CAST(c.height AS VARCHAR)', weight: 'CAST(c.weight AS VARCHAR)', college: 'c.college',
      draft_year: 'CASE WHEN c.draft_pick IS NOT NULL THEN c.rookie END', draft_round: 'c.draft_round', draft_overall: 'c.draft_pick', draft_team: 'c.draft_team', player_page: "'https://overthecap.com/player/' || c.idnum",
      cols: `CAST(list_transform(range(c.years), y -> {'year': CAST(c.year_signed + y AS VARCHAR), 'team': c.latest_team, 'base_salary': round(c.value / c.years, 3), 'prorated_bonus': 0.0, 'roster_bonus': 0.0, 'guaranteed_salary': 0.0, 'cap_number': round(c.value / c.years, 3), 'cap_percent': 0.5, 'cash_paid': round(c.value / c.years, 3), 'workout_bonus': 0.0, 'other_bonus': 0.0, 'per_game_roster_bonus': 0.0, 'option_bonus': 0.0}) AS ${contractType})`,
    }, contractFrom, 'c.idnum, c.k', { type: 'Historical Contract Data from OverTheCap.com' }));
    out.push(await w.parquet('nflverse/players/players.parquet', columnsOf('players', 'players.parquet'), {
      gsis_id: 'p.gsis_id', display_name: 'p.full_name', common_first_name: 'p.first_name', first_name: 'p.first_name', last_name: 'p.last_name', short_name: 'p.short_name', football_name: 'p.first_name',
      suffix: 'NULL', esb_id: 'p.esb_id', nfl_id: 'CAST(p.idnum AS VARCHAR)', pfr_id: 'p.pfr_id', pff_id: 'p.pff_id', otc_id: 'CAST(p.idnum AS VARCHAR)', espn_id: 'p.espn_id', smart_id: 'p.smart_id',
      birth_date: "strftime(p.birth_date, '%Y-%m-%d')", position_group: 'p.pos_group', position: 'p.pos', ngs_position_group: 'p.pos_group', ngs_position: 'p.pos', height: 'p.height', weight: 'p.weight',
      headshot: `'https://static.www.nfl.com/image/private/' || p.esb_id`, college_name: 'p.college', jersey_number: 'CAST(p.jersey AS VARCHAR)', rookie_season: 'p.rookie', last_season: 'p.last_season',
      latest_team: 'p.latest_team', status: `CASE WHEN p.last_season >= ${current} THEN 'ACT' ELSE 'RET' END`, years_of_experience: 'p.last_season - p.rookie', draft_year: 'CASE WHEN p.draft_pick IS NOT NULL THEN p.rookie END',
      draft_round: 'p.draft_round', draft_pick: 'p.draft_pick', draft_team: 'p.draft_team',
    }, '(SELECT *, idnum AS __rid, latest_team AS __team FROM people) p', 'p.gsis_id', { type: 'players' }));
    const teams = path.join(repoRoot, 'data/sample/teams/teams_colors_logos.csv');
    out.push(await w.parquet('nflverse/teams/teams_colors_logos.parquet', columnsOf('teams', 'teams_colors_logos.parquet'),
      Object.fromEntries(columnsOf('teams', 'teams_colors_logos.parquet').map(([c]) => [c, `t.${c}`])), `(SELECT *, hash(team_abbr) AS __rid, team_abbr AS __team FROM read_csv(${lit(teams)}, all_varchar = true)) t`, 't.team_abbr', { type: 'teams colors and logos' }));
    // DynastyProcess ids, mrcaseb win totals and lines, nfldata scoring lines (CSV).
    const idsHeader = readFileSync(path.join(repoRoot, 'data/sample/ids/db_playerids.csv'), 'utf8').split('\n')[0].trim();
    out.push(await w.csv('dynastyprocess/files/db_playerids.csv', cols(idsHeader), {
      mfl_id: 'CAST(10000 + p.idnum AS VARCHAR)', sportradar_id: 'p.sportradar_id', gsis_id: 'CASE WHEN hash(p.idnum, 3) % 10 > 0 THEN p.gsis_id END', pff_id: 'p.pff_id', sleeper_id: 'p.sleeper_id', espn_id: 'p.espn_id',
      yahoo_id: 'p.yahoo_id', pfr_id: 'p.pfr_id', rotowire_id: 'p.rotowire_id', fantasy_data_id: 'p.fantasy_data_id', name: 'p.full_name', merge_name: 'lower(p.full_name)', position: 'p.pos', team: 'p.latest_team',
      birthdate: "strftime(p.birth_date, '%Y-%m-%d')", draft_year: 'CASE WHEN p.draft_pick IS NOT NULL THEN p.rookie END', draft_round: 'p.draft_round', draft_ovr: 'p.draft_pick', height: 'p.height', weight: 'p.weight', college: 'p.college', db_season: `${current}`,
    }, `(SELECT *, idnum AS __rid, latest_team AS __team FROM people WHERE last_season >= ${current - 8}) p`, 'p.idnum'));
    const wtFrom = `(SELECT ts.*, hash(ts.season, ts.f) AS __rid, ts.team AS __team FROM team_seasons ts WHERE ts.season IN ${seasonList(1989, 2020)}) t`;
    out.push(await w.csv('mrcaseb/data/historical_win_totals.csv', cols('team,season,win_total,over,under,true_wins,week_betsettled,actual_wins,result'), {
      team: 't.team', season: 't.season', win_total: 'CAST(5.5 + t.__rid % 7 AS VARCHAR)', over: "'-110'", under: "'-110'", true_wins: 'CAST(5.5 + t.__rid % 7 AS VARCHAR)', week_betsettled: "'Week 17'",
      actual_wins: 'CAST(t.__rid % 14 AS VARCHAR)', result: "CASE WHEN t.__rid % 14 > 5.5 + t.__rid % 7 THEN 'Over' ELSE 'Under' END",
    }, wtFrom, 't.season, t.team'));
    const books = ['5Dimes', 'sportbet', 'Bovada', 'BetOnline', 'Pinnacle', 'Heritage', 'BookMaker', 'Caesars', 'DraftKings', 'FanDuel', 'BetMGM', 'PointsBet', 'WynnBET', 'Circa', 'Westgate', 'SuperBook', 'BetRivers', 'Unibet', 'Barstool', 'FOX Bet', 'Betway', 'bet365'];
    const linesFrom = `(SELECT g.*, m.market, s.side, b.book, hash(g.game_id, m.market, s.side, b.book) AS __rid, NULL AS __team
      FROM games g, unnest(['spread', 'money_line', 'total']) m(market), range(2) s(side), unnest([${books.slice(0, Math.max(1, Math.round(22 * scale))).map(lit).join(', ')}]) b(book) WHERE g.season IN ${seasonList(2006, 2021)}) g`;
    out.push(await w.csv('mrcaseb/data/nfl_lines_odds.csv.gz', cols('game_id,market_type,abbr,lines,odds,opening_lines,opening_odds,book'), {
      game_id: 'g.game_id', market_type: 'g.market', abbr: "CASE WHEN g.market = 'total' THEN CASE WHEN g.side = 0 THEN 'over' ELSE 'under' END WHEN g.side = 0 THEN g.away_team ELSE g.home_team END",
      lines: "CASE WHEN g.market = 'spread' THEN CAST(CASE WHEN g.side = 0 THEN g.spread_line ELSE -g.spread_line END AS VARCHAR) WHEN g.market = 'total' THEN CAST(g.total_line AS VARCHAR) END",
      odds: 'CAST(-115 + g.__rid % 10 AS VARCHAR)', opening_lines: "CASE WHEN g.market = 'total' THEN CAST(g.total_line AS VARCHAR) ELSE '0' END", opening_odds: "'-110'", book: 'g.book',
    }, linesFrom, 'g.game_id, g.market, g.side, g.book', 'csv.gz'));
    const scFrom = `(SELECT g.*, s.side, hash(g.game_id, s.side) AS __rid, NULL AS __team FROM games g, range(2) s(side) WHERE g.season IN ${seasonList(2013)} AND g.game_type = 'REG') g`;
    out.push(await w.csv('nfldata/data/sc_lines.csv', cols('season,week,away_team,home_team,game_id,alt_game_id,side,line,home_team_spread'), {
      season: 'g.season', week: 'g.week', away_team: 'g.away_team', home_team: 'g.home_team', game_id: 'g.old_game_id', alt_game_id: 'g.game_id', side: 'CASE WHEN g.side = 0 THEN g.away_team ELSE g.home_team END',
      line: 'CAST(CASE WHEN g.side = 0 THEN g.spread_line ELSE -g.spread_line END AS VARCHAR)', home_team_spread: 'CAST(-g.spread_line AS VARCHAR)',
    }, scFrom, 'g.season, g.week, g.game_id, g.side'));
    return out;
  };
  return { perSeasonMore, singles };
}
