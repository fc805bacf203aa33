-- silver.player_stats_weekly: player stats per week (stats_player), one row per (season, week, season_type, player_id).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.player_stats_weekly, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse stats_player/stats_player_week_{year}.parquet.
SELECT
  -- @include _fragments/player_identity.sql
  CAST(season AS INTEGER) AS season,
  CAST(week AS INTEGER) AS week,
  CAST(season_type AS VARCHAR) AS season_type,
  CAST(game_id AS VARCHAR) AS game_id,
  team_code(team, season) AS team,
  team_code(opponent_team, season) AS opponent_team,
  -- @include _fragments/stats_passing.sql
  CAST(pacr AS DOUBLE) AS pacr,
  -- @include _fragments/stats_rushing.sql
  -- @include _fragments/stats_receiving.sql
  -- @include _fragments/player_shares.sql
  CAST(special_teams_tds AS INTEGER) AS special_teams_tds,
  -- @include _fragments/stats_defense.sql
  -- @include _fragments/stats_misc.sql
  -- @include _fragments/stats_special_teams.sql
  CAST(gwfg_distance AS INTEGER) AS gwfg_distance,
  CAST(fantasy_points AS DOUBLE) AS fantasy_points,
  CAST(fantasy_points_ppr AS DOUBLE) AS fantasy_points_ppr,
  -- @include _fragments/lineage.sql
FROM bronze_rows
