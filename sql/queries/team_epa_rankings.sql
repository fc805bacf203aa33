-- Team EPA rankings per season: offensive and defensive EPA per play and success rate, with ranks
-- (offence: higher is better; defence: lower EPA allowed is better) and the net EPA per play.
-- Reads gold.fact_team_week, gold.dim_team (seasons with play-by-play loaded).
-- Runs with `lake sql --file` and on tables/lake.duckdb.
WITH season_totals AS (
  SELECT
    w.season, w.team,
    count(*) AS games,
    sum(w.off_epa_per_play * w.off_plays) / sum(w.off_plays) AS off_epa_per_play,
    sum(w.off_success_rate * w.off_plays) / sum(w.off_plays) AS off_success_rate,
    sum(w.def_epa_per_play * w.def_plays) / sum(w.def_plays) AS def_epa_per_play,
    sum(w.def_success_rate * w.def_plays) / sum(w.def_plays) AS def_success_rate
  FROM gold.fact_team_week AS w
  WHERE w.off_plays > 0 AND w.def_plays > 0
  GROUP BY w.season, w.team
)
SELECT
  s.season,
  s.team,
  t.division,
  s.games,
  round(s.off_epa_per_play, 3) AS off_epa_per_play,
  rank() OVER (PARTITION BY s.season ORDER BY s.off_epa_per_play DESC) AS off_rank,
  round(s.def_epa_per_play, 3) AS def_epa_per_play,
  rank() OVER (PARTITION BY s.season ORDER BY s.def_epa_per_play) AS def_rank,
  round(s.off_epa_per_play - s.def_epa_per_play, 3) AS net_epa_per_play,
  round(s.off_success_rate, 3) AS off_success_rate,
  round(s.def_success_rate, 3) AS def_success_rate
FROM season_totals AS s
LEFT JOIN gold.dim_team AS t ON t.team = s.team
ORDER BY s.season DESC, net_epa_per_play DESC, s.team
