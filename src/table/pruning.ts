import { columnMappingMode, logicalPartitionValues, partitionKey, type Snapshot } from '../delta/index.js';
import { ident, literal, partitionValueSql, type Engine } from '../engine/index.js';

/**
 * Partition pruning before any file is named to DuckDB. DuckDB checks every file listed in
 * `read_parquet([...])` when it binds the query, so files of partitions a query filters out must
 * not be listed at all. We ask DuckDB's own parser (`json_serialize_sql`) for the query's syntax
 * tree, collect the WHERE conjuncts that reference only columns of a lake view, and let DuckDB
 * evaluate those on partition columns over the snapshot's partition values (the rest go to data
 * skipping by file stats, skipping.ts). Anything we do not understand keeps every partition:
 * pruning can only make a query cheaper, never change its answer.
 */
export type Node = Record<string, unknown>;

const NON_DETERMINISTIC = new Set(['random', 'uuid', 'gen_random_uuid', 'now', 'current_timestamp', 'setseed', 'nextval']);

export function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function walk(value: unknown, visit: (node: Node) => void): void {
  if (Array.isArray(value)) for (const v of value) walk(v, visit);
  else if (isNode(value)) {
    visit(value);
    for (const v of Object.values(value)) walk(v, visit);
  }
}

function flattenAnd(expr: Node): Node[] {
  if (expr['type'] === 'CONJUNCTION_AND' && Array.isArray(expr['children'])) return (expr['children'] as Node[]).flatMap(flattenAnd);
  return [expr];
}

interface TableItem {
  node: Node;
  /** Every join on the path from the FROM root is inner or cross. */
  innerOnly: boolean;
}

function fromItems(from: unknown, innerOnly = true): TableItem[] {
  if (!isNode(from)) return [];
  if (from['type'] === 'JOIN') {
    const jt = String(from['join_type'] ?? 'INNER');
    const inner = innerOnly && (jt === 'INNER' || from['ref_type'] === 'CROSS');
    return [...fromItems(from['left'], inner), ...fromItems(from['right'], inner)];
  }
  if (from['type'] === 'EMPTY') return [];
  return [{ node: from, innerOnly }];
}

/**
 * The WHERE conjuncts (as AST) per lake view that name only columns in `columnsOf(view)`: OR over
 * the view's references, AND within one; `undefined` for a view some reference of which has none.
 */
export function prunableConjuncts(ast: unknown, columnsOf: ReadonlyMap<string, readonly string[]>): Map<string, Node[][] | undefined> {
  const result = new Map<string, Node[][] | undefined>();
  const seen = new Map<string, number>();
  const handled = new Map<string, number>();
  walk(ast, (node) => {
    if (node['type'] === 'BASE_TABLE' && typeof node['table_name'] === 'string' && columnsOf.has(node['table_name']) && !node['schema_name']) {
      seen.set(node['table_name'], (seen.get(node['table_name']) ?? 0) + 1);
    }
  });
  walk(ast, (node) => {
    if (node['type'] !== 'SELECT_NODE') return;
    const items = fromItems(node['from_table']);
    for (const item of items) {
      const view = item.node['table_name'];
      if (item.node['type'] !== 'BASE_TABLE' || typeof view !== 'string' || !columnsOf.has(view) || item.node['schema_name']) continue;
      handled.set(view, (handled.get(view) ?? 0) + 1);
      const columns = new Set((columnsOf.get(view) ?? []).map((c) => c.toLowerCase()));
      const name = String(item.node['alias'] || view).toLowerCase();
      const usable: Node[] = [];
      const where = node['where_clause'];
      if (item.innerOnly && isNode(where)) {
        for (const conjunct of flattenAnd(where)) {
          let ok = true;
          let refs = 0;
          walk(conjunct, (n) => {
            if (n['class'] === 'SUBQUERY' || n['type'] === 'SUBQUERY' || n['class'] === 'PARAMETER' || n['class'] === 'WINDOW' || n['class'] === 'LAMBDA') ok = false;
            if (n['class'] === 'FUNCTION' && NON_DETERMINISTIC.has(String(n['function_name']).toLowerCase())) ok = false;
            if (n['class'] === 'COLUMN_REF') {
              refs++;
              const parts = (n['column_names'] as string[]).map((p) => p.toLowerCase());
              const column = parts.length === 1 && items.length === 1 ? parts[0] : parts.length === 2 && parts[0] === name ? parts[1] : undefined;
              if (column === undefined || !columns.has(column)) ok = false;
            }
          });
          if (ok && refs > 0) usable.push(structuredClone(conjunct));
        }
      }
      if (usable.length === 0) result.set(view, undefined);
      else if (!result.has(view) || result.get(view) !== undefined) result.set(view, [...(result.get(view) ?? []), usable]);
    }
  });
  for (const [view, count] of seen) if ((handled.get(view) ?? 0) !== count) result.set(view, undefined);
  return result;
}

