import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runQuery, type Lake } from '../../src/table/index.js';

/** Where the conformance tables live (copied byte-for-byte from ../shared; see test/fixtures/README.md). */
export const TABLES = path.resolve('test/fixtures/delta-conformance/tables');
export const GOLDEN = path.resolve('test/conformance/golden');

export type Row = Record<string, string | null>;

/** One golden file: what independent readers return for one table version (see generate-goldens.py). */
export type Golden =
  | { table: string; version: number; oracle: string; crossCheck: string; rowCount: number; columns: [string, string][]; rows: Row[] }
  | { table: string; version: number; oracle: string; oracleError: string; error: { code: 'DATA_FILE_MISSING'; activeFiles: number; missingFiles: string[] } };

export function loadGolden(table: string, version: number): Golden {
  return JSON.parse(readFileSync(path.join(GOLDEN, table, `v${version}.json`), 'utf8')) as Golden;
}

/** DuckDB type names without identifier quotes (`STRUCT("a" INTEGER)` → `STRUCT(a INTEGER)`), as Python's DuckDB prints them. */
export function normalizeType(type: string): string {
  return type.replace(/"/g, '');
}

export function sortRows<T>(rows: readonly T[]): T[] {
  return [...rows].map((r) => [JSON.stringify(r), r] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

/** Only the given columns of each row, for facts that name some columns. */
export function project(rows: readonly Row[], columns: readonly string[]): Row[] {
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null])));
}

export function scanOf(table: string, version: number): string {
  return `delta_scan('${path.join(TABLES, table)}', version => ${version})`;
}

export interface ReadResult {
  columns: string[];
  types: string[];
  rowCount: number;
  /** Every value rendered by DuckDB's ::VARCHAR cast: exact for decimals and microsecond timestamps. */
  rows: Row[];
}

/** Reads one version the way a user would: `SELECT * FROM delta_scan(…)` through runQuery. */
export async function readVersion(lake: Lake, table: string, version: number): Promise<ReadResult> {
  const star = await runQuery(lake, `SELECT * FROM ${scanOf(table, version)}`);
  const text = await runQuery(lake, `SELECT COLUMNS(*)::VARCHAR FROM ${scanOf(table, version)}`);
  const rows = text.rows.map((values) => Object.fromEntries(text.columns.map((c, i) => [c, (values[i] ?? null) as string | null])));
  return { columns: star.columns, types: star.types.map(normalizeType), rowCount: star.rows.length, rows };
}
