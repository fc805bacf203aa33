-- Quarterbacks: completion % over expected (nflverse model and NGS) against EPA per dropback, per season.
-- Parameters: min_attempts_per_game in the params row (starters, not backups). NGS fields need silver.nextgen_stats (2016+).
-- Reads gold.fact_player_week, gold.dim_player. Runs with `lake sql --file` and on tables/lake.duckdb.
WITH params AS (SELECT 15 AS min_attempts_per_game)
SELECT
  f.season,
  coalesce(p.display_name, min(f.player_name)) AS quarterback,
  arg_max(f.team, f.week) AS team,
  count(*) AS games,
  sum(f.attempts) AS attempts,
  round(sum(f.passing_epa) / nullif(sum(f.attempts) + sum(f.sacks), 0), 3) AS epa_per_dropback,
  round(sum(f.passing_cpoe * f.attempts) / nullif(sum(f.attempts) FILTER (WHERE f.passing_cpoe IS NOT NULL), 0), 1) AS cpoe,
  round(sum(f.ngs_cpoe * f.attempts) / nullif(sum(f.attempts) FILTER (WHERE f.ngs_cpoe IS NOT NULL), 0), 1) AS ngs_cpoe,
  round(avg(f.ngs_avg_time_to_throw), 2) AS ngs_time_to_throw
FROM gold.fact_player_week AS f
CROSS JOIN params AS x
LEFT JOIN gold.dim_player AS p ON p.player_id = f.player_id
WHERE f.attempts > 0
GROUP BY f.season, f.player_id, p.display_name, x.min_attempts_per_game
HAVING sum(f.attempts) >= x.min_attempts_per_game * count(*)
ORDER BY f.season DESC, epa_per_dropback DESC, quarterback
