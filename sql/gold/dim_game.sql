-- @mart dim_game
-- @summary One row per game: when and where it was played, who was home and away, and its ids in
--   the other sources (old NFL id, GSIS, PFR, ESPN…).
-- @grain game_id
-- @partition season
-- @coverage Games come from silver.schedules; games of seasons (or weeks) schedules lack but
--   play-by-play has are added from silver.pbp (source = 'pbp'), with game_type set to the pbp
--   season_type (REG/POST), kickoff_utc from game_date + start_time (US Eastern), and no gsis,
--   pfr, pff, espn or ftn ids.
-- @coverage Schedules list future games too (scores NULL in fact_game); pbp only has played games.
-- @column game_id                  nflverse game id, e.g. 2023_01_DET_KC (season_week_away_home).
-- @column season                   Season (the year it started). Partition column.
-- @column week                     Week as nflverse schedules count it (Super Bowl = 22 since 2021).
-- @column game_type                REG, WC, DIV, CON or SB (pbp-only games: REG or POST).
-- @column gameday                  Date of the game (US Eastern).
-- @column weekday                  Day of the week.
-- @column gametime                 Kickoff time, US Eastern, HH:MM.
-- @column kickoff_utc              Kickoff as an instant (UTC).
-- @column away_team                Away team (canonical code; joins dim_team).
-- @column home_team                Home team (canonical code; joins dim_team).
-- @column location                 Home or Neutral.
-- @column div_game                 1 when both teams are in the same division.
-- @column roof                     outdoors, dome, closed or open.
-- @column surface                  Playing surface.
-- @column stadium_id               Stadium id (nflverse).
-- @column stadium                  Stadium name.
-- @column old_game_id              Old 10-digit NFL game id (joins silver.officials.game_id).
-- @column gsis                     GSIS game id.
-- @column nfl_detail_id            NFL detail id.
-- @column pfr                      Pro-Football-Reference game id.
-- @column pff                      PFF game id.
-- @column espn                     ESPN event id.
-- @column ftn                      FTN game id.
-- @column source                   Where the row came from: schedules or pbp.
WITH scheduled AS (
  SELECT
    s.game_id, s.season, s.week, s.game_type, s.gameday, s.weekday, s.gametime, s.kickoff_utc, s.away_team, s.home_team,
    s.location, s.div_game, s.roof, s.surface, s.stadium_id, s.stadium, s.old_game_id, s.gsis, s.nfl_detail_id, s.pfr,
    s.pff, s.espn, s.ftn, 'schedules' AS source
  FROM silver.schedules AS s
),
from_pbp AS (
  SELECT
    p.game_id,
    min(p.season) AS season,
    min(p.week) AS week,
    min(p.season_type) AS game_type,
    min(p.game_date) AS gameday,
    dayname(min(p.game_date)) AS weekday,
    min(strftime(DATE '2000-01-01' + TRY_CAST(p.start_time AS TIME), '%H:%M')) AS gametime,
    CAST(timezone('America/New_York', min(p.game_date) + min(TRY_CAST(p.start_time AS TIME))) AS TIMESTAMPTZ) AS kickoff_utc,
    min(p.away_team) AS away_team,
    min(p.home_team) AS home_team,
    min(p.location) AS location,
    min(p.div_game) AS div_game,
    min(p.roof) AS roof,
    min(p.surface) AS surface,
    min(p.stadium_id) AS stadium_id,
    coalesce(min(p.stadium), min(p.game_stadium)) AS stadium,
    min(p.old_game_id) AS old_game_id,
    CAST(NULL AS VARCHAR) AS gsis,
    CAST(NULL AS VARCHAR) AS nfl_detail_id,
    CAST(NULL AS VARCHAR) AS pfr,
    CAST(NULL AS VARCHAR) AS pff,
    CAST(NULL AS VARCHAR) AS espn,
    CAST(NULL AS VARCHAR) AS ftn,
    'pbp' AS source
  FROM silver.pbp AS p
  GROUP BY p.game_id
)
SELECT * FROM scheduled
UNION ALL BY NAME
SELECT f.* FROM from_pbp AS f ANTI JOIN scheduled AS s ON s.game_id = f.game_id
ORDER BY season, week, game_id
