-- silver.player_stats_legacy: legacy weekly offense player stats; recent_team is renamed team.
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.player_stats_legacy, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse player_stats/player_stats_{year}.parquet.
SELECT
  -- @include _fragments/player_identity.sql
  team_code(recent_team, season) AS team,
  CAST(season AS INTEGER) AS season,
  CAST(week AS INTEGER) AS week,
  CAST(season_type AS VARCHAR) AS season_type,
  team_code(opponent_team, season) AS opponent_team,
  CAST(completions AS INTEGER) AS completions,
  CAST(attempts AS INTEGER) AS attempts,
  CAST(passing_yards AS DOUBLE) AS passing_yards,
  CAST(passing_tds AS INTEGER) AS passing_tds,
  CAST(interceptions AS DOUBLE) AS interceptions,
  CAST(sacks AS DOUBLE) AS sacks,
  CAST(sack_yards AS DOUBLE) AS sack_yards,
  CAST(sack_fumbles AS INTEGER) AS sack_fumbles,
  CAST(sack_fumbles_lost AS INTEGER) AS sack_fumbles_lost,
  CAST(passing_air_yards AS DOUBLE) AS passing_air_yards,
  CAST(passing_yards_after_catch AS DOUBLE) AS passing_yards_after_catch,
  CAST(passing_first_downs AS DOUBLE) AS passing_first_downs,
  CAST(passing_epa AS DOUBLE) AS passing_epa,
  CAST(passing_2pt_conversions AS INTEGER) AS passing_2pt_conversions,
  CAST(pacr AS DOUBLE) AS pacr,
  CAST(dakota AS DOUBLE) AS dakota,
  CAST(carries AS INTEGER) AS carries,
  CAST(rushing_yards AS DOUBLE) AS rushing_yards,
  CAST(rushing_tds AS INTEGER) AS rushing_tds,
  CAST(rushing_fumbles AS DOUBLE) AS rushing_fumbles,
  CAST(rushing_fumbles_lost AS DOUBLE) AS rushing_fumbles_lost,
  CAST(rushing_first_downs AS DOUBLE) AS rushing_first_downs,
  CAST(rushing_epa AS DOUBLE) AS rushing_epa,
  CAST(rushing_2pt_conversions AS INTEGER) AS rushing_2pt_conversions,
  CAST(receptions AS INTEGER) AS receptions,
  CAST(targets AS INTEGER) AS targets,
  CAST(receiving_yards AS DOUBLE) AS receiving_yards,
  CAST(receiving_tds AS INTEGER) AS receiving_tds,
  CAST(receiving_fumbles AS DOUBLE) AS receiving_fumbles,
  CAST(receiving_fumbles_lost AS DOUBLE) AS receiving_fumbles_lost,
  CAST(receiving_air_yards AS DOUBLE) AS receiving_air_yards,
  CAST(receiving_yards_after_catch AS DOUBLE) AS receiving_yards_after_catch,
  CAST(receiving_first_downs AS DOUBLE) AS receiving_first_downs,
  CAST(receiving_epa AS DOUBLE) AS receiving_epa,
  CAST(receiving_2pt_conversions AS INTEGER) AS receiving_2pt_conversions,
  -- @include _fragments/player_shares.sql
  CAST(special_teams_tds AS DOUBLE) AS special_teams_tds,
  CAST(fantasy_points AS DOUBLE) AS fantasy_points,
  CAST(fantasy_points_ppr AS DOUBLE) AS fantasy_points_ppr,
  -- @include _fragments/lineage.sql
FROM bronze_rows
