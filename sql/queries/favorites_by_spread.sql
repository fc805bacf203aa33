-- How often favourites win and cover, by size of the closing spread.
-- Reads gold.fact_game. Runs with `lake sql --file` and on tables/lake.duckdb.
SELECT
  CASE
    WHEN abs(spread_line) < 3 THEN '0-2.5'
    WHEN abs(spread_line) < 4 THEN '3-3.5'
    WHEN abs(spread_line) < 7 THEN '4-6.5'
    WHEN abs(spread_line) < 10 THEN '7-9.5'
    ELSE '10+'
  END AS spread_bucket,
  count(*) AS games,
  round(avg(CASE WHEN winner = CASE WHEN spread_line > 0 THEN home_team ELSE away_team END THEN 1.0 ELSE 0.0 END), 3) AS favourite_win_rate,
  round(avg(CASE WHEN home_cover = CASE WHEN spread_line > 0 THEN 'home' ELSE 'away' END THEN 1.0 WHEN home_cover = 'push' THEN NULL ELSE 0.0 END), 3) AS favourite_cover_rate,
  count(*) FILTER (WHERE home_cover = 'push') AS pushes
FROM gold.fact_game
WHERE home_score IS NOT NULL AND spread_line IS NOT NULL AND spread_line <> 0
GROUP BY ALL
ORDER BY min(abs(spread_line))
