import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { LakeError, isLakeError } from '../core/index.js';
import { buildFileStats, encodeAddPath, type AddAction, type ColumnStatistics, type StructField, type StructType } from '../delta/index.js';
import { deleteFile, ensureDir, isRemote, joinLocation, relativeLocation } from '../storage/index.js';
import { ident, literal, memoryLimitBytes, outOfMemory, traceSql, type Engine } from './session.js';
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
  /**
   * The same rows as `source` split into parts that each hold whole partitions (e.g. a promote's
   * staged groups): written one part after the other, so a write's memory and sort work are
   * bounded by its largest part, not by the whole input.
   */
  sourceParts?: readonly string[];
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
  /** Rows are written in this order inside every file (the catalog's `sort_by`; partition columns are left out, they are constant in a file). */
  sortBy?: readonly string[];
  /** No file holds more rows than this (the catalog's `max_rows_per_file`). */
  maxRowsPerFile?: number;
  /** Target size of one row group in bytes (`row_group_mb`), turned into a row count with `bytesPerRow`. */
  rowGroupBytes?: number;
  /** Target size of one file in bytes, for the layout-controlled writer (with `bytesPerRow`, else measured on a staged copy). */
  targetFileBytes?: number;
  /** The table's measured Parquet bytes per row (file bytes / rows), when it has data. */
  bytesPerRow?: number;
  /** Every row belongs to this partition (log strings by column): partition columns are not read from the source (OPTIMIZE). */
  partition?: Record<string, string | null>;
  /**
   * With `partition`: the source has at most this many rows (a promote's merge: the partition's
   * rows plus its new batch). When that fits one file, the source — costly to run, a dedupe — is
   * run once, by one sorted COPY: not counted first, nor checked for arrival order.
   */
  rowsAtMost?: number;
}

interface ReturnStatsRow {
  filename: string;
  count: string;
  file_size_bytes: string;
  column_statistics: { key: string; value: { key: string; value: string }[] }[] | null;
  partition_keys: { key: string; value: string | null }[] | null;
}

/** Rows of a row group are never fewer than this when derived from a size (DuckDB's vector size). */
const MIN_ROW_GROUP_ROWS = 2048;
/** Row groups of a partitioned COPY are never capped below this many bytes, however small the memory limit. */
const MIN_ROW_GROUP_BYTES = 8 * 1024 * 1024;

/**
 * Writes data files and returns the `add` actions for them, their Delta `stats` taken from the
 * statistics DuckDB's `COPY … RETURN_STATS` returns (README.md "How tables are stored").
 * Partition columns are not stored in the files; their log strings are computed in SQL, so the
 * values in `partitionValues` are exactly what the rows were grouped by.
 *
 * Two writers. Without layout options, one `COPY … PARTITION_BY` writes every partition in
 * parallel. With `sortBy`, `maxRowsPerFile`, `targetFileBytes` or `partition`, the layout-
 * controlled writer (`writeLaidOut`) is used: measured on DuckDB 1.5.5, `PARTITION_BY` cannot be
 * combined with `FILE_SIZE_BYTES` or `ROW_GROUPS_PER_FILE` ("Not implemented"), and neither a
 * partitioned nor a size-rotated COPY keeps the order of an `ORDER BY` inside its files when it
 * runs on several threads; a COPY to a single file does keep it.
 */
export async function writeDataFiles(options: WriteFilesOptions): Promise<AddAction[]> {
  if (options.sourceParts !== undefined && options.sourceParts.length > 0) {
    const adds: AddAction[] = [];
    for (const part of options.sourceParts) adds.push(...(await writeDataFiles({ ...options, source: part, sourceParts: undefined })));
    return adds;
  }
  await ensureDir(options.tableRoot);
  const laidOut = (options.sortBy?.length ?? 0) > 0 || options.maxRowsPerFile !== undefined || options.targetFileBytes !== undefined || options.partition !== undefined;
  return laidOut ? writeLaidOut(options) : writePartitioned(options);
}

