/**
 * Canonical forms of query results, so multisets of rows compare with `toEqual` regardless of
 * the order DuckDB returns them in or of number vs bigint representations.
 */
export type Row = Record<string, unknown>;

function canonicalValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** Rows (as arrays, with their column names) to objects with canonical values. */
export function rowObjects(columns: readonly string[], rows: readonly (readonly unknown[])[]): Row[] {
  return rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, canonicalValue(row[i])])));
}

/** One stable string per row: keys sorted, values canonical. */
export function rowKey(row: object): string {
  return JSON.stringify(
    Object.entries(row)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, canonicalValue(v)]),
  );
}

/** The rows as a sorted list of row keys: equal lists mean equal multisets. */
export function canonicalRows(rows: readonly object[]): string[] {
  return rows.map(rowKey).sort();
}
