import path from 'node:path';
import { LakeError } from '../core/index.js';
import { decodeAddPath, isAbsoluteUri, partitionKey, physicalName, columnMappingMode, type AddAction, type Snapshot, type StructField } from '../delta/index.js';
import { ident, literal, type Engine } from './session.js';
import { partitionValueSql, sqlType } from './delta-types.js';
import { SCHEMA_WIDTH_TAG } from './parquet-writer.js';


/** Absolute local path of a data file named in the log. */
export function dataFilePath(tableRoot: string, addPath: string): string {
  if (isAbsoluteUri(addPath)) {
    if (addPath.startsWith('file:')) return decodeAddPath(new URL(addPath).pathname);
    throw new LakeError('DELTA_PROTOCOL_UNSUPPORTED', `data file ${addPath} is not on the local file system`, { hint: 'Only local tables are supported.' });
  }
  return path.join(tableRoot, decodeAddPath(addPath));
}

interface FileGroup {
  values: Record<string, string | null>;
  files: AddAction[];
}

function groupByPartition(snapshot: Snapshot): FileGroup[] {
  const groups = new Map<string, FileGroup>();
  for (const file of snapshot.files) {
    const key = partitionKey(snapshot.partitionColumns, file.partitionValues);
    const group = groups.get(key) ?? { values: file.partitionValues, files: [] };
    group.files.push(file);
    groups.set(key, group);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
}

/** Top-level column names each file physically holds, read from the Parquet footers. */
async function footerColumns(engine: Engine, files: string[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  if (files.length === 0) return out;
  const rows = await engine.rows<{ file_name: string; name: string; num_children: bigint | number | null }>(
    `SELECT file_name, name, num_children FROM parquet_schema([${files.map(literal).join(', ')}])`,
  );
  // Rows come per file in schema order (depth first); rebuild the tree to find top-level fields.
  let current = '';
  let stack: number[] = [];
  for (const row of rows) {
    if (row.file_name !== current) {
      current = row.file_name;
      out.set(current, new Set());
      stack = [Number(row.num_children ?? 0)]; // the root
      continue;
    }
    const depth = stack.length;
    if (depth === 1) out.get(current)!.add(row.name);
    stack[depth - 1]! -= 1;
    const children = Number(row.num_children ?? 0);
    if (children > 0) stack.push(children);
    while (stack.length > 0 && stack[stack.length - 1] === 0) stack.pop();
  }
  return out;
}

export interface ScanOptions {
  /** Logical column names to project; all by default. */
  columns?: readonly string[];
}

/**
 * SQL that reads exactly the snapshot's active files with DuckDB (DESIGN.md decision 5, native
 * path). Files are grouped by partition, each group a `read_parquet` whose partition columns are
 * typed constants taken from the log, so a filter on a partition column prunes whole groups
 * before any of their files is opened.
 */
export async function scanSql(engine: Engine, snapshot: Snapshot, options: ScanOptions = {}): Promise<string> {
  const mode = columnMappingMode(snapshot.metadata.configuration);
  const partitioned = new Set(snapshot.partitionColumns);
  const wanted = options.columns ? new Set(options.columns) : undefined;
  const fields = snapshot.schema.fields.filter((f) => !wanted || wanted.has(f.name));
  const dataFields = snapshot.schema.fields.filter((f) => !partitioned.has(f.name));

  const groups = groupByPartition(snapshot);
  // Which files might lack some data column: untagged files, or tagged narrower than the schema.
  const unsure: string[] = [];
  for (const group of groups) {
    for (const file of group.files) {
      const width = Number(file.tags?.[SCHEMA_WIDTH_TAG] ?? NaN);
      if (!(width >= snapshot.schema.fields.length)) unsure.push(dataFilePath(snapshot.tableRoot, file.path));
    }
  }
  const footers = await footerColumns(engine, unsure);

  const columnSql = (field: StructField, group: FileGroup, present: (name: string) => boolean): string => {
    if (partitioned.has(field.name)) {
      const physical = physicalName(field, mode);
      const raw = physical in group.values ? group.values[physical] : group.values[field.name];
      return `${partitionValueSql(raw ?? null, field.type)} AS ${ident(field.name)}`;
    }
    const physical = physicalName(field, mode);
    if (!present(physical)) return `CAST(NULL AS ${sqlType(field.type)}) AS ${ident(field.name)}`;
    return `CAST(${ident(physical)} AS ${sqlType(field.type)}) AS ${ident(field.name)}`;
  };

  if (groups.length === 0 || fields.length === 0 && groups.length === 0) {
    const cols = fields.map((f) => `CAST(NULL AS ${sqlType(f.type)}) AS ${ident(f.name)}`);
    return `SELECT ${cols.length > 0 ? cols.join(', ') : '1 AS "__empty"'} WHERE false`;
  }

  const parts = groups.map((group) => {
    const paths = group.files.map((f) => dataFilePath(snapshot.tableRoot, f.path));
    const groupFooters = paths.map((p) => footers.get(p));
    const present = (name: string): boolean =>
      groupFooters.some((cols) => cols === undefined || cols.has(name)) || dataFields.length === 0;
    const cols = fields.map((f) => columnSql(f, group, present));
    const list = `[${paths.map(literal).join(', ')}]`;
    return `SELECT ${cols.length > 0 ? cols.join(', ') : 'NULL AS "__empty"'} FROM read_parquet(${list}, union_by_name = true)`;
  });
  return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join('\nUNION ALL\n');
}
