-- Injury-adjusted usage: each pass catcher's target share and snap share in weeks when a teammate at
-- the same position was ruled Out, against weeks when none was. Who gains when the WR1 sits?
-- Needs injury reports (silver.injuries, 2009+) and stat lines for the same season; snap share
-- needs silver.snap_counts (2012+).
-- Reads gold.fact_player_week, gold.dim_player. Runs with `lake sql --file` and on tables/lake.duckdb.
WITH outs AS (
  SELECT season, week, team, "position", count(*) AS players_out
  FROM gold.fact_player_week
  WHERE injury_status = 'Out' AND "position" IN ('WR', 'TE', 'RB')
  GROUP BY ALL
),
usage AS (
  SELECT
    f.season, f.player_id, f.team, f."position", f.target_share, f.offense_snap_share,
    coalesce(o.players_out, 0) - CASE WHEN f.injury_status = 'Out' THEN 1 ELSE 0 END > 0 AS teammate_out
  FROM gold.fact_player_week AS f
  LEFT JOIN outs AS o ON o.season = f.season AND o.week = f.week AND o.team = f.team AND o."position" = f."position"
  WHERE f."position" IN ('WR', 'TE', 'RB') AND f.targets IS NOT NULL AND coalesce(f.injury_status, '') <> 'Out'
)
SELECT
  u.season,
  coalesce(p.display_name, u.player_id) AS player,
  u.team,
  u."position",
  count(*) FILTER (WHERE NOT u.teammate_out) AS weeks_full_room,
  count(*) FILTER (WHERE u.teammate_out) AS weeks_teammate_out,
  round(avg(u.target_share) FILTER (WHERE NOT u.teammate_out), 3) AS target_share_full_room,
  round(avg(u.target_share) FILTER (WHERE u.teammate_out), 3) AS target_share_teammate_out,
  round(avg(u.offense_snap_share) FILTER (WHERE u.teammate_out) - avg(u.offense_snap_share) FILTER (WHERE NOT u.teammate_out), 3) AS snap_share_gain
FROM usage AS u
LEFT JOIN gold.dim_player AS p ON p.player_id = u.player_id
GROUP BY ALL
HAVING count(*) FILTER (WHERE u.teammate_out) > 0 AND count(*) FILTER (WHERE NOT u.teammate_out) > 0
ORDER BY (avg(u.target_share) FILTER (WHERE u.teammate_out) - avg(u.target_share) FILTER (WHERE NOT u.teammate_out)) DESC NULLS LAST, player
LIMIT 25
