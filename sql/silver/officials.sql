-- silver.officials: game officials (game_id is the old 10-digit NFL id).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.officials, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse officials/officials.parquet.
SELECT
  CAST(game_id AS VARCHAR) AS game_id,
  CAST(game_key AS VARCHAR) AS game_key,
  CAST(official_name AS VARCHAR) AS official_name,
  CAST("position" AS VARCHAR) AS "position",
  CAST(jersey_number AS INTEGER) AS jersey_number,
  CAST(official_id AS VARCHAR) AS official_id,
  CAST(season AS INTEGER) AS season,
  CAST(season_type AS VARCHAR) AS season_type,
  CAST(week AS INTEGER) AS week,
  -- @include _fragments/lineage.sql
FROM bronze_rows
