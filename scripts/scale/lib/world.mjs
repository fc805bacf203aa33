/**
 * The world the generator draws from: franchises and their codes per season, the calendar (season
 * start, game days), every season's schedule with scores, and the evolution states of the current
 * season. Pure and deterministic: every choice comes from `rng(...)`, a hash of its inputs.
 */
import { createHash } from 'node:crypto';

/** nflverse's 32 current franchise codes (the canonical codes of sql/silver/_team_codes.sql). */
export const FRANCHISES = ['ARI', 'ATL', 'BAL', 'BUF', 'CAR', 'CHI', 'CIN', 'CLE', 'DAL', 'DEN', 'DET', 'GB', 'HOU', 'IND', 'JAX', 'KC', 'LA', 'LAC', 'LV', 'MIA', 'MIN', 'NE', 'NO', 'NYG', 'NYJ', 'PHI', 'PIT', 'SEA', 'SF', 'TB', 'TEN', 'WAS'];
export const DIVISIONS = {
  'AFC East': ['BUF', 'MIA', 'NE', 'NYJ'], 'AFC North': ['BAL', 'CIN', 'CLE', 'PIT'], 'AFC South': ['HOU', 'IND', 'JAX', 'TEN'], 'AFC West': ['DEN', 'KC', 'LAC', 'LV'],
  'NFC East': ['DAL', 'NYG', 'PHI', 'WAS'], 'NFC North': ['CHI', 'DET', 'GB', 'MIN'], 'NFC South': ['ATL', 'CAR', 'NO', 'TB'], 'NFC West': ['ARI', 'LA', 'SEA', 'SF'],
};
export const DIVISION_OF = Object.fromEntries(Object.entries(DIVISIONS).flatMap(([d, teams]) => teams.map((t) => [t, d])));

/** The code nflverse uses for a franchise in a season (relocations); undefined before HOU existed. */
export function teamCode(franchise, season) {
  if (franchise === 'LV' && season <= 2019) return 'OAK';
  if (franchise === 'LAC' && season <= 2016) return 'SD';
  if (franchise === 'LA' && season <= 2015) return 'STL';
  if (franchise === 'HOU' && season < 2002) return undefined;
  return franchise;
}

/** Deterministic uniform number in [0, 1) from any inputs. */
export function rng(...parts) {
  const h = createHash('sha1').update(parts.join('|')).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}
export const pick = (list, ...parts) => list[Math.floor(rng(...parts) * list.length)];

const DAY = 86_400_000;
export const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);

/** The Thursday after Labor Day (nflreadr's season start; src/pipeline/catalog/season.ts). */
export function seasonStart(year) {
  const first = Date.UTC(year, 8, 1);
  const toMonday = (8 - new Date(first).getUTCDay()) % 7;
  return first + (toMonday + 3) * DAY;
}
export const regularWeeks = (season) => (season >= 2021 ? 18 : 17);
/** Thursday of a (schedule) week. */
export const weekThursday = (season, week) => seasonStart(season) + (week - 1) * 7 * DAY;

function gameTimes(season, week, index, count, gameType) {
  const thu = weekThursday(season, week);
  if (gameType === 'SB') return { day: thu + 10 * DAY, time: '18:30' };
  if (gameType !== 'REG') return index % 2 === 0 ? { day: thu + 2 * DAY, time: index < 2 ? '16:30' : '20:15' } : { day: thu + 3 * DAY, time: index < 2 ? '13:00' : '16:30' };
  if (index === 0) return { day: thu, time: '20:20' };
  if (index === count - 1) return { day: thu + 4 * DAY, time: '20:15' };
  return { day: thu + 3 * DAY, time: index === count - 2 ? '20:20' : index % 3 === 0 ? '16:25' : '13:00' };
}

function score(...parts) {
  const td = Math.floor(rng('td', ...parts) * 5.2);
  const fg = Math.floor(rng('fg', ...parts) * 3.6);
  const safety = rng('sf', ...parts) < 0.02 ? 2 : 0;
  return td * 7 + fg * 3 + safety;
}

/**
 * One season's games: a circle-method round robin for the regular season (each week a perfect
 * matching; with 32 teams every team has exactly one bye, in weeks 5-12), then the playoffs seeded
 * by regular-season wins (6 teams per conference until 2019, 7 since 2020). Scores are final
 * scores; whether a game counts as played depends on the state (see `Evolution`).
 */
