-- silver.lines: game lines and odds by sportsbook (abbr is a team code or over/under).
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.lines, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse sample file.
SELECT
  CAST(game_id AS VARCHAR) AS game_id,
  CAST(market_type AS VARCHAR) AS market_type,
  team_code(abbr) AS abbr,
  CAST(lines AS DOUBLE) AS lines,
  CAST(odds AS BIGINT) AS odds,
  CAST(opening_lines AS DOUBLE) AS opening_lines,
  CAST(opening_odds AS BIGINT) AS opening_odds,
  CAST(book AS VARCHAR) AS book,
  -- @include _fragments/lineage.sql
FROM bronze_rows
