-- silver.injuries: injury reports.
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.injuries, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse injuries/injuries_{year}.parquet.
SELECT
  CAST(season AS INTEGER) AS season,
  CAST(season_type AS VARCHAR) AS season_type,
  CAST(game_type AS VARCHAR) AS game_type,
  team_code(team, season) AS team,
  CAST(week AS INTEGER) AS week,
  CAST(gsis_id AS VARCHAR) AS gsis_id,
  CAST("position" AS VARCHAR) AS "position",
  CAST(full_name AS VARCHAR) AS full_name,
  CAST(first_name AS VARCHAR) AS first_name,
  CAST(last_name AS VARCHAR) AS last_name,
  CAST(report_primary_injury AS VARCHAR) AS report_primary_injury,
  CAST(report_secondary_injury AS VARCHAR) AS report_secondary_injury,
  CAST(report_status AS VARCHAR) AS report_status,
  CAST(practice_primary_injury AS VARCHAR) AS practice_primary_injury,
  CAST(practice_secondary_injury AS VARCHAR) AS practice_secondary_injury,
  CAST(practice_status AS VARCHAR) AS practice_status,
  -- @include _fragments/lineage.sql
FROM bronze_rows
