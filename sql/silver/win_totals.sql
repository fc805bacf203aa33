-- silver.win_totals: team season win totals 1989-2020.
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.win_totals, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse sample file.
SELECT
  team_code(team, season) AS team,
  CAST(season AS INTEGER) AS season,
  CAST(win_total AS DOUBLE) AS win_total,
  CAST("over" AS BIGINT) AS "over",
  CAST("under" AS BIGINT) AS "under",
  CAST(true_wins AS DOUBLE) AS true_wins,
  CAST(week_betsettled AS VARCHAR) AS week_betsettled,
  CAST(actual_wins AS BIGINT) AS actual_wins,
  CAST("result" AS VARCHAR) AS "result",
  -- @include _fragments/lineage.sql
FROM bronze_rows