/**
 * Every name a column reference in the query could resolve to (lower case), or `undefined` when
 * the query can reach all columns (`*`, `COLUMNS(…)`, or anything unusual). A superset: each part
 * of a dotted reference counts (`t.col`, `s.field`).
 */
export function referencedColumns(ast: unknown): Set<string> | undefined {
  const names = new Set<string>();
  let all = false;
  walk(ast, (n) => {
    if (n['class'] === 'STAR' || n['type'] === 'STAR' || n['class'] === 'COLUMNS') all = true;
    if (n['class'] === 'COLUMN_REF') {
      const parts = n['column_names'];
      if (!Array.isArray(parts)) all = true;
      else for (const p of parts) names.add(String(p).toLowerCase());
    }
    // USING (col) and NATURAL joins name columns outside COLUMN_REF nodes.
    if (n['type'] === 'JOIN' && (Array.isArray(n['using_columns']) && n['using_columns'].length > 0)) {
      for (const c of n['using_columns'] as string[]) names.add(c.toLowerCase());
    }
    if (n['type'] === 'JOIN' && n['ref_type'] === 'NATURAL') all = true;
  });
  return all ? undefined : names;
}

/**
 * Where each lake view is referenced as a table in the query (byte offsets into the UTF-8 SQL,
 * DuckDB's `query_location`) and whether the reference has its own alias. `undefined` when some
 * reference cannot be located, so the caller keeps the views instead of inlining them.
 */
export function viewReferences(ast: unknown, sql: string, views: readonly string[]): { view: string; offset: number; aliased: boolean }[] | undefined {
  const wanted = new Set(views);
  const refs: { view: string; offset: number; aliased: boolean }[] = [];
  walk(ast, (n) => {
    if (n['type'] === 'BASE_TABLE' && typeof n['table_name'] === 'string' && wanted.has(n['table_name']) && !n['schema_name'] && !n['catalog_name']) {
      refs.push({ view: n['table_name'], offset: Number(n['query_location']), aliased: Boolean(n['alias']) });
    }
  });
  const bytes = Buffer.from(sql, 'utf8');
  for (const ref of refs) {
    const token = Buffer.from(`"${ref.view}"`, 'utf8');
    if (!Number.isInteger(ref.offset) || !bytes.subarray(ref.offset, ref.offset + token.length).equals(token)) return undefined;
  }
  // Every textual occurrence must be one of the located references.
  const occurrences = views.reduce((n, v) => n + sql.split(`"${v}"`).length - 1, 0);
  return occurrences === refs.length ? refs.sort((a, b) => a.offset - b.offset) : undefined;
}

