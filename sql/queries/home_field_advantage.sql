-- Home-field advantage by season: home win rate, average home margin, and the average spread the
-- market gave the home team (non-neutral sites only).
-- Reads gold.fact_game, gold.dim_game. Runs with `lake sql --file` and on tables/lake.duckdb.
SELECT
  g.season,
  count(*) AS games,
  round(avg(CASE WHEN g.result > 0 THEN 1.0 WHEN g.result < 0 THEN 0.0 ELSE 0.5 END), 3) AS home_win_rate,
  round(avg(g.result), 2) AS avg_home_margin,
  round(avg(g.spread_line), 2) AS avg_home_spread,
  round(avg(g.result - g.spread_line), 2) AS avg_home_margin_vs_spread
FROM gold.fact_game AS g
JOIN gold.dim_game AS d ON d.game_id = g.game_id
WHERE g.home_score IS NOT NULL AND coalesce(d.location, 'Home') <> 'Neutral'
GROUP BY g.season
ORDER BY g.season
