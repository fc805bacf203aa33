-- silver.ftn_charting: FTN charting (CC-BY-SA 4.0, FTN Data via nflverse).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.ftn_charting, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse ftn_charting/ftn_charting_{year}.parquet.
SELECT
  CAST(ftn_game_id AS VARCHAR) AS ftn_game_id,
  CAST(nflverse_game_id AS VARCHAR) AS nflverse_game_id,
  CAST(season AS INTEGER) AS season,
  CAST(week AS INTEGER) AS week,
  CAST(ftn_play_id AS BIGINT) AS ftn_play_id,
  CAST(nflverse_play_id AS BIGINT) AS nflverse_play_id,
  CAST(starting_hash AS VARCHAR) AS starting_hash,
  CAST(qb_location AS VARCHAR) AS qb_location,
  CAST(n_offense_backfield AS INTEGER) AS n_offense_backfield,
  CAST(n_defense_box AS INTEGER) AS n_defense_box,
  CAST(is_no_huddle AS BOOLEAN) AS is_no_huddle,
  CAST(is_motion AS BOOLEAN) AS is_motion,
  CAST(is_play_action AS BOOLEAN) AS is_play_action,
  CAST(is_screen_pass AS BOOLEAN) AS is_screen_pass,
  CAST(is_rpo AS BOOLEAN) AS is_rpo,
  CAST(is_trick_play AS BOOLEAN) AS is_trick_play,
  CAST(is_qb_out_of_pocket AS BOOLEAN) AS is_qb_out_of_pocket,
  CAST(is_interception_worthy AS BOOLEAN) AS is_interception_worthy,
  CAST(is_throw_away AS BOOLEAN) AS is_throw_away,
  CAST(read_thrown AS VARCHAR) AS read_thrown,
  CAST(is_catchable_ball AS BOOLEAN) AS is_catchable_ball,
  CAST(is_contested_ball AS BOOLEAN) AS is_contested_ball,
  CAST(is_created_reception AS BOOLEAN) AS is_created_reception,
  CAST(is_drop AS BOOLEAN) AS is_drop,
  CAST(is_qb_sneak AS BOOLEAN) AS is_qb_sneak,
  CAST(n_blitzers AS INTEGER) AS n_blitzers,
  CAST(n_pass_rushers AS INTEGER) AS n_pass_rushers,
  CAST(is_qb_fault_sack AS BOOLEAN) AS is_qb_fault_sack,
  CAST(date_pulled AS TIMESTAMPTZ) AS date_pulled,
  -- @include _fragments/lineage.sql
FROM bronze_rows
