import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LakeError, errnoCode } from '../core/index.js';
import {
  columnMappingMode,
  decodeAddPath,
  dvUniqueId,
  isAbsoluteUri,
  isArray,
  isMap,
  loadDeletionVector,
  logicalPartitionValues,
  needsRebuild,
  parquetTree,
  partitionKey,
  resolveFields,
  rowRanges,
  type AddAction,
  type ColumnMappingMode,
  type DataType,
  type FieldResolution,
  type ParquetNode,
  type Resolution,
  type Snapshot,
  type StructField,
} from '../delta/index.js';
import { isRemote, joinLocation, listNames, relativeLocation } from '../storage/index.js';
import { ident, literal, type Engine } from './session.js';
import { partitionExprSql, partitionValueSql, sqlType } from './delta-types.js';
import { SCHEMA_WIDTH_TAG } from './parquet-writer.js';

/** Absolute local path of a data file named in the log. */
export function dataFilePath(tableRoot: string, addPath: string): string {
  if (isAbsoluteUri(addPath)) {
    if (addPath.startsWith('file:')) return decodeAddPath(new URL(addPath).pathname);
    if (isRemote(addPath)) return addPath;
    throw new LakeError('DELTA_PROTOCOL_UNSUPPORTED', `data file ${addPath} is neither on the local file system nor on S3`, { hint: 'The lake reads local and s3:// tables.' });
  }
  return joinLocation(tableRoot, decodeAddPath(addPath));
}

interface FileGroup {
  values: Record<string, string | null>;
  files: AddAction[];
}

