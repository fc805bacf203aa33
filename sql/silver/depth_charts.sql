-- silver.depth_charts: depth charts (2025+ ESPN daily snapshots: dt is the snapshot time in UTC).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.depth_charts, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse depth_charts/depth_charts_{year}.parquet.
SELECT
  CAST(dt AS TIMESTAMPTZ) AS dt,
  team_code(team, season) AS team,
  CAST(player_name AS VARCHAR) AS player_name,
  CAST(espn_id AS VARCHAR) AS espn_id,
  CAST(gsis_id AS VARCHAR) AS gsis_id,
  CAST(pos_grp_id AS VARCHAR) AS pos_grp_id,
  CAST(pos_grp AS VARCHAR) AS pos_grp,
  CAST(pos_id AS VARCHAR) AS pos_id,
  CAST(pos_name AS VARCHAR) AS pos_name,
  CAST(pos_abb AS VARCHAR) AS pos_abb,
  CAST(pos_slot AS INTEGER) AS pos_slot,
  CAST(pos_rank AS INTEGER) AS pos_rank,
  CAST(season AS INTEGER) AS season,
  -- @include _fragments/lineage.sql
FROM bronze_rows
