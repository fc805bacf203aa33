-- Receiving leaders through week N of a season: yards, receptions, targets, target share, TDs.
-- Parameters: edit the params row (season, through_week, min_targets).
-- Reads gold.fact_player_week, gold.dim_player. Runs with `lake sql --file` and on tables/lake.duckdb.
WITH params AS (SELECT 2023 AS season, 8 AS through_week, 10 AS min_targets)
SELECT
  coalesce(p.display_name, f.player_name) AS player,
  arg_max(f.team, f.week) AS team,
  count(*) AS games,
  sum(f.targets) AS targets,
  sum(f.receptions) AS receptions,
  sum(f.receiving_yards) AS receiving_yards,
  sum(f.receiving_tds) AS receiving_tds,
  round(avg(f.target_share), 3) AS avg_target_share,
  round(sum(f.receiving_yards) / nullif(sum(f.targets), 0), 1) AS yards_per_target
FROM gold.fact_player_week AS f
JOIN params AS x ON f.season = x.season AND f.week <= x.through_week AND f.season_type = 'REG'
LEFT JOIN gold.dim_player AS p ON p.player_id = f.player_id
WHERE f.targets > 0
GROUP BY f.player_id, p.display_name, f.player_name, x.min_targets
HAVING sum(f.targets) >= x.min_targets
ORDER BY receiving_yards DESC, player
LIMIT 25
