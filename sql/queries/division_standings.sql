-- Division standings per season (regular season): wins, losses, ties, win percentage, points for
-- and against, division record.
-- Reads gold.fact_team_week, gold.dim_team, gold.dim_game. Runs with `lake sql --file` and on tables/lake.duckdb.
SELECT
  w.season,
  t.division,
  w.team,
  count(*) FILTER (WHERE w.outcome = 'W') AS wins,
  count(*) FILTER (WHERE w.outcome = 'L') AS losses,
  count(*) FILTER (WHERE w.outcome = 'T') AS ties,
  round((count(*) FILTER (WHERE w.outcome = 'W') + 0.5 * count(*) FILTER (WHERE w.outcome = 'T')) / count(*), 3) AS win_pct,
  sum(w.points_for) AS points_for,
  sum(w.points_against) AS points_against,
  count(*) FILTER (WHERE w.outcome = 'W' AND d.div_game = 1) || '-' || count(*) FILTER (WHERE w.outcome = 'L' AND d.div_game = 1) AS division_record
FROM gold.fact_team_week AS w
JOIN gold.dim_team AS t ON t.team = w.team
JOIN gold.dim_game AS d ON d.game_id = w.game_id
WHERE w.game_type = 'REG' AND w.outcome IS NOT NULL
GROUP BY w.season, t.division, w.team
ORDER BY w.season DESC, t.division, win_pct DESC, sum(w.points_for) - sum(w.points_against) DESC, w.team