export function seasonGames(season) {
  const teams = FRANCHISES.filter((f) => teamCode(f, season));
  const order = [...teams].sort((a, b) => rng('perm', season, a) - rng('perm', season, b));
  if (order.length % 2 === 1) order.push(undefined);
  const n = order.length;
  const weeks = regularWeeks(season);
  const byeGroup = new Map(order.map((t, i) => [t, i % 8]));
  const games = [];
  for (let week = 1; week <= weeks; week++) {
    const r = week - 1;
    const at = (p) => (p === 0 ? order[0] : order[((p - 1 + r) % (n - 1)) + 1]);
    let pairs = [];
    for (let i = 0; i < n / 2; i++) {
      const a = at(i);
      const b = at(n - 1 - i);
      if (a && b) pairs.push((i + r) % 2 === 0 ? [b, a] : [a, b]);
    }
    if (teams.length === 32 && week >= 5 && week <= 12) {
      const resting = (t) => byeGroup.get(t) === week - 5;
      const orphans = pairs.filter(([a, b]) => resting(a) !== resting(b)).map(([a, b]) => (resting(a) ? b : a));
      pairs = pairs.filter(([a, b]) => !resting(a) && !resting(b));
      for (let i = 0; i + 1 < orphans.length; i += 2) pairs.push([orphans[i], orphans[i + 1]]);
    }
    pairs.sort((x, y) => rng('slot', season, week, x[1]) - rng('slot', season, week, y[1]));
    pairs.forEach(([away, home], index) => games.push(makeGame(season, week, 'REG', away, home, index, pairs.length)));
  }
  const wins = new Map(teams.map((t) => [t, 0]));
  for (const g of games) if (g.home_score !== g.away_score) wins.set(g.home_score > g.away_score ? g.home : g.away, wins.get(g.home_score > g.away_score ? g.home : g.away) + 1);
  const seedsOf = (conf) =>
    teams
      .filter((t) => DIVISION_OF[t].startsWith(conf))
      .sort((a, b) => wins.get(b) - wins.get(a) || rng('seed', season, a) - rng('seed', season, b))
      .slice(0, season >= 2020 ? 7 : 6);
  const winner = (g) => (g.home_score >= g.away_score ? g.home : g.away);
  // Both conferences play on the same days: the NFC's games take the slots after the AFC's, so
  // (date, index) — the old 10-digit game id — stays unique.
  let conference = 0;
  const post = (week, type, matchups, conferences = 2) =>
    matchups.map(([away, home], index) => makeGame(season, week, type, away, home, conference * matchups.length + index, matchups.length * conferences, true));
  const champions = [];
  for (const [c, conf] of ['AFC', 'NFC'].entries()) {
    conference = c;
    const s = seedsOf(conf);
    const wc = post(weeks + 1, 'WC', season >= 2020 ? [[s[6], s[1]], [s[5], s[2]], [s[4], s[3]]] : [[s[5], s[2]], [s[4], s[3]]]);
    const alive = [...(season >= 2020 ? [s[0]] : [s[0], s[1]]), ...wc.map(winner)].sort((a, b) => s.indexOf(a) - s.indexOf(b));
    const div = post(weeks + 2, 'DIV', [[alive[3], alive[0]], [alive[2], alive[1]]]);
    const fin = div.map(winner).sort((a, b) => s.indexOf(a) - s.indexOf(b));
    const con = post(weeks + 3, 'CON', [[fin[1], fin[0]]]);
    champions.push(winner(con[0]));
    games.push(...wc, ...div, ...con);
  }
  conference = 0;
  games.push(...post(weeks + 4, 'SB', [[champions[1], champions[0]]], 1));
  return games;
}

function makeGame(season, week, gameType, away, home, index, count, noTie = false) {
  const { day, time } = gameTimes(season, week, index, count, gameType);
  let homeScore = score(season, week, home, 'h');
  const awayScore = score(season, week, away, 'a');
  if (homeScore === awayScore && (noTie || rng('tie', season, week, home) > 0.05)) homeScore += 3;
  const ymd = isoDate(day).replaceAll('-', '');
  return {
    season,
    week,
    game_type: gameType,
    season_type: gameType === 'REG' ? 'REG' : 'POST',
    game_id: `${season}_${String(week).padStart(2, '0')}_${teamCode(away, season)}_${teamCode(home, season)}`,
    old_game_id: `${ymd}${String(index).padStart(2, '0')}`,
    away,
    home,
    away_team: teamCode(away, season),
    home_team: teamCode(home, season),
    gameday: isoDate(day),
    gameday_ms: day,
    gametime: time,
    weekday: new Date(day).toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' }),
    home_score: homeScore,
    away_score: awayScore,
    overtime: Math.abs(homeScore - awayScore) <= 3 && rng('ot', season, week, home) < 0.3 ? 1 : 0,
    location: gameType === 'SB' ? 'Neutral' : 'Home',
    div_game: DIVISION_OF[away] === DIVISION_OF[home] ? 1 : 0,
    spread_line: Math.round((rng('spread', season, week, home) * 20 - 7) * 2) / 2,
    total_line: Math.round((37 + rng('total', season, week, home) * 17) * 2) / 2,
  };
}

/**
 * The evolution of the current season. State k is the upstream as published on the morning of day
 * `start + k` (UTC), where `start` is the Thursday of `startWeek`: k = 0, 7, 14, … are Thursdays.
 * A game is in the data once its game day is before the state's day; each completed week gets one
 * stat correction, published the Thursday after its Monday game. `state` undefined = the season
 * is over (every game played, every correction published).
 */
export class Evolution {
  constructor(season, state, startWeek) {
    this.season = season;
    this.state = state;
    this.startWeek = startWeek;
    this.today = state === undefined ? undefined : weekThursday(season, startWeek) + state * DAY;
  }
  get todayIso() {
    return this.today === undefined ? undefined : isoDate(this.today);
  }
  played(game) {
    return game.season !== this.season || this.today === undefined || game.gameday_ms < this.today;
  }
  /** Number of corrections published for a week of the season (0 or 1). */
  corrections(season, week) {
    if (season !== this.season || this.today === undefined) return 1;
    return weekThursday(season, week + 1) <= this.today ? 1 : 0;
  }
  /** The NFL week the day falls in (weeks run Thursday to Wednesday); 0 before week 1. */
  currentWeek() {
    if (this.today === undefined) return regularWeeks(this.season) + 4;
    return Math.max(0, Math.floor((this.today - seasonStart(this.season)) / (7 * DAY)) + 1);
  }
  /** Days of the season's depth-chart snapshots (ESPN, daily from 1 August up to the state's day). */
  snapshotDays() {
    const first = Date.UTC(this.season, 7, 1);
    const last = this.today ?? Date.UTC(this.season + 1, 1, 20);
    const days = [];
    for (let d = first; d <= last; d += DAY) days.push(d);
    return days;
  }
}
