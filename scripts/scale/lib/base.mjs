/**
 * The base tables every dataset is drawn from, built once per run in DuckDB: franchises and team
 * codes per season, roster slots, careers (a slot of a franchise is held by one player for 3-10
 * seasons, then by the next), the players, the draft, the games of every season with the state's
 * played flag and correction count, and the roster moves of the current season.
 */
import { DIVISION_OF, Evolution, FRANCHISES, isoDate, rng, seasonGames, teamCode, weekThursday } from './world.mjs';
import { lit } from './columns.mjs';

const CORE_SLOTS = [
  ['QB', 'QB', 'O'], ['QB', 'QB', 'O'], ['RB', 'RB', 'O'], ['RB', 'RB', 'O'], ['WR', 'WR', 'O'], ['WR', 'WR', 'O'], ['WR', 'WR', 'O'], ['TE', 'TE', 'O'],
  ['T', 'OL', 'O'], ['G', 'OL', 'O'], ['C', 'OL', 'O'], ['G', 'OL', 'O'], ['T', 'OL', 'O'], ['DE', 'DL', 'D'], ['DT', 'DL', 'D'], ['DT', 'DL', 'D'],
  ['DE', 'DL', 'D'], ['LB', 'LB', 'D'], ['LB', 'LB', 'D'], ['CB', 'DB', 'D'], ['CB', 'DB', 'D'], ['SS', 'DB', 'D'], ['FS', 'DB', 'D'], ['K', 'SPEC', 'S'],
  ['P', 'SPEC', 'S'], ['LS', 'SPEC', 'S'],
];
const DEPTH_SLOTS = [['QB', 'QB', 'O'], ['RB', 'RB', 'O'], ['WR', 'WR', 'O'], ['WR', 'WR', 'O'], ['TE', 'TE', 'O'], ['T', 'OL', 'O'], ['G', 'OL', 'O'], ['C', 'OL', 'O'], ['DE', 'DL', 'D'], ['DT', 'DL', 'D'], ['LB', 'LB', 'D'], ['LB', 'LB', 'D'], ['CB', 'DB', 'D'], ['CB', 'DB', 'D'], ['SS', 'DB', 'D'], ['FS', 'DB', 'D']];
export const MAX_SLOTS = 90;

export const FIRST_NAMES = ['Aaron', 'Brandon', 'Caleb', 'Derek', 'Elijah', 'Frank', 'Gavin', 'Hunter', 'Isaiah', 'Jalen', 'Kyle', 'Lamar', 'Marcus', 'Nathan', 'Oscar', 'Patrick', 'Quinn', 'Russell', 'Stefon', 'Tyreek', 'Uriah', 'Victor', 'Wesley', 'Xavier', 'Yannick', 'Zach', 'Andre', 'Blake', 'Chris', 'Dion', 'Emmanuel', 'Fletcher', 'Otis', 'Harold', 'Ian', 'Josh', 'Kenny', 'Logan', 'Mike', 'Nick', 'Orlando', 'Peyton', 'Roquan', 'Sam', 'Trevor', 'Ulysses', 'Vance', 'Will', 'Xzavier', 'Yosh', 'Zeke', 'Amari', 'Budda', 'Cooper', 'Dak', 'Evan', 'Foster', 'Geno', 'Hollis', 'Jerry'];
export const LAST_NAMES = ['Adams', 'Barkley', 'Carter', 'Diggs', 'Elliott', 'Fields', 'Gordon', 'Hill', 'Irving', 'Jackson', 'Kelce', 'Lockett', 'Mahomes', 'Nacua', 'Olave', 'Pitts', 'Quarles', 'Ridley', 'Samuel', 'Thomas', 'Underwood', 'Vaughn', 'Watson', 'Xiong', 'Young', 'Zeller', 'Allen', 'Brown', 'Cook', 'Davis', 'Evans', 'Fuller', 'Green', 'Harris', 'Ingram', 'Jones', 'Kirk', 'Lamb', 'Moore', 'Nelson', 'Owens', 'Parker', 'Quick', 'Robinson', 'Smith', 'Taylor', 'Upshaw', 'Vick', 'Williams', 'Yates', 'Zimmer', 'Aiyuk', 'Bosa', 'Chubb', 'Donald', 'Ertz', 'Fant', 'Gronkowski', 'Henry', 'Ivory', 'Jefferson', 'Kamara', 'Lattimore', 'Mixon', 'Ngata', 'Okung', 'Peters', 'Quessenberry', 'Ramsey', 'Sutton', 'Tucker', 'Urban', 'Verrett', 'Waddle', 'Yeldon', 'Zuniga', 'Anderson', 'Bridgewater', 'Crabtree', 'Dobbs', 'Eifert', 'Flacco', 'Gurley', 'Hopkins', 'Ifedi', 'Jeudy', 'Kupp', 'Lynch', 'McCaffrey', 'Newton', 'Orton', 'Prescott', 'Reed', 'Stafford', 'Tannehill', 'Uzomah', 'Vinatieri', 'Warner', 'Yarbrough', 'Zenner'];
export const COLLEGES = ['Alabama', 'Ohio State', 'Georgia', 'LSU', 'Michigan', 'Clemson', 'Oklahoma', 'USC', 'Florida', 'Texas', 'Notre Dame', 'Penn State', 'Oregon', 'Miami (FL)', 'Iowa', 'Wisconsin', 'Stanford', 'TCU', 'Auburn', 'Utah'];
for (const [list, n] of [[FIRST_NAMES, 2], [LAST_NAMES, 4]]) {
  const prefixes = new Set(list.map((s) => s.slice(0, n)));
  if (prefixes.size !== list.length) throw new Error('name prefixes must be unique (pfr ids are built from them)');
}

