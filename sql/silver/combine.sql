-- silver.combine: combine measurements (draft_team is the full team name upstream).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.combine, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse combine/combine.parquet.
SELECT
  CAST(season AS INTEGER) AS season,
  CAST(draft_year AS DOUBLE) AS draft_year,
  CAST(draft_team AS VARCHAR) AS draft_team,
  CAST(draft_round AS DOUBLE) AS draft_round,
  CAST(draft_ovr AS DOUBLE) AS draft_ovr,
  CAST(pfr_id AS VARCHAR) AS pfr_id,
  CAST(cfb_id AS VARCHAR) AS cfb_id,
  CAST(player_name AS VARCHAR) AS player_name,
  CAST(pos AS VARCHAR) AS pos,
  CAST(school AS VARCHAR) AS school,
  CAST(ht AS VARCHAR) AS ht,
  CAST(wt AS DOUBLE) AS wt,
  CAST(forty AS DOUBLE) AS forty,
  CAST(bench AS DOUBLE) AS bench,
  CAST(vertical AS DOUBLE) AS vertical,
  CAST(broad_jump AS DOUBLE) AS broad_jump,
  CAST(cone AS DOUBLE) AS cone,
  CAST(shuttle AS DOUBLE) AS shuttle,
  -- @include _fragments/lineage.sql
FROM bronze_rows
