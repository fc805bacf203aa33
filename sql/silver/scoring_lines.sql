-- silver.scoring_lines: scoring lines by game and side.
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.scoring_lines, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse sample file.
SELECT
  CAST(season AS INTEGER) AS season,
  CAST(week AS INTEGER) AS week,
  team_code(away_team, season) AS away_team,
  team_code(home_team, season) AS home_team,
  CAST(game_id AS VARCHAR) AS game_id,
  CAST(alt_game_id AS VARCHAR) AS alt_game_id,
  team_code(side, season) AS side,
  CAST(line AS DOUBLE) AS line,
  CAST(home_team_spread AS DOUBLE) AS home_team_spread,
  -- @include _fragments/lineage.sql
FROM bronze_rows
