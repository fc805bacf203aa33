-- silver.rosters: season rosters.
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.rosters, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse rosters/roster_{year}.parquet.
SELECT
  -- @include _fragments/roster_player.sql
  CAST(gsis_it_id AS BIGINT) AS gsis_it_id,
  -- @include _fragments/roster_entry.sql
  -- @include _fragments/lineage.sql
FROM bronze_rows
