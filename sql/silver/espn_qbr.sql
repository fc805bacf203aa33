-- silver.espn_qbr: ESPN QBR, season and week level (stat_type).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.espn_qbr, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse espn_data/qbr_season_level.parquet, espn_data/qbr_week_level.parquet.
SELECT
  CAST(season AS INTEGER) AS season,
  CAST(season_type AS VARCHAR) AS season_type,
  CAST(game_week AS VARCHAR) AS game_week,
  team_code(team_abb, season) AS team_abb,
  CAST(player_id AS VARCHAR) AS player_id,
  CAST(name_short AS VARCHAR) AS name_short,
  CAST("rank" AS DOUBLE) AS "rank",
  CAST(qbr_total AS DOUBLE) AS qbr_total,
  CAST(pts_added AS DOUBLE) AS pts_added,
  CAST(qb_plays AS DOUBLE) AS qb_plays,
  CAST(epa_total AS DOUBLE) AS epa_total,
  CAST("pass" AS DOUBLE) AS "pass",
  CAST("run" AS DOUBLE) AS "run",
  CAST(exp_sack AS DOUBLE) AS exp_sack,
  CAST(penalty AS DOUBLE) AS penalty,
  CAST(qbr_raw AS DOUBLE) AS qbr_raw,
  CAST(sack AS DOUBLE) AS sack,
  CAST(name_first AS VARCHAR) AS name_first,
  CAST(name_last AS VARCHAR) AS name_last,
  CAST(name_display AS VARCHAR) AS name_display,
  CAST(headshot_href AS VARCHAR) AS headshot_href,
  CAST(team AS VARCHAR) AS team,
  CAST(qualified AS BOOLEAN) AS qualified,
  CAST(game_id AS VARCHAR) AS game_id,
  CAST(week_text AS VARCHAR) AS week_text,
  CAST(opp_id AS VARCHAR) AS opp_id,
  team_code(opp_abb, season) AS opp_abb,
  CAST(opp_team AS VARCHAR) AS opp_team,
  CAST(opp_name AS VARCHAR) AS opp_name,
  CAST(week_num AS INTEGER) AS week_num,
  CAST(stat_type AS VARCHAR) AS stat_type,
  -- @include _fragments/lineage.sql
FROM bronze_rows
