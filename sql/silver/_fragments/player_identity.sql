-- Who a player is: the leading columns of nflverse's player stats files
-- (player_stats_weekly, player_stats_seasonal, player_stats_legacy).
  CAST(player_id AS VARCHAR) AS player_id,
  CAST(player_name AS VARCHAR) AS player_name,
  CAST(player_display_name AS VARCHAR) AS player_display_name,
  CAST("position" AS VARCHAR) AS "position",
  CAST(position_group AS VARCHAR) AS position_group,
  CAST(headshot_url AS VARCHAR) AS headshot_url,
