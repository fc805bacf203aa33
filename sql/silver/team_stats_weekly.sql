-- silver.team_stats_weekly: team stats per week.
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.team_stats_weekly, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse stats_team/stats_team_week_{year}.parquet.
SELECT
  CAST(season AS INTEGER) AS season,
  CAST(week AS INTEGER) AS week,
  team_code(team, season) AS team,
  CAST(season_type AS VARCHAR) AS season_type,
  CAST(game_id AS VARCHAR) AS game_id,
  team_code(opponent_team, season) AS opponent_team,
  -- @include _fragments/stats_passing.sql
  -- @include _fragments/stats_rushing.sql
  -- @include _fragments/stats_receiving.sql
  CAST(special_teams_tds AS INTEGER) AS special_teams_tds,
  -- @include _fragments/stats_defense.sql
  -- @include _fragments/stats_misc.sql
  CAST(timeouts AS INTEGER) AS timeouts,
  -- @include _fragments/stats_special_teams.sql
  CAST(gwfg_distance AS INTEGER) AS gwfg_distance,
  -- @include _fragments/lineage.sql
FROM bronze_rows
