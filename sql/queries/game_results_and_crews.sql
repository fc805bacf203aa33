-- Game results with the closing line and the officiating crew, one line per game, newest first.
-- Reads gold.fact_game, gold.dim_game, gold.dim_team. Runs with `lake sql --file` and on tables/lake.duckdb.
SELECT
  g.season,
  g.week,
  g.game_type,
  strftime(g.kickoff_utc, '%Y-%m-%d %H:%M') || ' UTC' AS kickoff,
  g.away_team || ' ' || g.away_score || ' @ ' || g.home_team || ' ' || g.home_score AS score,
  g.spread_line AS home_favoured_by,
  g.home_cover,
  g.total_line,
  g.over_under,
  d.stadium,
  g.referee,
  list_transform(g.officials, o -> o.position || ': ' || o.name) AS crew
FROM gold.fact_game AS g
JOIN gold.dim_game AS d ON d.game_id = g.game_id
WHERE g.home_score IS NOT NULL
ORDER BY g.season DESC, g.week DESC, g.game_id
