-- @mart fact_player_week
-- @summary One row per player and game week: passing, rushing and receiving volume and results,
--   snaps and snap share, injury report status, depth-chart slot, and NGS / PFR advanced fields.
--   Players are keyed by GSIS id (00-00xxxxx); sources with other ids go through the id crosswalk.
-- @grain season, week, player_id, team
-- @partition season
-- @coverage A player-week is here when the player has a stat line, a snap count or an injury report
--   that week (NGS, PFR and depth-chart rows only add columns to those).
-- @coverage Stat lines: silver.player_stats_weekly (nflverse stats_player) where it has the
--   (season, week); else silver.player_stats_legacy (frozen at 2024); else computed from
--   silver.pbp (stats_source = 'pbp': official plays only, laterals and corrections aside; no
--   fantasy points). passing_cpoe is nflverse's model (stats_player, or the pbp mean cpoe). Old pbp
--   files carry UUID-style player ids; they are decoded to GSIS ids (gsis_player_id in _macros.sql).
-- @coverage Snaps: silver.snap_counts (PFR, 2012+), PFR ids mapped to GSIS ids through silver.players,
--   silver.player_ids (DynastyProcess) and the same season's silver.rosters; snap rows whose PFR id
--   maps to no GSIS id are left out.
-- @coverage Injuries: silver.injuries (2009+), the week's final report. Depth charts: silver.depth_charts
--   holds the 2025+ ESPN daily snapshots; a week's slot is the player's best (lowest) rank in the
--   last snapshot of the team taken from the Tuesday to the Sunday of that NFL week (weeks counted
--   from the Tuesday after Labor Day; the postseason bye shifts the Super Bowl by one week). The
--   2001–2024 weekly depth charts are not in silver's schema, so depth_* is NULL before 2025.
-- @coverage NGS (silver.nextgen_stats, 2016+) for the player's week; NGS counts the Pro Bowl week, so its
--   Super Bowl row does not attach. PFR advanced stats (silver.pfr_advstats_weekly, 2018+) by
--   game, PFR ids mapped as for snaps.
-- @column season                   Season. Partition column.
-- @column week                     Week (nflverse schedules numbering).
-- @column player_id                GSIS id (joins dim_player).
-- @column team                     The player's team that week (joins dim_team).
-- @column game_id                  The team's game that week (joins dim_game; NULL when no game is known).
-- @column opponent                 Opponent team code.
-- @column season_type              REG or POST.
-- @column player_name              Name as the stat source spells it (dim_player has the canonical one).
-- @column position                 Position as the stat source has it (else the injury report's).
-- @column stats_source             player_stats_weekly, player_stats_legacy, pbp, or NULL (no stat line).
-- @column completions              Completions.
-- @column attempts                 Pass attempts (sacks excluded).
-- @column passing_yards            Passing yards.
-- @column passing_tds              Passing touchdowns.
-- @column interceptions            Interceptions thrown.
-- @column sacks                    Times sacked.
-- @column passing_epa              EPA on the player's dropbacks.
-- @column passing_cpoe             Completion % over expected (nflverse model), percentage points.
-- @column carries                  Rushing attempts.
-- @column rushing_yards            Rushing yards.
-- @column rushing_tds              Rushing touchdowns.
-- @column rushing_epa              EPA on the player's carries.
-- @column targets                  Targets.
-- @column receptions               Receptions.
-- @column receiving_yards          Receiving yards.
-- @column receiving_tds            Receiving touchdowns.
-- @column receiving_air_yards      Air yards of the targets.
-- @column receiving_epa            EPA on the player's targets.
-- @column target_share             Share of the team's targets.
-- @column air_yards_share          Share of the team's air yards.
-- @column fantasy_points           Standard fantasy points (stat sources that publish them).
-- @column fantasy_points_ppr       PPR fantasy points.
-- @column offense_snaps            Offensive snaps (PFR).
-- @column offense_snap_share       Share of the team's offensive snaps (0–1).
-- @column defense_snaps            Defensive snaps.
-- @column defense_snap_share       Share of the team's defensive snaps (0–1).
-- @column st_snaps                 Special-teams snaps.
-- @column injury_status            Game status on the final injury report (Out, Doubtful, Questionable…).
-- @column injury_primary           Primary injury on the report.
-- @column practice_status          Last practice participation.
-- @column depth_position           Depth-chart position (e.g. WR, QB, LCB) of the best slot.
-- @column depth_rank               Rank at that position (1 = starter).
-- @column ngs_cpoe                 NGS completion % above expectation.
-- @column ngs_avg_time_to_throw    NGS average time to throw (s).
-- @column ngs_aggressiveness       NGS aggressiveness (% of throws into tight windows).
-- @column ngs_avg_intended_air_yards  NGS average intended air yards.
-- @column ngs_rush_yards_over_expected  NGS rush yards over expected.
-- @column ngs_rush_efficiency      NGS rushing efficiency (distance run per yard gained).
-- @column ngs_avg_separation       NGS average separation at the catch point (yards).
-- @column ngs_avg_cushion          NGS average cushion at the snap (yards).
-- @column ngs_avg_yac_above_expectation  NGS YAC above expectation per reception.
-- @column pfr_bad_throw_pct        PFR bad-throw percentage.
-- @column pfr_times_pressured_pct  PFR pressured percentage of dropbacks.
-- @column pfr_receiving_drops      PFR drops.
-- @column pfr_rushing_yards_after_contact  PFR rushing yards after contact.
-- @column pfr_broken_tackles       PFR broken tackles (rushing + receiving).
WITH
-- PFR / ESPN id → GSIS id: players, then DynastyProcess ids, then the same season's rosters.
pfr_global AS (
  SELECT pfr_id, gsis_id FROM (
    SELECT pl.pfr_id, pl.gsis_id, 1 AS pref FROM silver.players AS pl WHERE pl.pfr_id IS NOT NULL AND pl.gsis_id IS NOT NULL
    UNION ALL
    SELECT ids.pfr_id, ids.gsis_id, 2 FROM silver.player_ids AS ids WHERE ids.pfr_id IS NOT NULL AND ids.gsis_id IS NOT NULL
  ) QUALIFY row_number() OVER (PARTITION BY pfr_id ORDER BY pref, gsis_id) = 1
),
pfr_season AS (
  SELECT season, pfr_id, gsis_id FROM (
    SELECT ro.season, ro.pfr_id, ro.gsis_id FROM silver.rosters AS ro WHERE ro.pfr_id IS NOT NULL AND ro.gsis_id IS NOT NULL
  ) QUALIFY row_number() OVER (PARTITION BY season, pfr_id ORDER BY gsis_id) = 1
),
-- Official stat lines, by source priority.
weekly AS (
  SELECT
    w.season, w.week, w.player_id, w.team, w.opponent_team, w.game_id, w.season_type, w.player_display_name AS player_name, w."position",
    'player_stats_weekly' AS stats_source, 1 AS priority,
    w.completions, w.attempts, w.passing_yards, w.passing_tds, w.passing_interceptions AS interceptions, w.sacks_suffered AS sacks,
    w.passing_epa, w.passing_cpoe, w.carries, w.rushing_yards, w.rushing_tds, w.rushing_epa, w.targets, w.receptions,
    w.receiving_yards, w.receiving_tds, w.receiving_air_yards, w.receiving_epa, w.target_share, w.air_yards_share,
    w.fantasy_points, w.fantasy_points_ppr
  FROM silver.player_stats_weekly AS w
),
legacy AS (
  SELECT
    l.season, l.week, l.player_id, l.team, l.opponent_team, CAST(NULL AS VARCHAR) AS game_id, l.season_type, l.player_display_name AS player_name, l."position",
    'player_stats_legacy' AS stats_source, 2 AS priority,
    l.completions, l.attempts, l.passing_yards, l.passing_tds, l.interceptions, l.sacks,
    l.passing_epa, CAST(NULL AS DOUBLE) AS passing_cpoe, l.carries, l.rushing_yards, l.rushing_tds, l.rushing_epa, l.targets, l.receptions,
    l.receiving_yards, l.receiving_tds, l.receiving_air_yards, l.receiving_epa, l.target_share, l.air_yards_share,
    l.fantasy_points, l.fantasy_points_ppr
  FROM silver.player_stats_legacy AS l
),
-- Stat lines computed from play-by-play, one row per player role on a play.
pbp_roles AS (
  SELECT
    p.season, p.week, p.game_id, p.season_type, p.posteam AS team, p.defteam AS opponent, gsis_player_id(p.passer_player_id) AS player_id,
    p.passer_player_name AS player_name, 'passer' AS role, p.complete_pass, p.incomplete_pass, p.interception, p.sack,
    p.pass_touchdown, p.rush_touchdown, p.epa, p.cpoe, p.air_yards,
    CASE WHEN p.complete_pass = 1 THEN coalesce(p.passing_yards, p.yards_gained) END AS yards
  FROM silver.pbp AS p WHERE p.passer_player_id IS NOT NULL AND p.play_type <> 'no_play' AND coalesce(p.two_point_attempt, 0) = 0
  UNION ALL
  SELECT
    p.season, p.week, p.game_id, p.season_type, p.posteam, p.defteam, gsis_player_id(p.rusher_player_id), p.rusher_player_name, 'rusher',
    0, 0, 0, 0, 0, p.rush_touchdown, p.epa, NULL, NULL, coalesce(p.rushing_yards, p.yards_gained)
  FROM silver.pbp AS p WHERE p.rusher_player_id IS NOT NULL AND p.play_type <> 'no_play' AND coalesce(p.two_point_attempt, 0) = 0
  UNION ALL
  SELECT
    p.season, p.week, p.game_id, p.season_type, p.posteam, p.defteam, gsis_player_id(p.receiver_player_id), p.receiver_player_name, 'receiver',
    p.complete_pass, p.incomplete_pass, p.interception, 0, p.pass_touchdown, 0, p.epa, NULL, p.air_yards,
    CASE WHEN p.complete_pass = 1 THEN coalesce(p.receiving_yards, p.yards_gained) END
  FROM silver.pbp AS p WHERE p.receiver_player_id IS NOT NULL AND p.play_type <> 'no_play' AND coalesce(p.two_point_attempt, 0) = 0
),
pbp_lines AS (
  SELECT
    season, week, player_id, team, min(opponent) AS opponent, min(game_id) AS game_id, min(season_type) AS season_type,
    min(player_name) AS player_name, CAST(NULL AS VARCHAR) AS "position", 'pbp' AS stats_source, 3 AS priority,
    CAST(sum(complete_pass) FILTER (WHERE role = 'passer') AS INTEGER) AS completions,
    CAST(sum(complete_pass + incomplete_pass + interception) FILTER (WHERE role = 'passer') AS INTEGER) AS attempts,
    sum(yards) FILTER (WHERE role = 'passer') AS passing_yards,
    CAST(sum(pass_touchdown) FILTER (WHERE role = 'passer') AS INTEGER) AS passing_tds,
    sum(interception) FILTER (WHERE role = 'passer') AS interceptions,
    sum(sack) FILTER (WHERE role = 'passer') AS sacks,
    exact_sum(CASE WHEN role = 'passer' THEN epa END) AS passing_epa,
    exact_avg(CASE WHEN role = 'passer' THEN cpoe END) AS passing_cpoe,
    CAST(count(*) FILTER (WHERE role = 'rusher') AS INTEGER) AS carries,
    sum(yards) FILTER (WHERE role = 'rusher') AS rushing_yards,
    CAST(sum(rush_touchdown) FILTER (WHERE role = 'rusher') AS INTEGER) AS rushing_tds,
    exact_sum(CASE WHEN role = 'rusher' THEN epa END) AS rushing_epa,
    CAST(count(*) FILTER (WHERE role = 'receiver') AS INTEGER) AS targets,
    CAST(sum(complete_pass) FILTER (WHERE role = 'receiver') AS INTEGER) AS receptions,
    sum(yards) FILTER (WHERE role = 'receiver') AS receiving_yards,
    CAST(sum(pass_touchdown) FILTER (WHERE role = 'receiver') AS INTEGER) AS receiving_tds,
    sum(air_yards) FILTER (WHERE role = 'receiver') AS receiving_air_yards,
    exact_sum(CASE WHEN role = 'receiver' THEN epa END) AS receiving_epa,
    CAST(NULL AS DOUBLE) AS target_share,
    CAST(NULL AS DOUBLE) AS air_yards_share,
    CAST(NULL AS DOUBLE) AS fantasy_points,
    CAST(NULL AS DOUBLE) AS fantasy_points_ppr
  FROM pbp_roles
  GROUP BY season, week, player_id, team
),
pbp_team_targets AS (
  SELECT season, week, team, sum(targets) AS team_targets, sum(receiving_air_yards) AS team_air_yards FROM pbp_lines GROUP BY ALL
),
pbp_stats AS (
  SELECT pl.* REPLACE (
    CASE WHEN tt.team_targets > 0 THEN pl.targets / tt.team_targets END AS target_share,
    CASE WHEN tt.team_air_yards > 0 THEN pl.receiving_air_yards / tt.team_air_yards END AS air_yards_share)
  FROM pbp_lines AS pl JOIN pbp_team_targets AS tt USING (season, week, team)
),
stat_lines AS (
  SELECT * EXCLUDE (priority) FROM (
    SELECT * FROM weekly
    UNION ALL BY NAME SELECT * FROM legacy
    UNION ALL BY NAME SELECT * FROM pbp_stats
  ) QUALIFY priority = min(priority) OVER (PARTITION BY season, week)
      AND row_number() OVER (PARTITION BY season, week, player_id ORDER BY priority, team) = 1
),
snaps AS (
  SELECT
    sc.season, sc.week, coalesce(pg.gsis_id, ps.gsis_id) AS player_id, sc.team, sc.game_id, sc.game_type, sc.player AS player_name, sc."position",
    sc.offense_snaps, sc.offense_pct, sc.defense_snaps, sc.defense_pct, sc.st_snaps
  FROM silver.snap_counts AS sc
  LEFT JOIN pfr_global AS pg ON pg.pfr_id = sc.pfr_player_id
  LEFT JOIN pfr_season AS ps ON ps.season = sc.season AND ps.pfr_id = sc.pfr_player_id
  WHERE coalesce(pg.gsis_id, ps.gsis_id) IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY sc.season, sc.week, coalesce(pg.gsis_id, ps.gsis_id) ORDER BY sc.offense_snaps + sc.defense_snaps + sc.st_snaps DESC, sc.team) = 1
),
injury AS (
  SELECT i.season, i.week, i.gsis_id AS player_id, i.team, i.season_type, i.full_name AS player_name, i."position",
         i.report_status, i.report_primary_injury, i.practice_status
  FROM silver.injuries AS i
  WHERE i.gsis_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY i.season, i.week, i.gsis_id ORDER BY i.team) = 1
),
player_weeks AS (
  SELECT season, week, player_id FROM stat_lines
  UNION SELECT season, week, player_id FROM snaps
  UNION SELECT season, week, player_id FROM injury
),
depth_rows AS (
  SELECT d.* FROM silver.depth_charts AS d
  WHERE d.gsis_id IS NOT NULL AND d.season IS NOT NULL AND d.dt IS NOT NULL
),
-- NFL week of a depth-chart snapshot: weeks run Tuesday to Monday from the Tuesday after Labor Day.
-- Computed once per snapshot time (a few hundred), not per row: the time-zone conversion is costly.
depth_days AS (
  SELECT
    season, dt,
    CAST(floor(date_diff('day', labor_day + 1, local_day) / 7) AS INTEGER) + 1 AS week,
    isodow(local_day) AS dow
  FROM (
    SELECT
      season, dt, CAST(timezone('America/New_York', dt) AS DATE) AS local_day,
      make_date(season, 9, 1) + CAST((8 - isodow(make_date(season, 9, 1))) % 7 AS INTEGER) AS labor_day
    FROM (SELECT DISTINCT season, dt FROM depth_rows) AS snapshot_times
  ) AS local_times
),
depth_snapshots AS (
  SELECT dc.season, dc.team, dc.gsis_id AS player_id, dc.pos_abb, dc.pos_rank, dc.pos_grp, dc.dt, dd.week, dd.dow
  FROM depth_rows AS dc
  JOIN depth_days AS dd ON dd.season = dc.season AND dd.dt = dc.dt
),
depth_latest AS (
  SELECT * FROM depth_snapshots
  WHERE week >= 1 AND dow >= 2
  QUALIFY dt = max(dt) OVER (PARTITION BY season, week, team)
),
depth AS (
  SELECT season, week, player_id, team, pos_abb AS depth_position, pos_rank AS depth_rank
  FROM depth_latest
  QUALIFY row_number() OVER (PARTITION BY season, week, player_id ORDER BY (pos_grp = 'Special Teams'), pos_rank, pos_abb, team) = 1
),
ngs AS (
  SELECT
    n.season, n.week, n.player_gsis_id AS player_id,
    max(n.completion_percentage_above_expectation) FILTER (WHERE n.stat_type = 'passing') AS ngs_cpoe,
    max(n.avg_time_to_throw) FILTER (WHERE n.stat_type = 'passing') AS ngs_avg_time_to_throw,
    max(n.aggressiveness) FILTER (WHERE n.stat_type = 'passing') AS ngs_aggressiveness,
    max(n.avg_intended_air_yards) FILTER (WHERE n.stat_type = 'passing') AS ngs_avg_intended_air_yards,
    max(n.rush_yards_over_expected) FILTER (WHERE n.stat_type = 'rushing') AS ngs_rush_yards_over_expected,
    max(n.efficiency) FILTER (WHERE n.stat_type = 'rushing') AS ngs_rush_efficiency,
    max(n.avg_separation) FILTER (WHERE n.stat_type = 'receiving') AS ngs_avg_separation,
    max(n.avg_cushion) FILTER (WHERE n.stat_type = 'receiving') AS ngs_avg_cushion,
    max(n.avg_yac_above_expectation) FILTER (WHERE n.stat_type = 'receiving') AS ngs_avg_yac_above_expectation
  FROM silver.nextgen_stats AS n
  WHERE n.week > 0 AND n.player_gsis_id IS NOT NULL
  GROUP BY ALL
),
pfr AS (
  SELECT
    a.season, a.week, coalesce(pg.gsis_id, ps.gsis_id) AS player_id,
    max(a.passing_bad_throw_pct) FILTER (WHERE a.stat_type = 'pass') AS pfr_bad_throw_pct,
    max(a.times_pressured_pct) FILTER (WHERE a.stat_type = 'pass') AS pfr_times_pressured_pct,
    max(a.receiving_drop) FILTER (WHERE a.stat_type = 'rec') AS pfr_receiving_drops,
    max(a.rushing_yards_after_contact) FILTER (WHERE a.stat_type = 'rush') AS pfr_rushing_yards_after_contact,
    CAST(coalesce(max(a.rushing_broken_tackles) FILTER (WHERE a.stat_type = 'rush'), 0) + coalesce(max(a.receiving_broken_tackles) FILTER (WHERE a.stat_type = 'rec'), 0) AS DOUBLE) AS pfr_broken_tackles
  FROM silver.pfr_advstats_weekly AS a
  LEFT JOIN pfr_global AS pg ON pg.pfr_id = a.pfr_player_id
  LEFT JOIN pfr_season AS ps ON ps.season = a.season AND ps.pfr_id = a.pfr_player_id
  WHERE coalesce(pg.gsis_id, ps.gsis_id) IS NOT NULL AND a.stat_type IN ('pass', 'rush', 'rec')
  GROUP BY ALL
),
team_weeks AS (
  SELECT tw.season, tw.week, tw.team, tw.game_id, tw.opponent, tw.game_type FROM gold.fact_team_week AS tw
),
combined AS (
  SELECT
    pw.season, pw.week, pw.player_id,
    coalesce(st.team, sn.team, inj.team) AS team,
    st.game_id AS stat_game_id, sn.game_id AS snap_game_id, st.opponent_team AS stat_opponent,
    coalesce(st.season_type, inj.season_type) AS season_type,
    coalesce(st.player_name, sn.player_name, inj.player_name) AS player_name,
    coalesce(st."position", sn."position", inj."position") AS "position",
    st.stats_source, st.completions, st.attempts, st.passing_yards, st.passing_tds, st.interceptions, st.sacks, st.passing_epa,
    st.passing_cpoe, st.carries, st.rushing_yards, st.rushing_tds, st.rushing_epa, st.targets, st.receptions, st.receiving_yards,
    st.receiving_tds, st.receiving_air_yards, st.receiving_epa, st.target_share, st.air_yards_share, st.fantasy_points, st.fantasy_points_ppr,
    sn.offense_snaps, sn.offense_pct, sn.defense_snaps, sn.defense_pct, sn.st_snaps, sn.game_type AS snap_game_type,
    inj.report_status, inj.report_primary_injury, inj.practice_status
  FROM player_weeks AS pw
  LEFT JOIN stat_lines AS st USING (season, week, player_id)
  LEFT JOIN snaps AS sn USING (season, week, player_id)
  LEFT JOIN injury AS inj USING (season, week, player_id)
)
SELECT
  c.season,
  c.week,
  c.player_id,
  c.team,
  coalesce(c.stat_game_id, c.snap_game_id, tw.game_id) AS game_id,
  coalesce(c.stat_opponent, tw.opponent) AS opponent,
  coalesce(c.season_type, CASE WHEN c.snap_game_type IS NOT NULL OR tw.game_type IS NOT NULL THEN CASE WHEN coalesce(c.snap_game_type, tw.game_type) = 'REG' THEN 'REG' ELSE 'POST' END END) AS season_type,
  c.player_name,
  c."position",
  c.stats_source,
  c.completions,
  c.attempts,
  CAST(c.passing_yards AS DOUBLE) AS passing_yards,
  c.passing_tds,
  CAST(c.interceptions AS DOUBLE) AS interceptions,
  CAST(c.sacks AS DOUBLE) AS sacks,
  c.passing_epa,
  c.passing_cpoe,
  c.carries,
  CAST(c.rushing_yards AS DOUBLE) AS rushing_yards,
  c.rushing_tds,
  c.rushing_epa,
  c.targets,
  c.receptions,
  CAST(c.receiving_yards AS DOUBLE) AS receiving_yards,
  c.receiving_tds,
  CAST(c.receiving_air_yards AS DOUBLE) AS receiving_air_yards,
  c.receiving_epa,
  c.target_share,
  c.air_yards_share,
  c.fantasy_points,
  c.fantasy_points_ppr,
  c.offense_snaps,
  c.offense_pct AS offense_snap_share,
  c.defense_snaps,
  c.defense_pct AS defense_snap_share,
  c.st_snaps,
  c.report_status AS injury_status,
  c.report_primary_injury AS injury_primary,
  c.practice_status,
  dp.depth_position,
  dp.depth_rank,
  ng.ngs_cpoe,
  ng.ngs_avg_time_to_throw,
  ng.ngs_aggressiveness,
  ng.ngs_avg_intended_air_yards,
  ng.ngs_rush_yards_over_expected,
  ng.ngs_rush_efficiency,
  ng.ngs_avg_separation,
  ng.ngs_avg_cushion,
  ng.ngs_avg_yac_above_expectation,
  pf.pfr_bad_throw_pct,
  pf.pfr_times_pressured_pct,
  pf.pfr_receiving_drops,
  pf.pfr_rushing_yards_after_contact,
  pf.pfr_broken_tackles
FROM combined AS c
LEFT JOIN team_weeks AS tw ON tw.season = c.season AND tw.week = c.week AND tw.team = c.team
LEFT JOIN depth AS dp ON dp.season = c.season AND dp.week = c.week AND dp.player_id = c.player_id
LEFT JOIN ngs AS ng ON ng.season = c.season AND ng.week = c.week AND ng.player_id = c.player_id
LEFT JOIN pfr AS pf ON pf.season = c.season AND pf.week = c.week AND pf.player_id = c.player_id
WHERE c.team IS NOT NULL
ORDER BY c.season, c.week, c.team, c.player_id
