// The benchmark's pbp-shaped table: the real nflverse play-by-play column list and types, with
// deterministic synthetic values generated in DuckDB SQL.
//
// Columns and R types come from pbp-dictionary.csv (nflverse dictionary_pbp, CC-BY-4.0; see
// README.md here). R types map to DuckDB types as nflverse's own parquet assets store them:
// character → VARCHAR, numeric → DOUBLE, except the numeric columns the released
// play_by_play_{season}.parquet files store as INTEGER (INTEGER_COLUMNS, from the observed
// release columns listed in ../shared/nflverse/reference/observed_release_columns.csv).
import { readFileSync } from 'node:fs';
import process from 'node:process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const INTEGER_COLUMNS = new Set([
  'week', 'goal_to_go', 'season', 'away_score', 'home_score', 'result', 'total', 'div_game', 'temp', 'wind',
  'passer_jersey_number', 'rusher_jersey_number', 'receiver_jersey_number', 'jersey_number', 'xyac_median_yardage',
]);

export const FIRST_SEASON = 1999;
export const LAST_SEASON = 2025;

/** Full scale: 27 seasons × 50,000 rows; small (BENCH_SCALE=small): 3 seasons × 5,000 rows. */
export function writeScale(name = process.env.BENCH_SCALE ?? 'full') {
  if (name === 'small') return { name, seasons: 3, rowsPerSeason: 5_000 };
  if (name === 'full') return { name, seasons: LAST_SEASON - FIRST_SEASON + 1, rowsPerSeason: 50_000 };
  throw new Error(`BENCH_SCALE must be full or small, got ${name}`);
}

/** Minimal CSV reader for the dictionary: quoted fields may hold commas and doubled quotes. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** [{ name, rType, duckdbType }] in dictionary order. */
export function pbpColumns() {
  const [header, ...rows] = parseCsv(readFileSync(path.join(here, 'pbp-dictionary.csv'), 'utf8'));
  const fieldAt = header.indexOf('field');
  const typeAt = header.indexOf('data_type');
  return rows
    .filter((r) => r.length > typeAt && r[fieldAt] !== '')
    .map((r) => {
      const name = r[fieldAt];
      const rType = r[typeAt];
      const duckdbType = rType === 'character' ? 'VARCHAR' : INTEGER_COLUMNS.has(name) ? 'INTEGER' : 'DOUBLE';
      return { name, rType, duckdbType };
    });
}

function ident(name) {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * One column's value for row `i` (a BIGINT) as a deterministic function of (i, column index).
 * Roughly pbp-like: about a quarter of the values are NULL, a third of the DOUBLE columns are
 * high-entropy (like epa/wp), the rest low-cardinality (yard lines, flags); strings come from
 * small per-column vocabularies, a few (ids, descriptions) from large ones.
 */
function valueSql(column, k) {
  const h = `hash(i, ${k})`;
  const v = `(${h} >> 8)`;
  const nullable = (expr) => `CASE WHEN ${h} % 4 = 0 THEN NULL ELSE ${expr} END`;
  if (column.name === 'season') return `(${FIRST_SEASON} + i // $rowsPerSeason)::INTEGER`;
  if (column.name === 'play_id') return `(i % $rowsPerSeason)::DOUBLE`;
  // Weeks of 2,800 plays in play order, as in game_id (a full-size season of 50,000 plays has 18).
  if (column.name === 'week') return `(1 + (i % $rowsPerSeason) // 2800)::INTEGER`;
  if (column.name === 'game_id') return `printf('%d_%02d_G%03d', ${FIRST_SEASON} + i // $rowsPerSeason, 1 + (i % $rowsPerSeason) // 2800, (i % $rowsPerSeason) // 180)`;
  if (column.duckdbType === 'INTEGER') return nullable(`(${v} % 100)::INTEGER`);
  if (column.duckdbType === 'DOUBLE') {
    return k % 3 === 0 ? nullable(`(${v} % 2000000)::DOUBLE / 100000 - 10`) : nullable(`(${v} % 100)::DOUBLE`);
  }
  if (column.name === 'desc') return `printf('(%d:%02d) %s pass short right to %s for %d yards', ${v} % 15, ${v} % 60, 'P.Player' || (${v} % 997), 'R.Receiver' || (${v} % 991), ${v} % 40)`;
  if (k % 7 === 0) return nullable(`printf('00-%07d', ${v} % 5000000)`);
  return nullable(`'${column.name.slice(0, 6)}_' || (${v} % 32)`);
}

/** SELECT producing `seasons × rowsPerSeason` rows, ordered by season. */
export function generatorSql(columns, scale) {
  const exprs = columns.map((c, k) => `${valueSql(c, k).replaceAll('$rowsPerSeason', String(scale.rowsPerSeason))} AS ${ident(c.name)}`);
  return `SELECT ${exprs.join(', ')} FROM range(0, ${scale.seasons * scale.rowsPerSeason}) AS t(i)`;
}