export function slotCount(scale) {
  return Math.min(MAX_SLOTS, Math.max(CORE_SLOTS.length, Math.round(MAX_SLOTS * scale)));
}

function slotRows() {
  const rows = [];
  for (let s = 0; s < MAX_SLOTS; s++) {
    const [pos, group, side] = s < CORE_SLOTS.length ? CORE_SLOTS[s] : DEPTH_SLOTS[(s - CORE_SLOTS.length) % DEPTH_SLOTS.length];
    rows.push(`(${s}, ${lit(pos)}, ${lit(group)}, ${lit(side)})`);
  }
  return rows.join(', ');
}

const list = (xs) => `[${xs.map(lit).join(', ')}]`;

/** Seasons covered: the union of the requested ranges. */
export async function buildBase(con, { seasons, current, state, startWeek, scale }) {
  const evo = new Evolution(current, state, startWeek);
  const slots = slotCount(scale);
  await con.run(`CREATE OR REPLACE MACRO first_name(i) AS ${list(FIRST_NAMES)}[CAST(i % ${FIRST_NAMES.length} AS INTEGER) + 1]`);
  await con.run(`CREATE OR REPLACE MACRO last_name(i) AS ${list(LAST_NAMES)}[CAST((i // ${FIRST_NAMES.length}) % ${LAST_NAMES.length} AS INTEGER) + 1]`);
  await con.run(`CREATE OR REPLACE MACRO college(i) AS ${list(COLLEGES)}[CAST(hash(i, 'college') % ${COLLEGES.length} AS INTEGER) + 1]`);
  await con.run(`CREATE OR REPLACE MACRO gsis(i) AS '00-0' || lpad(CAST(i AS VARCHAR), 6, '0')`);
  await con.run(`CREATE OR REPLACE MACRO pfr_id(i) AS left(last_name(i), 4) || left(first_name(i), 2) || lpad(CAST((i // ${FIRST_NAMES.length * LAST_NAMES.length}) % 100 AS VARCHAR), 2, '0')`);
  await con.run(`CREATE OR REPLACE MACRO uuid_of(x) AS regexp_replace(md5(CAST(x AS VARCHAR)), '^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\\1-\\2-\\3-\\4-\\5')`);
  await con.run('CREATE OR REPLACE MACRO dsum(x) AS CAST(sum(CAST(x AS DECIMAL(18, 6))) AS DOUBLE)');

  await con.run(`CREATE OR REPLACE TABLE slots(slot INTEGER, pos VARCHAR, pos_group VARCHAR, side VARCHAR)`);
  await con.run(`INSERT INTO slots VALUES ${slotRows()}`);
  await con.run(`DELETE FROM slots WHERE slot >= ${slots}`);
  await con.run(`CREATE OR REPLACE TABLE franchises(f INTEGER, franchise VARCHAR, conf VARCHAR, division VARCHAR)`);
  await con.run(`INSERT INTO franchises VALUES ${FRANCHISES.map((t, i) => `(${i}, ${lit(t)}, ${lit(DIVISION_OF[t].slice(0, 3))}, ${lit(DIVISION_OF[t])})`).join(', ')}`);
  const teamRows = [];
  const allSeasons = [...new Set([...seasons])].sort((a, b) => a - b);
  for (const season of allSeasons) FRANCHISES.forEach((t, i) => teamCode(t, season) && teamRows.push(`(${season}, ${i}, ${lit(t)}, ${lit(teamCode(t, season))})`));
  await con.run(`CREATE OR REPLACE TABLE team_seasons(season INTEGER, f INTEGER, franchise VARCHAR, team VARCHAR)`);
  await con.run(`INSERT INTO team_seasons VALUES ${teamRows.join(', ')}`);
  await con.run(`CREATE OR REPLACE MACRO code_of(fr, season) AS CASE WHEN fr = 'LV' AND season <= 2019 THEN 'OAK' WHEN fr = 'LAC' AND season <= 2016 THEN 'SD' WHEN fr = 'LA' AND season <= 2015 THEN 'STL' ELSE fr END`);
  await con.run(`CREATE OR REPLACE TABLE careers AS SELECT f, slot, CAST(3 + hash(f, slot, 'len') % 8 AS INTEGER) AS len, CAST(hash(f, slot, 'off') % 97 AS INTEGER) AS off0 FROM franchises, slots`);
  await con.run(`CREATE OR REPLACE TABLE roster_all AS
    SELECT ts.season, ts.f, ts.franchise, ts.team, s.slot, s.pos, s.pos_group, s.side, c.len,
      CAST((ts.season - 1980 + c.off0 % c.len) // c.len AS INTEGER) AS gen,
      CAST(100000 + ((ts.f * ${MAX_SLOTS} + s.slot) * 20 + gen) AS BIGINT) AS idnum,
      gen * c.len - c.off0 % c.len + 1980 AS rookie
    FROM team_seasons ts JOIN careers c ON c.f = ts.f JOIN slots s ON s.slot = c.slot`);

  // Roster moves of the current season: one reserve player a week changes team on the Tuesday before the week.
  const moves = [];
  const week = evo.currentWeek();
  if (allSeasons.includes(current) && slots > CORE_SLOTS.length) {
    for (let w = 2; w <= Math.min(week + 1, 18); w++) {
      const day = weekThursday(current, w) - 2 * 86_400_000;
      if (evo.today !== undefined && day >= evo.today) continue;
      const from = FRANCHISES[Math.floor(rng('move-from', current, w) * 32)];
      const to = FRANCHISES[(FRANCHISES.indexOf(from) + 1 + Math.floor(rng('move-to', current, w) * 31)) % 32];
      const slot = CORE_SLOTS.length + Math.floor(rng('move-slot', current, w) * (slots - CORE_SLOTS.length));
      moves.push(`(${current}, ${w}, ${lit(from)}, ${lit(to)}, ${slot}, DATE '${isoDate(day)}')`);
    }
  }
  await con.run(`CREATE OR REPLACE TABLE moves(season INTEGER, week INTEGER, from_fr VARCHAR, to_fr VARCHAR, slot INTEGER, day DATE)`);
  if (moves.length > 0) await con.run(`INSERT INTO moves VALUES ${moves.join(', ')}`);
  // A moved player keeps his slot (so his stats stay with the old team's slot) but is listed by his new team.
  await con.run(`CREATE OR REPLACE TABLE roster AS
    SELECT r.* EXCLUDE (team, franchise), coalesce(m.to_fr, r.franchise) AS franchise, code_of(coalesce(m.to_fr, r.franchise), r.season) AS team, m.week AS moved_week, r.franchise AS slot_franchise
    FROM roster_all r LEFT JOIN moves m ON m.season = r.season AND m.from_fr = r.franchise AND m.slot = r.slot`);

  await con.run(`CREATE OR REPLACE TABLE people AS
    SELECT idnum, gsis(idnum) AS gsis_id, first_name(idnum) AS first_name, last_name(idnum) AS last_name,
      first_name(idnum) || ' ' || last_name(idnum) AS full_name, left(first_name(idnum), 1) || '.' || last_name(idnum) AS short_name,
      arg_max(pos, season) AS pos, arg_max(pos_group, season) AS pos_group, arg_max(side, season) AS side, arg_max(team, season) AS latest_team,
      min(rookie) AS rookie, least(min(rookie) + any_value(len) - 1, ${current}) AS last_season, arg_min(franchise, season) AS first_franchise,
      pfr_id(idnum) AS pfr_id, CAST(4000000 + idnum AS VARCHAR) AS espn_id, uuid_of('sr' || idnum) AS sportradar_id,
      CAST(30000 + idnum AS VARCHAR) AS yahoo_id, CAST(1000 + idnum AS VARCHAR) AS sleeper_id, CAST(10000 + idnum AS VARCHAR) AS pff_id,
      CAST(20000 + idnum AS VARCHAR) AS rotowire_id, CAST(15000 + idnum AS VARCHAR) AS fantasy_data_id,
      upper(left(last_name(idnum), 3)) || lpad(CAST(idnum % 1000000 AS VARCHAR), 6, '0') AS esb_id, uuid_of('smart' || idnum) AS smart_id,
      make_date(min(rookie) - 22, 1, 1) + CAST(hash(idnum, 'bd') % 365 AS INTEGER) AS birth_date, college(idnum) AS college,
      CAST(69 + hash(idnum, 'ht') % 9 AS INTEGER) AS height,
      CAST(CASE arg_max(pos_group, season) WHEN 'OL' THEN 300 WHEN 'DL' THEN 280 WHEN 'LB' THEN 235 WHEN 'TE' THEN 250 WHEN 'QB' THEN 220 WHEN 'RB' THEN 215 ELSE 195 END + hash(idnum, 'wt') % 25 AS INTEGER) AS weight,
      CAST(CASE arg_max(pos_group, season) WHEN 'QB' THEN 1 + hash(idnum, 'j') % 19 WHEN 'RB' THEN 20 + hash(idnum, 'j') % 19 WHEN 'WR' THEN 10 + hash(idnum, 'j') % 9 WHEN 'TE' THEN 80 + hash(idnum, 'j') % 9 WHEN 'OL' THEN 60 + hash(idnum, 'j') % 19 WHEN 'DL' THEN 90 + hash(idnum, 'j') % 9 WHEN 'LB' THEN 40 + hash(idnum, 'j') % 19 WHEN 'DB' THEN 20 + hash(idnum, 'j') % 19 ELSE 1 + hash(idnum, 'j') % 9 END AS INTEGER) AS jersey
    FROM roster GROUP BY idnum`);
  await con.run(`CREATE OR REPLACE TABLE draft AS
    SELECT * FROM (
      SELECT rookie AS season, idnum, first_franchise, CAST(row_number() OVER (PARTITION BY rookie ORDER BY hash(idnum, 'draft'), idnum) AS INTEGER) AS pick
      FROM people WHERE hash(idnum, 'drafted') % 10 < 7
    ) WHERE pick <= 256`);
  await con.run(`ALTER TABLE people ADD COLUMN draft_pick INTEGER; ALTER TABLE people ADD COLUMN draft_round INTEGER; ALTER TABLE people ADD COLUMN draft_team VARCHAR`);
  await con.run(`UPDATE people SET draft_pick = d.pick, draft_round = CAST(least(7, (d.pick - 1) // 32 + 1) AS INTEGER), draft_team = code_of(d.first_franchise, d.season) FROM draft d WHERE d.idnum = people.idnum`);

  const games = [];
  let seq = 0;
  const playsBase = (g) => Math.max(6, Math.round(scale * (155 + rng('plays', g.game_id) * 30)));
  for (const season of allSeasons) {
    for (const g of seasonGames(season)) {
      seq += 1;
      games.push(
        `(${season}, ${g.week}, ${lit(g.game_type)}, ${lit(g.season_type)}, ${lit(g.game_id)}, ${lit(g.old_game_id)}, ${lit(g.away)}, ${lit(g.home)}, ${lit(g.away_team)}, ${lit(g.home_team)}, DATE '${g.gameday}', ${lit(g.gametime)}, ${lit(g.weekday)}, ${g.home_score}, ${g.away_score}, ${g.overtime}, ${lit(g.location)}, ${g.div_game}, ${g.spread_line}, ${g.total_line}, ${evo.played(g)}, ${evo.corrections(season, g.week)}, ${playsBase(g)}, ${seq})`,
      );
    }
  }
  await con.run(`CREATE OR REPLACE TABLE games(season INTEGER, week INTEGER, game_type VARCHAR, season_type VARCHAR, game_id VARCHAR, old_game_id VARCHAR, away VARCHAR, home VARCHAR, away_team VARCHAR, home_team VARCHAR, gameday DATE, gametime VARCHAR, weekday VARCHAR, home_score INTEGER, away_score INTEGER, overtime INTEGER, location VARCHAR, div_game INTEGER, spread_line DOUBLE, total_line DOUBLE, played BOOLEAN, corr INTEGER, n_plays INTEGER, seq INTEGER)`);
  for (let i = 0; i < games.length; i += 2000) await con.run(`INSERT INTO games VALUES ${games.slice(i, i + 2000).join(', ')}`);
  return { evo, slots };
}
