-- @mart dim_player
-- @summary One row per player (GSIS id): canonical name, position, biography, draft, latest team and
--   the player's ids in other systems (PFR, ESPN, Sleeper, PFF, Sportradar, Yahoo, MFL).
-- @grain player_id
-- @coverage Every player_id of gold.fact_player_week is here. Attributes come, in order of
--   preference, from silver.players (nflverse players), silver.player_ids (DynastyProcess
--   crosswalk; a GSIS id listed twice keeps the row with the most recent db_season, then the
--   lowest mfl_id), the player's latest silver.rosters row, and finally the name the stat source
--   used in gold.fact_player_week (name_source says which).
-- @coverage latest_team / latest_season: the newest season of silver.rosters, else of
--   gold.fact_player_week, else silver.players' latest_team.
-- @column player_id                GSIS id (00-00xxxxx); the key of the facts.
-- @column display_name             Name to show.
-- @column name_source              players, player_ids, rosters or stats: where display_name came from.
-- @column first_name               First name.
-- @column last_name                Last name.
-- @column position                 Position.
-- @column position_group           Position group (players), else NULL.
-- @column birth_date               Birth date.
-- @column college                  College.
-- @column height                   Height (inches).
-- @column weight                   Weight (pounds).
-- @column rookie_season            First season (players.rookie_season, else rosters.rookie_year).
-- @column draft_year               Draft year.
-- @column draft_round              Draft round.
-- @column draft_pick               Overall pick.
-- @column draft_team               Drafting team (canonical code when it maps).
-- @column latest_team              Most recent team (see coverage).
-- @column latest_season            Season of latest_team.
-- @column pfr_id                   Pro-Football-Reference id.
-- @column espn_id                  ESPN id.
-- @column sleeper_id               Sleeper id.
-- @column pff_id                   PFF id.
-- @column sportradar_id            Sportradar id.
-- @column yahoo_id                 Yahoo id.
-- @column mfl_id                   MyFantasyLeague id (DynastyProcess key).
-- @column headshot_url             Headshot image URL.
WITH nfl AS (
  SELECT
    pl.gsis_id, pl.display_name, pl.first_name, pl.last_name, pl."position", pl.position_group, TRY_CAST(pl.birth_date AS DATE) AS birth_date,
    pl.college_name, pl.height, pl.weight, pl.rookie_season, pl.draft_year, pl.draft_round, pl.draft_pick, pl.draft_team, pl.latest_team,
    pl.pfr_id, pl.espn_id, pl.pff_id, pl.headshot
  FROM silver.players AS pl
  WHERE pl.gsis_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY pl.gsis_id ORDER BY pl.display_name) = 1
),
dp AS (
  SELECT
    ids.gsis_id, ids.name, ids.merge_name, ids."position", ids.birthdate, ids.college, ids.height, ids.weight, ids.draft_year,
    ids.draft_round, ids.draft_pick, ids.pfr_id, ids.espn_id, ids.sleeper_id, ids.pff_id, ids.sportradar_id, ids.yahoo_id, ids.mfl_id
  FROM silver.player_ids AS ids
  WHERE ids.gsis_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY ids.gsis_id ORDER BY ids.db_season DESC NULLS LAST, ids.mfl_id) = 1
),
roster AS (
  SELECT
    r.gsis_id, r.season, r.team, r.full_name, r.first_name, r.last_name, r."position", r.birth_date, r.college, r.height, r.weight,
    r.rookie_year, r.draft_club, r.pfr_id, r.espn_id, r.sleeper_id, r.pff_id, r.sportradar_id, r.yahoo_id, r.headshot_url
  FROM silver.rosters AS r
  WHERE r.gsis_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY r.gsis_id ORDER BY r.season DESC, r.week DESC NULLS LAST, r.team) = 1
),
seen AS (
  SELECT
    f.player_id, max(f.season) AS latest_season,
    arg_max(f.team, f.season * 100 + f.week) AS latest_team,
    arg_max(f.player_name, f.season * 100 + f.week) FILTER (WHERE f.player_name IS NOT NULL) AS player_name,
    arg_max(f."position", f.season * 100 + f.week) FILTER (WHERE f."position" IS NOT NULL) AS "position"
  FROM gold.fact_player_week AS f
  GROUP BY f.player_id
),
everyone AS (
  SELECT gsis_id AS player_id FROM nfl
  UNION SELECT gsis_id FROM dp
  UNION SELECT gsis_id FROM roster
  UNION SELECT player_id FROM seen
)
SELECT
  e.player_id,
  coalesce(n.display_name, d.name, ro.full_name, s.player_name) AS display_name,
  CASE WHEN n.display_name IS NOT NULL THEN 'players' WHEN d.name IS NOT NULL THEN 'player_ids' WHEN ro.full_name IS NOT NULL THEN 'rosters' WHEN s.player_name IS NOT NULL THEN 'stats' END AS name_source,
  coalesce(n.first_name, ro.first_name) AS first_name,
  coalesce(n.last_name, ro.last_name) AS last_name,
  coalesce(n."position", d."position", ro."position", s."position") AS "position",
  n.position_group,
  coalesce(n.birth_date, d.birthdate, ro.birth_date) AS birth_date,
  coalesce(n.college_name, d.college, ro.college) AS college,
  CAST(coalesce(n.height, d.height, ro.height) AS DOUBLE) AS height,
  CAST(coalesce(n.weight, d.weight, ro.weight) AS DOUBLE) AS weight,
  CAST(coalesce(n.rookie_season, ro.rookie_year) AS INTEGER) AS rookie_season,
  CAST(coalesce(n.draft_year, d.draft_year) AS INTEGER) AS draft_year,
  CAST(coalesce(n.draft_round, d.draft_round) AS INTEGER) AS draft_round,
  CAST(coalesce(n.draft_pick, d.draft_pick) AS INTEGER) AS draft_pick,
  coalesce(n.draft_team, ro.draft_club) AS draft_team,
  coalesce(CASE WHEN coalesce(ro.season, -1) >= coalesce(s.latest_season, -1) THEN ro.team ELSE s.latest_team END, n.latest_team) AS latest_team,
  CASE WHEN coalesce(ro.season, -1) >= coalesce(s.latest_season, -1) THEN ro.season ELSE s.latest_season END AS latest_season,
  coalesce(n.pfr_id, d.pfr_id, ro.pfr_id) AS pfr_id,
  coalesce(n.espn_id, d.espn_id, ro.espn_id) AS espn_id,
  coalesce(d.sleeper_id, ro.sleeper_id) AS sleeper_id,
  coalesce(n.pff_id, d.pff_id, ro.pff_id) AS pff_id,
  coalesce(d.sportradar_id, ro.sportradar_id) AS sportradar_id,
  coalesce(d.yahoo_id, ro.yahoo_id) AS yahoo_id,
  d.mfl_id,
  coalesce(n.headshot, ro.headshot_url) AS headshot_url
FROM everyone AS e
LEFT JOIN nfl AS n ON n.gsis_id = e.player_id
LEFT JOIN dp AS d ON d.gsis_id = e.player_id
LEFT JOIN roster AS ro ON ro.gsis_id = e.player_id
LEFT JOIN seen AS s ON s.player_id = e.player_id
ORDER BY e.player_id