/** The source's value of `field` (NULL when the source lacks the column). */
function sourceValue(options: Pick<WriteFilesOptions, 'sourceColumns'>, field: StructField): string {
  return options.sourceColumns.has(field.name) ? ident(field.name) : 'NULL';
}

/**
 * The SQL of partition column `column`'s log string (`partitionValues`) for a row of the source,
 * as the writer computes it: what a partition's rows are grouped by and its folder is named after.
 */
export function partitionLogStringSql(options: Pick<WriteFilesOptions, 'schema' | 'sourceColumns'>, column: string): string {
  const field = options.schema.fields.find((f) => f.name === column);
  return field === undefined ? 'NULL' : partitionStringSql(sourceValue(options, field), field.type);
}

/** The SELECT list turning source rows into stored columns: partition columns as log strings, the rest cast to their storage types. */
function storedSelect(options: WriteFilesOptions, withPartitions: boolean): string[] {
  const partitioned = new Set(options.partitionColumns);
  return options.schema.fields.flatMap((field) => {
    if (partitioned.has(field.name)) return withPartitions ? [`${partitionLogStringSql(options, field.name)} AS ${ident(field.name)}`] : [];
    return [`${storageCast(sourceValue(options, field), field.type)} AS ${ident(field.name)}`];
  });
}

