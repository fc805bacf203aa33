/**
 * Play-by-play of one season as a temp table `plays` (the meaningful columns; the pbp file adds
 * nflverse's other columns as fillers), and the per-player and per-team game lines aggregated from
 * it (`lines`), so player and team stats agree with the plays, corrections included.
 */
export async function buildPlays(con, season) {
  await con.run(`CREATE OR REPLACE TEMP TABLE team_roster AS SELECT franchise, slot, idnum FROM roster_all WHERE season = ${season} AND slot < 26`);
  await con.run(`CREATE OR REPLACE TEMP TABLE plays AS
    WITH base AS (
      SELECT g.*, r.i, hash(g.game_id, r.i) AS h
      FROM games g JOIN range(0, 400) r(i) ON r.i < g.n_plays
      WHERE g.season = ${season} AND g.played
    ), typed AS (
      SELECT *, CAST(i // 6 + 1 AS INTEGER) AS drive,
        CASE WHEN (i // 6) % 2 = 0 THEN home ELSE away END AS pos_fr,
        CASE WHEN (i // 6) % 2 = 0 THEN away ELSE home END AS def_fr,
        CASE WHEN i = 0 THEN 'kickoff'
             WHEN i % 6 = 5 THEN CASE WHEN h % 100 < 50 THEN 'punt' WHEN h % 100 < 80 THEN 'field_goal' ELSE 'pass' END
             WHEN h % 100 < 55 THEN 'pass' WHEN h % 100 < 95 THEN 'run' ELSE 'no_play' END AS play_type,
        CAST((h >> 8) % 1000 AS INTEGER) AS u1, CAST((h >> 20) % 1000 AS INTEGER) AS u2, CAST((h >> 32) % 1000 AS INTEGER) AS u3, CAST((h >> 44) % 1000 AS INTEGER) AS u4,
        corr = 1 AND h % 10 = 0 AS corrected
      FROM base
    ), outcome AS (
      SELECT *,
        play_type = 'pass' AND u1 < 65 AS is_sack,
        play_type = 'pass' AND u1 >= 65 AND u1 < 85 AS is_int,
        play_type = 'pass' AND u1 >= 85 AND u2 < 650 AS is_complete
      FROM typed
    ), yards AS (
      SELECT *,
        CASE WHEN is_sack THEN -(u3 % 9) - 1 WHEN is_complete THEN u3 % 31 WHEN play_type = 'run' THEN u3 % 15 - 2 ELSE 0 END
          + CASE WHEN corrected AND (is_complete OR play_type = 'run') THEN 1 + u4 % 3 ELSE 0 END AS gained
      FROM outcome
    )
    SELECT y.*,
      CAST(40 + i * 23 AS DOUBLE) AS play_id,
      code_of(pos_fr, y.season) AS posteam, code_of(def_fr, y.season) AS defteam,
      CASE WHEN pos_fr = home THEN 'home' ELSE 'away' END AS posteam_type,
      CAST(CASE WHEN overtime = 1 AND i >= n_plays - greatest(1, n_plays // 20) THEN 5 ELSE least(4, i * 4 // n_plays + 1) END AS DOUBLE) AS qtr,
      CAST(greatest(0, 3600 - (i * 3600) // n_plays) AS DOUBLE) AS game_seconds_remaining,
      CASE WHEN play_type IN ('pass', 'run') THEN CAST(1 + i % 4 AS DOUBLE) END AS down,
      CAST(10 - u4 % 8 AS DOUBLE) AS ydstogo,
      CAST(greatest(1, least(99, 75 - (i % 6) * 9 + u2 % 7)) AS DOUBLE) AS yardline_100,
      CAST(gained AS DOUBLE) AS yards_gained,
      CAST(is_complete AND u4 < 45 AS INTEGER) AS pass_td,
      CAST(play_type = 'run' AND u4 < 30 AS INTEGER) AS rush_td,
      CASE WHEN play_type IN ('pass', 'run') THEN round((gained - 3.5) * 0.18 + (u2 - 500) / 2000.0, 6)
           WHEN play_type = 'no_play' THEN NULL ELSE round((u2 - 500) / 1500.0, 6) END AS epa,
      CASE WHEN u1 % 14 = 0 THEN CASE WHEN u2 % 2 = 0 THEN code_of(pos_fr, y.season) ELSE code_of(def_fr, y.season) END END AS penalty_team,
      pa.idnum AS passer_idnum, ru.idnum AS rusher_idnum, re.idnum AS receiver_idnum, ta.idnum AS tackler_idnum, ki.idnum AS kicker_idnum, pu.idnum AS punter_idnum
    FROM yards y
    LEFT JOIN team_roster pa ON pa.franchise = y.pos_fr AND pa.slot = CASE WHEN play_type = 'pass' THEN CASE WHEN u3 % 20 = 0 THEN 1 ELSE 0 END END
    LEFT JOIN team_roster ru ON ru.franchise = y.pos_fr AND ru.slot = CASE WHEN play_type = 'run' THEN CASE WHEN u3 % 7 = 0 THEN 0 WHEN u3 % 3 = 0 THEN 3 ELSE 2 END END
    LEFT JOIN team_roster re ON re.franchise = y.pos_fr AND re.slot = CASE WHEN play_type = 'pass' AND NOT is_sack THEN [4, 5, 6, 4, 5, 7, 7, 2, 3, 6][u2 % 10 + 1] END
    LEFT JOIN team_roster ta ON ta.franchise = y.def_fr AND ta.slot = CASE WHEN play_type IN ('pass', 'run') AND NOT is_int THEN 13 + u4 % 10 END
    LEFT JOIN team_roster ki ON ki.franchise = CASE WHEN play_type = 'kickoff' THEN y.def_fr ELSE y.pos_fr END AND ki.slot = CASE WHEN play_type IN ('field_goal', 'kickoff') THEN 23 END
    LEFT JOIN team_roster pu ON pu.franchise = y.pos_fr AND pu.slot = CASE WHEN play_type = 'punt' THEN 24 END`);

  // One row per player and game with his counting stats (the source of stats_player_week and legacy stats).
  await con.run(`CREATE OR REPLACE TEMP TABLE lines AS
    WITH roles AS (
      SELECT season, week, season_type, game_id, pos_fr AS fr, def_fr AS opp_fr, passer_idnum AS idnum, 'passer' AS role, * EXCLUDE (season, week, season_type, game_id) FROM plays WHERE passer_idnum IS NOT NULL
      UNION ALL SELECT season, week, season_type, game_id, pos_fr, def_fr, rusher_idnum, 'rusher', * EXCLUDE (season, week, season_type, game_id) FROM plays WHERE rusher_idnum IS NOT NULL
      UNION ALL SELECT season, week, season_type, game_id, pos_fr, def_fr, receiver_idnum, 'receiver', * EXCLUDE (season, week, season_type, game_id) FROM plays WHERE receiver_idnum IS NOT NULL
      UNION ALL SELECT season, week, season_type, game_id, def_fr, pos_fr, tackler_idnum, 'tackler', * EXCLUDE (season, week, season_type, game_id) FROM plays WHERE tackler_idnum IS NOT NULL
      UNION ALL SELECT season, week, season_type, game_id, CASE WHEN play_type = 'kickoff' THEN def_fr ELSE pos_fr END, CASE WHEN play_type = 'kickoff' THEN pos_fr ELSE def_fr END, kicker_idnum, 'kicker', * EXCLUDE (season, week, season_type, game_id) FROM plays WHERE kicker_idnum IS NOT NULL
      UNION ALL SELECT season, week, season_type, game_id, pos_fr, def_fr, punter_idnum, 'punter', * EXCLUDE (season, week, season_type, game_id) FROM plays WHERE punter_idnum IS NOT NULL
    )
    SELECT season, week, season_type, game_id, fr, opp_fr, idnum,
      count(*) FILTER (role = 'passer' AND is_complete) AS completions,
      count(*) FILTER (role = 'passer' AND NOT is_sack) AS attempts,
      coalesce(sum(yards_gained) FILTER (role = 'passer' AND is_complete), 0) AS passing_yards,
      count(*) FILTER (role = 'passer' AND pass_td = 1) AS passing_tds,
      count(*) FILTER (role = 'passer' AND is_int) AS passing_interceptions,
      count(*) FILTER (role = 'passer' AND is_sack) AS sacks_suffered,
      coalesce(-sum(yards_gained) FILTER (role = 'passer' AND is_sack), 0) AS sack_yards_lost,
      coalesce(CAST(sum(CAST(epa AS DECIMAL(18, 6))) FILTER (role = 'passer') AS DOUBLE), 0) AS passing_epa,
      count(*) FILTER (role = 'rusher') AS carries,
      coalesce(sum(yards_gained) FILTER (role = 'rusher'), 0) AS rushing_yards,
      count(*) FILTER (role = 'rusher' AND rush_td = 1) AS rushing_tds,
      coalesce(CAST(sum(CAST(epa AS DECIMAL(18, 6))) FILTER (role = 'rusher') AS DOUBLE), 0) AS rushing_epa,
      count(*) FILTER (role = 'receiver') AS targets,
      count(*) FILTER (role = 'receiver' AND is_complete) AS receptions,
      coalesce(sum(yards_gained) FILTER (role = 'receiver' AND is_complete), 0) AS receiving_yards,
      count(*) FILTER (role = 'receiver' AND pass_td = 1) AS receiving_tds,
      coalesce(CAST(sum(CAST(epa AS DECIMAL(18, 6))) FILTER (role = 'receiver') AS DOUBLE), 0) AS receiving_epa,
      coalesce(sum(u3 % 15) FILTER (role = 'receiver'), 0) AS receiving_air_yards,
      count(*) FILTER (role = 'tackler') AS def_tackles_solo,
      count(*) FILTER (role = 'kicker' AND play_type = 'field_goal') AS fg_att,
      count(*) FILTER (role = 'kicker' AND play_type = 'field_goal' AND u2 < 840) AS fg_made,
      count(*) FILTER (role = 'punter') AS punts
    FROM roles GROUP BY ALL`);
}
