-- @mart fact_game
-- @summary One row per game: kickoff, home and away teams, final score, closing spread and total
--   with their results, moneylines, officiating crew, starting QBs and coaches.
-- @grain game_id
-- @partition season
-- @coverage The game list is gold.dim_game. Scores, lines, odds, QBs, coaches and referee come from
--   silver.schedules (closing lines as nflverse publishes them); for games schedules lack they come
--   from silver.pbp (scores from the final play, spread_line/total_line as pbp carries them; no
--   moneylines, odds or QBs).
-- @coverage spread_line: silver.schedules; where schedules lack it (no schedules row, or a NULL
--   line), silver.scoring_lines (nflverse/nfldata sc_lines, 2013+: the home side's line negated, so
--   positive = home favoured, joined on alt_game_id = game_id); else silver.pbp. lines_source says
--   which. total_line: schedules, else pbp (scoring lines carry no total).
-- @coverage The crew (officials) comes from silver.officials (2015+), joined on the old 10-digit
--   NFL game id; empty when officials are not loaded for the season.
-- @coverage Unplayed games have NULL scores and results.
-- @column game_id                  nflverse game id (joins dim_game).
-- @column season                   Season. Partition column.
-- @column week                     Week (nflverse schedules numbering).
-- @column game_type                REG, WC, DIV, CON, SB (pbp-only games: REG or POST).
-- @column kickoff_utc              Kickoff as an instant (UTC).
-- @column away_team                Away team (joins dim_team).
-- @column home_team                Home team (joins dim_team).
-- @column away_score               Away team's final score.
-- @column home_score               Home team's final score.
-- @column result                   home_score − away_score.
-- @column total                    home_score + away_score.
-- @column overtime                 1 when the game went to overtime.
-- @column winner                   Winning team's code; NULL for a tie or an unplayed game.
-- @column spread_line              Closing spread, home perspective: points the home team was favoured by
--   (schedules, else scoring_lines, else pbp; see lines_source).
-- @column lines_source             schedules, scoring_lines or pbp: where spread_line came from (NULL: no line).
-- @column total_line               Closing over/under line.
-- @column home_cover               home, away or push against the spread (result vs spread_line).
-- @column over_under               over, under or push (total vs total_line).
-- @column away_moneyline           Away moneyline (American odds).
-- @column home_moneyline           Home moneyline (American odds).
-- @column away_spread_odds         Odds on the away spread.
-- @column home_spread_odds         Odds on the home spread.
-- @column over_odds                Odds on the over.
-- @column under_odds               Odds on the under.
-- @column away_rest                Away team's days of rest.
-- @column home_rest                Home team's days of rest.
-- @column away_qb_id               Away starting QB (GSIS id).
-- @column home_qb_id               Home starting QB (GSIS id).
-- @column away_qb_name             Away starting QB.
-- @column home_qb_name             Home starting QB.
-- @column away_coach               Away head coach.
-- @column home_coach               Home head coach.
-- @column referee                  Referee (schedules, else the crew's Referee).
-- @column officials                The crew: list of {position, name, official_id}, by position.
-- @column officials_count          Number of officials in the crew (0 when unknown).
-- @column plays                    Plays in silver.pbp for the game (NULL without pbp).
-- @column source                   schedules or pbp: where scores and lines came from.
WITH games AS (
  SELECT g.game_id, g.season, g.week, g.game_type, g.kickoff_utc, g.away_team, g.home_team, g.old_game_id
  FROM gold.dim_game AS g
),
scheduled AS (
  SELECT
    s.game_id, s.away_score, s.home_score, s.overtime, s.spread_line, s.total_line, s.away_moneyline, s.home_moneyline,
    s.away_spread_odds, s.home_spread_odds, s.over_odds, s.under_odds, s.away_rest, s.home_rest, s.away_qb_id, s.home_qb_id,
    s.away_qb_name, s.home_qb_name, s.away_coach, s.home_coach, s.referee
  FROM silver.schedules AS s
),
from_pbp AS (
  SELECT
    p.game_id,
    count(*) AS plays,
    max(p.away_score) AS away_score,
    max(p.home_score) AS home_score,
    max(p.total_away_score) AS final_away_score,
    max(p.total_home_score) AS final_home_score,
    CAST(max(p.qtr) >= 5 AS INTEGER) AS overtime,
    max(p.spread_line) AS spread_line,
    max(p.total_line) AS total_line,
    max(p.away_coach) AS away_coach,
    max(p.home_coach) AS home_coach
  FROM silver.pbp AS p
  GROUP BY p.game_id
),
scoring AS (
  SELECT
    sl.alt_game_id AS game_id,
    -coalesce(max(sl.line) FILTER (WHERE sl.side = sl.home_team), max(sl.home_team_spread)) AS spread_line
  FROM silver.scoring_lines AS sl
  WHERE sl.alt_game_id IS NOT NULL
  GROUP BY sl.alt_game_id
),
crews AS (
  SELECT
    o.game_id AS old_game_id,
    list({'position': o.position, 'name': o.official_name, 'official_id': o.official_id} ORDER BY o.position, o.official_name) AS officials,
    max(o.official_name) FILTER (WHERE o.position = 'Referee') AS referee
  FROM silver.officials AS o
  GROUP BY o.game_id
),
scored AS (
  SELECT
    g.*,
    s.game_id IS NOT NULL AS scheduled,
    CASE WHEN s.game_id IS NOT NULL THEN s.away_score ELSE CAST(coalesce(p.away_score, p.final_away_score) AS INTEGER) END AS away_score,
    CASE WHEN s.game_id IS NOT NULL THEN s.home_score ELSE CAST(coalesce(p.home_score, p.final_home_score) AS INTEGER) END AS home_score,
    CASE WHEN s.game_id IS NOT NULL THEN s.overtime ELSE p.overtime END AS overtime,
    coalesce(s.spread_line, sc.spread_line, p.spread_line) AS spread_line,
    CASE WHEN s.spread_line IS NOT NULL THEN 'schedules' WHEN sc.spread_line IS NOT NULL THEN 'scoring_lines' WHEN p.spread_line IS NOT NULL THEN 'pbp' END AS lines_source,
    CASE WHEN s.game_id IS NOT NULL THEN s.total_line ELSE p.total_line END AS total_line,
    s.away_moneyline, s.home_moneyline, s.away_spread_odds, s.home_spread_odds, s.over_odds, s.under_odds,
    s.away_rest, s.home_rest, s.away_qb_id, s.home_qb_id, s.away_qb_name, s.home_qb_name,
    coalesce(s.away_coach, p.away_coach) AS away_coach,
    coalesce(s.home_coach, p.home_coach) AS home_coach,
    coalesce(s.referee, c.referee) AS referee,
    coalesce(c.officials, []) AS officials,
    p.plays
  FROM games AS g
  LEFT JOIN scheduled AS s ON s.game_id = g.game_id
  LEFT JOIN from_pbp AS p ON p.game_id = g.game_id
  LEFT JOIN scoring AS sc ON sc.game_id = g.game_id
  LEFT JOIN crews AS c ON c.old_game_id = g.old_game_id
)
SELECT
  game_id,
  season,
  week,
  game_type,
  kickoff_utc,
  away_team,
  home_team,
  away_score,
  home_score,
  home_score - away_score AS result,
  home_score + away_score AS total,
  overtime,
  CASE WHEN home_score > away_score THEN home_team WHEN away_score > home_score THEN away_team END AS winner,
  spread_line,
  lines_source,
  total_line,
  CASE
    WHEN home_score IS NULL OR spread_line IS NULL THEN NULL
    WHEN home_score - away_score > spread_line THEN 'home'
    WHEN home_score - away_score < spread_line THEN 'away'
    ELSE 'push'
  END AS home_cover,
  CASE
    WHEN home_score IS NULL OR total_line IS NULL THEN NULL
    WHEN home_score + away_score > total_line THEN 'over'
    WHEN home_score + away_score < total_line THEN 'under'
    ELSE 'push'
  END AS over_under,
  away_moneyline,
  home_moneyline,
  away_spread_odds,
  home_spread_odds,
  over_odds,
  under_odds,
  away_rest,
  home_rest,
  away_qb_id,
  home_qb_id,
  away_qb_name,
  home_qb_name,
  away_coach,
  home_coach,
  referee,
  officials,
  CAST(len(officials) AS INTEGER) AS officials_count,
  plays,
  CASE WHEN scheduled THEN 'schedules' ELSE 'pbp' END AS source
FROM scored
ORDER BY season, week, game_id
