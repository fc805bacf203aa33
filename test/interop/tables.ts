import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { LOG_DIR } from '../../src/delta/index.js';
import { literal } from '../../src/engine/index.js';
import { prepareQuery, type Lake } from '../../src/table/index.js';
import { describeChild, requireBuild, runCliProcess } from '../helpers/child.js';
import { canonical, duckdbAnswer, type Answer, type Canonical } from './normalize.js';

/**
 * The rows our writer puts into the interop tables, as DuckDB SQL over `range(start, start+count)`,
 * with every type the lake stores and the values that stress readers: NULLs everywhere, NaN and
 * infinities, int64 past 2^53, negative and pre-1970 dates, microsecond timestamps, the largest
 * decimal(10,2), empty and NULL-holding lists, NULL structs and NULL struct fields, and partition
 * strings that need escaping in folder names and in add.path.
 */
export const STRING_PARTITIONS: (string | null)[] = [null, '', ' ', 'a b', '=', '%', '/', '+', 'São Paulo', '🏈', 'x=1/y%2Fz', "it's"];
export const INT_PARTITIONS: (number | null)[] = [null, -1, 0, 7, 2147483647, -2147483648];

function sqlList(values: (string | number | null)[], type: string): string {
  return `[${values.map((v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : literal(v))).join(', ')}]::${type}[]`;
}

export function rowsSql(start: number, count: number, p: (string | null)[] = STRING_PARTITIONS, n: (number | null)[] = INT_PARTITIONS): string {
  return `SELECT
    i::BIGINT AS id,
    (${sqlList(p, 'VARCHAR')})[(i % ${p.length}) + 1] AS p,
    (${sqlList(n, 'INTEGER')})[(i % ${n.length}) + 1] AS n,
    CASE WHEN i % 7 = 3 THEN NULL WHEN i % 7 = 4 THEN '' ELSE 'row ' || i || ' ünïcödé ''q'' "dq" 🏈' END AS s,
    CASE WHEN i % 5 = 0 THEN 9007199254740993 + i WHEN i % 5 = 1 THEN -9223372036854775807 + i WHEN i % 5 = 2 THEN NULL ELSE i * 1000003 END::BIGINT AS big,
    CASE WHEN i % 8 = 7 THEN NULL ELSE (i * 37) % 60000 - 30000 END::SMALLINT AS i16,
    (i % 256 - 128)::TINYINT AS i8,
    CASE WHEN i % 11 = 5 THEN 'NaN'::DOUBLE WHEN i % 13 = 6 THEN 'Infinity'::DOUBLE WHEN i % 13 = 7 THEN '-Infinity'::DOUBLE
         WHEN i % 17 = 8 THEN NULL ELSE i / 3 - 40 END::DOUBLE AS f64,
    CASE WHEN i % 5 = 2 THEN NULL WHEN i % 19 = 3 THEN 'NaN'::FLOAT ELSE i * 0.1 END::FLOAT AS f32,
    CASE WHEN i % 4 = 3 THEN NULL ELSE i % 2 = 0 END AS flag,
    CASE WHEN i % 9 = 8 THEN NULL ELSE DATE '1950-06-30' + (i * 419)::INTEGER END AS day,
    CASE WHEN i % 10 = 4 THEN NULL ELSE TIMESTAMPTZ '1969-12-31 23:59:59.999999+00' + to_microseconds(i * 86399000001) END AS ts,
    CASE WHEN i % 23 = 0 THEN 99999999.99::DECIMAL(10,2) WHEN i % 23 = 1 THEN -99999999.99::DECIMAL(10,2) WHEN i % 23 = 2 THEN NULL
         ELSE ((i * 1234 - 5000)::DECIMAL(12,0) / 100)::DECIMAL(10,2) END AS amount,
    CASE WHEN i % 6 = 1 THEN NULL WHEN i % 6 = 2 THEN ''::BLOB ELSE from_hex(printf('%02x00ff%02x', i % 256, (i * 7) % 256)) END AS raw,
    CASE WHEN i % 9 = 4 THEN NULL WHEN i % 9 = 5 THEN []::INTEGER[] ELSE [i % 3, NULL, -i]::INTEGER[] END AS tags,
    CASE WHEN i % 10 = 9 THEN NULL ELSE {'a': CASE WHEN i % 2 = 1 THEN NULL ELSE i END, 'b': 'b' || i}::STRUCT(a INTEGER, b VARCHAR) END AS info
  FROM range(${start}, ${start + count}) AS r(i)`;
}

