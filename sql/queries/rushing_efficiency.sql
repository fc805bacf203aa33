-- Rushing efficiency per season: carries, yards per carry, rushing EPA per carry, success of the
-- NGS model (rush yards over expected) and PFR yards after contact where covered (NGS 2016+, PFR 2018+).
-- Parameters: min_carries in the params row.
-- Reads gold.fact_player_week, gold.dim_player. Runs with `lake sql --file` and on tables/lake.duckdb.
WITH params AS (SELECT 15 AS min_carries)
SELECT
  f.season,
  coalesce(p.display_name, min(f.player_name)) AS player,
  arg_max(f.team, f.week) AS team,
  sum(f.carries) AS carries,
  sum(f.rushing_yards) AS rushing_yards,
  round(sum(f.rushing_yards) / sum(f.carries), 2) AS yards_per_carry,
  round(sum(f.rushing_epa) / sum(f.carries), 3) AS epa_per_carry,
  round(sum(f.ngs_rush_yards_over_expected), 1) AS ngs_ryoe,
  round(sum(f.pfr_rushing_yards_after_contact), 1) AS yards_after_contact
FROM gold.fact_player_week AS f
CROSS JOIN params AS x
LEFT JOIN gold.dim_player AS p ON p.player_id = f.player_id
WHERE f.carries > 0
GROUP BY f.season, f.player_id, p.display_name, x.min_carries
HAVING sum(f.carries) >= x.min_carries
ORDER BY f.season DESC, epa_per_carry DESC, player
