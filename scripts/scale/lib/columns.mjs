/**
 * Column sets of the generated files and the writer. Parquet assets take the ordered columns and
 * DuckDB types nflverse's files carry (release-columns.csv: the April-2026 probe of every
 * nflverse-data release, from ../shared/nflverse/reference/observed_release_columns.csv); a
 * dataset's generator supplies the meaningful columns, every other column gets a deterministic
 * filler of its type (a hash of the row id and the column), sparse like the real files.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function parseCsvLine(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

let released;
/** Ordered [name, duckdbType] of a release file pattern, e.g. columnsOf('pbp', 'play_by_play_{year}.parquet'). */
export function columnsOf(tag, pattern) {
  if (!released) {
    released = new Map();
    const lines = readFileSync(path.join(HERE, '../release-columns.csv'), 'utf8').split('\n').slice(1).filter(Boolean);
    for (const line of lines) {
      const [t, p, pos, name, type] = parseCsvLine(line);
      const k = `${t}/${p}`;
      if (!released.has(k)) released.set(k, []);
      released.get(k).push([Number(pos), name, type]);
    }
  }
  const cols = released.get(`${tag}/${pattern}`);
  if (!cols) throw new Error(`release-columns.csv has no ${tag}/${pattern}`);
  return cols.sort((a, b) => a[0] - b[0]).map(([, name, type]) => [name, type]);
}

export const q = (name) => `"${name.replaceAll('"', '""')}"`;
export const lit = (s) => `'${String(s).replaceAll("'", "''")}'`;

function filler(name, type, k) {
  const h = `CAST(hash(__rid, ${k}) >> 1 AS BIGINT)`;
  const t = type.toUpperCase();
  if (t === 'BOOLEAN') return `(${h} % 2 = 0)`;
  if (t === 'DATE') return `CASE WHEN ${h} % 3 = 0 THEN DATE '2000-01-01' + CAST(${h} % 9000 AS INTEGER) END`;
  if (t.startsWith('TIMESTAMP')) return `CASE WHEN ${h} % 3 = 0 THEN CAST(TIMESTAMP '2000-01-01' + to_seconds(CAST(${h} % 700000000 AS BIGINT)) AS ${type}) END`;
  if (t === 'VARCHAR') {
    if (/(^|_)team($|_)|^tm$|club/.test(name)) return `CASE WHEN ${h} % 4 = 0 THEN __team END`;
    if (/_id$/.test(name)) return `CASE WHEN ${h} % 7 = 0 THEN '00-00' || CAST(30000 + ${h} % 46000 AS VARCHAR) END`;
    if (/name$/.test(name)) return `CASE WHEN ${h} % 7 = 0 THEN chr(65 + CAST(${h} % 26 AS INTEGER)) || '.Player' || CAST(${h} % 90 AS VARCHAR) END`;
    return `CASE WHEN ${h} % 3 = 0 THEN ${lit(name.slice(0, 4))} || CAST(${h} % 40 AS VARCHAR) END`;
  }
  if (t.includes('[]') || t.startsWith('STRUCT') || t.startsWith('MAP')) return 'NULL';
  if (/prob$|(^|_)wp($|_)|^cp$|pct$|percent|share$|rate$/.test(name)) return `CAST(round((${h} % 10000) / 10000.0, 4) AS ${type})`;
  if (/epa|wpa|cpoe|oe$/.test(name)) return `CAST(round(((${h} % 2001) - 1000) / 400.0, 4) AS ${type})`;
  return `CAST(CASE WHEN ${h} % 5 = 0 THEN ${h} % 25 ELSE 0 END AS ${type})`;
}

/**
 * The SELECT of one file: `core` maps column names to SQL over `from` (which must have a unique,
 * deterministic `__rid` BIGINT and may have `__team`); other columns of `columns` are filled.
 */
export function selectFor(columns, core, from, order) {
  const used = new Set();
  const list = columns.map(([name, type], k) => {
    used.add(name);
    const expr = core[name] !== undefined ? core[name] : filler(name, type, k);
    return `CAST(${expr} AS ${type}) AS ${q(name)}`;
  });
  const missing = Object.keys(core).filter((c) => !used.has(c));
  if (missing.length > 0) throw new Error(`core columns not in the file's column set: ${missing.join(', ')}`);
  return `SELECT ${list.join(',\n  ')}\nFROM ${from}\nORDER BY ${order}`;
}

/**
 * Writes `select` to `file` (parquet with nflverse's key-value metadata, csv or csv.gz) through a
 * temporary file, and replaces the file only when the bytes differ: an unchanged file keeps its
 * bytes and mtime. Returns { bytes, changed }.
 */
export async function writeAsset(con, file, select, { format, timestamp, type }) {
  const tmp = `${file}.tmp-${process.pid}`;
  const options =
    format === 'parquet'
      ? `FORMAT parquet, COMPRESSION zstd, KV_METADATA {nflverse_timestamp: ${lit(timestamp)}, nflverse_type: ${lit(type)}}`
      : `FORMAT csv, HEADER true, NULLSTR 'NA'${format === 'csv.gz' ? ", COMPRESSION gzip" : ''}`;
  await con.run(`COPY (${select}) TO ${lit(tmp)} (${options})`);
  const bytes = readFileSync(tmp);
  if (existsSync(file) && sha(readFileSync(file)) === sha(bytes)) {
    rmSync(tmp);
    return { bytes: bytes.length, changed: false };
  }
  renameSync(tmp, file);
  return { bytes: bytes.length, changed: true };
}

const sha = (b) => createHash('sha256').update(b).digest('hex');
