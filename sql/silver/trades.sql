-- silver.trades: trades, one row per traded asset upstream (no key; exact duplicates are kept as delivered).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.trades, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse trades/trades.parquet.
SELECT
  CAST(trade_id AS BIGINT) AS trade_id,
  CAST(season AS INTEGER) AS season,
  CAST(trade_date AS DATE) AS trade_date,
  team_code(gave, season) AS gave,
  team_code(received, season) AS received,
  CAST(pick_season AS DOUBLE) AS pick_season,
  CAST(pick_round AS DOUBLE) AS pick_round,
  CAST(pick_number AS DOUBLE) AS pick_number,
  CAST("conditional" AS DOUBLE) AS "conditional",
  CAST(pfr_id AS VARCHAR) AS pfr_id,
  CAST(pfr_name AS VARCHAR) AS pfr_name,
  -- @include _fragments/lineage.sql
FROM bronze_rows
