-- Referee crews: games worked, home win rate, how often the home team covered, over rate, and
-- average total points. The crew comes from silver.officials (2015+) or the schedules' referee.
-- Reads gold.fact_game. Runs with `lake sql --file` and on tables/lake.duckdb.
SELECT
  referee,
  count(*) AS games,
  round(avg(CASE WHEN result > 0 THEN 1.0 WHEN result < 0 THEN 0.0 ELSE 0.5 END), 3) AS home_win_rate,
  round(avg(CASE home_cover WHEN 'home' THEN 1.0 WHEN 'away' THEN 0.0 END), 3) AS home_cover_rate,
  round(avg(CASE over_under WHEN 'over' THEN 1.0 WHEN 'under' THEN 0.0 END), 3) AS over_rate,
  round(avg(total), 1) AS avg_total_points,
  min(season) AS first_season,
  max(season) AS last_season
FROM gold.fact_game
WHERE referee IS NOT NULL AND home_score IS NOT NULL
GROUP BY referee
HAVING count(*) >= 5
ORDER BY over_rate DESC, referee
