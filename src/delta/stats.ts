/**
 * Delta per-file statistics (PROTOCOL.md "Per-file Statistics") from the column statistics that
 * DuckDB's `COPY … RETURN_STATS` returns. Keys there are quoted column paths (`"a"."b"`), values
 * are strings. Min/max are written only where they are exact and comparable by every reader:
 * numbers, dates, timestamps (widened to whole milliseconds) and short strings.
 */
import { type DataType, type StructType, isStruct, parseDecimal } from './schema.js';

export interface FileStats {
  numRecords: number;
  minValues: Record<string, unknown>;
  maxValues: Record<string, unknown>;
  nullCount: Record<string, unknown>;
}

export type ColumnStatistics = Record<string, Record<string, string>>;

/** Splits `"a"."b""c"` into ['a', 'b"c']. */
export function parseColumnPath(key: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < key.length) {
    if (key[i] === '.') {
      i++;
      continue;
    }
    if (key[i] !== '"') {
      const end = key.indexOf('.', i);
      parts.push(key.slice(i, end === -1 ? undefined : end));
      i = end === -1 ? key.length : end;
      continue;
    }
    let j = i + 1;
    let name = '';
    while (j < key.length) {
      if (key[j] === '"') {
        if (key[j + 1] === '"') {
          name += '"';
          j += 2;
          continue;
        }
        break;
      }
      name += key[j];
      j++;
    }
    parts.push(name);
    i = j + 1;
  }
  return parts;
}

const MAX_STRING_STAT = 32;

function statValue(type: DataType, raw: string, bound: 'min' | 'max'): unknown {
  if (typeof type !== 'string') return undefined;
  switch (type) {
    case 'long':
    case 'integer':
    case 'short':
    case 'byte': {
      const n = Number(raw);
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'float':
    case 'double': {
      const n = Number(raw);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(raw) ? raw : undefined;
    case 'timestamp':
    case 'timestamp_ntz':
      return timestampStat(raw, bound, type === 'timestamp');
    case 'string':
      // Longer strings would need truncation with a bumped max; omit instead (still correct).
      return [...raw].length <= MAX_STRING_STAT ? raw : undefined;
    default: {
      const dec = parseDecimal(type);
      if (dec) {
        const n = Number(raw);
        return Number.isFinite(n) && Math.abs(n) < 2 ** 53 && dec.precision <= 15 ? n : undefined;
      }
      return undefined; // boolean, binary: no min/max
    }
  }
}

/** DuckDB prints `2020-01-01 00:00:00.123456+00` (UTC session) or without zone; Delta wants ms ISO. */
function timestampStat(raw: string, bound: 'min' | 'max', utc: boolean): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(?:([+-]\d{2})(?::?(\d{2}))?|Z)?$/.exec(raw);
  if (!m) return undefined;
  if (m[4] !== undefined && (m[4] !== '+00' && m[4] !== '-00' || (m[5] !== undefined && m[5] !== '00'))) return undefined;
  const frac = (m[3] ?? '').padEnd(9, '0');
  let ms = Date.parse(`${m[1]}T${m[2]}.${frac.slice(0, 3)}Z`);
  if (Number.isNaN(ms)) return undefined;
  if (bound === 'max' && Number(frac.slice(3)) > 0) ms += 1; // widen: stats are millisecond precision
  const iso = new Date(ms).toISOString();
  return utc ? iso : iso.slice(0, -1);
}

/** Builds the `stats` JSON object for one data file. */
export function buildFileStats(numRecords: number, columns: ColumnStatistics, schema: StructType, partitionColumns: readonly string[]): FileStats {
  const stats: FileStats = { numRecords, minValues: {}, maxValues: {}, nullCount: {} };
  const skip = new Set(partitionColumns);
  const lookup = new Map<string, Record<string, string>>();
  for (const [key, value] of Object.entries(columns)) lookup.set(JSON.stringify(parseColumnPath(key)), value);

  function visit(fields: StructType['fields'], prefix: string[], min: Record<string, unknown>, max: Record<string, unknown>, nulls: Record<string, unknown>): void {
    for (const field of fields) {
      if (prefix.length === 0 && skip.has(field.name)) continue;
      const pathParts = [...prefix, field.name];
      if (isStruct(field.type)) {
        const cMin: Record<string, unknown> = {};
        const cMax: Record<string, unknown> = {};
        const cNull: Record<string, unknown> = {};
        visit(field.type.fields, pathParts, cMin, cMax, cNull);
        if (Object.keys(cMin).length > 0) min[field.name] = cMin;
        if (Object.keys(cMax).length > 0) max[field.name] = cMax;
        if (Object.keys(cNull).length > 0) nulls[field.name] = cNull;
        continue;
      }
      const col = lookup.get(JSON.stringify(pathParts));
      if (!col) continue;
      if (col['null_count'] !== undefined) nulls[field.name] = Number(col['null_count']);
      const nonNull = col['null_count'] === undefined || Number(col['null_count']) < numRecords;
      if (!nonNull || col['has_nan'] === 'true') continue;
      if (col['min'] !== undefined && col['max'] !== undefined) {
        const lo = statValue(field.type, col['min'], 'min');
        const hi = statValue(field.type, col['max'], 'max');
        if (lo !== undefined && hi !== undefined) {
          min[field.name] = lo;
          max[field.name] = hi;
        }
      }
    }
  }
  visit(schema.fields, [], stats.minValues, stats.maxValues, stats.nullCount);
  return stats;
}

/** Rows of all `files` from their stats; undefined when a file has none. */
export function filesNumRecords(files: readonly { stats?: string | null }[]): number | undefined {
  let total = 0;
  for (const f of files) {
    const n = statsNumRecords(f.stats);
    if (n === undefined) return undefined;
    total += n;
  }
  return total;
}

/**
 * `{"numRecords":N,` at the start of a stats string, as Delta writers put it first (ours, Spark,
 * delta-rs): read without parsing the rest, which for a wide table is kilobytes of min/max values.
 */
const LEADING_NUM_RECORDS = /^\{\s*"numRecords"\s*:\s*(0|[1-9]\d{0,14})\s*[,}]/;

/** `numRecords` of a file's `stats` JSON; `undefined` when stats are absent, unparsable or lack it. */
export function statsNumRecords(stats: string | null | undefined): number | undefined {
  if (!stats) return undefined;
  const leading = LEADING_NUM_RECORDS.exec(stats);
  // Only for stats that end as JSON objects do (a truncated string is unparsable: undefined below).
  if (leading && stats.trimEnd().endsWith('}') && !stats.includes('"numRecords"', leading[0].length)) return Number(leading[1]);
  try {
    const n = (JSON.parse(stats) as { numRecords?: unknown }).numRecords;
    return typeof n === 'number' ? n : undefined;
  } catch {
    return undefined;
  }
}
