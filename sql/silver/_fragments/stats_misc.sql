-- Misc yards, fumble recoveries and penalties of nflverse stats_player and stats_team
-- (player_stats_weekly, player_stats_seasonal, team_stats_weekly).
  CAST(misc_yards AS INTEGER) AS misc_yards,
  CAST(fumble_recovery_own AS INTEGER) AS fumble_recovery_own,
  CAST(fumble_recovery_yards_own AS INTEGER) AS fumble_recovery_yards_own,
  CAST(fumble_recovery_opp AS INTEGER) AS fumble_recovery_opp,
  CAST(fumble_recovery_yards_opp AS INTEGER) AS fumble_recovery_yards_opp,
  CAST(fumble_recovery_tds AS INTEGER) AS fumble_recovery_tds,
  CAST(penalties AS INTEGER) AS penalties,
  CAST(penalty_yards AS INTEGER) AS penalty_yards,