/**
 * The same rows with few distinct dates, booleans (and NULL), microsecond timestamps, decimals and
 * tinyints, so those columns can be partition columns (partition value serialization per type).
 */
export function lowCardinalitySql(start: number, count: number): string {
  return `SELECT * REPLACE (
    DATE '1969-12-30' + (id % 3)::INTEGER AS day,
    CASE WHEN id % 7 = 0 THEN NULL ELSE id % 2 = 0 END AS flag,
    TIMESTAMPTZ '2024-01-01 10:00:00.123456+00' + to_microseconds((id % 2) * 1000001) AS ts,
    ((id % 4) * 1.25 - 1)::DECIMAL(10,2) AS amount,
    (id % 3 - 1)::TINYINT AS i8
  ) FROM (${rowsSql(start, count)})`;
}

export const COLUMNS = ['id', 'p', 'n', 's', 'big', 'i16', 'i8', 'f64', 'f32', 'flag', 'day', 'ts', 'amount', 'raw', 'tags', 'info'];

/** Our own reader's answer at a version: the same path as runQuery, read with full fidelity. */
export async function ourAnswer(lake: Lake, tableRoot: string, version: number): Promise<Answer> {
  const prepared = await prepareQuery(lake, `SELECT * FROM delta_scan(${literal(tableRoot)}, version => ${version})`);
  return duckdbAnswer(lake.engine.connection, prepared.sql);
}

/**
 * Expected contents of a table version by version, built from the input rows and the write modes.
 * Our writer stores an empty-string partition value as NULL (as Spark does): the model maps
 * '' to NULL in string partition columns before it compares anything.
 */
export class TableModel {
  readonly versions: Answer[] = [];
  private rows: Canonical[][] = [];

  constructor(
    readonly columns: string[],
    readonly partitionBy: string[],
  ) {}

  private partitionOf(row: Canonical[]): string {
    return JSON.stringify(this.partitionBy.map((c) => row[this.columns.indexOf(c)] ?? null));
  }

  private stored(input: Answer): Canonical[][] {
    expect(input.columns).toEqual(this.columns);
    const indexes = this.partitionBy.map((c) => this.columns.indexOf(c));
    return input.rows.map((row) => row.map((v, i) => (indexes.includes(i) && v === '' ? null : v)));
  }

  apply(mode: 'append' | 'overwrite' | 'replace', input: Answer): void {
    const rows = this.stored(input);
    if (mode === 'overwrite' || (mode === 'replace' && this.partitionBy.length === 0)) this.rows = rows;
    else if (mode === 'append') this.rows = [...this.rows, ...rows];
    else {
      const replaced = new Set(rows.map((r) => this.partitionOf(r)));
      this.rows = [...this.rows.filter((r) => !replaced.has(this.partitionOf(r))), ...rows];
    }
    this.versions.push(canonical({ columns: this.columns, rows: this.rows }));
  }
}

/**
 * A copy of the table whose JSON commits before its last checkpoint are gone, so a reader of the
 * latest version can only get there through the checkpoint Parquet file.
 */
export function checkpointOnlyCopy(tableRoot: string, dest: string, checkpointVersion: number): void {
  rmSync(dest, { recursive: true, force: true });
  cpSync(tableRoot, dest, { recursive: true });
  const log = path.join(dest, '_delta_log');
  for (const name of readdirSync(log)) {
    const m = /^(\d{20})\.json$/.exec(name);
    if (m && Number(m[1]) < checkpointVersion) rmSync(path.join(log, name));
  }
}

/** Every Delta table under `dir` (folders holding a _delta_log). */
export function deltaTables(dir: string): string[] {
  if (existsSync(path.join(dir, LOG_DIR))) return [dir];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => deltaTables(path.join(dir, e.name)));
}

/** The versions of the JSON commits in a local table's log, ascending. */
export function commitVersions(tableRoot: string): number[] {
  return readdirSync(path.join(tableRoot, LOG_DIR))
    .filter((n) => /^\d{20}\.json$/.test(n))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
}

/** Runs `lake demo` (the built CLI, offline) into `demoRoot`; answers the folder holding its tables. */
export async function buildDemoLake(demoRoot: string, env: Record<string, string> = {}): Promise<string> {
  requireBuild();
  const tables = path.join(demoRoot, 'tables');
  const demo = await runCliProcess(['demo', '--root', demoRoot], { env: { LAKE_ROOT: tables, NFLVERSE_BASE_URL: 'http://127.0.0.1:9/unreachable', ...env } });
  expect(demo.code, describeChild(demo)).toBe(0);
  return tables;
}
