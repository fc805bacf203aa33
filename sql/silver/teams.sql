-- silver.teams: teams: team_abbr as upstream (historical codes too), team its canonical code.
-- Input: bronze_rows, the bronze rows being promoted (a column the upstream file lacks reads as NULL).
-- Output: the canonical columns of silver.teams, in this order and with these types; the
-- last five are the bronze lineage stamps of each row. Team codes go through team_code()
-- (sql/silver/_team_codes.sql). Column list: nflverse teams/teams_colors_logos.parquet.
SELECT
  CAST(team_abbr AS VARCHAR) AS team_abbr,
  team_code(team_abbr) AS team,
  CAST(team_name AS VARCHAR) AS team_name,
  CAST(team_id AS VARCHAR) AS team_id,
  CAST(team_nick AS VARCHAR) AS team_nick,
  CAST(team_conf AS VARCHAR) AS team_conf,
  CAST(team_division AS VARCHAR) AS team_division,
  CAST(team_color AS VARCHAR) AS team_color,
  CAST(team_color2 AS VARCHAR) AS team_color2,
  CAST(team_color3 AS VARCHAR) AS team_color3,
  CAST(team_color4 AS VARCHAR) AS team_color4,
  CAST(team_logo_wikipedia AS VARCHAR) AS team_logo_wikipedia,
  CAST(team_logo_espn AS VARCHAR) AS team_logo_espn,
  CAST(team_wordmark AS VARCHAR) AS team_wordmark,
  CAST(team_conference_logo AS VARCHAR) AS team_conference_logo,
  CAST(team_league_logo AS VARCHAR) AS team_league_logo,
  CAST(team_logo_squared AS VARCHAR) AS team_logo_squared,
  -- @include _fragments/lineage.sql
FROM bronze_rows
