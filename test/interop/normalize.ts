import {
  DuckDBTypeId,
  type DuckDBArrayType,
  type DuckDBArrayValue,
  type DuckDBBlobValue,
  type DuckDBConnection,
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBListType,
  type DuckDBListValue,
  type DuckDBMapType,
  type DuckDBMapValue,
  type DuckDBStructType,
  type DuckDBStructValue,
  type DuckDBTimestampTZValue,
  type DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';

/**
 * The canonical JSON form of query answers, the same rules as test/interop/oracles/normalize.py:
 * integers as decimal strings, floats as numbers ('NaN', 'Infinity', '-Infinity' as strings),
 * decimals as strings with exactly `scale` digits, timestamps as ISO UTC with microseconds (a 'Z'
 * when the type has a zone), dates as YYYY-MM-DD, binary as base64, structs as objects, lists as
 * arrays, maps as [key, value] pairs. Read with `getRows()` (DuckDB values), never `getRowsJS()`,
 * which turns timestamps into millisecond Dates and decimals into doubles.
 */
export type Canonical = null | boolean | number | string | Canonical[] | { [key: string]: Canonical };

export interface Answer {
  columns: string[];
  rows: Canonical[][];
}

function isoFromMicros(micros: bigint, zone: boolean): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const rest = micros - ms * 1000n;
  const iso = new Date(Number(ms)).toISOString(); // 2020-01-01T00:00:00.123Z
  return `${iso.slice(0, -1)}${rest.toString().padStart(3, '0')}${zone ? 'Z' : ''}`;
}

function decimalText(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

function floatValue(n: number): Canonical {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return n;
}

export function normalizeValue(value: DuckDBValue, type: DuckDBType): Canonical {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return value as boolean;
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      return String(value as number | bigint);
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return floatValue(value as number);
    case DuckDBTypeId.DECIMAL: {
      const d = value as DuckDBDecimalValue;
      return decimalText(d.value, d.scale);
    }
    case DuckDBTypeId.VARCHAR:
      return value as string;
    case DuckDBTypeId.UUID:
      return String(value);
    case DuckDBTypeId.BLOB:
      return Buffer.from((value as DuckDBBlobValue).bytes).toString('base64');
    case DuckDBTypeId.DATE:
      return new Date((value as DuckDBDateValue).days * 86_400_000).toISOString().slice(0, 10);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return isoFromMicros((value as DuckDBTimestampTZValue).micros, true);
    case DuckDBTypeId.TIMESTAMP:
      return isoFromMicros((value as DuckDBTimestampValue).micros, false);
    case DuckDBTypeId.LIST:
      return (value as DuckDBListValue).items.map((item) => normalizeValue(item, (type as DuckDBListType).valueType));
    case DuckDBTypeId.ARRAY:
      return (value as DuckDBArrayValue).items.map((item) => normalizeValue(item, (type as DuckDBArrayType).valueType));
    case DuckDBTypeId.STRUCT: {
      const s = type as DuckDBStructType;
      const entries = (value as DuckDBStructValue).entries;
      return Object.fromEntries(s.entryNames.map((name, i) => [name, normalizeValue(entries[name] ?? null, s.entryTypes[i]!)]));
    }
    case DuckDBTypeId.MAP: {
      const m = type as DuckDBMapType;
      return (value as DuckDBMapValue).entries.map((e) => [normalizeValue(e.key, m.keyType), normalizeValue(e.value, m.valueType)]);
    }
    default:
      throw new Error(`no canonical form for DuckDB type ${type.toString()}`);
  }
}

/** Runs `sql` on a DuckDB connection and returns its answer in canonical form (rows unsorted). */
export async function duckdbAnswer(connection: DuckDBConnection, sql: string): Promise<Answer> {
  const reader = await connection.runAndReadAll(sql);
  const types = reader.columnTypes();
  return {
    columns: reader.columnNames(),
    rows: reader.getRows().map((row) => row.map((v, i) => normalizeValue(v, types[i]!))),
  };
}

/** JSON with object keys sorted: the sort key of a row. */
export function stableJson(value: Canonical): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(value[k]!)}`)
    .join(',')}}`;
}

/**
 * Canonical order, so answers from different readers compare with toEqual: columns by name,
 * rows by their stable JSON. Column order itself is checked separately where it is a contract.
 */
export function canonical(answer: Answer): Answer {
  const order = answer.columns.map((name, i) => ({ name, i })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rows = answer.rows.map((row) => order.map(({ i }) => row[i] ?? null));
  const keyed = rows.map((row) => ({ key: stableJson(row), row }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { columns: order.map((o) => o.name), rows: keyed.map((k) => k.row) };
}
