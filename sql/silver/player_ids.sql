-- silver.player_ids: DynastyProcess player id crosswalk, one row per mfl_id (team keeps FA for free agents).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.player_ids, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse sample file.
SELECT
  CAST(mfl_id AS VARCHAR) AS mfl_id,
  CAST(sportradar_id AS VARCHAR) AS sportradar_id,
  CAST(fantasypros_id AS VARCHAR) AS fantasypros_id,
  CAST(gsis_id AS VARCHAR) AS gsis_id,
  CAST(pff_id AS VARCHAR) AS pff_id,
  CAST(sleeper_id AS VARCHAR) AS sleeper_id,
  CAST(nfl_id AS VARCHAR) AS nfl_id,
  CAST(espn_id AS VARCHAR) AS espn_id,
  CAST(yahoo_id AS VARCHAR) AS yahoo_id,
  CAST(fleaflicker_id AS VARCHAR) AS fleaflicker_id,
  CAST(cbs_id AS VARCHAR) AS cbs_id,
  CAST(pfr_id AS VARCHAR) AS pfr_id,
  CAST(cfbref_id AS VARCHAR) AS cfbref_id,
  CAST(rotowire_id AS VARCHAR) AS rotowire_id,
  CAST(rotoworld_id AS VARCHAR) AS rotoworld_id,
  CAST(ktc_id AS VARCHAR) AS ktc_id,
  CAST(stats_id AS VARCHAR) AS stats_id,
  CAST(stats_global_id AS VARCHAR) AS stats_global_id,
  CAST(fantasy_data_id AS VARCHAR) AS fantasy_data_id,
  CAST(swish_id AS VARCHAR) AS swish_id,
  CAST(name AS VARCHAR) AS name,
  CAST(merge_name AS VARCHAR) AS merge_name,
  CAST("position" AS VARCHAR) AS "position",
  team_code(team) AS team,
  CAST(birthdate AS DATE) AS birthdate,
  CAST(age AS DOUBLE) AS age,
  CAST(draft_year AS DOUBLE) AS draft_year,
  CAST(draft_round AS DOUBLE) AS draft_round,
  CAST(draft_pick AS DOUBLE) AS draft_pick,
  CAST(draft_ovr AS DOUBLE) AS draft_ovr,
  CAST(twitter_username AS VARCHAR) AS twitter_username,
  CAST(height AS DOUBLE) AS height,
  CAST(weight AS DOUBLE) AS weight,
  CAST(college AS VARCHAR) AS college,
  CAST(db_season AS BIGINT) AS db_season,
  -- @include _fragments/lineage.sql
FROM bronze_rows
