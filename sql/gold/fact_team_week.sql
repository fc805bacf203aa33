-- @mart fact_team_week
-- @summary One row per team and game week: opponent, points for and against, the closing line from
--   the team's side, and offensive/defensive efficiency from play-by-play (EPA per play, success
--   rate, pass rate, pace, penalties).
-- @grain season, week, team
-- @partition season
-- @coverage Rows: both teams of every game in gold.fact_game (bye weeks have no row).
-- @coverage Play-by-play columns (off_*, def_*, sec_per_play, penalties, penalty_yards) need
--   silver.pbp for the game (nflverse pbp: 1999+); they are NULL where it is not loaded.
-- @coverage An offensive play is a pbp row with pass = 1 or rush = 1 and a non-NULL epa (nflverse's
--   usual filter: dropbacks incl. sacks and scrambles, designed runs; no penalties without a play,
--   kneels count as runs). Defence is the same set of plays with the team as defteam. EPA means are
--   computed exactly (exact_avg in _macros.sql), so rebuilding unchanged rows gives identical values.
-- @coverage Team priors: preseason_win_total and preseason_expected_wins come from silver.win_totals
--   (mrcaseb/nfl-data historical win totals, 1989–2020) for the team and season; NULL outside
--   those seasons. implied_points / implied_points_against are the game's lines from the team's
--   side: (total_line ± team_spread) / 2, with the lines of fact_game.
-- @column season                   Season. Partition column.
-- @column week                     Week (nflverse schedules numbering).
-- @column team                     Team (joins dim_team).
-- @column game_id                  The week's game (joins dim_game, fact_game).
-- @column game_type                REG, WC, DIV, CON, SB (pbp-only games: REG or POST).
-- @column opponent                 Opponent team code.
-- @column home_away                home or away (the designated home team of a neutral-site game is home).
-- @column points_for               Points scored (NULL until played).
-- @column points_against           Points allowed.
-- @column outcome                  W, L or T.
-- @column team_spread              Points the team was favoured by at the close (negative: underdog).
-- @column spread_line              The game's closing spread, home perspective (as fact_game).
-- @column total_line               The game's closing over/under.
-- @column ats_margin               points_for − points_against − team_spread (> 0: covered).
-- @column implied_points           Points the lines expect the team to score: (total_line + team_spread) / 2.
-- @column implied_points_against   Points the lines expect the opponent to score: (total_line − team_spread) / 2.
-- @column preseason_win_total      The season's win total line for the team (win_totals.win_total).
-- @column preseason_expected_wins  Expected wins with the bookmaker's margin removed (win_totals.true_wins).
-- @column off_plays                Offensive plays (see coverage).
-- @column off_epa_per_play         Mean EPA of the offensive plays.
-- @column off_success_rate         Share of offensive plays with positive EPA (pbp success).
-- @column off_pass_rate            Share of offensive plays that were dropbacks (pass = 1).
-- @column off_pass_epa_per_play    Mean EPA of dropbacks.
-- @column off_rush_epa_per_play    Mean EPA of rushes.
-- @column def_plays                Opponent offensive plays.
-- @column def_epa_per_play         Mean EPA allowed per opponent play (lower is better).
-- @column def_success_rate         Opponent success rate.
-- @column sec_per_play             Pace: mean seconds of game clock between consecutive offensive
--   plays of the same drive.
-- @column penalties                Penalties called on the team (pbp rows with penalty = 1 and the team as penalty_team).
-- @column penalty_yards            Their penalty yards.
WITH sides AS (
  SELECT g.season, g.week, g.game_id, g.game_type, g.home_team AS team, g.away_team AS opponent, 'home' AS home_away,
         g.home_score AS points_for, g.away_score AS points_against, g.spread_line AS team_spread, g.spread_line, g.total_line
  FROM gold.fact_game AS g
  UNION ALL
  SELECT g.season, g.week, g.game_id, g.game_type, g.away_team, g.home_team, 'away',
         g.away_score, g.home_score, -g.spread_line, g.spread_line, g.total_line
  FROM gold.fact_game AS g
),
plays AS (
  SELECT
    p.game_id, p.posteam, p.defteam, p.drive, p.play_id, p.epa, p.success, p."pass", p.rush, p.game_seconds_remaining,
    lag(p.game_seconds_remaining) OVER (PARTITION BY p.game_id, p.drive, p.posteam ORDER BY p.play_id) AS previous_clock
  FROM silver.pbp AS p
  WHERE (p."pass" = 1 OR p.rush = 1) AND p.epa IS NOT NULL
),
offense AS (
  SELECT
    game_id, posteam AS team,
    count(*) AS off_plays,
    exact_avg(epa) AS off_epa_per_play,
    avg(success) AS off_success_rate,
    avg("pass") AS off_pass_rate,
    exact_avg(CASE WHEN "pass" = 1 THEN epa END) AS off_pass_epa_per_play,
    exact_avg(CASE WHEN rush = 1 THEN epa END) AS off_rush_epa_per_play,
    avg(previous_clock - game_seconds_remaining) FILTER (WHERE previous_clock >= game_seconds_remaining) AS sec_per_play
  FROM plays
  GROUP BY ALL
),
defense AS (
  SELECT game_id, defteam AS team, count(*) AS def_plays, exact_avg(epa) AS def_epa_per_play, avg(success) AS def_success_rate
  FROM plays
  GROUP BY ALL
),
flags AS (
  SELECT f.game_id, f.penalty_team AS team, count(*) AS penalties, sum(f.penalty_yards) AS penalty_yards
  FROM silver.pbp AS f
  WHERE f.penalty = 1 AND f.penalty_team IS NOT NULL
  GROUP BY ALL
),
priors AS (
  SELECT w.season, w.team, w.win_total, w.true_wins
  FROM silver.win_totals AS w
  QUALIFY row_number() OVER (PARTITION BY w.season, w.team ORDER BY w.win_total) = 1
),
pbp_games AS (
  SELECT DISTINCT q.game_id FROM silver.pbp AS q
)
SELECT
  s.season,
  s.week,
  s.team,
  s.game_id,
  s.game_type,
  s.opponent,
  s.home_away,
  s.points_for,
  s.points_against,
  CASE WHEN s.points_for > s.points_against THEN 'W' WHEN s.points_for < s.points_against THEN 'L' WHEN s.points_for IS NOT NULL THEN 'T' END AS outcome,
  s.team_spread,
  s.spread_line,
  s.total_line,
  s.points_for - s.points_against - s.team_spread AS ats_margin,
  (s.total_line + s.team_spread) / 2 AS implied_points,
  (s.total_line - s.team_spread) / 2 AS implied_points_against,
  pr.win_total AS preseason_win_total,
  pr.true_wins AS preseason_expected_wins,
  CASE WHEN pg.game_id IS NOT NULL THEN coalesce(o.off_plays, 0) END AS off_plays,
  o.off_epa_per_play,
  o.off_success_rate,
  o.off_pass_rate,
  o.off_pass_epa_per_play,
  o.off_rush_epa_per_play,
  CASE WHEN pg.game_id IS NOT NULL THEN coalesce(d.def_plays, 0) END AS def_plays,
  d.def_epa_per_play,
  d.def_success_rate,
  o.sec_per_play,
  CASE WHEN pg.game_id IS NOT NULL THEN coalesce(fl.penalties, 0) END AS penalties,
  CASE WHEN pg.game_id IS NOT NULL THEN coalesce(fl.penalty_yards, 0) END AS penalty_yards
FROM sides AS s
LEFT JOIN pbp_games AS pg ON pg.game_id = s.game_id
LEFT JOIN offense AS o ON o.game_id = s.game_id AND o.team = s.team
LEFT JOIN defense AS d ON d.game_id = s.game_id AND d.team = s.team
LEFT JOIN flags AS fl ON fl.game_id = s.game_id AND fl.team = s.team
LEFT JOIN priors AS pr ON pr.season = s.season AND pr.team = s.team
ORDER BY s.season, s.week, s.team
