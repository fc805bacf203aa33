import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { LakeError } from '../core/index.js';
import { buildFileStats, encodeAddPath, type AddAction, type ColumnStatistics, type StructType } from '../delta/index.js';
import { ident, literal, type Engine } from './session.js';
import { partitionStringSql, storageCast } from './delta-types.js';

/**
 * Tag our writer puts on every data file: the number of leading schema fields the file holds.
 * Our schemas only grow by appending fields, so a file with width K holds fields [0, K).
 * Files without it (written by other tools) have their Parquet footers checked instead.
 */
export const SCHEMA_WIDTH_TAG = 'nfl_lakehouse.schemaWidth';

export interface WriteFilesOptions {
  engine: Engine;
  tableRoot: string;
  /** A SELECT (or table name) producing the rows; columns are matched by name. */
  source: string;
  schema: StructType;
  partitionColumns: readonly string[];
  /** Source column names, to fill columns the source lacks with NULL. */
  sourceColumns: ReadonlySet<string>;
  compression?: string;
  rowGroupSize?: number;
  /** Target size of one data file; a partition larger than this is split into several files. */
  fileSizeBytes?: string;
  /** File names start with this (default `part-`); a unique prefix per attempt lets a failed attempt find exactly its own files. */
  filePrefix?: string;
  now?: number;
}

interface ReturnStatsRow {
  filename: string;
  count: string;
  file_size_bytes: string;
  column_statistics: { key: string; value: { key: string; value: string }[] }[] | null;
  partition_keys: { key: string; value: string | null }[] | null;
}

/**
 * Writes data files with one DuckDB `COPY … RETURN_STATS` and returns the `add` actions for them,
 * their Delta `stats` taken from the returned statistics (README.md "How tables are stored").
 * Partition columns are not stored in the files; their log strings are computed in SQL, so the
 * values in `partitionValues` are exactly what DuckDB partitioned by.
 */
export async function writeDataFiles(options: WriteFilesOptions): Promise<AddAction[]> {
  const { engine, tableRoot, schema, partitionColumns } = options;
  const partitioned = new Set(partitionColumns);
  const select = schema.fields.map((field) => {
    const source = options.sourceColumns.has(field.name) ? ident(field.name) : 'NULL';
    if (partitioned.has(field.name)) {
      return `${partitionStringSql(source, field.type)} AS ${ident(field.name)}`;
    }
    return `${storageCast(source, field.type)} AS ${ident(field.name)}`;
  });
  const copyOptions = [
    'FORMAT parquet',
    `COMPRESSION ${options.compression ?? 'zstd'}`,
    'RETURN_STATS',
    `FILENAME_PATTERN ${literal(`${options.filePrefix ?? 'part-'}{uuid}.zstd`)}`,
    'APPEND',
  ];
  if (partitionColumns.length > 0) copyOptions.push(`PARTITION_BY (${partitionColumns.map(ident).join(', ')})`);
  if (options.rowGroupSize !== undefined) copyOptions.push(`ROW_GROUP_SIZE ${options.rowGroupSize}`);
  // DuckDB cannot rotate files inside PARTITION_BY; unpartitioned output is split by size.
  if (partitionColumns.length === 0) copyOptions.push(`FILE_SIZE_BYTES ${literal(options.fileSizeBytes ?? '512MB')}`);
  await mkdir(tableRoot, { recursive: true });
  const sql = `COPY (SELECT ${select.join(', ')} FROM (${options.source}) AS src) TO ${literal(tableRoot)} (${copyOptions.join(', ')})`;
  const reader = await engine.connection.runAndReadAll(sql).catch((cause: unknown) => {
    throw new LakeError('DATA_INVALID', `writing data files into ${tableRoot} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      hint: 'Nothing was committed. Check the input rows and types against the table schema.',
    });
  });
  const rows = reader.getRowObjectsJson() as unknown as ReturnStatsRow[];
  const now = options.now ?? Date.now();
  return rows.map((row) => {
    const relative = path.relative(tableRoot, row.filename).split(path.sep).join('/');
    const partitionValues: Record<string, string | null> = {};
    for (const column of partitionColumns) partitionValues[column] = null;
    for (const { key, value } of row.partition_keys ?? []) partitionValues[key] = value;
    const columns: ColumnStatistics = {};
    for (const { key, value } of row.column_statistics ?? []) columns[key] = Object.fromEntries(value.map((kv) => [kv.key, kv.value]));
    const numRecords = Number(row.count);
    return {
      path: encodeAddPath(relative),
      partitionValues,
      size: Number(row.file_size_bytes),
      modificationTime: now,
      dataChange: true,
      stats: JSON.stringify(buildFileStats(numRecords, columns, schema, partitionColumns)),
      tags: { [SCHEMA_WIDTH_TAG]: String(schema.fields.length) },
    };
  });
}