function copyFailed(engine: Engine, tableRoot: string, cause: unknown): LakeError {
  if (isLakeError(cause, 'OUT_OF_MEMORY')) return cause;
  const oom = outOfMemory(cause, engine.memoryLimit, `writing data files into ${tableRoot}`);
  if (oom) return oom;
  return new LakeError('DATA_INVALID', `writing data files into ${tableRoot} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
    cause,
    hint: 'Nothing was committed. Check the input rows and types against the table schema.',
  });
}

async function runCopy(options: WriteFilesOptions, sql: string): Promise<ReturnStatsRow[]> {
  const started = performance.now();
  const reader = await options.engine.connection
    .runAndReadAll(sql)
    .catch((cause: unknown) => {
      throw copyFailed(options.engine, options.tableRoot, cause);
    })
    .finally(() => traceSql(sql, started));
  return reader.getRowObjectsJson() as unknown as ReturnStatsRow[];
}

/**
 * Of the memory limit, the most one open file of a partitioned COPY buffers before it writes a row
 * group (`ROW_GROUP_SIZE_BYTES`). DuckDB keeps each partition's unwritten row group in memory until
 * it reaches the row-group size, so a COPY into many partitions (27 seasons of 372 columns) held
 * the whole input and spilled under the limit. Measured on DuckDB 1.5.5 with the bench's
 * pbp-shaped write (270,000 rows, 27 partitions, 1 GiB): no cap 10.0–11.0 s and 1.23–1.44 GB RSS;
 * 64 MB 6.5–7.0 s and 1.16 GB with files of the same size (+0.1 %); 16 MB as fast but files 6 %
 * larger (rows per group fall to ~4,000); 128 MB and up no better than none.
 */
export const ROW_GROUP_MEMORY_FRACTION = 1 / 16;

async function writePartitioned(options: WriteFilesOptions): Promise<AddAction[]> {
  const { tableRoot, partitionColumns } = options;
  const copyOptions = folderCopyOptions(options, rowGroupSizeFor(options));
  // DuckDB cannot rotate files inside PARTITION_BY; unpartitioned output is split by size.
  if (partitionColumns.length === 0) copyOptions.push(`FILE_SIZE_BYTES ${literal(options.fileSizeBytes ?? '512MB')}`);
  const copy = (extra: string[]): string => `COPY (SELECT ${storedSelect(options, true).join(', ')} FROM (${options.source}) AS src) TO ${literal(tableRoot)} (${[...copyOptions, ...extra].join(', ')})`;
  const cap = partitionColumns.length > 0 ? [`ROW_GROUP_SIZE_BYTES ${Math.max(MIN_ROW_GROUP_BYTES, Math.floor(memoryLimitBytes(options.engine.memoryLimit) * ROW_GROUP_MEMORY_FRACTION))}`] : [];
  const rows = await runCopy(options, copy(cap)).catch((error: unknown) => {
    // DuckDB refuses ROW_GROUP_SIZE_BYTES (when it binds the COPY, before writing anything) while
    // preserve_insertion_order is on, a database-wide setting another connection's ordered write
    // may hold on (Engine.inInsertionOrder): then the COPY runs without the cap.
    if (cap.length === 0 || !/preserve_insertion_order/i.test(error instanceof Error ? error.message : String(error))) throw error;
    return runCopy(options, copy([]));
  });
  return rows.map((row) => {
    const partitionValues: Record<string, string | null> = {};
    for (const column of partitionColumns) partitionValues[column] = null;
    for (const { key, value } of row.partition_keys ?? []) partitionValues[key] = value;
    return addFor(options, row, partitionValues);
  });
}

/** Options of a COPY into the table folder (files named by the attempt's prefix, PARTITION_BY the partition columns, if any). */
function folderCopyOptions(options: WriteFilesOptions, rowGroupRows: number | undefined): string[] {
  const copyOptions = ['FORMAT parquet', `COMPRESSION ${options.compression ?? 'zstd'}`, 'RETURN_STATS', `FILENAME_PATTERN ${literal(`${options.filePrefix ?? 'part-'}{uuid}.zstd`)}`, 'APPEND'];
  if (options.partitionColumns.length > 0) copyOptions.push(`PARTITION_BY (${options.partitionColumns.map(ident).join(', ')})`);
  if (rowGroupRows !== undefined) copyOptions.push(`ROW_GROUP_SIZE ${rowGroupRows}`);
  return copyOptions;
}

/** The row-group size in rows: from `rowGroupBytes` and the measured bytes per row when both are known, else `rowGroupSize`. */
export function rowGroupSizeFor(options: Pick<WriteFilesOptions, 'rowGroupBytes' | 'bytesPerRow' | 'rowGroupSize'>): number | undefined {
  if (options.rowGroupBytes !== undefined && options.bytesPerRow !== undefined && options.bytesPerRow > 0) {
    return Math.max(MIN_ROW_GROUP_ROWS, Math.floor(options.rowGroupBytes / options.bytesPerRow));
  }
  return options.rowGroupSize;
}

/**
 * How many files a partition of `rows` rows is written as: enough that none holds more than
 * `maxRowsPerFile` rows, nor (when the bytes per row are known) more than `targetFileBytes`.
 */
export function filesFor(rows: number, options: { maxRowsPerFile?: number; targetFileBytes?: number; bytesPerRow?: number }): number {
  let files = 1;
  if (options.maxRowsPerFile !== undefined) files = Math.max(files, Math.ceil(rows / options.maxRowsPerFile));
  if (options.targetFileBytes !== undefined && options.bytesPerRow !== undefined && options.bytesPerRow > 0) {
    files = Math.max(files, Math.round((rows * options.bytesPerRow) / options.targetFileBytes));
  }
  return Math.max(1, files);
}

/** The Hive-style folder of a partition, named as DuckDB's PARTITION_BY names it. */
export function partitionFolder(columns: readonly string[], values: Record<string, string | null>): string {
  return columns.map((c) => `${c}=${values[c] === null || values[c] === undefined ? '__HIVE_DEFAULT_PARTITION__' : encodeURIComponent(values[c]!)}`).join('/');
}

function partitionFilter(columns: readonly string[], values: Record<string, string | null>): string {
  if (columns.length === 0) return 'true';
  return columns.map((c) => (values[c] === null || values[c] === undefined ? `${ident(c)} IS NULL` : `${ident(c)} = ${literal(values[c]!)}`)).join(' AND ');
}

/**
 * The layout-controlled writer: one COPY to a single file per output file, so rows keep the
 * `sortBy` order and files rotate at `maxRowsPerFile` rows (and near `targetFileBytes`). The
 * partitions are counted first. A source of one partition whose file count is known is written
 * straight (`writeOrdered`: without a sort when its rows arrive in order, as a promoted season's
 * do); otherwise the source is read once into a staged file sorted by (partition columns, sortBy) — one spillable sort, so memory stays within the engine's limit whatever the number of
 * partitions — and every output file is a consecutive row range of it (a partition is a range,
 * a partition split into files is split into sub-ranges), so no file overlaps another on the
 * sort columns and the source is never re-read per partition. The staged file carries the
 * attempt's prefix (a failed attempt's cleanup, or VACUUM after a crash, finds it) and is
 * removed afterwards.
 */
async function writeLaidOut(options: WriteFilesOptions): Promise<AddAction[]> {
  const { engine, tableRoot, partitionColumns } = options;
  const prefix = options.filePrefix ?? 'part-';
  const fixed = options.partition;
  const inner = `SELECT ${storedSelect(options, fixed === undefined).join(', ')} FROM (${options.source}) AS src`;
  const partitioned = new Set(partitionColumns);
  const dataColumns = options.schema.fields.filter((f) => !partitioned.has(f.name)).map((f) => ident(f.name));
  const order = (options.sortBy ?? []).filter((c) => !partitioned.has(c) && options.schema.fields.some((f) => f.name === c));
  const copyOptions = (rowGroupRows: number | undefined): string =>
    `(FORMAT parquet, COMPRESSION ${options.compression ?? 'zstd'}, RETURN_STATS${rowGroupRows !== undefined ? `, ROW_GROUP_SIZE ${rowGroupRows}` : ''})`;
  const fileName = (folder: string): string => joinLocation(tableRoot, folder, `${prefix}${randomUUID()}.zstd.parquet`);
  const mayExceedTarget = options.targetFileBytes !== undefined && options.bytesPerRow === undefined;
  if (fixed && options.rowsAtMost !== undefined && !mayExceedTarget && filesFor(options.rowsAtMost, options) === 1) {
    const folder = partitionFolder(partitionColumns, fixed);
    await ensureDir(joinLocation(tableRoot, folder));
    const rows = await writeOrdered(options, `SELECT ${dataColumns.join(', ')} FROM (${inner}) AS rows`, order, fileName(folder), copyOptions(rowGroupSizeFor(options)));
    // No rows: no file.
    for (const row of rows.filter((r) => Number(r.count) === 0)) await deleteFile(row.filename);
    return rows.filter((r) => Number(r.count) > 0).map((row) => addFor(options, row, fixed));
  }
  const groups: { values: Record<string, string | null>; rows: number }[] = [];
  if (fixed || partitionColumns.length === 0) {
    const [row] = await engine.rows<{ n: bigint }>(`SELECT count(*) AS n FROM (${inner}) AS rows`).catch((cause: unknown) => {
      throw copyFailed(engine, tableRoot, cause);
    });
    groups.push({ values: fixed ?? {}, rows: Number(row?.n ?? 0) });
  } else {
    const cols = partitionColumns.map(ident).join(', ');
    const rows = await engine.rows<Record<string, unknown>>(`SELECT ${cols}, count(*) AS __lake_rows FROM (${inner}) AS rows GROUP BY ALL ORDER BY ALL`).catch((cause: unknown) => {
      throw copyFailed(engine, tableRoot, cause);
    });
    for (const row of rows) {
      const values = Object.fromEntries(partitionColumns.map((c) => [c, row[c] === null || row[c] === undefined ? null : String(row[c])]));
      groups.push({ values, rows: Number(row['__lake_rows']) });
    }
  }
  const live = groups.filter((g) => g.rows > 0);
  const adds: AddAction[] = [];
  const only = live.length === 1 ? live[0]! : undefined;
  if (only && !mayExceedTarget && filesFor(only.rows, options) === 1) {
    const folder = partitionFolder(partitionColumns, only.values);
    await ensureDir(joinLocation(tableRoot, folder));
    const rowsSql = `SELECT ${dataColumns.join(', ')} FROM (${inner}) AS rows${fixed ? '' : ` WHERE ${partitionFilter(partitionColumns, only.values)}`}`;
    const rows = await writeOrdered(options, rowsSql, order, fileName(folder), copyOptions(rowGroupSizeFor(options)));
    for (const row of rows) adds.push(addFor(options, row, only.values));
    return adds;
  }
  if (live.length === 0) return adds;
  // Sorted as the groups are (their partition strings, NULLs last), then by sortBy.
  const stageOrder = [...(fixed ? [] : partitionColumns), ...order].map((c) => `${ident(c)} ASC NULLS LAST`);
  // On an object store the staging file stays local (the engine's scratch folder): it is read back at once.
  const staged = isRemote(tableRoot) ? path.join(options.engine.scratch(), `${prefix}staged-${randomUUID()}.parquet`) : path.join(tableRoot, `${prefix}staged-${randomUUID()}.parquet`);
  try {
    const [stagedStats] = await runCopy(
      options,
      `COPY (SELECT * FROM (${inner}) AS rows${stageOrder.length > 0 ? ` ORDER BY ${stageOrder.join(', ')}` : ''}) TO ${literal(staged)} (FORMAT parquet, COMPRESSION ${options.compression ?? 'zstd'}, RETURN_STATS)`,
    );
    const total = live.reduce((n, g) => n + g.rows, 0);
    const bytesPerRow = options.bytesPerRow ?? (total > 0 ? Number(stagedStats?.file_size_bytes ?? 0) / total : undefined);
    const ranges: StagedRange[] = [];
    let offset = 0;
    for (const group of groups) {
      if (group.rows > 0) ranges.push({ ...group, first: offset });
      offset += group.rows;
    }
    const batched = fixed || isRemote(tableRoot) ? new Set<StagedRange>() : await writeSmallPartitions(options, { staged, ranges, dataColumns, order, bytesPerRow }, adds);
    for (const { first, ...group } of ranges.filter((r) => !batched.has(r))) {
      const folder = partitionFolder(partitionColumns, group.values);
      await ensureDir(joinLocation(tableRoot, folder));
      const files = filesFor(group.rows, { ...options, bytesPerRow });
      const perFile = Math.ceil(group.rows / files);
      for (let start = first; start < first + group.rows; start += perFile) {
        const stop = Math.min(start + perFile, first + group.rows);
        const slice = `SELECT ${dataColumns.join(', ')} FROM read_parquet(${literal(staged)}, file_row_number = true) WHERE file_row_number >= ${start} AND file_row_number < ${stop} ORDER BY file_row_number`;
        const rows = await runCopy(options, `COPY (${slice}) TO ${literal(fileName(folder))} ${copyOptions(rowGroupSizeFor({ ...options, bytesPerRow }))}`);
        for (const row of rows) adds.push(addFor(options, row, group.values));
      }
    }
  } finally {
    await rm(staged, { force: true });
  }
  return adds;
}

/** A partition's rows in the staged file of `writeLaidOut`: `rows` rows from row number `first` on. */
interface StagedRange {
  values: Record<string, string | null>;
  rows: number;
  first: number;
}

/** Partition values DuckDB's PARTITION_BY names exactly as `partitionFolder` does (no escaping, no NULL). */
const PLAIN_VALUE = /^[A-Za-z0-9_.-]+$/;

/**
 * Partitions of more rows than this (8 DuckDB vectors) keep their one-file COPY: they straddle
 * many vectors, so the partitioned COPY writes them out of order too often (5 of the 11 seasons
 * of snap_counts, ~25k rows each, against 4 of 220 weeks of player_stats_weekly, ~600 rows), and
 * few large partitions gain little from sharing a COPY.
 */
const SMALL_PARTITION_ROWS = 16_384;

/**
 * The small partitions of a staged write (one file each), written with ONE partitioned COPY
 * of the staged file instead of one COPY each (a COPY per partition re-reads the staged file and
 * costs 40–400 ms, hundreds of times for a `[season, week]` table). Measured on DuckDB 1.5.5, a
 * partitioned COPY writes a partition's rows out of their order now and then (rows buffered
 * across a vector boundary are flushed after the rows that follow them, even on one thread), and
 * may open a second file for a partition; so every written file is checked — one file per
 * partition holding exactly the partition's rows, in `order` by row number — and a partition
 * that fails is deleted and left to the caller's one-file COPY. Adds the kept files' add actions
 * to `adds`; returns the ranges written.
 */
async function writeSmallPartitions(
  options: WriteFilesOptions,
  input: { staged: string; ranges: readonly StagedRange[]; dataColumns: readonly string[]; order: readonly string[]; bytesPerRow: number | undefined },
  adds: AddAction[],
): Promise<Set<StagedRange>> {
  const { engine, tableRoot, partitionColumns } = options;
  const keyOf = (values: Record<string, string | null>): string => JSON.stringify(partitionColumns.map((c) => values[c] ?? null));
  const small = input.ranges.filter(
    (r) => r.rows <= SMALL_PARTITION_ROWS && filesFor(r.rows, { ...options, bytesPerRow: input.bytesPerRow }) === 1 && partitionColumns.every((c) => PLAIN_VALUE.test(r.values[c] ?? '')),
  );
  if (small.length < 2) return new Set();
  // Their row ranges, adjacent ones merged.
  const runs: [number, number][] = [];
  for (const r of small) {
    const last = runs.at(-1);
    if (last && last[1] === r.first) last[1] = r.first + r.rows;
    else runs.push([r.first, r.first + r.rows]);
  }
  const where = runs.map(([a, b]) => `(file_row_number >= ${a} AND file_row_number < ${b})`).join(' OR ');
  const copyOptions = folderCopyOptions(options, rowGroupSizeFor({ ...options, bytesPerRow: input.bytesPerRow }));
  const written = await runCopy(
    options,
    `COPY (SELECT ${[...input.dataColumns, ...partitionColumns.map(ident)].join(', ')} FROM read_parquet(${literal(input.staged)}, file_row_number = true) WHERE ${where}) TO ${literal(tableRoot)} (${copyOptions.join(', ')})`,
  );
  const byKey = new Map(small.map((r) => [keyOf(r.values), { range: r, files: [] as ReturnStatsRow[] }]));
  const stray: ReturnStatsRow[] = [];
  for (const row of written) {
    const values = Object.fromEntries((row.partition_keys ?? []).map(({ key, value }) => [key, value]));
    const entry = byKey.get(keyOf(values));
    if (entry) entry.files.push(row);
    else stray.push(row);
  }
  if (stray.length > 0) {
    for (const row of written) await deleteFile(row.filename);
    throw new LakeError('DATA_INVALID', `writing data files into ${tableRoot}: a partitioned COPY wrote rows for partitions it was not given (${stray.map((r) => r.filename).join(', ')})`, {
      hint: 'This is a bug; nothing was committed. Report it with the table log.',
    });
  }
  const outOfOrder = new Set<string>();
  if (input.order.length > 0 && written.length > 0) {
    const files = `[${written.map((r) => literal(r.filename)).join(', ')}]`;
    const sorted = `row_number() OVER (PARTITION BY __lake_file ORDER BY ${orderList(input.order, 'file_row_number')}) - 1`;
    const rows = await engine
      .rows<{ file: string }>(
        `SELECT DISTINCT __lake_file AS file FROM (SELECT __lake_file, file_row_number, ${sorted} AS __lake_sorted FROM read_parquet(${files}, filename = '__lake_file', file_row_number = true, hive_partitioning = false)) AS checked WHERE __lake_sorted <> file_row_number`,
      )
      .catch((cause: unknown) => {
        throw copyFailed(engine, tableRoot, cause);
      });
    for (const { file } of rows) outOfOrder.add(file);
  }
  const done = new Set<StagedRange>();
  for (const { range, files } of byKey.values()) {
    const [file] = files;
    if (file && files.length === 1 && Number(file.count) === range.rows && !outOfOrder.has(file.filename)) {
      adds.push(addFor(options, file, range.values));
      done.add(range);
    } else {
      for (const f of files) await deleteFile(f.filename);
    }
  }
  return done;
}

/** `ORDER BY` the columns, ties in `tiebreak` order: the order a sorted COPY writes, NULLs last. */
function orderList(order: readonly string[], tiebreak: string): string {
  return [...order.map((c) => `${ident(c)} ASC NULLS LAST`), tiebreak].join(', ');
}

/** Rows of `relation` (with a `__lake_rn` column counting them in order) out of `order`: 0 when sorted. */
async function outOfOrder(engine: Engine, relation: string, order: readonly string[]): Promise<number> {
  const [row] = await engine.rows<{ n: bigint | number }>(
    `SELECT count(*) AS n FROM (SELECT __lake_rn, row_number() OVER (ORDER BY ${orderList(order, '__lake_rn')}) AS __lake_sorted FROM ${relation}) AS checked WHERE __lake_rn <> __lake_sorted`,
  );
  return Number(row?.n ?? 1);
}

/**
 * Writes `rowsSql` to one file in `order`. Sorting wide rows is the costliest part of a write,
 * and the rows often arrive in order already (nflverse publishes pbp by game and play; bronze
 * keeps a file's row order): when a narrow check of the sort columns, in arrival order, finds
 * them sorted, the COPY keeps the arrival order (preserve_insertion_order) instead of sorting,
 * and the written file is checked again by its row numbers — should it not be in order after
 * all, it is rewritten sorted. Otherwise one sorted COPY.
 */
async function writeOrdered(options: WriteFilesOptions, rowsSql: string, order: readonly string[], file: string, copyOptions: string): Promise<ReturnStatsRow[]> {
  if (order.length === 0) return runCopy(options, `COPY (${rowsSql}) TO ${literal(file)} ${copyOptions}`);
  return (await writeInArrivalOrder(options, rowsSql, order, file, copyOptions)) ?? runCopy(options, `COPY (${rowsSql} ORDER BY ${order.map(ident).join(', ')}) TO ${literal(file)} ${copyOptions}`);
}

/** The unsorted COPY of `writeOrdered`, under preserve_insertion_order; undefined (no file left) when the rows are not in order. */
async function writeInArrivalOrder(options: WriteFilesOptions, rowsSql: string, order: readonly string[], file: string, copyOptions: string): Promise<ReturnStatsRow[] | undefined> {
  const { engine } = options;
  const keys = order.map(ident).join(', ');
  return engine.inInsertionOrder(async () => {
    const arriving = `(SELECT ${keys}, row_number() OVER () AS __lake_rn FROM (${rowsSql}) AS src) AS arriving`;
    if ((await outOfOrder(engine, arriving, order).catch(() => 1)) > 0) return undefined;
    const rows = await runCopy(options, `COPY (${rowsSql}) TO ${literal(file)} ${copyOptions}`);
    // Checked on the file itself, so a write that lost the order anyway (the setting is global) is rewritten sorted.
    const written = `(SELECT ${keys}, file_row_number + 1 AS __lake_rn FROM read_parquet(${literal(file)}, file_row_number = true)) AS written`;
    if ((await outOfOrder(engine, written, order).catch(() => 1)) === 0) return rows;
    await deleteFile(file);
    return undefined;
  });
}

function addFor(options: WriteFilesOptions, row: ReturnStatsRow, partitionValues: Record<string, string | null>): AddAction {
  const relative = relativeLocation(options.tableRoot, row.filename);
  const columns: ColumnStatistics = {};
  for (const { key, value } of row.column_statistics ?? []) columns[key] = Object.fromEntries(value.map((kv) => [kv.key, kv.value]));
  const numRecords = Number(row.count);
  return {
    path: encodeAddPath(relative),
    partitionValues,
    size: Number(row.file_size_bytes),
    modificationTime: options.now ?? Date.now(),
    dataChange: true,
    stats: JSON.stringify(buildFileStats(numRecords, columns, options.schema, options.partitionColumns)),
    tags: { [SCHEMA_WIDTH_TAG]: String(options.schema.fields.length) },
  };
}
