-- Pace and pass rate per team and season: offensive plays per game, seconds per play, dropback
-- rate, and penalties per game (play-by-play seasons only).
-- Reads gold.fact_team_week. Runs with `lake sql --file` and on tables/lake.duckdb.
SELECT
  season,
  team,
  count(*) AS games,
  round(avg(off_plays), 1) AS plays_per_game,
  round(avg(sec_per_play), 1) AS sec_per_play,
  round(sum(off_pass_rate * off_plays) / sum(off_plays), 3) AS pass_rate,
  round(avg(penalties), 1) AS penalties_per_game,
  round(avg(penalty_yards), 1) AS penalty_yards_per_game
FROM gold.fact_team_week
WHERE off_plays > 0
GROUP BY season, team
ORDER BY season DESC, sec_per_play, team
