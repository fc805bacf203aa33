-- @mart dim_team
-- @summary One row per franchise under its canonical team code (nflverse's 32 current codes): names,
--   conference, division, colours and logos, and every abbreviation the sources use for it.
-- @grain team
-- @coverage Always the 32 canonical codes (from sql/silver/_team_codes.sql), so every fact row
--   joins; names, conference, division, colours and logos are NULL until silver.teams is loaded.
-- @coverage aliases come from the one team-code mapping (sql/silver/_team_codes.sql) and from the
--   historical abbreviations in silver.teams (OAK, SD, STL, LAR…). Codes that name another franchise
--   before a season (STL = Cardinals before 1988, HOU = Oilers before 2002) are listed in
--   season_aliases, not in aliases.
-- @column team                     Canonical team code (ARI … WAS); the key every fact uses.
-- @column team_name                Current full name (e.g. Las Vegas Raiders).
-- @column team_nick                Nickname (e.g. Raiders).
-- @column team_id                  NFL team id (nflverse teams).
-- @column conference               AFC or NFC.
-- @column division                 Division, e.g. AFC West.
-- @column aliases                  Other codes that mean this franchise in every season (sorted):
--   relocations (OAK → LV) and source spellings (PFR KAN, DynastyProcess KCC, ESPN WSH…).
-- @column season_aliases           Codes that mean this franchise only before a season, as
--   'CODE<season' (e.g. 'STL<1988' for ARI).
-- @column former_names             Earlier full names found in silver.teams (e.g. Oakland Raiders).
-- @column team_color               Primary colour (hex).
-- @column team_color2              Secondary colour (hex).
-- @column team_logo_espn           ESPN logo URL.
-- @column team_logo_squared        Square logo URL.
-- @column team_wordmark            Wordmark URL.
WITH canonical AS (
  SELECT unnest(canonical_teams()) AS team
),
named AS (
  SELECT t.team_abbr, t.team, t.team_name, t.team_nick, t.team_id, t.team_conf, t.team_division, t.team_color, t.team_color2,
         t.team_logo_espn, t.team_logo_squared, t.team_wordmark
  FROM silver.teams AS t
),
current_name AS (
  SELECT * FROM named WHERE team_abbr = team
),
alias_codes AS (
  SELECT a.team, a.alias FROM team_code_aliases AS a WHERE a.before_season IS NULL
  UNION
  SELECT n.team, n.team_abbr FROM named AS n
)
SELECT
  c.team,
  cur.team_name,
  cur.team_nick,
  cur.team_id,
  cur.team_conf AS conference,
  cur.team_division AS division,
  coalesce((SELECT list_sort(list(DISTINCT ac.alias)) FROM alias_codes AS ac WHERE ac.team = c.team AND ac.alias <> c.team), []) AS aliases,
  coalesce((SELECT list_sort(list(DISTINCT sa.alias || '<' || sa.before_season)) FROM team_code_aliases AS sa WHERE sa.team = c.team AND sa.before_season IS NOT NULL), []) AS season_aliases,
  coalesce((SELECT list_sort(list(DISTINCT n.team_name)) FROM named AS n WHERE n.team = c.team AND n.team_name IS DISTINCT FROM cur.team_name), []) AS former_names,
  cur.team_color,
  cur.team_color2,
  cur.team_logo_espn,
  cur.team_logo_squared,
  cur.team_wordmark
FROM canonical AS c
LEFT JOIN current_name AS cur ON cur.team = c.team
ORDER BY c.team
