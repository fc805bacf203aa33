-- Receiving efficiency and opportunity shares of nflverse's player stats files (player_stats_weekly,
-- player_stats_seasonal, player_stats_legacy).
  CAST(racr AS DOUBLE) AS racr,
  CAST(target_share AS DOUBLE) AS target_share,
  CAST(air_yards_share AS DOUBLE) AS air_yards_share,
  CAST(wopr AS DOUBLE) AS wopr,
