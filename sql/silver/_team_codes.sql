-- The one canonical team-code mapping of the lake, loaded before every silver rule.
--
-- Canonical codes are nflverse's current franchise abbreviations (the 32 below). Every team column
-- of a silver table goes through team_code(), which maps the aliases the sources use (PFR style
-- GNB/KAN/NWE…, DynastyProcess KCC/NEP…, ESPN WSH, NFL ARZ/BLT/CLV/HST) and relocated franchises
-- (OAK → LV, SD → LAC, STL → LA, JAC → JAX, LAR → LA, WSH → WAS) to the canonical code.
-- team_code(t, season) also knows the two codes whose franchise depends on the season:
-- STL was the Cardinals (→ ARI) before 1988, HOU the Oilers (→ TEN) before 2002 (the Texans' first season).
-- Anything else (FA for free agents, MID, '50', full names) is returned upper-cased and trimmed, so
-- the quality gate `team_codes` (catalog) can name it.

CREATE OR REPLACE MACRO canonical_teams() AS [
  'ARI', 'ATL', 'BAL', 'BUF', 'CAR', 'CHI', 'CIN', 'CLE', 'DAL', 'DEN', 'DET', 'GB', 'HOU', 'IND', 'JAX', 'KC',
  'LA', 'LAC', 'LV', 'MIA', 'MIN', 'NE', 'NO', 'NYG', 'NYJ', 'PHI', 'PIT', 'SEA', 'SF', 'TB', 'TEN', 'WAS'
];

-- team_code_alias: the code-only mapping; use team_code(t) or team_code(t, season).
CREATE OR REPLACE MACRO team_code_alias(t) AS (
  CASE upper(trim(CAST(t AS VARCHAR)))
    WHEN '' THEN NULL
    WHEN 'ARZ' THEN 'ARI' WHEN 'PHO' THEN 'ARI' WHEN 'CRD' THEN 'ARI'
    WHEN 'BLT' THEN 'BAL' WHEN 'RAV' THEN 'BAL'
    WHEN 'CLV' THEN 'CLE'
    WHEN 'GNB' THEN 'GB' WHEN 'GBP' THEN 'GB'
    WHEN 'HST' THEN 'HOU' WHEN 'HTX' THEN 'HOU'
    WHEN 'JAC' THEN 'JAX'
    WHEN 'KAN' THEN 'KC' WHEN 'KCC' THEN 'KC'
    WHEN 'LAR' THEN 'LA' WHEN 'STL' THEN 'LA' WHEN 'SL' THEN 'LA' WHEN 'RAM' THEN 'LA'
    WHEN 'SD' THEN 'LAC' WHEN 'SDG' THEN 'LAC' WHEN 'SDC' THEN 'LAC'
    WHEN 'OAK' THEN 'LV' WHEN 'LVR' THEN 'LV' WHEN 'RAI' THEN 'LV'
    WHEN 'NWE' THEN 'NE' WHEN 'NEP' THEN 'NE'
    WHEN 'NOR' THEN 'NO' WHEN 'NOS' THEN 'NO'
    WHEN 'SFO' THEN 'SF'
    WHEN 'TAM' THEN 'TB' WHEN 'TBB' THEN 'TB'
    WHEN 'WSH' THEN 'WAS'
    ELSE upper(trim(CAST(t AS VARCHAR)))
  END
);

CREATE OR REPLACE MACRO team_code(t) AS team_code_alias(t), (t, season) AS (
  CASE
    WHEN upper(trim(CAST(t AS VARCHAR))) = 'STL' AND season < 1988 THEN 'ARI'
    WHEN upper(trim(CAST(t AS VARCHAR))) = 'HOU' AND season < 2002 THEN 'TEN'
    ELSE team_code_alias(t)
  END
);
