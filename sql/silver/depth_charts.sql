-- silver.depth_charts: depth charts (2025+ ESPN daily snapshots: dt is the snapshot time in UTC).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.depth_charts, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse depth_charts/depth_charts_{year}.parquet.
-- 2001-2024 files have the weekly schema (club_code, full_name, depth_position, depth_team, no dt):
-- their team, name, position and rank fill the same columns, so those seasons pass the gates too.
SELECT
  CAST(dt AS TIMESTAMPTZ) AS dt,
  team_code(coalesce(team, club_code), season) AS team,
  CAST(coalesce(player_name, full_name) AS VARCHAR) AS player_name,
  CAST(espn_id AS VARCHAR) AS espn_id,
  CAST(gsis_id AS VARCHAR) AS gsis_id,
  CAST(pos_grp_id AS VARCHAR) AS pos_grp_id,
  CAST(pos_grp AS VARCHAR) AS pos_grp,
  CAST(pos_id AS VARCHAR) AS pos_id,
  CAST(pos_name AS VARCHAR) AS pos_name,
  CAST(coalesce(pos_abb, depth_position) AS VARCHAR) AS pos_abb,
  CAST(pos_slot AS INTEGER) AS pos_slot,
  coalesce(TRY_CAST(pos_rank AS INTEGER), TRY_CAST(depth_team AS INTEGER)) AS pos_rank,
  CAST(season AS INTEGER) AS season,
  -- @include _fragments/lineage.sql
FROM bronze_rows
