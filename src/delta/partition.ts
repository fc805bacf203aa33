/**
 * Partition values and data-file paths (PROTOCOL.md "Partition Value Serialization", "Add File").
 * Values in `add.partitionValues` are strings, `null` for NULL. `add.path` is a relative URI:
 * each path segment is percent-encoded (RFC 3986 unreserved characters stay as they are).
 */
import type { StructType } from './schema.js';

/** Hive's directory name for a NULL partition value. */
export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/** Percent-encodes a relative file path for `add.path`, segment by segment. */
export function encodeAddPath(relativePath: string): string {
  return relativePath
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%3D/g, '='), // '=' is legal in a URI path segment; Hive folders read `col=value`
    )
    .join('/');
}

/** Decodes `add.path`. Paths written by other tools may contain literal `%` that is not an escape. */
export function decodeAddPath(addPath: string): string {
  if (!addPath.includes('%')) return addPath; // the common case, and hot: once per file in replay
  try {
    return decodeURIComponent(addPath);
  } catch {
    return addPath;
  }
}

/** True when `add.path` is an absolute URI (`file:/…`, `s3://…`) rather than a table-relative path. */
export function isAbsoluteUri(addPath: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(addPath);
}

/** Escapes one partition value for a Hive-style directory name (`col=value`), as DuckDB and Spark do. */
export function hiveEscape(value: string | null): string {
  if (value === null) return HIVE_NULL;
  return encodeURIComponent(value);
}

/** The canonical key of a partition: its values in partition-column order, JSON-encoded. */
export function partitionKey(partitionColumns: readonly string[], values: Record<string, string | null>): string {
  return JSON.stringify(partitionColumns.map((c) => values[c] ?? null));
}

const TIMESTAMP_VALUE = /^(-?\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * A `timestamp` partition value in the UTC ISO form we write, `2021-03-14T14:59:59.123456Z`
 * (PROTOCOL.md "Partition Value Serialization" allows it beside the zone-less form). Accepts both
 * forms and an explicit offset; a zone-less value is UTC (as delta-rs reads it: Spark would read
 * it in its session time zone, which is why we write the zone). Microseconds are kept exactly.
 * Returns undefined for a string that is not a timestamp.
 */
export function utcTimestampPartitionValue(value: string): string | undefined {
  const m = TIMESTAMP_VALUE.exec(value.trim());
  if (!m) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = m;
  if (Number(month) < 1 || Number(month) > 12 || Number(day) < 1 || Number(day) > 31 || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), 0);
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
    date.setTime(date.getTime() - sign * offsetMinutes * 60_000);
  }
  if (Number.isNaN(date.getTime())) return undefined;
  const micros = fraction.padEnd(6, '0').slice(0, 6);
  return `${date.toISOString().slice(0, -5)}.${micros}Z`;
}

/** The partition columns of type `timestamp` (the ones whose log strings have two forms). */
export function timestampPartitionColumns(schema: StructType, partitionColumns: readonly string[]): Set<string> {
  return new Set(partitionColumns.filter((c) => schema.fields.find((f) => f.name === c)?.type === 'timestamp'));
}

/**
 * Partition values with `timestamp` columns in the one UTC ISO form, so a partition written as
 * `2021-03-14 14:59:59.123456` (our earlier releases and other writers) and one written as
 * `2021-03-14T14:59:59.123456Z` are the same partition when files are matched by `partitionKey`.
 */
export function canonicalPartitionValues(
  timestampColumns: ReadonlySet<string>,
  values: Record<string, string | null>,
): Record<string, string | null> {
  if (timestampColumns.size === 0) return values;
  const out = { ...values };
  for (const column of timestampColumns) {
    const v = out[column];
    if (typeof v === 'string') out[column] = utcTimestampPartitionValue(v) ?? v;
  }
  return out;
}
