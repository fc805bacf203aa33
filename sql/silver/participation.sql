-- silver.participation: pbp participation (CC-BY-SA 4.0 from 2023, FTN Data via nflverse).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.participation, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse pbp_participation/pbp_participation_{year}.parquet.
SELECT
  CAST(nflverse_game_id AS VARCHAR) AS nflverse_game_id,
  CAST(old_game_id AS VARCHAR) AS old_game_id,
  CAST(play_id AS BIGINT) AS play_id,
  team_code(possession_team, season) AS possession_team,
  CAST(offense_formation AS VARCHAR) AS offense_formation,
  CAST(offense_personnel AS VARCHAR) AS offense_personnel,
  CAST(defenders_in_box AS INTEGER) AS defenders_in_box,
  CAST(defense_personnel AS VARCHAR) AS defense_personnel,
  CAST(number_of_pass_rushers AS INTEGER) AS number_of_pass_rushers,
  CAST(players_on_play AS VARCHAR) AS players_on_play,
  CAST(offense_players AS VARCHAR) AS offense_players,
  CAST(defense_players AS VARCHAR) AS defense_players,
  CAST(n_offense AS INTEGER) AS n_offense,
  CAST(n_defense AS INTEGER) AS n_defense,
  CAST(ngs_air_yards AS DOUBLE) AS ngs_air_yards,
  CAST(time_to_throw AS DOUBLE) AS time_to_throw,
  CAST(was_pressure AS BOOLEAN) AS was_pressure,
  CAST(route AS VARCHAR) AS route,
  CAST(defense_man_zone_type AS VARCHAR) AS defense_man_zone_type,
  CAST(defense_coverage_type AS VARCHAR) AS defense_coverage_type,
  CAST(offense_names AS VARCHAR) AS offense_names,
  CAST(defense_names AS VARCHAR) AS defense_names,
  CAST(offense_positions AS VARCHAR) AS offense_positions,
  CAST(defense_positions AS VARCHAR) AS defense_positions,
  CAST(offense_numbers AS VARCHAR) AS offense_numbers,
  CAST(defense_numbers AS VARCHAR) AS defense_numbers,
  CAST(season AS INTEGER) AS season,
  -- @include _fragments/lineage.sql
FROM bronze_rows
