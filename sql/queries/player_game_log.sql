-- A player's game log: one line per week with opponent, result, usage and production, injury and
-- depth-chart status. Parameters: the player's name (any part, case-insensitive) in the params row.
-- Reads gold.fact_player_week, gold.dim_player, gold.fact_team_week. Runs with `lake sql --file` and on tables/lake.duckdb.
WITH params AS (SELECT 'Tyreek Hill' AS name)
SELECT
  f.season,
  f.week,
  coalesce(p.display_name, f.player_name) AS player,
  f.team,
  CASE WHEN w.home_away = 'away' THEN '@' ELSE 'vs' END || ' ' || f.opponent AS opponent,
  w.outcome || ' ' || w.points_for || '-' || w.points_against AS result,
  f.targets, f.receptions, f.receiving_yards, f.receiving_tds,
  f.carries, f.rushing_yards, f.rushing_tds,
  f.attempts, f.passing_yards, f.passing_tds,
  round(f.offense_snap_share, 2) AS snap_share,
  f.injury_status,
  f.depth_position || coalesce(CAST(f.depth_rank AS VARCHAR), '') AS depth
FROM gold.fact_player_week AS f
CROSS JOIN params AS x
LEFT JOIN gold.dim_player AS p ON p.player_id = f.player_id
LEFT JOIN gold.fact_team_week AS w ON w.season = f.season AND w.week = f.week AND w.team = f.team
WHERE coalesce(p.display_name, f.player_name) ILIKE '%' || x.name || '%'
ORDER BY f.season, f.week
