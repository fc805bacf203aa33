-- @mart dim_player
-- @summary One row per player (GSIS id): canonical name, position, biography, draft, combine
--   measurements, latest team and the player's ids in other systems (PFR, ESPN, Sleeper, PFF,
--   Sportradar, Yahoo, MFL).
-- @grain player_id
-- @coverage Every player_id of gold.fact_player_week is here, and every GSIS id of silver.players,
--   silver.player_ids and silver.rosters.
-- @coverage Which source wins, per column (first non-NULL value in the order given; the column
--   descriptions repeat it). Season facts (position, height, weight, college, birth date) come
--   from the player's latest silver.rosters row (newest season, then week), because a roster is the
--   team's filing for that season; then silver.players (nflverse's player master); silver.player_ids
--   (DynastyProcess crosswalk) only fills gaps. Draft facts (year, round, overall pick, team) come
--   from silver.draft_picks (Pro-Football-Reference's draft record, the one source whose pick is
--   the overall pick by definition), matched on gsis_id, else on pfr_player_id for picks without a
--   gsis_id; then silver.players, then silver.rosters (draft_number, draft_club; overall pick and
--   team only), then silver.player_ids (draft_ovr, never its draft_pick, which is the pick within
--   the round). Ids of other systems: players, rosters, then player_ids.
-- @coverage silver.player_ids lists some GSIS ids twice: the row with the most recent db_season,
--   then the lowest mfl_id, is used. draft_year and draft_round 0 in player_ids mean unknown (NULL).
-- @coverage Combine columns come from silver.combine, matched on the player's pfr_id, else on the
--   College Football Reference id of his draft pick (cfb_player_id = cfb_id); a player with several
--   combine rows gets his latest season's. NULL for players who did not attend or are not matched.
-- @coverage latest_team / latest_season: the newest season of silver.rosters, else of
--   gold.fact_player_week, else silver.players' latest_team.
-- @column player_id                GSIS id (00-00xxxxx); the key of the facts.
-- @column display_name             Name to show: players.display_name, else rosters.full_name, else player_ids.name, else the stat source's name.
-- @column name_source              players, rosters, player_ids or stats: where display_name came from.
-- @column first_name               First name: players, else rosters.
-- @column last_name                Last name: players, else rosters.
-- @column position                 Position: latest rosters row, else players, else player_ids, else the stat source.
-- @column position_group           Position group (players), else NULL.
-- @column birth_date               Birth date: rosters, else players, else player_ids.
-- @column college                  College: rosters, else players.college_name, else player_ids.
-- @column height                   Height (inches): rosters, else players, else player_ids.
-- @column weight                   Weight (pounds): latest rosters row, else players, else player_ids.
-- @column rookie_season            First season: players.rookie_season, else rosters.rookie_year.
-- @column draft_year               Draft year: draft_picks.season, else players, else player_ids (0 = NULL).
-- @column draft_round              Draft round: draft_picks.round, else players, else player_ids (0 = NULL).
-- @column draft_pick               Overall pick (1 = first pick of the draft): draft_picks.pick, else
--   players.draft_pick, else rosters.draft_number, else player_ids.draft_ovr.
-- @column draft_team               Drafting team (canonical code when it maps): draft_picks.team, else
--   players.draft_team, else rosters.draft_club.
-- @column draft_source             draft_picks, players, rosters or player_ids: the source of draft_pick (NULL: undrafted or unknown).
-- @column combine_season           Combine year (silver.combine.season).
-- @column combine_position         Position listed at the combine (combine.pos).
-- @column combine_height           Height at the combine, inches (combine.ht "6-2" = 74).
-- @column combine_weight           Weight at the combine, pounds (combine.wt).
-- @column forty                    40-yard dash, seconds (combine).
-- @column bench                    225-lb bench press repetitions (combine).
-- @column vertical                 Vertical jump, inches (combine).
-- @column broad_jump               Broad jump, inches (combine).
-- @column cone                     3-cone drill, seconds (combine).
-- @column shuttle                  20-yard shuttle, seconds (combine).
-- @column latest_team              Most recent team (see coverage).
-- @column latest_season            Season of latest_team.
-- @column pfr_id                   Pro-Football-Reference id: players, else rosters, else player_ids, else draft_picks.
-- @column espn_id                  ESPN id: players, else rosters, else player_ids.
-- @column sleeper_id               Sleeper id: rosters, else player_ids.
-- @column pff_id                   PFF id: players, else rosters, else player_ids.
-- @column sportradar_id            Sportradar id: rosters, else player_ids.
-- @column yahoo_id                 Yahoo id: rosters, else player_ids.
-- @column mfl_id                   MyFantasyLeague id (DynastyProcess key).
-- @column headshot_url             Headshot image URL: players, else rosters.
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
    ids.gsis_id, ids.name, ids.merge_name, ids."position", ids.birthdate, ids.college, ids.height, ids.weight,
    nullif(ids.draft_year, 0) AS draft_year, nullif(ids.draft_round, 0) AS draft_round, nullif(ids.draft_ovr, 0) AS draft_ovr,
    ids.pfr_id, ids.espn_id, ids.sleeper_id, ids.pff_id, ids.sportradar_id, ids.yahoo_id, ids.mfl_id
  FROM silver.player_ids AS ids
  WHERE ids.gsis_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY ids.gsis_id ORDER BY ids.db_season DESC NULLS LAST, ids.mfl_id) = 1
),
roster AS (
  SELECT
    r.gsis_id, r.season, r.team, r.full_name, r.first_name, r.last_name, r."position", r.birth_date, r.college, r.height, r.weight,
    r.rookie_year, r.draft_club, r.draft_number, r.pfr_id, r.espn_id, r.sleeper_id, r.pff_id, r.sportradar_id, r.yahoo_id, r.headshot_url
  FROM silver.rosters AS r
  WHERE r.gsis_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY r.gsis_id ORDER BY r.season DESC, r.week DESC NULLS LAST, r.team) = 1
),
picks AS (
  SELECT dk.season, dk.round, dk.pick, dk.team, dk.gsis_id, dk.pfr_player_id, dk.cfb_player_id
  FROM silver.draft_picks AS dk
),
pick_by_gsis AS (
  SELECT * FROM picks WHERE gsis_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY gsis_id ORDER BY season DESC, pick) = 1
),
pick_by_pfr AS (
  SELECT * FROM picks WHERE gsis_id IS NULL AND pfr_player_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY pfr_player_id ORDER BY season DESC, pick) = 1
),
combine AS (
  SELECT
    cb.season, cb.pfr_id, cb.cfb_id, cb.pos, cb.wt, cb.forty, cb.bench, cb.vertical, cb.broad_jump, cb.cone, cb.shuttle,
    TRY_CAST(split_part(cb.ht, '-', 1) AS INTEGER) * 12 + TRY_CAST(split_part(cb.ht, '-', 2) AS INTEGER) AS height
  FROM silver.combine AS cb
),
combine_by_pfr AS (
  SELECT * FROM combine WHERE pfr_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY pfr_id ORDER BY season DESC, cfb_id) = 1
),
combine_by_cfb AS (
  SELECT * FROM combine WHERE cfb_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY cfb_id ORDER BY season DESC, pfr_id) = 1
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
),
joined AS (
  SELECT
    e.player_id, n, d, ro, s,
    coalesce(n.pfr_id, ro.pfr_id, d.pfr_id) AS known_pfr_id
  FROM everyone AS e
  LEFT JOIN nfl AS n ON n.gsis_id = e.player_id
  LEFT JOIN dp AS d ON d.gsis_id = e.player_id
  LEFT JOIN roster AS ro ON ro.gsis_id = e.player_id
  LEFT JOIN seen AS s ON s.player_id = e.player_id
),
drafted AS (
  SELECT
    j.*,
    coalesce(kg.season, kp.season) AS dk_season, coalesce(kg.round, kp.round) AS dk_round, coalesce(kg.pick, kp.pick) AS dk_pick,
    coalesce(kg.team, kp.team) AS dk_team, coalesce(kg.pfr_player_id, kp.pfr_player_id) AS dk_pfr_id, coalesce(kg.cfb_player_id, kp.cfb_player_id) AS dk_cfb_id
  FROM joined AS j
  LEFT JOIN pick_by_gsis AS kg ON kg.gsis_id = j.player_id
  LEFT JOIN pick_by_pfr AS kp ON kg.gsis_id IS NULL AND kp.pfr_player_id = j.known_pfr_id
),
measured AS (
  SELECT
    x.*,
    CASE WHEN cp.pfr_id IS NOT NULL THEN cp ELSE cc END AS cb
  FROM drafted AS x
  LEFT JOIN combine_by_pfr AS cp ON cp.pfr_id = coalesce(x.known_pfr_id, x.dk_pfr_id)
  LEFT JOIN combine_by_cfb AS cc ON cp.pfr_id IS NULL AND cc.cfb_id = x.dk_cfb_id
)
SELECT
  m.player_id,
  coalesce(m.n.display_name, m.ro.full_name, m.d.name, m.s.player_name) AS display_name,
  CASE WHEN m.n.display_name IS NOT NULL THEN 'players' WHEN m.ro.full_name IS NOT NULL THEN 'rosters' WHEN m.d.name IS NOT NULL THEN 'player_ids' WHEN m.s.player_name IS NOT NULL THEN 'stats' END AS name_source,
  coalesce(m.n.first_name, m.ro.first_name) AS first_name,
  coalesce(m.n.last_name, m.ro.last_name) AS last_name,
  coalesce(m.ro."position", m.n."position", m.d."position", m.s."position") AS "position",
  m.n.position_group,
  coalesce(m.ro.birth_date, m.n.birth_date, m.d.birthdate) AS birth_date,
  coalesce(m.ro.college, m.n.college_name, m.d.college) AS college,
  CAST(coalesce(m.ro.height, m.n.height, m.d.height) AS DOUBLE) AS height,
  CAST(coalesce(m.ro.weight, m.n.weight, m.d.weight) AS DOUBLE) AS weight,
  CAST(coalesce(m.n.rookie_season, m.ro.rookie_year) AS INTEGER) AS rookie_season,
  CAST(coalesce(m.dk_season, m.n.draft_year, m.d.draft_year) AS INTEGER) AS draft_year,
  CAST(coalesce(m.dk_round, m.n.draft_round, m.d.draft_round) AS INTEGER) AS draft_round,
  CAST(coalesce(m.dk_pick, m.n.draft_pick, m.ro.draft_number, m.d.draft_ovr) AS INTEGER) AS draft_pick,
  coalesce(m.dk_team, m.n.draft_team, m.ro.draft_club) AS draft_team,
  CASE
    WHEN m.dk_pick IS NOT NULL THEN 'draft_picks'
    WHEN m.n.draft_pick IS NOT NULL THEN 'players'
    WHEN m.ro.draft_number IS NOT NULL THEN 'rosters'
    WHEN m.d.draft_ovr IS NOT NULL THEN 'player_ids'
  END AS draft_source,
  m.cb.season AS combine_season,
  m.cb.pos AS combine_position,
  CAST(m.cb.height AS DOUBLE) AS combine_height,
  m.cb.wt AS combine_weight,
  m.cb.forty AS forty,
  m.cb.bench AS bench,
  m.cb.vertical AS vertical,
  m.cb.broad_jump AS broad_jump,
  m.cb.cone AS cone,
  m.cb.shuttle AS shuttle,
  coalesce(CASE WHEN coalesce(m.ro.season, -1) >= coalesce(m.s.latest_season, -1) THEN m.ro.team ELSE m.s.latest_team END, m.n.latest_team) AS latest_team,
  CASE WHEN coalesce(m.ro.season, -1) >= coalesce(m.s.latest_season, -1) THEN m.ro.season ELSE m.s.latest_season END AS latest_season,
  coalesce(m.known_pfr_id, m.dk_pfr_id) AS pfr_id,
  coalesce(m.n.espn_id, m.ro.espn_id, m.d.espn_id) AS espn_id,
  coalesce(m.ro.sleeper_id, m.d.sleeper_id) AS sleeper_id,
  coalesce(m.n.pff_id, m.ro.pff_id, m.d.pff_id) AS pff_id,
  coalesce(m.ro.sportradar_id, m.d.sportradar_id) AS sportradar_id,
  coalesce(m.ro.yahoo_id, m.d.yahoo_id) AS yahoo_id,
  m.d.mfl_id,
  coalesce(m.n.headshot, m.ro.headshot_url) AS headshot_url
FROM measured AS m
ORDER BY m.player_id
