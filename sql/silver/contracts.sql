-- silver.contracts: historical contracts (OverTheCap; team is a nickname or a list).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.contracts, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse contracts/historical_contracts.parquet.
SELECT
  CAST(player AS VARCHAR) AS player,
  CAST("position" AS VARCHAR) AS "position",
  CAST(team AS VARCHAR) AS team,
  CAST(is_active AS BOOLEAN) AS is_active,
  CAST(year_signed AS INTEGER) AS year_signed,
  CAST("years" AS INTEGER) AS "years",
  CAST("value" AS DOUBLE) AS "value",
  CAST(apy AS DOUBLE) AS apy,
  CAST(guaranteed AS DOUBLE) AS guaranteed,
  CAST(apy_cap_pct AS DOUBLE) AS apy_cap_pct,
  CAST(inflated_value AS DOUBLE) AS inflated_value,
  CAST(inflated_apy AS DOUBLE) AS inflated_apy,
  CAST(inflated_guaranteed AS DOUBLE) AS inflated_guaranteed,
  CAST(player_page AS VARCHAR) AS player_page,
  CAST(otc_id AS VARCHAR) AS otc_id,
  CAST(gsis_id AS VARCHAR) AS gsis_id,
  CAST(date_of_birth AS VARCHAR) AS date_of_birth,
  CAST(height AS VARCHAR) AS height,
  CAST(weight AS VARCHAR) AS weight,
  CAST(college AS VARCHAR) AS college,
  CAST(draft_year AS INTEGER) AS draft_year,
  CAST(draft_round AS INTEGER) AS draft_round,
  CAST(draft_overall AS INTEGER) AS draft_overall,
  CAST(draft_team AS VARCHAR) AS draft_team,
  CAST(cols AS STRUCT("year" VARCHAR, team VARCHAR, base_salary DOUBLE, prorated_bonus DOUBLE, roster_bonus DOUBLE, guaranteed_salary DOUBLE, cap_number DOUBLE, cap_percent DOUBLE, cash_paid DOUBLE, workout_bonus DOUBLE, other_bonus DOUBLE, per_game_roster_bonus DOUBLE, option_bonus DOUBLE)[]) AS cols,
  -- @include _fragments/lineage.sql
FROM bronze_rows
