import { decodeAddPath, listLog, readCommit, type Action } from '../../src/delta/index.js';
import { runQuery, type Lake } from '../../src/table/index.js';
import { rowObjects, type Row } from './rows.js';

/** An SQL string literal, or NULL. */
export function sqlValue(value: string | number | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  return `'${value.replace(/'/g, "''")}'`;
}

export interface SourceColumn {
  name: string;
  /** DuckDB SQL type the column is cast to. */
  type: string;
}

/**
 * `SELECT CAST(c AS T) AS c, … FROM (VALUES …) AS src(…)`: an input query with exact column types.
 * No rows gives a query with the same columns and `WHERE false`.
 */
export function valuesSource(columns: readonly SourceColumn[], rows: readonly object[]): string {
  const names = columns.map((c) => `"${c.name}"`);
  const select = columns.map((c) => `CAST("${c.name}" AS ${c.type}) AS "${c.name}"`).join(', ');
  const tuples = rows.length === 0 ? [columns.map(() => 'NULL')] : rows.map((r) => columns.map((c) => sqlValue(((r as Record<string, unknown>)[c.name] ?? null) as string | number | null)));
  const values = tuples.map((t) => `(${t.join(', ')})`).join(', ');
  return `SELECT ${select} FROM (VALUES ${values}) AS src(${names.join(', ')})${rows.length === 0 ? ' WHERE false' : ''}`;
}

/** The table's rows at `version` (latest when undefined), read with our reader through `delta_scan`. */
export async function readRows(lake: Lake, tableRoot: string, version?: number, select = '*'): Promise<Row[]> {
  const at = version === undefined ? '' : `, version => ${version}`;
  const result = await runQuery(lake, `SELECT ${select} FROM delta_scan(${sqlValue(tableRoot)}${at})`);
  return rowObjects(result.columns, result.rows);
}

/** Commit versions present in `_delta_log`, ascending. */
export async function commitVersions(tableRoot: string): Promise<number[]> {
  const listing = await listLog(tableRoot);
  return [...listing.commits.keys()].sort((a, b) => a - b);
}

/** Versions that have a checkpoint in `_delta_log`, ascending. */
export async function checkpointVersions(tableRoot: string): Promise<number[]> {
  const listing = await listLog(tableRoot);
  return [...listing.checkpoints.keys()].sort((a, b) => a - b);
}

export async function commitActions(tableRoot: string, version: number): Promise<Action[]> {
  return readCommit(tableRoot, version);
}

/** `0, 1, …, n - 1`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The data files (paths relative to the table, decoded) that any commit still in the log adds. */
export async function committedPaths(tableRoot: string): Promise<Set<string>> {
  const paths = new Set<string>();
  for (const version of (await listLog(tableRoot)).commits.keys()) {
    for (const action of await readCommit(tableRoot, version)) if (action.kind === 'add') paths.add(decodeAddPath(action.add.path));
  }
  return paths;
}
