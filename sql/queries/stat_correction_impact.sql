-- What a stat correction changed: team-week EPA per play now against an earlier version of the
-- mart (set the version in the AT clause; `lake history gold.fact_team_week` lists them).
-- LAKE ONLY: `AT (VERSION => n)` is time travel through our reader (or DuckDB's delta extension on
-- the table folder); the plain views in tables/lake.duckdb only hold the latest version.
SELECT
  now.season,
  now.week,
  now.team,
  round(old.off_epa_per_play, 4) AS off_epa_before,
  round(now.off_epa_per_play, 4) AS off_epa_now,
  round(old.def_epa_per_play, 4) AS def_epa_before,
  round(now.def_epa_per_play, 4) AS def_epa_now,
  now.points_for - old.points_for AS points_for_change
FROM gold.fact_team_week AS now
JOIN gold.fact_team_week AT (VERSION => 0) AS old ON old.season = now.season AND old.week = now.week AND old.team = now.team
-- Compared at 6 decimals: a mean of doubles can differ in its last bits between builds.
WHERE round(old.off_epa_per_play, 6) IS DISTINCT FROM round(now.off_epa_per_play, 6)
   OR round(old.def_epa_per_play, 6) IS DISTINCT FROM round(now.def_epa_per_play, 6)
   OR old.points_for IS DISTINCT FROM now.points_for
ORDER BY now.season, now.week, now.team
