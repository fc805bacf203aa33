-- smart_id and how the player entered the league, after gsis_it_id in nflverse rosters and
-- weekly_rosters (rosters, rosters_weekly).
  CAST(smart_id AS VARCHAR) AS smart_id,
  CAST(entry_year AS INTEGER) AS entry_year,
  CAST(rookie_year AS INTEGER) AS rookie_year,
  team_code(draft_club, season) AS draft_club,
  CAST(draft_number AS INTEGER) AS draft_number,