/** The conjuncts of `conjuncts` that name partition columns only; undefined when some reference keeps none. */
export function partitionConjuncts(conjuncts: Node[][], partitionColumns: readonly string[]): Node[][] | undefined {
  const partitions = new Set(partitionColumns.map((c) => c.toLowerCase()));
  const onPartitions = (conjunct: Node): boolean => {
    let ok = true;
    walk(conjunct, (n) => {
      if (n['class'] !== 'COLUMN_REF') return;
      const parts = n['column_names'] as string[];
      if (!partitions.has(parts[parts.length - 1]!.toLowerCase())) ok = false;
    });
    return ok;
  };
  const kept = conjuncts.map((list) => list.filter(onPartitions));
  return kept.every((list) => list.length > 0) ? kept : undefined;
}

export function unqualify(conjunct: Node): Node {
  walk(conjunct, (n) => {
    if (n['class'] === 'COLUMN_REF') {
      const parts = n['column_names'] as string[];
      n['column_names'] = [parts[parts.length - 1]!];
    }
  });
  return conjunct;
}

export async function serializeSql(engine: Engine, sql: string): Promise<unknown | undefined> {
  const rows = await engine.rows<{ ast: string }>(`SELECT json_serialize_sql(${literal(sql)}) AS ast`).catch(() => undefined);
  // DuckDB marks "no location" as UINT64_MAX, which a JS number cannot carry back: use 0.
  const ast = rows?.[0] ? (JSON.parse(rows[0].ast.replaceAll('"query_location":18446744073709551615', '"query_location":0')) as { error?: boolean }) : undefined;
  return ast && !ast.error ? ast : undefined;
}

/**
 * The snapshot's files that can satisfy `conjuncts` (OR over references, AND within one), judged
 * by DuckDB over the typed partition values.
 */
export async function pruneFiles(engine: Engine, snapshot: Snapshot, conjuncts: Node[][]): Promise<Snapshot['files']> {
  const fields = snapshot.partitionColumns.map((c) => snapshot.schema.fields.find((f) => f.name === c)!);
  const mode = columnMappingMode(snapshot.metadata.configuration);
  // Partition values keyed by logical name (column-mapped tables key the log by physical name).
  const logical = (values: Record<string, string | null>): string => partitionKey(snapshot.partitionColumns, logicalPartitionValues(fields, mode, values));
  const groups = new Map<string, Record<string, string | null>>();
  for (const file of snapshot.files) groups.set(logical(file.partitionValues), logicalPartitionValues(fields, mode, file.partitionValues));
  if (groups.size === 0) return snapshot.files;
  const keys = [...groups.keys()];
  const rows = keys.map((key, i) => {
    const values = groups.get(key)!;
    return `(${[String(i), ...fields.map((f) => partitionValueSql(values[f.name] ?? null, f.type))].join(', ')})`;
  });
  const parts = `(SELECT * FROM (VALUES ${rows.join(', ')}) AS v(__gid, ${fields.map((f) => ident(f.name)).join(', ')}))`;
  const template = (await serializeSql(engine, `SELECT __gid FROM __lake_parts WHERE true`)) as { statements: { node: Node }[] } | undefined;
  if (!template) return snapshot.files;
  const ors = conjuncts.map((list) => ({ class: 'CONJUNCTION', type: 'CONJUNCTION_AND', alias: '', query_location: 0, children: list.map(unqualify) }));
  template.statements[0]!.node['where_clause'] = ors.length === 1 ? ors[0] : { class: 'CONJUNCTION', type: 'CONJUNCTION_OR', alias: '', query_location: 0, children: ors };
  const rendered = await engine.rows<{ sql: string }>(`SELECT json_deserialize_sql(${literal(JSON.stringify(template))}) AS sql`).catch(() => undefined);
  const filterSql = rendered?.[0]?.sql;
  if (!filterSql) return snapshot.files;
  const kept = await engine.rows<{ __gid: number }>(`WITH __lake_parts AS ${parts} ${filterSql}`).catch(() => undefined);
  if (!kept) return snapshot.files;
  const keep = new Set(kept.map((r) => keys[Number(r.__gid)]!));
  return snapshot.files.filter((f) => keep.has(logical(f.partitionValues)));
}
