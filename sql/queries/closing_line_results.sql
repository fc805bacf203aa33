-- Closing-line results per team and season: record, record against the closing spread, average
-- cover margin, and over/under record.
-- Reads gold.fact_team_week, gold.fact_game. Runs with `lake sql --file` and on tables/lake.duckdb.
SELECT
  w.season,
  w.team,
  count(*) FILTER (WHERE w.outcome IS NOT NULL) AS games,
  count(*) FILTER (WHERE w.outcome = 'W') || '-' || count(*) FILTER (WHERE w.outcome = 'L') || CASE WHEN count(*) FILTER (WHERE w.outcome = 'T') > 0 THEN '-' || count(*) FILTER (WHERE w.outcome = 'T') ELSE '' END AS record,
  count(*) FILTER (WHERE w.ats_margin > 0) || '-' || count(*) FILTER (WHERE w.ats_margin < 0) || '-' || count(*) FILTER (WHERE w.ats_margin = 0) AS ats_record,
  round(avg(w.ats_margin), 1) AS avg_cover_margin,
  count(*) FILTER (WHERE g.over_under = 'over') || '-' || count(*) FILTER (WHERE g.over_under = 'under') || '-' || count(*) FILTER (WHERE g.over_under = 'push') AS over_under_record,
  round(avg(w.team_spread), 1) AS avg_points_favoured_by
FROM gold.fact_team_week AS w
JOIN gold.fact_game AS g ON g.game_id = w.game_id
WHERE w.ats_margin IS NOT NULL
GROUP BY w.season, w.team
ORDER BY w.season DESC, avg_cover_margin DESC, w.team