/** Files grouped by partition; `values` are keyed by logical column name. */
function groupByPartition(snapshot: Snapshot, mode: ColumnMappingMode): FileGroup[] {
  const partitionFields = snapshot.partitionColumns.map((c) => snapshot.schema.fields.find((f) => f.name === c)).filter((f) => f !== undefined);
  const groups = new Map<string, FileGroup>();
  for (const file of snapshot.files) {
    const values = logicalPartitionValues(partitionFields, mode, file.partitionValues);
    const key = partitionKey(snapshot.partitionColumns, values);
    const group = groups.get(key) ?? { values, files: [] };
    group.files.push(file);
    groups.set(key, group);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
}

/** The schema tree of each file, read from the Parquet footers. */
async function footerTrees(engine: Engine, files: string[]): Promise<Map<string, ParquetNode[]>> {
  const out = new Map<string, ParquetNode[]>();
  if (files.length === 0) return out;
  const rows = await engine.rows<{ file_name: string; name: string; num_children: bigint | number | null; field_id: bigint | number | null }>(
    `SELECT file_name, name, num_children, field_id FROM parquet_schema([${files.map(literal).join(', ')}])`,
  );
  const perFile = new Map<string, Array<{ name: string; numChildren: number; fieldId: number | undefined }>>();
  for (const row of rows) {
    const list = perFile.get(row.file_name) ?? [];
    list.push({ name: row.name, numChildren: Number(row.num_children ?? 0), fieldId: row.field_id === null ? undefined : Number(row.field_id) });
    perFile.set(row.file_name, list);
  }
  for (const [file, list] of perFile) out.set(file, parquetTree(list));
  return out;
}

/**
 * Fails with DATA_FILE_MISSING, naming the file, when the log references data files that are not
 * on disk (vacuumed, or a log-only copy). One directory listing per distinct directory.
 */
async function assertFilesExist(snapshot: Snapshot, paths: readonly string[]): Promise<void> {
  const byDir = new Map<string, string[]>();
  for (const p of paths) {
    const list = byDir.get(path.dirname(p)) ?? [];
    list.push(path.basename(p));
    byDir.set(path.dirname(p), list);
  }
  const missing: string[] = [];
  const dirs = [...byDir.entries()];
  for (let i = 0; i < dirs.length; i += 64) {
    await Promise.all(
      dirs.slice(i, i + 64).map(async ([dir, names]) => {
        let present: Set<string>;
        try {
          present = new Set(isRemote(dir) ? await listNames(dir) : await fs.readdir(dir));
        } catch (error) {
          if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTDIR') throw error;
          present = new Set();
        }
        for (const name of names) if (!present.has(name)) missing.push(joinLocation(dir, name));
      }),
    );
  }
  if (missing.length === 0) return;
  missing.sort();
  const first = missing[0]!;
  throw new LakeError(
    'DATA_FILE_MISSING',
    `${snapshot.table} version ${snapshot.version}: data file ${relativeLocation(snapshot.tableRoot, first)} is missing${missing.length > 1 ? ` (and ${missing.length - 1} more of the version's ${paths.length} files)` : ''}`,
    {
      hint: 'The files of this version were removed (VACUUM, or the table was copied without its data). History and the file list still work; read a version whose files are present.',
      details: { file: first, missing: missing.length, version: snapshot.version },
    },
  );
}

/** SQL that reads one resolved value and gives it its logical shape (nested struct fields renamed, absent ones NULL). */
function valueSql(expr: string, type: DataType, resolution: Resolution, depth: number): string {
  if (!needsRebuild(resolution)) return expr;
  const v = `__v${depth}`;
  switch (resolution.kind) {
    case 'struct': {
      const fields = resolution.fields.map((f) => `${ident(f.logical)} := ${fieldSql(`(${expr})`, f, depth + 1)}`);
      return `CASE WHEN (${expr}) IS NULL THEN NULL ELSE struct_pack(${fields.join(', ')}) END`;
    }
    case 'array': {
      const element = isArray(type) ? type.elementType : type;
      return `list_transform(${expr}, lambda ${v}: ${valueSql(v, element, resolution.element, depth + 1)})`;
    }
    case 'map': {
      const map = isMap(type) ? type : undefined;
      const key = valueSql(`${v}.key`, map?.keyType ?? type, resolution.key, depth + 1);
      const value = valueSql(`${v}.value`, map?.valueType ?? type, resolution.value, depth + 1);
      return `map_from_entries(list_transform(map_entries(${expr}), lambda ${v}: struct_pack(key := ${key}, value := ${value})))`;
    }
    default:
      return expr;
  }
}

function fieldSql(parent: string | undefined, field: FieldResolution, depth: number): string {
  if (field.physical === undefined) return `CAST(NULL AS ${sqlType(field.type)})`;
  const expr = parent === undefined ? ident(field.physical) : `${parent}.${ident(field.physical)}`;
  return valueSql(expr, field.type, field.resolution, depth);
}

/** Deleted rows inlined into the SQL up to this many ranges; larger deletion vectors go to a temp table. */
const DV_INLINE_RANGES = 1000;

/** Temp tables of deleted row positions per engine (see keepRowsSql). */
const dvTables = new WeakMap<Engine, Map<string, Promise<void>>>();

/** A predicate on `file_row_number` that keeps the rows a deletion vector does not delete. */
async function keepRowsSql(engine: Engine, snapshot: Snapshot, file: AddAction, inlineLimit: number): Promise<string> {
  const dv = file.deletionVector!;
  const rows = await loadDeletionVector(snapshot.tableRoot, dv);
  if (rows.length === 0) return 'true';
  const ranges = rowRanges(rows);
  if (ranges.length <= inlineLimit) {
    const singles = ranges.filter(([a, b]) => a === b).map(([a]) => String(a));
    const spans = ranges.filter(([a, b]) => a !== b).map(([a, b]) => `file_row_number BETWEEN ${a} AND ${b}`);
    const deleted = [...(singles.length > 0 ? [`file_row_number IN (${singles.join(', ')})`] : []), ...spans];
    return `NOT (${deleted.join(' OR ')})`;
  }
  // Content-addressed: a deletion vector never changes, so one table per (table, DV) is reused by
  // later scans in the session; concurrent scans share the one being built.
  const table = `__lake_dv_${createHash('sha256').update(`${snapshot.tableRoot}\u0000${dvUniqueId(dv)}`).digest('hex').slice(0, 32)}`;
  let building = dvTables.get(engine);
  if (!building) dvTables.set(engine, (building = new Map()));
  let ready = building.get(table);
  if (!ready) {
    ready = (async () => {
      await engine.run(`CREATE TEMP TABLE ${ident(table)} (row_index BIGINT PRIMARY KEY)`);
      const appender = await engine.connection.createAppender(table, 'main', 'temp');
      for (const row of rows) {
        appender.appendBigInt(BigInt(row));
        appender.endRow();
      }
      appender.closeSync();
    })();
    building.set(table, ready);
    ready.catch(() => building.delete(table));
  }
  await ready;
  return `file_row_number NOT IN (SELECT row_index FROM ${ident(table)})`;
}

export interface ScanOptions {
  /** Logical column names to project; all by default. */
  columns?: readonly string[];
  /** Deletion vectors with more row ranges than this are joined from a temp table instead of inlined (default 1000). */
  dvInlineRanges?: number;
  /**
   * Check that every data file is on disk first, failing with DATA_FILE_MISSING (default true).
   * A caller that plans again with the check when DuckDB fails (`runQuery`) may skip it: DuckDB
   * fails on a missing file anyway, and listing every partition folder costs a cold read.
   */
  checkFiles?: boolean;
}

/** How one data file's columns resolve; files sharing `id` can be read by one `read_parquet`. */
interface FileResolution {
  id: string;
  resolved: FieldResolution[];
}

/**
 * What a scan reads, decided before any SQL is written: the projected fields, and the active files
 * in branches. Files without a deletion vector whose columns resolve the same way form one branch
 * (one `read_parquet` across partitions); a file with a deletion vector is a branch of its own.
 */
interface ScanPlan {
  /** The logical fields to project, in schema order. */
  fields: StructField[];
  partitioned: ReadonlySet<string>;
  /** Absolute path of each file. */
  pathOf: ReadonlyMap<AddAction, string>;
  branches: Array<{ resolved: FieldResolution[]; groups: FileGroup[]; unionByName: boolean }>;
  withDv: Array<{ resolved: FieldResolution[]; file: AddAction; group: FileGroup }>;
}

/**
 * How each file's columns resolve, computed once per distinct footer (files whose footer was not
 * read share one resolution), so large tables pay a map lookup per file. Footers are read where
 * the file's columns are not known: untagged files (written by other tools) or tagged narrower
 * than the schema, and every file in column mapping mode 'id'.
 */
async function fileResolver(
  engine: Engine,
  snapshot: Snapshot,
  mode: ColumnMappingMode,
  pathOf: ReadonlyMap<AddAction, string>,
  fields: readonly StructField[],
): Promise<{ resolutionOf(file: AddAction): FileResolution; fromFooters: ReadonlySet<string> }> {
  const partitioned = new Set(snapshot.partitionColumns);
  // Only the projected columns are resolved: a query naming 1 of 372 columns resolves 1.
  const dataFields = fields.filter((f) => !partitioned.has(f.name));
  const unsure = snapshot.files.filter((file) => {
    const width = Number(file.tags?.[SCHEMA_WIDTH_TAG] ?? NaN);
    return mode === 'id' || !(width >= snapshot.schema.fields.length);
  });
  const footers = await footerTrees(engine, [...new Set(unsure.map((f) => pathOf.get(f)!))]);
  const resolutions = new Map<string, FileResolution>();
  const fromFooters = new Set<string>();
  const resolutionOf = (file: AddAction): FileResolution => {
    const tree = footers.get(pathOf.get(file)!);
    const signature = tree === undefined ? '' : JSON.stringify(tree);
    let entry = resolutions.get(signature);
    if (!entry) {
      const resolved = resolveFields(dataFields, mode, tree);
      entry = { id: JSON.stringify(resolved), resolved };
      if (tree !== undefined) fromFooters.add(entry.id);
      resolutions.set(signature, entry);
    }
    return entry;
  };
  return { resolutionOf, fromFooters };
}

/**
 * Plans the scan of a snapshot with at least one file. Fails with DATA_FILE_MISSING when a file is
 * not on disk. Files whose columns resolve the same way share a branch across partitions: binding
 * a `read_parquet` costs a footer read and a projection per branch, so one branch per partition
 * made wide tables slow to bind. Partitions a query filters out were already dropped from the
 * snapshot (partition pruning in the table room).
 */
async function planScan(engine: Engine, snapshot: Snapshot, fields: StructField[], checkFiles: boolean): Promise<ScanPlan> {
  const mode: ColumnMappingMode = columnMappingMode(snapshot.metadata.configuration);
  const pathOf = new Map(snapshot.files.map((f) => [f, dataFilePath(snapshot.tableRoot, f.path)]));
  if (checkFiles) await assertFilesExist(snapshot, [...new Set(pathOf.values())]);
  const { resolutionOf, fromFooters } = await fileResolver(engine, snapshot, mode, pathOf, fields);

  const byResolution = new Map<string, { resolved: FieldResolution[]; groups: FileGroup[] }>();
  const withDv: ScanPlan['withDv'] = [];
  for (const group of groupByPartition(snapshot, mode)) {
    const here = new Map<string, FileGroup>();
    for (const file of group.files) {
      const { id, resolved } = resolutionOf(file);
      if (file.deletionVector) {
        withDv.push({ resolved, file, group });
        continue;
      }
      const entry = byResolution.get(id) ?? { resolved, groups: [] };
      byResolution.set(id, entry);
      let sub = here.get(id);
      if (!sub) {
        sub = { values: group.values, files: [] };
        here.set(id, sub);
        entry.groups.push(sub);
      }
      sub.files.push(file);
    }
  }
  // Files read from their footers may order or type columns differently: unify by name. Files
  // our writer tagged all hold the same columns, and DuckDB maps them by name anyway.
  const branches = [...byResolution].map(([id, { resolved, groups }]) => ({ resolved, groups, unionByName: fromFooters.has(id) }));
  return { fields, partitioned: new Set(snapshot.partitionColumns), pathOf, branches, withDv };
}

/** The SELECT list of one branch: data columns from the file, partition columns from `partition`. */
function selectList(plan: ScanPlan, resolved: FieldResolution[], partition: (field: StructField) => string): string {
  const byName = new Map(resolved.map((r) => [r.logical, r]));
  const cols = plan.fields.map((f) => {
    if (plan.partitioned.has(f.name)) return `${partition(f)} AS ${ident(f.name)}`;
    return `CAST(${fieldSql(undefined, byName.get(f.name)!, 0)} AS ${sqlType(f.type)}) AS ${ident(f.name)}`;
  });
  return cols.length > 0 ? cols.join(', ') : 'NULL AS "__empty"';
}

/**
 * The SQL of a plan: one SELECT per branch, unioned. Partition values come from the log, as
 * literals when a branch holds one partition, else joined on the file name.
 */
async function scanPlanSql(engine: Engine, snapshot: Snapshot, plan: ScanPlan, dvInlineRanges: number): Promise<string> {
  const { pathOf } = plan;
  const wantedPartitions = plan.fields.filter((f) => plan.partitioned.has(f.name));
  const parts: string[] = [];
  for (const { resolved, groups, unionByName } of plan.branches) {
    const files = groups.flatMap((g) => g.files);
    const list = `[${files.map((f) => literal(pathOf.get(f)!)).join(', ')}]`;
    const options = unionByName ? ', union_by_name = true' : '';
    if (groups.length === 1 || wantedPartitions.length === 0) {
      const values = groups[0]!.values;
      parts.push(`SELECT ${selectList(plan, resolved, (f) => partitionValueSql(values[f.name] ?? null, f.type))} FROM read_parquet(${list}${options})`);
      continue;
    }
    const rows = groups.flatMap((g) =>
      g.files.map((f) => `(${[literal(pathOf.get(f)!), ...wantedPartitions.map((pf) => (g.values[pf.name] == null ? 'NULL' : literal(g.values[pf.name]!)))].join(', ')})`),
    );
    const partCols = wantedPartitions.map((_f, i) => `__p${i}`);
    const partIndex = new Map(wantedPartitions.map((f, i) => [f.name, i]));
    parts.push(
      `SELECT ${selectList(plan, resolved, (f) => partitionExprSql(`__parts.__p${partIndex.get(f.name)}`, f.type))} FROM read_parquet(${list}${options}, filename = '__lake_file') AS __data ` +
        `JOIN (VALUES ${rows.join(', ')}) AS __parts(__file, ${partCols.join(', ')}) ON __data.__lake_file = __parts.__file`,
    );
  }
  for (const { resolved, file, group } of plan.withDv) {
    const keep = await keepRowsSql(engine, snapshot, file, dvInlineRanges);
    parts.push(
      `SELECT ${selectList(plan, resolved, (f) => partitionValueSql(group.values[f.name] ?? null, f.type))} FROM read_parquet([${literal(pathOf.get(file)!)}], file_row_number = true) WHERE ${keep}`,
    );
  }
  return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join('\nUNION ALL\n');
}

/**
 * SQL that reads exactly the snapshot's active files with DuckDB (the native reader, README.md
 * "Readers"): partition values from the log, column mapping and schema evolution resolved per
 * file, deletion vectors applied on `file_row_number`.
 */
export async function scanSql(engine: Engine, snapshot: Snapshot, options: ScanOptions = {}): Promise<string> {
  const wanted = options.columns ? new Set(options.columns) : undefined;
  const fields = snapshot.schema.fields.filter((f) => !wanted || wanted.has(f.name));
  if (snapshot.files.length === 0) {
    const cols = fields.map((f) => `CAST(NULL AS ${sqlType(f.type)}) AS ${ident(f.name)}`);
    return `SELECT ${cols.length > 0 ? cols.join(', ') : '1 AS "__empty"'} WHERE false`;
  }
  const plan = await planScan(engine, snapshot, fields, options.checkFiles ?? true);
  return scanPlanSql(engine, snapshot, plan, options.dvInlineRanges ?? DV_INLINE_RANGES);
}
