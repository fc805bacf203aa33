import { filesNumRecords } from '../../delta/index.js';
import { ident, scanSql, type Engine } from '../../engine/index.js';
import { tableSnapshot, type Lake } from '../../table/index.js';
import { parseSql } from '../silver/index.js';
import type { SourceState } from './plan.js';

/**
 * Whether a mart can tell that a source's change does not reach it: a source that changed as a
 * whole (not by season: players, player ids) makes a mart rebuild every season, although the mart
 * may read only a few of its columns (fact_player_week reads players' pfr_id and gsis_id, and a
 * roster move changes latest_team). When every column the mart's SQL can read from the source
 * holds the same rows, as a multiset, at the version the mart was last built from and now, the
 * change does not reach the mart. Sound by over-approximation: a column counts when the SQL names
 * it qualified by the source's alias, unqualified inside a SELECT that reads the source (or a
 * relation it cannot tell), or in a join's USING; a `*`, a NATURAL join or a whole-row reference
 * that may take the source's columns means "every column" (the check is then not made).
 */

/** Sources larger than this are not compared (the rebuild is cheaper than the diff would be worth). */
export const COMPARE_MAX_ROWS = 2_000_000;

type Ast = Record<string, unknown>;

function objects(node: unknown, visit: (obj: Ast, ancestors: Ast[]) => void, ancestors: Ast[] = []): void {
  if (Array.isArray(node)) {
    for (const n of node) objects(n, visit, ancestors);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Ast;
  visit(obj, ancestors);
  ancestors.push(obj);
  for (const value of Object.values(obj)) objects(value, visit, ancestors);
  ancestors.pop();
}

/** The table references a FROM clause names directly (joins followed, subqueries not entered). */
function fromRefs(from: unknown): Ast[] {
  if (from === null || typeof from !== 'object') return [];
  const ref = from as Ast;
  if (ref['type'] === 'JOIN') return [...fromRefs(ref['left']), ...fromRefs(ref['right'])];
  return [ref];
}

const lower = (v: unknown): string => (typeof v === 'string' ? v.toLowerCase() : '');

/**
 * The column names (lower case) `sql` may read from `layer.table`, or 'all' when a `*` or a
 * whole-row reference may take every column of it (or the SQL does not parse).
 */
export async function columnsRead(engine: Engine, sql: string, layer: string, table: string): Promise<Set<string> | 'all'> {
  const ast = await parseSql(engine, sql);
  if (ast.error) return 'all';
  const isSource = (ref: Ast): boolean => ref['type'] === 'BASE_TABLE' && lower(ref['schema_name']) === layer.toLowerCase() && lower(ref['table_name']) === table.toLowerCase();
  const names = new Set<string>();
  const ctes = new Set<string>();
  const sourceNames = new Set<string>();
  objects(ast, (obj) => {
    if (obj['type'] === 'BASE_TABLE' && isSource(obj)) sourceNames.add(lower(obj['alias']) || lower(obj['table_name']));
    const map = (obj['cte_map'] as { map?: { key?: string }[] } | undefined)?.map;
    for (const entry of map ?? []) if (entry.key) ctes.add(entry.key.toLowerCase());
  });
  // Another source, a CTE or a subquery: not this source (a subquery's or CTE's own SELECT is checked where it is).
  const other = (ref: Ast): boolean =>
    ref['type'] === 'SUBQUERY' || (ref['type'] === 'BASE_TABLE' && !isSource(ref) && (lower(ref['schema_name']) !== '' || ctes.has(lower(ref['table_name']))));
  let all = false;
  objects(ast, (obj, ancestors) => {
    if (obj['class'] === 'COLUMN_REF' && Array.isArray(obj['column_names'])) {
      const parts = (obj['column_names'] as string[]).map((p) => p.toLowerCase());
      if (parts.length === 1) {
        // A bare table alias is the whole row (a struct of every column).
        if (sourceNames.has(parts[0]!)) all = true;
        // An unqualified name reads the source only where a SELECT around it (up to its CTE: a CTE
        // cannot see the query that uses it) reads the source or a relation it cannot tell.
        const selects: Ast[] = [];
        for (const a of [...ancestors].reverse()) {
          if ('key' in a && 'value' in a) break;
          if (a['type'] === 'SELECT_NODE') selects.push(a);
        }
        if (selects.some((sel) => fromRefs(sel['from_table']).some((ref) => !other(ref)))) names.add(parts[0]!);
      } else if (parts.slice(0, -1).some((p) => sourceNames.has(p))) {
        // Qualified by the source's alias (or a struct path under it): any later part may be the column.
        for (const p of parts.slice(1)) names.add(p);
      }
    }
    // A join's USING (...) columns are read from both its sides, a NATURAL join's from every column.
    if (obj['type'] === 'JOIN' && fromRefs(obj).some((ref) => !other(ref))) {
      for (const c of (obj['using_columns'] as string[] | undefined) ?? []) names.add(c.toLowerCase());
      if (obj['ref_type'] === 'NATURAL') all = true;
    }
    if (obj['class'] !== 'STAR') return;
    const select = [...ancestors].reverse().find((a) => a['type'] === 'SELECT_NODE');
    const refs = fromRefs(select?.['from_table']);
    const relation = lower(obj['relation_name']);
    if (!relation) {
      if (refs.length === 0 || !refs.every(other)) all = true;
      return;
    }
    const named = refs.find((r) => (lower(r['alias']) || lower(r['table_name'])) === relation);
    if (named === undefined || !other(named)) all = true;
  });
  return all ? 'all' : names;
}

/**
 * True when `source` changed since version `recorded` only in columns `sql` does not read: the
 * read columns hold the same multiset of rows at both versions. False whenever that cannot be
 * shown cheaply (a star over the source, a large table, an old version no longer readable).
 */
export async function changeMissesMart(lake: Lake, sql: string, source: SourceState, recorded: number): Promise<boolean> {
  const now = source.snapshot;
  const layer = source.ref.layer;
  if (!now || !layer || recorded >= now.version) return false;
  try {
    const read = await columnsRead(lake.engine, sql, layer, source.ref.dataset ?? source.name.split('.').pop()!);
    if (read === 'all') return false;
    const before = await tableSnapshot(lake, source.ref, { version: recorded });
    const sizes = [filesNumRecords(before.files), filesNumRecords(now.files)];
    if (sizes.some((n) => n === undefined || n > COMPARE_MAX_ROWS)) return false;
    // The names as the SQL wrote them (any case) to the tables' own.
    const fields = new Set(now.schema.fields.map((f) => f.name));
    const beforeFields = new Set(before.schema.fields.map((f) => f.name));
    const columns = [...new Set([...fields, ...beforeFields])].filter((c) => read.has(c.toLowerCase()));
    // A column only one version has changed; none read: only the row count can matter.
    if (columns.some((c) => !fields.has(c) || !beforeFields.has(c))) return false;
    const list = columns.length > 0 ? columns.map(ident).join(', ') : '1 AS __lake_row';
    const projection = columns.length > 0 ? { columns } : {};
    const a = `SELECT ${list} FROM (${await scanSql(lake.engine, before, projection)}) AS a`;
    const b = `SELECT ${list} FROM (${await scanSql(lake.engine, now, projection)}) AS b`;
    const [row] = await lake.engine.rows<{ n: bigint | number }>(`SELECT (SELECT count(*) FROM (${a} EXCEPT ALL ${b})) + (SELECT count(*) FROM (${b} EXCEPT ALL ${a})) AS n`);
    return Number(row?.n ?? 1) === 0;
  } catch {
    return false;
  }
}
