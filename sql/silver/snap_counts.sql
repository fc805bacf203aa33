-- silver.snap_counts: snap counts per player and game.
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.snap_counts, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse snap_counts/snap_counts_{year}.parquet.
SELECT
  CAST(game_id AS VARCHAR) AS game_id,
  CAST(pfr_game_id AS VARCHAR) AS pfr_game_id,
  CAST(season AS INTEGER) AS season,
  CAST(game_type AS VARCHAR) AS game_type,
  CAST(week AS INTEGER) AS week,
  CAST(player AS VARCHAR) AS player,
  CAST(pfr_player_id AS VARCHAR) AS pfr_player_id,
  CAST("position" AS VARCHAR) AS "position",
  team_code(team, season) AS team,
  team_code(opponent, season) AS opponent,
  CAST(offense_snaps AS DOUBLE) AS offense_snaps,
  CAST(offense_pct AS DOUBLE) AS offense_pct,
  CAST(defense_snaps AS DOUBLE) AS defense_snaps,
  CAST(defense_pct AS DOUBLE) AS defense_pct,
  CAST(st_snaps AS DOUBLE) AS st_snaps,
  CAST(st_pct AS DOUBLE) AS st_pct,
  -- @include _fragments/lineage.sql
FROM bronze_rows
