-- silver.draft_picks: draft picks (season = draft year), team codes normalized from PFR style.
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.draft_picks, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse draft_picks/draft_picks.parquet.
SELECT
  CAST(season AS INTEGER) AS season,
  CAST(round AS INTEGER) AS round,
  CAST(pick AS INTEGER) AS pick,
  team_code(team, season) AS team,
  CAST(gsis_id AS VARCHAR) AS gsis_id,
  CAST(pfr_player_id AS VARCHAR) AS pfr_player_id,
  CAST(cfb_player_id AS VARCHAR) AS cfb_player_id,
  CAST(pfr_player_name AS VARCHAR) AS pfr_player_name,
  CAST(hof AS BOOLEAN) AS hof,
  CAST("position" AS VARCHAR) AS "position",
  CAST(category AS VARCHAR) AS category,
  CAST(side AS VARCHAR) AS side,
  CAST(college AS VARCHAR) AS college,
  CAST(age AS DOUBLE) AS age,
  CAST("to" AS INTEGER) AS "to",
  CAST(allpro AS INTEGER) AS allpro,
  CAST(probowls AS INTEGER) AS probowls,
  CAST(seasons_started AS INTEGER) AS seasons_started,
  CAST(w_av AS DOUBLE) AS w_av,
  CAST(car_av AS DOUBLE) AS car_av,
  CAST(dr_av AS DOUBLE) AS dr_av,
  CAST(games AS INTEGER) AS games,
  CAST(pass_completions AS INTEGER) AS pass_completions,
  CAST(pass_attempts AS INTEGER) AS pass_attempts,
  CAST(pass_yards AS INTEGER) AS pass_yards,
  CAST(pass_tds AS INTEGER) AS pass_tds,
  CAST(pass_ints AS INTEGER) AS pass_ints,
  CAST(rush_atts AS INTEGER) AS rush_atts,
  CAST(rush_yards AS INTEGER) AS rush_yards,
  CAST(rush_tds AS INTEGER) AS rush_tds,
  CAST(receptions AS INTEGER) AS receptions,
  CAST(rec_yards AS INTEGER) AS rec_yards,
  CAST(rec_tds AS INTEGER) AS rec_tds,
  CAST(def_solo_tackles AS INTEGER) AS def_solo_tackles,
  CAST(def_ints AS INTEGER) AS def_ints,
  CAST(def_sacks AS DOUBLE) AS def_sacks,
  -- @include _fragments/lineage.sql
FROM bronze_rows
