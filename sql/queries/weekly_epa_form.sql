-- Form: each team's offensive and defensive EPA per play over its last three games (rolling, within
-- a season), with the week's result, for spotting teams trending up or down.
-- Reads gold.fact_team_week. Runs with `lake sql --file` and on tables/lake.duckdb.
SELECT
  season,
  week,
  team,
  opponent,
  outcome,
  round(off_epa_per_play, 3) AS off_epa_per_play,
  round(avg(off_epa_per_play) OVER last3, 3) AS off_epa_last3,
  round(avg(def_epa_per_play) OVER last3, 3) AS def_epa_last3,
  round(avg(off_epa_per_play - def_epa_per_play) OVER last3, 3) AS net_epa_last3
FROM gold.fact_team_week
WHERE off_plays > 0
WINDOW last3 AS (PARTITION BY season, team ORDER BY week ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
ORDER BY season DESC, week DESC, net_epa_last3 DESC, team
